#include "strlist.h"

#include <stdlib.h>
#include <string.h>

int ff_strlist_push(ff_strlist *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ff_strlist_sort(ff_strlist *l)
{
	if (l->n) /* qsort(NULL, 0) is undefined */
		qsort(l->v, l->n, sizeof(char *), cmp);
}

int ff_strlist_has(const ff_strlist *l, const char *s)
{
	return l->n && bsearch(&s, l->v, l->n, sizeof(char *), cmp) != NULL;
}

void ff_strlist_free(ff_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int ff_strlist_has_unsorted(const ff_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}
