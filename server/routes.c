/* The routes (the /v1 API, /metrics, the web page): method, path
 * pattern, who may call, handler, metrics label.  `cpufleet server --routes` lists this table, and the integration
 * test builds its authorisation matrix from that listing. */
#include <stddef.h>
#include "server/api.h"

const struct cf_api_route cf_api_routes[] = {
	{ "GET", "/v1/health", CF_API_PUBLIC, cf_h_health, "health" },
	{ "GET", "/metrics", CF_API_PUBLIC, cf_h_metrics, "metrics" },
	{ "POST", "/v1/reports", CF_API_UPLOAD, cf_h_upload, "reports" },
	{ "GET", "/v1/hosts", CF_API_READ, cf_h_hosts, "hosts" },
	{ "GET", "/v1/hosts/{}", CF_API_READ, cf_h_host, "host" },
	{ "PUT", "/v1/hosts/{}/labels", CF_API_ADMIN, cf_h_host_labels,
	  "host_labels" },
	{ "GET", "/v1/features/{}", CF_API_READ, cf_h_feature, "feature" },
	{ "GET", "/v1/pools", CF_API_READ, cf_h_pools, "pools" },
	{ "GET", "/v1/pools/{}", CF_API_READ, cf_h_pool, "pool" },
	{ "PUT", "/v1/pools/{}", CF_API_ADMIN, cf_h_pool_put, "pool_put" },
	{ "DELETE", "/v1/pools/{}", CF_API_ADMIN, cf_h_pool_delete,
	  "pool_delete" },
	{ "POST", "/v1/pools/{}/baseline", CF_API_READ, cf_h_baseline,
	  "baseline" },
	{ "GET", "/v1/pools/{}/matrix", CF_API_READ, cf_h_matrix, "matrix" },
	{ "POST", "/v1/pools/{}/what-if", CF_API_READ, cf_h_what_if,
	  "what_if" },
	{ "GET", "/v1/profiles", CF_API_READ, cf_h_profiles, "profiles" },
	{ "GET", "/v1/profiles/{}", CF_API_READ, cf_h_profile, "profile" },
	{ "PUT", "/v1/profiles/{}", CF_API_ADMIN, cf_h_profile_put,
	  "profile_put" },
	{ "GET", "/v1/profiles/{}/versions", CF_API_READ, cf_h_profiles,
	  "profile_versions" },
	{ "GET", "/v1/profiles/{}/versions/{}", CF_API_READ, cf_h_profile,
	  "profile_version" },
	{ "GET", "/v1/profiles/{}/versions/{}/export", CF_API_READ,
	  cf_h_profile_export, "profile_export" },
	{ "POST", "/v1/check", CF_API_READ, cf_h_check, "check" },
	{ "GET", "/v1/events", CF_API_READ, cf_h_events, "events" },
	{ "GET", "/v1/audit", CF_API_ADMIN, cf_h_audit, "audit" },
	/* The read-only web page: its files need no token. */
	{ "GET", "/", CF_API_PUBLIC, cf_h_web, "web" },
	{ "GET", "/web/{}", CF_API_PUBLIC, cf_h_web, "web_file" },
};
const size_t cf_api_nroutes = sizeof(cf_api_routes) / sizeof(cf_api_routes[0]);
