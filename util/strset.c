#include <stdlib.h>
#include <string.h>
#include "util/strset.h"

enum cf_err cf_strset_add(struct cf_strset *set, const char *s)
{
	char *copy;

	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 16;
		char **v = realloc(set->v, cap * sizeof(*v));
		if (!v)
			return CF_ENOMEM;
		set->v = v;
		set->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return CF_ENOMEM;
	set->v[set->n++] = copy;
	return CF_OK;
}

enum cf_err cf_strset_add_unique(struct cf_strset *set, const char *s)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i], s))
			return CF_OK;
	return cf_strset_add(set, s);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cf_strset_sort_unique(struct cf_strset *set)
{
	size_t out = 0;

	if (set->n > 1)
		qsort(set->v, set->n, sizeof(*set->v), str_cmp);
	for (size_t i = 0; i < set->n; i++) {
		if (out && !strcmp(set->v[out - 1], set->v[i]))
			free(set->v[i]);
		else
			set->v[out++] = set->v[i];
	}
	set->n = out;
}

void cf_strset_clear(struct cf_strset *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	free(set->v);
	*set = (struct cf_strset){ 0 };
}
