/* A growable list of strings the list owns: names collected while walking
 * something (features given up, host ids), then sorted and deduplicated
 * once. */
#ifndef CF_STRSET_H
#define CF_STRSET_H

#include <stddef.h>
#include <cpufleet.h>

struct cf_strset {
	char **v;
	size_t n, cap;
};

/* Appends a copy of S. */
enum cf_err cf_strset_add(struct cf_strset *set, const char *s);
/* Appends a copy of S unless it is there already (a linear search: for
 * sets of tens of names). */
enum cf_err cf_strset_add_unique(struct cf_strset *set, const char *s);
/* Sorts by strcmp and drops repeats. */
void cf_strset_sort_unique(struct cf_strset *set);
void cf_strset_clear(struct cf_strset *set);

#endif
