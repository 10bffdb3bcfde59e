/* GET / and GET /web/{name}: the read-only web page (web/), compiled into
 * the binary (server/web_assets.h): a name is looked up in that table,
 * never opened as a file.  The page needs no token; its script reads the
 * /v1 API with the reader token the user pasted. */
#include <stdlib.h>
#include <string.h>
#include "server/api.h"
#include "server/web_assets.h"

/* The page loads its own script and style sheet and calls its own API;
 * nothing inline, nothing from elsewhere, never in a frame. */
static const char page_csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; "
	"img-src 'self'; connect-src 'self'; base-uri 'none'; "
	"form-action 'none'; frame-ancestors 'none'";

void cf_h_web(const struct cf_api_req *rq, struct cf_api_reply *rp)
{
	const char *name = rq->param[0][0] ? rq->param[0] : "index.html";

	for (size_t i = 0; i < cf_web_nassets; i++) {
		const struct cf_web_asset *a = &cf_web_assets[i];
		size_t n;
		if (strcmp(a->name, name) != 0)
			continue;
		n = strlen(a->body);
		rp->body = malloc(n + 1);
		if (!rp->body) {
			cf_api_error(rp, 500, "out of memory");
			return;
		}
		memcpy(rp->body, a->body, n + 1);
		rp->status = 200;
		rp->ctype = a->ctype;
		rp->csp = page_csp;
		return;
	}
	cf_api_error(rp, 404, "no such file of the web page: %s", name);
}
