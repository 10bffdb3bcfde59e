#include <stdarg.h>
#include <stdio.h>
#include "util/diag.h"

enum cf_err cf_diag_set(struct cf_diag *d, enum cf_err err, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return err;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return err;
}
