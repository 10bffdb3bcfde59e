/* The web page's files, compiled in: build/gen/web_assets.c, generated
 * from web/ by web/gen_assets.awk.  Internal to server/ (server/h_web.c
 * serves them). */
#ifndef CF_WEB_ASSETS_H
#define CF_WEB_ASSETS_H

#include <stddef.h>

struct cf_web_asset {
	const char *name;     /* file name, served at /web/NAME */
	const char *ctype;    /* Content-Type */
	const char *body;     /* the file, NUL-terminated (it holds no NUL) */
};

extern const struct cf_web_asset cf_web_assets[];
extern const size_t cf_web_nassets;

#endif
