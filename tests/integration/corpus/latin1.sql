-- latin1.sql - corpus_latin1 (ENCODING LATIN1, C): non-ASCII LATIN1 text,
-- in data, names and comments. This file is UTF-8: the server converts
-- it to LATIN1 bytes (ü is stored as the single byte \xfc; test_corpus.sh
-- checks that).
SET client_encoding = 'UTF8';
CREATE TABLE public."Größe" (
  id integer PRIMARY KEY,
  "straße" text NOT NULL,
  "maß" varchar(40),
  b bytea
);
INSERT INTO public."Größe" VALUES
  (1, 'Grüße aus Köln', 'naïve façade', '\xfc'::bytea),
  (2, '½ ¼ ¾ ± × ÷ ¿ ¡', 'Ærøskøbing', NULL),
  (3, 'ÿ þ ð æ', E'nbsp:\u00a0:', '\x'::bytea),
  (4, 'plain ascii', NULL, NULL);
CREATE INDEX "größe_straße" ON public."Größe" ("straße");
CREATE SEQUENCE public."zähler" START WITH 3;
SELECT nextval('public."zähler"');
COMMENT ON TABLE public."Größe" IS 'Maße und Gewichte: ä ö ü ß';
CREATE TYPE public."farbe" AS ENUM ('grün', 'blau', 'weiß');
CREATE TABLE public."häuser" (id integer, f public."farbe");
INSERT INTO public."häuser" VALUES (1, 'grün'), (2, 'weiß');
SELECT lo_from_bytea(2000001, convert_to('Grüße', 'LATIN1'));
-- Object references: regclass, regtype and regproc print as the session's
-- search_path sees them, and this database sets its own (databases.sql):
-- the proof must read them as the dump wrote them (schema-qualified).
CREATE SCHEMA "lager";
CREATE TABLE "lager"."stück" (id integer);
CREATE TABLE public.refs (r regclass, t regtype, p regproc);
INSERT INTO public.refs VALUES ('"lager"."stück"', 'public."farbe"', 'pg_catalog.version'),
  ('public."häuser"', 'integer', 'pg_catalog.now');
