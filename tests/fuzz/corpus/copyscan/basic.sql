SET x = 1;

COPY public.accounts (id, note) FROM stdin;
1	hello
2	\N
\\.	x

\.

COPY "Odd ""S"""."T" (a) FROM stdin;
\.
