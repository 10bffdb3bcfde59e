/* The server's single database writer, with group commit: request threads
 * queue jobs and wait; the writer runs every queued job in one transaction,
 * each inside its own savepoint, and commits once (synchronous=FULL), so
 * many concurrent uploads share one fsync and none is acknowledged before
 * it is durable.  Jobs of one kind that can be run together (uploads) run
 * as one call inside one savepoint: a statement per table for all, not a
 * dozen round trips to PostgreSQL for each. */
#ifndef CF_WRITER_H
#define CF_WRITER_H

#include <cpufleet.h>
#include "db/db.h"

#define CF_WRITER_BATCH_MAX 512

/* One write; runs on the writer thread inside a savepoint.  A non-CF_OK
 * result undoes that job's changes only. */
typedef enum cf_err (*cf_writer_fn)(struct cf_db *db, void *arg,
				    struct cf_diag *d);

/* Jobs of one kind run together: runs ARGS[0..N) at once, inside one
 * savepoint, and sets each job's result in RES[I] (and DIAGS[I] when not
 * CF_OK); a job refused there wrote nothing.  Any other return than CF_OK
 * (a statement failed): the writer undoes the savepoint and runs each job
 * alone through its cf_writer_fn. */
typedef enum cf_err (*cf_writer_many_fn)(struct cf_db *db, void *const *args,
					 size_t n, enum cf_err *res,
					 struct cf_diag *diags,
					 struct cf_diag *d);

struct cf_writer;

/* Takes over DB (a read-write connection) and starts the thread. */
enum cf_err cf_writer_start(struct cf_db *db, struct cf_writer **out,
			    struct cf_diag *d);
/* Runs every queued job, stops the thread, closes the database. */
void cf_writer_stop(struct cf_writer *w);
/* Queues FN(ARG) and waits until its transaction committed (CF_OK), its job
 * failed (its error) or the commit failed (CF_EDB, every job of the batch
 * undone).  MANY (may be NULL): the job may run together with the batch's
 * other jobs of the same MANY, to the same effect as FN one after the
 * other. */
enum cf_err cf_writer_run(struct cf_writer *w, cf_writer_fn fn,
			  cf_writer_many_fn many, void *arg,
			  struct cf_diag *d);

struct cf_writer_stats {
	unsigned long long jobs, failed, batches, commits_failed;
	unsigned long long together;   /* jobs run by a cf_writer_many_fn */
	unsigned long long apart;      /* its calls undone, the jobs rerun */
	unsigned long long waiting;    /* jobs queued now, not yet taken */
};
void cf_writer_stats(struct cf_writer *w, struct cf_writer_stats *out);

#endif
