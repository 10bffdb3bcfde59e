#include <cpufleet.h>

const char *cf_strerror(enum cf_err err)
{
	switch (err) {
	case CF_OK: return "success";
	case CF_ENOMEM: return "out of memory";
	case CF_EIO: return "input/output error";
	case CF_ESYNTAX: return "malformed JSON";
	case CF_ESCHEMA: return "document breaks the v1 contract";
	case CF_EARCH: return "unknown or mixed architecture";
	case CF_ETOOBIG: return "input too large";
	case CF_EINVAL: return "invalid argument";
	case CF_EDUPLICATE: return "host id seen twice";
	case CF_EEMPTY: return "empty pool";
	case CF_ENOTFOUND: return "not found";
	case CF_ECONFLICT: return "conflicts with stored data";
	case CF_EDB: return "database error";
	case CF_ENET: return "server unreachable";
	case CF_EDENIED: return "permission denied";
	case CF_ECANCELED: return "cancelled";
	case CF_EREVOKED: return "credentials revoked";
	case CF_ERR_LAST: break;
	}
	return "unknown error";
}
