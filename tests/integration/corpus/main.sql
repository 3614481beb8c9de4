-- main.sql - the corpus's main database ("corpus", UTF8): real-world
-- objects a restore must bring back exactly. Loaded with
--   psql -X -v ON_ERROR_STOP=1 -d corpus -f main.sql
-- after roles.sql and databases.sql (not in one transaction: an enum's
-- added labels must be committed before rows use them). Every name below
-- is spelled the way it must come back: dots, spaces, quotes, a newline
-- and a tab inside names, non-ASCII, 63 bytes, mixed case, keywords.
SET client_encoding = 'UTF8';
SET search_path = pg_catalog;
SET client_min_messages = warning;
SET lc_monetary = 'C';
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- --- extensions from contrib, used by columns below ------------------------
CREATE EXTENSION hstore WITH SCHEMA public;
CREATE EXTENSION citext WITH SCHEMA public;
CREATE EXTENSION ltree WITH SCHEMA public;
CREATE EXTENSION pgcrypto WITH SCHEMA public;

-- --- schemas ------------------------------------------------------------------
CREATE SCHEMA app AUTHORIZATION corpus_owner;
CREATE SCHEMA "a.b";
CREATE SCHEMA a;                    -- a.b.c: "a"."b.c" and "a.b"."c" join alike
CREATE SCHEMA "Weird ""Schema"" 日本";
COMMENT ON SCHEMA app IS 'the application''s schema';
COMMENT ON SCHEMA "a.b" IS 'a schema with a dot';
GRANT USAGE ON SCHEMA app TO corpus_reader;
GRANT USAGE, CREATE ON SCHEMA "a.b" TO corpus_writer;
GRANT USAGE ON SCHEMA "a.b" TO "Corpus.Auditor ""q""";
ALTER DEFAULT PRIVILEGES FOR ROLE corpus_owner IN SCHEMA app
  GRANT SELECT ON TABLES TO corpus_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE corpus_owner IN SCHEMA app
  GRANT USAGE ON SEQUENCES TO corpus_writer;

-- --- types: enum, domains, composite, range --------------------------------------
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
ALTER TYPE app.mood ADD VALUE 'meh' BEFORE 'ok';           -- fractional sort order
ALTER TYPE app.mood ADD VALUE 'ecstatic' AFTER 'happy';
COMMENT ON TYPE app.mood IS 'an enum whose labels were added out of order';
CREATE DOMAIN app.posint AS integer NOT NULL DEFAULT 1
  CONSTRAINT posint_positive CHECK (VALUE > 0);
CREATE DOMAIN app.email AS public.citext
  CONSTRAINT email_has_at CHECK (VALUE OPERATOR(pg_catalog.~) '@');
COMMENT ON DOMAIN app.posint IS 'a positive integer';
CREATE TYPE app.pair AS (a integer, b text, "c.d" numeric(10,2));
CREATE TYPE app.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TYPE "a.b"."type.dotted" AS ENUM ('x.y', 'with "quote"', 'ü');
ALTER TYPE app.mood OWNER TO corpus_owner;
GRANT USAGE ON TYPE app.pair TO corpus_reader;
CREATE COLLATION app.german (provider = icu, locale = 'de-DE');
CREATE COLLATION app.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

-- --- functions ---------------------------------------------------------------------
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.touched := NEW.touched + 1;
  RETURN NEW;
END
$$;
CREATE FUNCTION app.audit_stmt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO app.audit_log (tbl, n) SELECT TG_TABLE_NAME, count(*) FROM newrows;
  RETURN NULL;
END
$$;
CREATE FUNCTION "a.b"."fn.dotted"(x integer DEFAULT 1, "y.z" text DEFAULT 'dflt')
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT $2 || ':' || ($1 + 1)::text $$;
CREATE PROCEDURE app.bump(delta integer) LANGUAGE plpgsql AS $$
BEGIN
  UPDATE app.counters SET n = n + delta;
