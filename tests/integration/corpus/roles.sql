-- roles.sql - the corpus's roles (cluster-wide): loaded into "postgres"
-- before databases.sql. Names that need quoting in ACLs and settings are
-- on purpose.
CREATE ROLE corpus_owner NOLOGIN;
CREATE ROLE corpus_reader NOLOGIN;
CREATE ROLE corpus_writer LOGIN;
CREATE ROLE "Corpus.Auditor ""q""" NOLOGIN;
GRANT corpus_reader TO corpus_writer;
