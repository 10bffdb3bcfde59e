/* The agent's on-disk spool: reports waiting for the server, delivered
 * oldest first.  Every entry is written durably (temporary file, fsync,
 * rename, directory fsync) before anyone is told it exists, so a report the
 * agent collected survives a crash, a reboot and any server outage. */
#ifndef CF_SPOOL_H
#define CF_SPOOL_H

#include <stddef.h>
#include <cpufleet.h>

#define CF_SPOOL_NAME_MAX 64
#define CF_SPOOL_MAX_ENTRIES 100000  /* a full spool refuses new entries */

struct cf_spool;

/* Opens DIR (created with its parents, mode 0700, if absent) and takes an
 * exclusive lock on DIR/.lock so two agents never drain one spool: a second
 * open is CF_ECONFLICT naming the directory.  Left-over temporary files of a
 * crashed writer are removed. */
enum cf_err cf_spool_open(const char *dir, struct cf_spool **out,
			  struct cf_diag *d);
void cf_spool_close(struct cf_spool *s);
/* Adds BODY as the newest entry.  Names sort in put order, also across
 * restarts (a zero-padded sequence number continued from the entries on
 * disk).  CF_ETOOBIG when the spool holds CF_SPOOL_MAX_ENTRIES. */
enum cf_err cf_spool_put(struct cf_spool *s, const char *body, size_t len,
			 struct cf_diag *d);
/* Entries waiting (rejected ones not counted). */
size_t cf_spool_count(struct cf_spool *s);
/* The oldest entry's NAME and BODY (malloc'd, NUL-terminated, at most
 * CF_DOC_MAX_BYTES); CF_ENOTFOUND when the spool is empty. */
enum cf_err cf_spool_oldest(struct cf_spool *s, char *name, size_t name_len,
			    char **body, size_t *len, struct cf_diag *d);
/* Drops a delivered entry (durably). */
enum cf_err cf_spool_remove(struct cf_spool *s, const char *name,
			    struct cf_diag *d);
/* Moves an entry the server refused for good to DIR/rejected/, with
 * REASON written beside it as NAME.why, so it is kept for the operator but
 * no longer blocks the queue. */
enum cf_err cf_spool_reject(struct cf_spool *s, const char *name,
			    const char *reason, struct cf_diag *d);

#endif
