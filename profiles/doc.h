/* Helpers shared by the JSON documents: bounded file reads, parsing with
 * positions, typed field access whose errors name file, JSON path and
 * reason. */
#ifndef CF_DOC_H
#define CF_DOC_H

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
