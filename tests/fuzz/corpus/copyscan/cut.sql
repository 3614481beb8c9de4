COPY s.t (x) FROM stdin;
row
