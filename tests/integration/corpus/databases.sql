-- databases.sql - the corpus's databases and their database-level
-- properties, loaded into "postgres" after roles.sql (CREATE DATABASE
-- cannot run in a transaction: load without --single-transaction).
--
--   corpus           UTF8, libc C.UTF-8, owned by corpus_owner, with
--                    settings, per-role settings, GRANTs, a comment and a
--                    connection limit (main.sql fills it)
--   corpus_latin1    LATIN1, C (latin1.sql)
--   corpus_sqlascii  SQL_ASCII, C, bytes that are not UTF-8 (sqlascii.sql)
--   corpus_icu       UTF8, ICU de-DE (icu.sql)

CREATE DATABASE corpus OWNER corpus_owner ENCODING 'UTF8'
  LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0
  CONNECTION LIMIT 25;
ALTER DATABASE corpus SET search_path = app, public;
ALTER DATABASE corpus SET default_statistics_target = 250;
ALTER DATABASE corpus SET lock_timeout = '17s';
ALTER ROLE corpus_writer IN DATABASE corpus SET work_mem = '12MB';
ALTER ROLE corpus_writer IN DATABASE corpus SET statement_timeout = '5min';
ALTER ROLE "Corpus.Auditor ""q""" IN DATABASE corpus SET search_path = "a.b", public;
REVOKE CONNECT, TEMPORARY ON DATABASE corpus FROM PUBLIC;
GRANT CONNECT, CREATE ON DATABASE corpus TO corpus_writer;
GRANT CONNECT ON DATABASE corpus TO corpus_reader;
GRANT CONNECT, TEMPORARY ON DATABASE corpus TO "Corpus.Auditor ""q""";
COMMENT ON DATABASE corpus IS 'the corpus: awkward names, edge values, every kind of object (ü, 日本)';

CREATE DATABASE corpus_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'
  TEMPLATE template0;
COMMENT ON DATABASE corpus_latin1 IS 'LATIN1: Größe';
ALTER DATABASE corpus_latin1 SET search_path = "lager", public;

CREATE DATABASE corpus_sqlascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'
  TEMPLATE template0;
ALTER DATABASE corpus_sqlascii SET client_min_messages = warning;

CREATE DATABASE corpus_icu OWNER corpus_owner ENCODING 'UTF8'
  LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C.UTF-8' TEMPLATE template0;
COMMENT ON DATABASE corpus_icu IS 'ICU de-DE: ä sorts beside a, before B';
