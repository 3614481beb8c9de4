-- icu.sql - corpus_icu (LOCALE_PROVIDER icu, ICU_LOCALE de-DE): text
-- whose order under ICU de-DE differs from its order in C, with indexes
-- built in that order. A copy recreated with libc C sorts it otherwise
-- (test_corpus.sh compares ORDER BY w on both).
SET client_encoding = 'UTF8';
CREATE TABLE public.words (id integer PRIMARY KEY, w text NOT NULL);
INSERT INTO public.words VALUES
  (1, 'a'), (2, 'B'), (3, 'ä'), (4, 'z'), (5, 'Z'), (6, 'Äpfel'), (7, 'apfel'),
  (8, 'Zebra'), (9, 'ß'), (10, 'ss'), (11, 'öl'), (12, 'Ol'), (13, 'ñ'), (14, 'n');
CREATE INDEX words_w ON public.words (w);
CREATE UNIQUE INDEX words_w_id ON public.words (w, id);
CREATE TABLE public.words_c (w text COLLATE "C" PRIMARY KEY);
INSERT INTO public.words_c SELECT w FROM public.words;
ALTER TABLE public.words OWNER TO corpus_owner;
