/* Helpers shared by the JSON documents: bounded file reads, parsing with
 * positions, typed field access whose errors name file, JSON path and
 * reason. */
#ifndef CF_DOC_H
#define CF_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <cpufleet.h>

#define CF_DOC_PATH_MAX 256

/* Reads at most CF_DOC_MAX_BYTES of PATH into a malloc'd, NUL-terminated
 * buffer. */
enum cf_err cf_doc_read_file(const char *path, char **buf, size_t *len,
			     struct cf_diag *d);
/* Parses TEXT; on error the message gives ORIGIN:line:column.  A member
 * given twice in one object is CF_ESCHEMA, naming its path; so is a \u0000
 * escape, which would cut the string holding it short. */
enum cf_err cf_doc_parse(const char *text, size_t len, const char *origin,
			 cJSON **out, struct cf_diag *d);
/* Builds a document's object from its parsed JSON. */
typedef enum cf_err (*cf_doc_build_fn)(const cJSON *root, const char *origin,
				       void **out, struct cf_diag *d);
/* Parses TEXT and hands the tree to BUILD. */
enum cf_err cf_doc_parse_with(const char *text, size_t len, const char *origin,
			      cf_doc_build_fn build, void **out,
			      struct cf_diag *d);
/* Reads PATH and parses it with BUILD; errors name PATH. */
enum cf_err cf_doc_load_with(const char *path, cf_doc_build_fn build,
			     void **out, struct cf_diag *d);
/* A profile v1 document already parsed (with cf_doc_parse's rules, e.g. a
 * member of a request body): what cf_profile_parse builds from its text. */
enum cf_err cf_profile_from_doc(const cJSON *root, const char *origin,
				struct cf_profile **out, struct cf_diag *d);
/* ---- verdicts and pair matrices: one JSON shape for the CLI and the
 * API (README "JSON: verdicts and matrices") ---- */
/* A verdict's reasons as a JSON array, the tree cf_verdict_to_json
 * prints: one object per reason {kind, register, field, features, wants,
 * offers, text[, needs]}. */
enum cf_err cf_verdict_to_doc(const struct cf_verdict *v, cJSON **out);
/* One host's verdict: {"host", "compatible", "reasons": [reason]}. */
enum cf_err cf_verdict_entry_doc(const char *host, const struct cf_verdict *v,
				 cJSON **out);
/* {KEY: HOST, "compatible", "reasons": count}, NULL when out of memory. */
cJSON *cf_matrix_cell_doc(const char *key, const char *host,
			  const struct cf_matrix_cell *c);
/* The name of configuration G of a matrix in its document: "c1", "c2"... */
void cf_matrix_config_name(size_t g, char *buf, size_t len);
/* Adds to O "hosts": [HOSTS], "configs": [{"config", "hosts"}] (each host
 * once, under its configuration: GROUP[i] of NGROUPS, as cf_matrix_group
 * gives them), "rows": [{"from", "cells": [{"to", "compatible",
 * "reasons"}]}] (one cell per ordered pair of configurations, CELL[from *
 * NGROUPS + to]) and "compatible" (every pair). */
enum cf_err cf_matrix_to_doc(const char *const *hosts, size_t n,
			     const size_t *group, size_t ngroups,
			     const struct cf_matrix_cell *cell, cJSON *o);
/* A what-if on pool POOL (NULL: reports given, no pool): {"pool",
 * "hosts" (after the change), "added", "removed", "feasible",
 * "conflicts", "profile" (the new baseline), "against": {"name",
 * "version"} or null (the baseline of the members now), "gained", "lost",
 * "refused": [verdict entries]}. */
struct cf_whatif;
enum cf_err cf_whatif_to_doc(const struct cf_whatif *w, const char *pool,
			     const char *against, int version, cJSON **out);
/* "0x" + 1..16 hex digits. */
enum cf_err cf_doc_hex(const cJSON *item, const char *origin, const char *path,
		       uint64_t *out, struct cf_diag *d);
/* A string of at most MAX-1 bytes, no control characters, copied to OUT. */
enum cf_err cf_doc_string(const cJSON *item, const char *origin,
			  const char *path, char *out, size_t max,
			  struct cf_diag *d);
/* The object member KEY of OBJ, which must be an object (or NULL if absent
 * and not REQUIRED). */
enum cf_err cf_doc_object(const cJSON *obj, const char *key, bool required,
			  const char *origin, const char *path,
			  const cJSON **out, struct cf_diag *d);
/* "0x%016llx" into BUF (at least 19 bytes). */
void cf_doc_hexstr(uint64_t v, char *buf, size_t len);
/* Writes LEN bytes of DATA to PATH durably (temp file, fsync, rename).
 * What PATH already is stays so: a symbolic link is kept and its target
 * (a regular file) replaced; a character device or FIFO is written in
 * place, never renamed over; a directory, socket, block device or a link
 * to nothing is refused (CF_EIO). */
enum cf_err cf_doc_write_file(const char *path, const char *data, size_t len,
			      struct cf_diag *d);

#endif
