/* strlist.h - a growable list of owned strings, sortable in C order. */
#ifndef FF_STRLIST_H
#define FF_STRLIST_H

#include <stddef.h>

typedef struct ff_strlist {
	char **v;
	size_t n, cap;
} ff_strlist;

/* Append a copy of s; -1 when out of memory (the list is unchanged). */
int ff_strlist_push(ff_strlist *l, const char *s);
/* Sort in strcmp order (a no-op on an empty list). */
void ff_strlist_sort(ff_strlist *l);
/* True when s is in a sorted list. */
int ff_strlist_has(const ff_strlist *l, const char *s);
/* True when s is in the list, whatever its order. */
int ff_strlist_has_unsorted(const ff_strlist *l, const char *s);
void ff_strlist_free(ff_strlist *l);

#endif
