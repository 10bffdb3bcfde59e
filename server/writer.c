#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "server/writer.h"
#include "util/diag.h"

struct job {
	cf_writer_fn fn;
	cf_writer_many_fn many;
	void *arg;
	enum cf_err result;
	struct cf_diag diag;
	bool ran;   /* together with others: result set */
	bool alone; /* running it together failed: alone it is */
	bool done;
	pthread_cond_t cond;  /* its own, so a batch wakes only its jobs */
	struct job *next;
};

struct cf_writer {
	struct cf_db *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;   /* jobs queued, or stopping */
	struct job *head, **tail;
	bool stopping;
	struct cf_writer_stats st;
};

/* The jobs of BATCH from FIRST on sharing FIRST's many: run together when
 * they are two or more, else (or when that fails) left to run alone. */
static void run_together(struct cf_writer *w, struct job *first)
{
	struct cf_diag d = { "" };
	size_t n = 0, i = 0;
	void **args;
	enum cf_err *res, err;
	struct cf_diag *diags;

	for (struct job *j = first; j; j = j->next)
		n += j->many == first->many && !j->ran && !j->alone;
	if (n < 2)
		return;
	args = malloc(n * sizeof(*args));
	res = malloc(n * sizeof(*res));
	diags = calloc(n, sizeof(*diags));
	if (args && res && diags) {
		for (struct job *j = first; j; j = j->next)
			if (j->many == first->many && !j->ran && !j->alone)
				args[i++] = j->arg;
		err = cf_db_savepoint(w->db, &d);
		if (err == CF_OK)
			err = first->many(w->db, args, n, res, diags, &d);
		if (err == CF_OK)
			err = cf_db_release(w->db, &d);
		if (err != CF_OK) {
			cf_db_rollback_to(w->db);
			cf_db_release(w->db, NULL);
			w->st.apart++;
			for (struct job *j = first; j; j = j->next)
				j->alone |= j->many == first->many;
		} else {
			i = 0;
			for (struct job *j = first; j; j = j->next) {
				if (j->many != first->many || j->ran ||
				    j->alone)
					continue;
				j->ran = true;
				j->result = res[i];
				if (res[i] != CF_OK)
					j->diag = diags[i];
				i++;
			}
			w->st.together += n;
		}
	}
	free(args);
	free(res);
	free(diags);
}

/* Runs one batch; returns with every job's result set. */
static void run_batch(struct cf_writer *w, struct job *batch)
{
	struct cf_diag d = { "" };
	enum cf_err err = cf_db_begin(w->db, &d);
	size_t n = 0, failed = 0;

	/* Any order of the batch's jobs is one they could have come in:
	 * all were waiting at once. */
	for (struct job *j = batch; err == CF_OK && j; j = j->next)
		if (j->many && !j->ran && !j->alone)
			run_together(w, j);
	for (struct job *j = batch; j; j = j->next) {
		n++;
		if (err != CF_OK) {
			j->result = err;
			j->diag = d;
			continue;
		}
		if (j->ran) {
			failed += j->result != CF_OK;
			continue;
		}
		j->result = cf_db_savepoint(w->db, &j->diag);
		if (j->result == CF_OK)
			j->result = j->fn(w->db, j->arg, &j->diag);
		if (j->result != CF_OK) {
			cf_db_rollback_to(w->db);
			failed++;
		}
		if (cf_db_release(w->db, &d) != CF_OK && j->result == CF_OK) {
			j->result = CF_EDB;
			j->diag = d;
		}
	}
	if (err == CF_OK && cf_db_commit(w->db, &d) != CF_OK) {
		cf_db_rollback(w->db);
		w->st.commits_failed++;
		for (struct job *j = batch; j; j = j->next) {
			if (j->result == CF_OK) {
				j->result = CF_EDB;
				j->diag = d;
			}
		}
	}
	pthread_mutex_lock(&w->lock);
	w->st.batches++;
	w->st.jobs += n;
	w->st.failed += failed;
	for (struct job *j = batch, *next; j; j = next) {
		next = j->next;  /* J may be gone once signalled */
		j->done = true;
		pthread_cond_signal(&j->cond);
	}
	pthread_mutex_unlock(&w->lock);
}

static void *writer_main(void *arg)
{
	struct cf_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (!w->head && w->stopping)
			break;
		/* Take up to BATCH_MAX jobs; later ones wait for the next. */
		struct job *batch = w->head, *last = batch;
		size_t n = 1;
		while (last->next && n < CF_WRITER_BATCH_MAX) {
			last = last->next;
			n++;
		}
		w->head = last->next;
		if (!w->head)
			w->tail = &w->head;
		last->next = NULL;
		pthread_mutex_unlock(&w->lock);
		run_batch(w, batch);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

enum cf_err cf_writer_start(struct cf_db *db, struct cf_writer **out,
			    struct cf_diag *d)
{
	struct cf_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w) {
		cf_db_close(db);
		return cf_diag_set(d, CF_ENOMEM, "writer: out of memory");
	}
	w->db = db;
	w->tail = &w->head;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->wake);
		cf_db_close(db);
		free(w);
		return cf_diag_set(d, CF_ENOMEM, "writer: cannot start a thread");
	}
	*out = w;
	return CF_OK;
}

void cf_writer_stop(struct cf_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	cf_db_close(w->db);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}

enum cf_err cf_writer_run(struct cf_writer *w, cf_writer_fn fn,
			  cf_writer_many_fn many, void *arg,
			  struct cf_diag *d)
{
	struct job j = { .fn = fn, .many = many, .arg = arg };

	pthread_cond_init(&j.cond, NULL);
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		pthread_cond_destroy(&j.cond);
		return cf_diag_set(d, CF_EDB, "the server is stopping");
	}
	*w->tail = &j;
	w->tail = &j.next;
	pthread_cond_signal(&w->wake);
	while (!j.done)
		pthread_cond_wait(&j.cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	pthread_cond_destroy(&j.cond);
	if (j.result != CF_OK && d)
		*d = j.diag;
	return j.result;
}

void cf_writer_stats(struct cf_writer *w, struct cf_writer_stats *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->st;
	out->waiting = 0;
	for (const struct job *j = w->head; j; j = j->next)
		out->waiting++;
	pthread_mutex_unlock(&w->lock);
}
