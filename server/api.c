/* What the /v1 handlers share: the status of each error, JSON replies,
 * request decoding helpers.  Each handler validates everything before it
 * writes, so a 4xx answer means nothing changed; writes go through the
 * fleet (the server's writer) and are on disk when the 2xx answer
 * leaves. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "server/api.h"
#include "profiles/doc.h"

/* Every error's HTTP status: the request's fault (4xx) or the server's
 * (5xx).  A code missing here answers 500. */
static const unsigned short statuses[CF_ERR_LAST] = {
	[CF_OK] = 200,
	[CF_ENOMEM] = 500,
	[CF_EIO] = 500,
	[CF_ESYNTAX] = 400,
	[CF_ESCHEMA] = 400,
	[CF_EARCH] = 400,
	[CF_ETOOBIG] = 413,
	[CF_EINVAL] = 400,
	[CF_EDUPLICATE] = 400,
	[CF_EEMPTY] = 409,       /* a pool with no member that has reported */
	[CF_ENOTFOUND] = 404,
	[CF_ECONFLICT] = 409,
	[CF_EDB] = 500,
	[CF_ENET] = 500,
	[CF_EDENIED] = 403,
	[CF_ECANCELED] = 499,    /* the client went away: nobody reads it */
	[CF_EREVOKED] = 401,
};

unsigned cf_api_status(enum cf_err err)
{
	unsigned s = (unsigned)err < CF_ERR_LAST ? statuses[err] : 0;
	return s ? s : 500;
}

const char *cf_api_access_name(enum cf_api_access a)
{
	switch (a) {
	case CF_API_PUBLIC: return "public";
	case CF_API_UPLOAD: return "upload";
	case CF_API_READ: return "read";
	case CF_API_ADMIN: return "admin";
	}
	return "?";
}

const char *const cf_api_upload_names[CF_API_NUPLOAD] = {
	"new", "seen_again", "known", "rejected", "failed",
};

void cf_api_count_upload(struct cf_api_env *env, enum cf_api_upload what)
{
	__atomic_fetch_add(&env->uploads[what], 1, __ATOMIC_RELAXED);
}

void cf_api_error(struct cf_api_reply *rp, unsigned status, const char *fmt,
		  ...)
{
	char msg[CF_DIAG_MAX + 128];
	cJSON *o = cJSON_CreateObject();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(rp->body);
	rp->status = status;
	rp->ctype = NULL;
	rp->body = NULL;
	if (o && cJSON_AddStringToObject(o, "error", msg))
		rp->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
}

void cf_api_fail(struct cf_api_reply *rp, enum cf_err err,
		 const struct cf_diag *d)
{
	cf_api_error(rp, cf_api_status(err), "%s",
		     d && d->msg[0] ? d->msg : cf_strerror(err));
}

void cf_api_reply_json(struct cf_api_reply *rp, unsigned status, cJSON *o)
{
	rp->status = status;
	rp->ctype = NULL;
	free(rp->body);
	rp->body = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!rp->body)
		cf_api_error(rp, 500, "out of memory");
}

bool cf_api_add_stored(cJSON *o, const char *key, const char *text,
		       const char *fallback)
{
	return cJSON_AddRawToObject(o, key, text ? text : fallback) != NULL;
}

cJSON *cf_api_body_object(const struct cf_api_req *rq, struct cf_api_reply *rp,
			  bool empty_ok)
{
	struct cf_diag d = { "" };
	cJSON *o = NULL;

	if (rq->len == 0 && empty_ok)
		return cJSON_CreateObject();
	if (cf_doc_parse(rq->body, rq->len, "request body", &o, &d) != CF_OK) {
		cf_api_error(rp, 400, "%s", d.msg);
		return NULL;
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		cf_api_error(rp, 400, "request body: $: expected an object");
		return NULL;
	}
	return o;
}

void cf_api_list(const struct cf_api_req *rq, struct cf_api_reply *rp,
		 const char *key, cf_api_list_fn list, size_t limit)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, key);
	enum cf_err err = arr ? list(&rq->env->fleet, arr, limit) : CF_ENOMEM;

	if (err != CF_OK) {
		cJSON_Delete(o);
		cf_api_error(rp, 500, "%s: %s", key, cf_strerror(err));
		return;
	}
	cf_api_reply_json(rp, 200, o);
}

bool cf_api_parse_version(const char *s, int *v)
{
	char *end;
	long n;

	if (!s || !*s) {
		*v = 0;
		return true;
	}
	n = strtol(s, &end, 10);
	if (*end || n < 1 || n > 1000000000)
		return false;
	*v = (int)n;
	return true;
}
