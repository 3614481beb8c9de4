-- sqlascii.sql - corpus_sqlascii (ENCODING SQL_ASCII): bytes that are not
-- valid UTF-8, as legacy databases hold them. The session is SQL_ASCII
-- too, so no conversion or validation touches them; E'\xNN' escapes make
-- the bytes server-side (this file itself is ASCII). test_corpus.sh
-- checks that the bytes really are stored (textsend).
SET client_encoding = 'SQL_ASCII';
SET standard_conforming_strings = on;
CREATE TABLE public.legacy_bytes (id integer PRIMARY KEY, raw text, note varchar(40));
INSERT INTO public.legacy_bytes VALUES
  (1, E'\xff\xfe', 'not UTF-8 at all'),
  (2, E'caf\xe9', 'LATIN1 e-acute'),
  (3, E'\xc3\xbc', 'valid UTF-8 u-umlaut'),
  (4, E'\x80\x81\x9f', 'C1 bytes'),
  (5, E'trunc\xc3', 'a truncated UTF-8 sequence'),
  (6, E'\xed\xa0\x80', 'an encoded surrogate'),
  (7, E'\xc0\xaf', 'an overlong slash'),
  (8, 'plain ascii', NULL);
CREATE INDEX legacy_bytes_raw ON public.legacy_bytes (raw);
COMMENT ON TABLE public.legacy_bytes IS E'a comment with a \xff byte';
-- A non-ASCII name, made server-side. Its bytes are UTF-8 (c3 a9): ffrun
-- names objects in UTF-8, and a SQL_ASCII database's name that is not
-- valid UTF-8 is refused by the server's own check (a known limit).
DO $$
BEGIN
  EXECUTE format('CREATE TABLE public.%I (n integer, v text)', E't\xc3\xa9l\xc3\xa9phone');
  EXECUTE format('INSERT INTO public.%I VALUES (1, %L), (2, %L)', E't\xc3\xa9l\xc3\xa9phone',
                 E'num\xe9ro', E'\xfe\xff');
END
$$;
CREATE SEQUENCE public.legacy_seq;
SELECT setval('public.legacy_seq', 77);
