#ifndef CF_DIAG_H
#define CF_DIAG_H
#include <cpufleet.h>

/* Formats into D (if not NULL) and returns ERR, so callers can
 * `return cf_diag_set(d, CF_ESCHEMA, "...")`. */
enum cf_err cf_diag_set(struct cf_diag *d, enum cf_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