END
$$;
CREATE FUNCTION app.cat_sfunc(acc text, v text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN acc IS NULL THEN v ELSE acc || ',' || v END $$;
CREATE AGGREGATE app.cat(text) (sfunc = app.cat_sfunc, stype = text);
COMMENT ON FUNCTION "a.b"."fn.dotted"(integer, text) IS 'a function with a dot in its name';
COMMENT ON AGGREGATE app.cat(text) IS 'comma-joined text';

-- --- awkward names ---------------------------------------------------------------------
CREATE TABLE "a.b"."dotted.table" (
  id integer PRIMARY KEY,
  "col.with.dots" text,
  "Mixed Case" text,
  touched integer NOT NULL DEFAULT 0
);
CREATE TABLE "a.b".c (id integer PRIMARY KEY, v text);         -- joins as a.b.c
CREATE TABLE a."b.c" (id integer PRIMARY KEY, v text);         -- joins as a.b.c too
CREATE TABLE "a.b"."with space" ("a column" integer, "another one" text);
-- Object references print as the session's search_path sees them (this
-- database sets app, public): the proof must read them as pg_dump wrote
-- them, schema-qualified.
CREATE TABLE app.refs (r regclass, t regtype, p regproc, o regoperator);
-- A column whose name holds a newline: pg_dump's COPY line for it spans
-- two lines (ffrun's table loader reads it whole).
CREATE TABLE app.nl_cols ("col
one" integer, "two ""q""" text);
CREATE TABLE public."quo""te" ("quo""ted col" text, "'single'" text);
CREATE TABLE public."new
line" (id integer, "tab	col" text);
CREATE TABLE public."Grüße" (id integer PRIMARY KEY, "Straße" text, "日本語" text);
CREATE TABLE public."日本" (id integer PRIMARY KEY, "名前" text);
CREATE TABLE public.a_table_name_that_is_exactly_sixty_three_bytes_long_0123456789x (
  id integer PRIMARY KEY,
  "日日日日日日日日日日日日日日日日日日日日日" text                -- 21 x 3 bytes = 63
);
CREATE TABLE public."MixedCase" ("CamelCol" integer, lower_col integer);
CREATE TABLE public.mixedcase (camelcol integer);                 -- not the same table
CREATE TABLE public."select" ("from" integer, "user" text, "order" integer, "table" text);
CREATE TABLE "Weird ""Schema"" 日本"."tbl ""x"" ü" (id integer, v text);

INSERT INTO "a.b"."dotted.table" VALUES
  (1, 'one.two', 'Mixed', 0), (2, NULL, 'with "quotes"', 0), (3, E'back\\slash', E'tab\there', 0);
INSERT INTO "a.b".c VALUES (1, 'schema a.b, table c');
INSERT INTO app.nl_cols VALUES (1, E'a\nb'), (2, NULL);
INSERT INTO app.refs VALUES ('"a.b"."dotted.table"', 'app.mood', 'pg_catalog.version', '+(integer,integer)'),
  ('"a.b".c', 'app.posint', 'pg_catalog.now', 'pg_catalog.=(text,text)');
INSERT INTO a."b.c" VALUES (1, 'schema a, table b.c'), (2, 'more rows than a.b.c');
INSERT INTO "a.b"."with space" VALUES (1, 'space'), (2, ' leading and trailing ');
INSERT INTO public."quo""te" VALUES ('"', ''''), ('""', NULL);
INSERT INTO public."new
line" VALUES (1, E'line1\nline2'), (2, E'cr\rlf');
INSERT INTO public."Grüße" VALUES (1, 'Grüße aus Köln', '日本語テキスト'), (2, 'ß', '😀 emoji');
INSERT INTO public."日本" VALUES (1, '東京'), (2, '大阪');
INSERT INTO public.a_table_name_that_is_exactly_sixty_three_bytes_long_0123456789x
  VALUES (1, 'sixty-three'), (2, repeat('日', 100));
INSERT INTO public."MixedCase" VALUES (1, 2), (3, 4);
INSERT INTO public.mixedcase VALUES (5);
INSERT INTO public."select" VALUES (1, 'user', 2, 'table');
INSERT INTO "Weird ""Schema"" 日本"."tbl ""x"" ü" VALUES (1, 'weird');
COMMENT ON TABLE "a.b"."dotted.table" IS 'a table with a dot, in a schema with a dot';
COMMENT ON COLUMN "a.b"."dotted.table"."col.with.dots" IS 'a column with dots';
COMMENT ON TABLE public."new
line" IS E'a table whose name holds a newline\nand whose comment too';

-- --- edge values ---------------------------------------------------------------------------
CREATE TABLE app.values_edge (
  id integer PRIMARY KEY,
  f8 double precision,
  f4 real,
  num numeric,
  ts timestamp,
  tstz timestamptz,
  d date,
  cash money,
  ir int4range,
  tr tstzrange,
  nmr nummultirange,
  fr app.floatrange,
  arr integer[],
  arr2 text[],
  p app.pair,
  pa app.pair[],
  mood app.mood,
  mail app.email,
  h public.hstore,
  path public.ltree,
  ci public.citext,
  b bytea,
  j jsonb,
  iv interval,
  u uuid,
  bits bit varying(16),
  txt text COLLATE app.german
);
INSERT INTO app.values_edge VALUES
  (1, 'NaN', 'NaN', 'NaN', 'infinity', 'infinity', 'infinity',
   '92233720368547758.07', '[1,10)', '[2024-01-01 00:00:00+00,infinity)', '{[1,2), [3,4]}',
   '[0.5,1.5)', '[0:2]={1,2,3}', '[2:3][-1:0]={{a,b},{c,d}}',
   ROW(1, 'one', 1.5), ARRAY[ROW(1, 'a', 0)::app.pair, ROW(NULL, NULL, NULL)::app.pair],
   'meh', 'Someone@Example.org', 'a=>1, "b c"=>NULL, "q\"x"=>"y"', 'top.science.astronomy',
   'MiXeD', '\x00ff'::bytea, '{"a": [1, 2.50, null], "ü": "日本"}', '1 year 2 mons 3 days 04:05:06.789',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', B'1010', 'Äpfel'),
  (2, 'Infinity', 'Infinity', 'Infinity', '-infinity', '-infinity', '-infinity',
   '-92233720368547758.08', 'empty', '(,)', '{}', 'empty', '[-5:-4]={7,8}', '{}',
   ROW(NULL, '', NULL), '{}', 'ecstatic', 'x@y', '', 'a', 'a', ''::bytea, 'null', '-178000000 years',
   '00000000-0000-0000-0000-000000000000', B'', 'zebra'),
  (3, '-Infinity', '-Infinity', '-Infinity', '4713-01-01 00:00:00 BC', '0044-03-15 12:00:00+00 BC',
   '4713-11-24 BC', '0', '(,5]', '[2000-01-01 00:00:00+00,2000-01-01 00:00:01+00]', '{[-1,1]}',
   '(,)', ARRAY[NULL, 1]::integer[], ARRAY['', 'NULL', NULL, '"', E'\\']::text[],
   NULL, NULL, 'sad', NULL, NULL, '', 'ß', '\xdeadbeef'::bytea, '[]', '-00:00:00.000001',
   NULL, B'1111111111111111', 'ärger'),
  (4, '-0', '-0', '-0', '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00',
   '5874897-12-31', '-0.01', '[-2147483648,2147483647)', 'empty', '{[0,1), [1,2)}',
   '[-0,0]', '[0:0]={0}', ARRAY[E'multi\nline', E'tab\t', 'ü']::text[],
   ROW(-1, E'new\nline', -0.00), NULL, 'ok', NULL, NULL, NULL, NULL, NULL, '{}', '0',
   NULL, NULL, NULL),
  (5, 4.9e-324, 1.4e-45, 1e-1000, '2000-02-29 12:34:56.789', '1999-12-31 23:59:59.999999-12',
   '2000-02-29', '1234.5', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, '1.000000000000000000001', NULL, NULL, NULL, NULL),
  (6, 1.7976931348623157e308, 3.4028235e38, 12345678901234567890.123456789012345678901234567890,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
COMMENT ON TABLE app.values_edge IS 'NaN, infinities, -0, BC dates, money, ranges, odd arrays';
GRANT SELECT ON app.values_edge TO corpus_reader;
GRANT SELECT (id, mood), UPDATE (mood) ON app.values_edge TO corpus_writer;

-- --- shapes of tables ------------------------------------------------------------------------
CREATE TABLE app.nocols ();                                      -- zero columns, three rows
INSERT INTO app.nocols DEFAULT VALUES;
INSERT INTO app.nocols DEFAULT VALUES;
INSERT INTO app.nocols DEFAULT VALUES;
COMMENT ON TABLE app.nocols IS 'no columns, three rows';

CREATE TABLE app.dropped (a integer, b text, c integer, d text);
INSERT INTO app.dropped SELECT g, 'b' || g, g * 10, 'd' || g FROM generate_series(1, 5) g;
ALTER TABLE app.dropped DROP COLUMN b;
ALTER TABLE app.dropped DROP COLUMN d;
ALTER TABLE app.dropped ADD COLUMN e text NOT NULL DEFAULT 'added later';   -- a "missing" value
INSERT INTO app.dropped VALUES (6, 60, 'six');

CREATE TABLE app.gen (
  a integer,
  b integer GENERATED ALWAYS AS (a * 2) STORED,
  payload text,
  h bytea GENERATED ALWAYS AS (public.digest(payload, 'sha256')) STORED
);
INSERT INTO app.gen (a, payload) VALUES (1, 'x'), (2, NULL), (NULL, 'ü');

CREATE TABLE app.ident (
  id integer GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 10) PRIMARY KEY,
  id2 bigint GENERATED BY DEFAULT AS IDENTITY (MINVALUE -100 START WITH -50),
  v text
);
INSERT INTO app.ident (v) VALUES ('a'), ('b'), ('c');
INSERT INTO app.ident (id2, v) VALUES (7, 'explicit');

CREATE UNLOGGED TABLE app.cache (k text PRIMARY KEY, v jsonb) WITH (fillfactor = 70);
INSERT INTO app.cache VALUES ('k1', '{"hit": 1}'), ('k2', '{"hit": 2}');

CREATE TABLE app.vehicle (id integer, name text, CONSTRAINT name_nonempty CHECK (name <> ''));
CREATE TABLE app.car (doors integer) INHERITS (app.vehicle);
CREATE TABLE app.truck (payload numeric) INHERITS (app.vehicle);
ALTER TABLE app.vehicle ADD CONSTRAINT vehicle_id_positive CHECK (id > 0) NO INHERIT;
INSERT INTO app.vehicle VALUES (1, 'generic');
INSERT INTO app.car VALUES (2, 'hatchback', 5), (3, 'coupe', 3);
INSERT INTO app.truck VALUES (-4, 'hauler', 12.5);

CREATE TABLE app.events (
  id bigint NOT NULL,
  region text NOT NULL,
  at date NOT NULL,
  payload jsonb,
  PRIMARY KEY (region, at, id)
) PARTITION BY LIST (region);
CREATE TABLE app.events_eu PARTITION OF app.events FOR VALUES IN ('eu') PARTITION BY RANGE (at);
CREATE TABLE app.events_eu_2023 PARTITION OF app.events_eu
  FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE app.events_eu_2024 PARTITION OF app.events_eu
  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE app.events_eu_default PARTITION OF app.events_eu DEFAULT;
CREATE TABLE "a.b"."events.us" PARTITION OF app.events FOR VALUES IN ('us', 'us.east');
CREATE TABLE app.events_other PARTITION OF app.events DEFAULT;
INSERT INTO app.events
  SELECT g, (ARRAY['eu', 'us', 'us.east', 'apac'])[1 + g % 4],
         date '2023-06-01' + (g * 37 % 900), jsonb_build_object('g', g)
    FROM generate_series(1, 400) g;
CREATE INDEX events_payload_gin ON app.events USING gin (payload);

-- --- constraints: NOT VALID, deferrable cycle ----------------------------------------------------
CREATE TABLE app.legacy (id integer PRIMARY KEY, qty integer, parent_id integer);
INSERT INTO app.legacy VALUES (1, 5, NULL), (2, -5, 99), (3, 0, 1);   -- row 2 breaks both
ALTER TABLE app.legacy ADD CONSTRAINT legacy_qty_nonneg CHECK (qty >= 0) NOT VALID;
ALTER TABLE app.legacy ADD CONSTRAINT legacy_parent_fk
  FOREIGN KEY (parent_id) REFERENCES app.legacy (id) NOT VALID;
COMMENT ON CONSTRAINT legacy_qty_nonneg ON app.legacy IS 'not valid: old rows break it';

CREATE TABLE app.node_a (id integer PRIMARY KEY, b_id integer NOT NULL);
CREATE TABLE app.node_b (id integer PRIMARY KEY, a_id integer NOT NULL
  REFERENCES app.node_a (id) DEFERRABLE INITIALLY DEFERRED);
ALTER TABLE app.node_a ADD CONSTRAINT node_a_b_fk
  FOREIGN KEY (b_id) REFERENCES app.node_b (id) DEFERRABLE INITIALLY IMMEDIATE;
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO app.node_a VALUES (1, 10), (2, 20);
INSERT INTO app.node_b VALUES (10, 1), (20, 2);
COMMIT;

CREATE TABLE app.booking (
  id integer PRIMARY KEY,
  room text NOT NULL,
  during tstzrange NOT NULL,
  EXCLUDE USING gist (during WITH &&)
);
INSERT INTO app.booking VALUES
  (1, 'a', '[2024-01-01 10:00+00,2024-01-01 11:00+00)'),
  (2, 'b', '[2024-01-01 11:00+00,2024-01-01 12:00+00)');

-- --- row level security ------------------------------------------------------------------------------
CREATE TABLE app.secrets (id integer PRIMARY KEY, owner_name text NOT NULL, secret text);
ALTER TABLE app.secrets OWNER TO corpus_owner;
ALTER TABLE app.secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON app.secrets FOR SELECT TO corpus_reader
  USING (owner_name = current_user);
CREATE POLICY "writer.all" ON app.secrets AS RESTRICTIVE FOR ALL TO corpus_writer, "Corpus.Auditor ""q"""
  USING (true) WITH CHECK (secret <> '');
COMMENT ON POLICY own_rows ON app.secrets IS 'readers see their own rows';
INSERT INTO app.secrets VALUES (1, 'corpus_reader', 's1'), (2, 'someone', 's2');
GRANT SELECT ON app.secrets TO corpus_reader;
GRANT ALL ON app.secrets TO corpus_writer WITH GRANT OPTION;
CREATE FUNCTION app.secure_count() RETURNS bigint LANGUAGE sql STABLE
  SECURITY DEFINER SET search_path = pg_catalog, app
  AS $$ SELECT count(*) FROM app.secrets $$;
ALTER FUNCTION app.secure_count() OWNER TO corpus_owner;
REVOKE EXECUTE ON FUNCTION app.secure_count() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.secure_count() TO corpus_reader;

-- --- extension types in use, indexes of every kind -------------------------------------------------------
CREATE TABLE app.ext_use (
  id serial PRIMARY KEY,
  attrs public.hstore,
  path public.ltree,
  login public.citext UNIQUE,
  pw text,
  pw_hash bytea
);
INSERT INTO app.ext_use (attrs, path, login, pw, pw_hash)
  SELECT public.hstore('k' || g, g::text), ('root.n' || g % 5 || '.leaf' || g)::public.ltree,
         'User' || g, public.crypt('pw' || g, '$2a$06$abcdefghijklmnopqrstuv'),
         public.hmac('msg' || g, 'key', 'sha256')
    FROM generate_series(1, 50) g;
CREATE INDEX ext_use_attrs ON app.ext_use USING gin (attrs);
CREATE INDEX ext_use_path ON app.ext_use USING gist (path);
CREATE INDEX ext_use_lower ON app.ext_use (lower(pw)) WHERE id > 10;
CREATE INDEX ext_use_incl ON app.ext_use (id) INCLUDE (login);
CREATE INDEX ext_use_brin ON app.ext_use USING brin (id);
CREATE INDEX ext_use_hash ON app.ext_use USING hash (pw);
CREATE UNIQUE INDEX ext_use_nnd ON app.ext_use (pw_hash) NULLS NOT DISTINCT;
CREATE INDEX "idx.dotted" ON "a.b"."dotted.table" ("col.with.dots" COLLATE "C" DESC NULLS LAST);
COMMENT ON INDEX app.ext_use_path IS 'gist over ltree';
CLUSTER app.ext_use USING ext_use_pkey;
ALTER TABLE app.ext_use REPLICA IDENTITY USING INDEX ext_use_pkey;

-- --- triggers ---------------------------------------------------------------------------------------------
CREATE TABLE app.audit_log (id bigserial PRIMARY KEY, tbl text, n bigint);
CREATE TABLE app.counters (name text PRIMARY KEY, n bigint NOT NULL);
INSERT INTO app.counters VALUES ('a', 1), ('b', 2);
CREATE TRIGGER "touch.it" BEFORE UPDATE ON "a.b"."dotted.table"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION app.touch();
CREATE TRIGGER counters_audit AFTER INSERT ON app.counters
  REFERENCING NEW TABLE AS newrows FOR EACH STATEMENT EXECUTE FUNCTION app.audit_stmt();
CREATE TRIGGER counters_off BEFORE DELETE ON app.counters
  FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.counters DISABLE TRIGGER counters_off;
COMMENT ON TRIGGER "touch.it" ON "a.b"."dotted.table" IS 'counts updates';
INSERT INTO app.counters VALUES ('c', 3);                      -- fires the audit
UPDATE "a.b"."dotted.table" SET "Mixed Case" = 'updated' WHERE id = 1;

-- --- sequences at edge values --------------------------------------------------------------------------------
CREATE SEQUENCE app.seq_desc INCREMENT BY -1 MINVALUE -1000 MAXVALUE -1 START WITH -1;
SELECT nextval('app.seq_desc') FROM generate_series(1, 3);      -- -3, called
CREATE SEQUENCE app.seq_fresh START WITH 42;                     -- never called
CREATE SEQUENCE app.seq_setfalse;
SELECT setval('app.seq_setfalse', 500, false);                   -- next is 500
CREATE SEQUENCE app.seq_max AS smallint MAXVALUE 32767;
SELECT setval('app.seq_max', 32767);                             -- at maxvalue, called
CREATE SEQUENCE app.seq_cycle MINVALUE 1 MAXVALUE 3 CYCLE;
SELECT nextval('app.seq_cycle') FROM generate_series(1, 4);      -- 1 2 3 1
CREATE SEQUENCE app.seq_min AS bigint INCREMENT BY -1 MINVALUE -9223372036854775808 MAXVALUE 0 START WITH 0;
SELECT setval('app.seq_min', -9223372036854775808);
CREATE SEQUENCE app.seq_cached CACHE 20;
SELECT nextval('app.seq_cached');
CREATE SEQUENCE "a.b"."seq.dotted" START WITH 7 INCREMENT BY 7;
SELECT nextval('"a.b"."seq.dotted"');
ALTER SEQUENCE "a.b"."seq.dotted" OWNED BY "a.b"."dotted.table".id;
COMMENT ON SEQUENCE app.seq_max IS 'at its maxvalue';
GRANT USAGE, SELECT ON SEQUENCE app.seq_cycle TO corpus_writer;

-- --- views and materialized views ----------------------------------------------------------------------------
CREATE VIEW "a.b"."view.v" WITH (security_barrier = true) AS
  SELECT id, "col.with.dots" FROM "a.b"."dotted.table" WHERE id > 1;
CREATE MATERIALIZED VIEW app.mv_regions AS
  SELECT region, count(*) AS n, min(at) AS first_at FROM app.events GROUP BY region;
CREATE UNIQUE INDEX mv_regions_region ON app.mv_regions (region);
CREATE MATERIALIZED VIEW app.mv_later AS
  SELECT id, name FROM app.vehicle WITH NO DATA;
COMMENT ON MATERIALIZED VIEW app.mv_regions IS 'populated';
COMMENT ON MATERIALIZED VIEW app.mv_later IS 'never populated';
GRANT SELECT ON app.mv_regions TO corpus_reader;

-- --- large objects --------------------------------------------------------------------------------------------
SELECT lo_from_bytea(1000001, ''::bytea);                        -- empty
SELECT lo_from_bytea(1000002, convert_to(E'hello, large object: ü 日本\n', 'UTF8'));
SELECT lo_from_bytea(1000003,                                     -- 4 MiB, incompressible
  (SELECT decode(string_agg(md5(g::text), '' ORDER BY g), 'hex') FROM generate_series(1, 262144) g));
SELECT lo_from_bytea(1000004, decode(repeat('00ff', 1000), 'hex'));
COMMENT ON LARGE OBJECT 1000002 IS 'a small large object';
GRANT SELECT ON LARGE OBJECT 1000002 TO corpus_reader;
ALTER LARGE OBJECT 1000003 OWNER TO corpus_owner;
GRANT SELECT, UPDATE ON LARGE OBJECT 1000003 TO corpus_writer;
CREATE TABLE app.documents (id integer PRIMARY KEY, title text, content oid);
INSERT INTO app.documents VALUES (1, 'empty', 1000001), (2, 'hello', 1000002), (3, 'big', 1000003);

-- --- ownership, privileges, comments ----------------------------------------------------------------------------
ALTER TABLE app.values_edge OWNER TO corpus_owner;
ALTER TABLE app.events OWNER TO corpus_owner;
ALTER TABLE "a.b"."dotted.table" OWNER TO corpus_writer;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "a.b" TO "Corpus.Auditor ""q""";
REVOKE ALL ON public."select" FROM PUBLIC;
GRANT SELECT ON public."Grüße" TO PUBLIC;
COMMENT ON COLUMN app.gen.b IS 'generated: a * 2';
COMMENT ON VIEW "a.b"."view.v" IS 'a view with a dot';
COMMENT ON PROCEDURE app.bump(integer) IS 'a procedure';
COMMENT ON COLLATION app.german IS 'ICU de-DE in a libc database';

-- --- an event trigger (last: it sees every later DDL) -----------------------------------------------------------
CREATE FUNCTION app.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'corpus ddl: %', tg_tag;
END
$$;
CREATE EVENT TRIGGER corpus_ddl_notice ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION app.on_ddl();
COMMENT ON EVENT TRIGGER corpus_ddl_notice IS 'notices table DDL';
