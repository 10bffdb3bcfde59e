/* The agent's on-disk spool.  Entries are files NNNNNNNNNNNN.json (a 12-digit
 * sequence number) in the spool directory; refused ones move to rejected/.
 * The directory is locked with flock(2) on .lock for as long as it is open,
 * so the pending entries can be listed once at open and then tracked in
 * memory: nobody else changes them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "agent/spool.h"
#include "util/diag.h"

#define SPOOL_DIGITS 12
#define SPOOL_SEQ_MAX 999999999999ull
#define SPOOL_TMP_PREFIX ".tmp."
#define SPOOL_LOCK ".lock"
#define SPOOL_REJECTED "rejected"

struct cf_spool {
	char dir[PATH_MAX];
	int dfd;             /* the spool directory */
	int rfd;             /* its rejected/ */
	int lockfd;
	uint64_t next_seq;
	uint64_t *seq;       /* pending entries, ascending: seq[head..n) */
	size_t head, n, cap;
};

/* "000000000042.json" -> 42; false for any other name. */
static bool spool_parse_name(const char *name, uint64_t *seq)
{
	uint64_t v = 0;

	for (int i = 0; i < SPOOL_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (strcmp(name + SPOOL_DIGITS, ".json") != 0)
		return false;
	*seq = v;
	return true;
}

static void spool_name(uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "%0*" PRIu64 ".json", SPOOL_DIGITS, seq);
}

/* mkdir -p with mode 0700 for what it creates. */
static enum cf_err spool_mkdirs(const char *dir, struct cf_diag *d)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return cf_diag_set(d, CF_EINVAL, "spool directory '%s': empty or "
				   "too long", dir);
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		if (path[i - 1] == '/')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			path[i] = c;
			return cf_diag_set(d, CF_EIO, "%s: cannot create spool "
					   "directory: %s", dir, strerror(e));
		}
		path[i] = c;
	}
	return CF_OK;
}

/* fsync a directory; file systems that cannot (EINVAL) are let off. */
static enum cf_err spool_sync_dir(int dfd, const char *what, struct cf_diag *d)
{
	if (fsync(dfd) != 0 && errno != EINVAL)
		return cf_diag_set(d, CF_EIO, "%s: fsync of the directory failed: "
				   "%s", what, strerror(errno));
	return CF_OK;
}

/* Writes DATA as NAME in directory DFD durably: O_EXCL temporary file,
 * write, fsync, rename, directory fsync. */
static enum cf_err spool_write_at(struct cf_spool *s, int dfd, const char *name,
				  const char *data, size_t len,
				  struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	char tmp[CF_SPOOL_NAME_MAX + 16];
	int fd = -1;
	bool created = false;
	size_t off = 0;

	snprintf(tmp, sizeof(tmp), SPOOL_TMP_PREFIX "%s", name);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Ours from a failed call in this process: we hold the lock. */
		unlinkat(dfd, tmp, 0);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			    0600);
	}
	if (fd < 0) {
		err = cf_diag_set(d, CF_EIO, "%s/%s: cannot create: %s", s->dir,
				  tmp, strerror(errno));
		goto cleanup;
	}
	created = true;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = cf_diag_set(d, CF_EIO, "%s/%s: write failed: %s",
					  s->dir, tmp, w < 0 ? strerror(errno) :
					  "no progress");
			goto cleanup;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		err = cf_diag_set(d, CF_EIO, "%s/%s: fsync failed: %s", s->dir,
				  tmp, strerror(errno));
		goto cleanup;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = cf_diag_set(d, CF_EIO, "%s/%s: close failed: %s", s->dir,
				  tmp, strerror(errno));
		goto cleanup;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) != 0) {
		err = cf_diag_set(d, CF_EIO, "%s/%s: rename failed: %s", s->dir,
				  name, strerror(errno));
		goto cleanup;
	}
	created = false;
	err = spool_sync_dir(dfd, s->dir, d);
cleanup:
	if (fd >= 0)
		close(fd);
	if (created)
		unlinkat(dfd, tmp, 0);
	return err;
}

static enum cf_err spool_push(struct cf_spool *s, uint64_t seq)
{
	if (s->head > 0 && s->n == s->cap) {
		memmove(s->seq, s->seq + s->head,
			(s->n - s->head) * sizeof(*s->seq));
		s->n -= s->head;
		s->head = 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *p = realloc(s->seq, cap * sizeof(*p));
		if (!p)
			return CF_ENOMEM;
		s->seq = p;
		s->cap = cap;
	}
	s->seq[s->n++] = seq;
	return CF_OK;
}

/* Forgets pending entry SEQ (normally the oldest). */
static void spool_forget(struct cf_spool *s, uint64_t seq)
{
	for (size_t i = s->head; i < s->n; i++) {
		if (s->seq[i] != seq)
			continue;
		if (i == s->head) {
			s->head++;
		} else {
			memmove(s->seq + i, s->seq + i + 1,
				(s->n - i - 1) * sizeof(*s->seq));
			s->n--;
		}
		break;
	}
	if (s->head == s->n)
		s->head = s->n = 0;
}

static int spool_cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Lists directory FD: removes temporary files, and, if PENDING, records
 * the entries; the sequence continues past every entry seen. */
static enum cf_err spool_scan(struct cf_spool *s, int fd, bool pending,
			      const char *what, struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	DIR *dir = NULL;
	struct dirent *de;
	int dup_fd;
	uint64_t seq;

	dup_fd = dup(fd);
	if (dup_fd < 0 || !(dir = fdopendir(dup_fd))) {
		err = cf_diag_set(d, CF_EIO, "%s: cannot list: %s", what,
				  strerror(errno));
		if (dup_fd >= 0)
			close(dup_fd);
		goto cleanup;
	}
	rewinddir(dir);
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, SPOOL_TMP_PREFIX,
			    strlen(SPOOL_TMP_PREFIX)) == 0) {
			if (unlinkat(fd, de->d_name, 0) != 0 && errno != ENOENT) {
				err = cf_diag_set(d, CF_EIO, "%s/%s: cannot remove "
						  "a left-over temporary file: "
						  "%s", what, de->d_name,
						  strerror(errno));
				goto cleanup;
			}
		} else if (spool_parse_name(de->d_name, &seq)) {
			if (seq >= s->next_seq)
				s->next_seq = seq + 1;
			if (pending && (err = spool_push(s, seq)) != CF_OK)
				goto cleanup;
		}
		errno = 0;
	}
	if (errno != 0) {
		err = cf_diag_set(d, CF_EIO, "%s: cannot list: %s", what,
				  strerror(errno));
		goto cleanup;
	}
	if (pending && s->n > 0)
		qsort(s->seq, s->n, sizeof(*s->seq), spool_cmp_seq);
cleanup:
	if (dir)
		closedir(dir);
	return err;
}

enum cf_err cf_spool_open(const char *dir, struct cf_spool **out,
			  struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	struct cf_spool *s = NULL;
	char rdir[PATH_MAX + 16];

	if (!out || !dir)
		return cf_diag_set(d, CF_EINVAL, "spool: no directory given");
	*out = NULL;
	if (strlen(dir) >= sizeof(s->dir))
		return cf_diag_set(d, CF_EINVAL, "spool directory '%.64s...': "
				   "too long", dir);
	s = calloc(1, sizeof(*s));
	if (!s)
		return CF_ENOMEM;
	s->dfd = s->rfd = s->lockfd = -1;
	s->next_seq = 1;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(rdir, sizeof(rdir), "%s/" SPOOL_REJECTED, dir);
	if ((err = spool_mkdirs(dir, d)) != CF_OK)
		goto cleanup;
	s->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dfd < 0) {
		err = cf_diag_set(d, CF_EIO, "%s: cannot open spool directory: "
				  "%s", dir, strerror(errno));
		goto cleanup;
	}
	s->lockfd = openat(s->dfd, SPOOL_LOCK,
			   O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lockfd < 0) {
		err = cf_diag_set(d, CF_EIO, "%s/" SPOOL_LOCK ": cannot open: %s",
				  dir, strerror(errno));
		goto cleanup;
	}
	while (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			err = cf_diag_set(d, CF_ECONFLICT, "%s: spool is in use by "
					  "another agent", dir);
		else
			err = cf_diag_set(d, CF_EIO, "%s/" SPOOL_LOCK ": cannot "
					  "lock: %s", dir, strerror(errno));
		goto cleanup;
	}
	if (mkdirat(s->dfd, SPOOL_REJECTED, 0700) != 0 && errno != EEXIST) {
		err = cf_diag_set(d, CF_EIO, "%s: cannot create: %s", rdir,
				  strerror(errno));
		goto cleanup;
	}
	s->rfd = openat(s->dfd, SPOOL_REJECTED,
			O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s->rfd < 0) {
		err = cf_diag_set(d, CF_EIO, "%s: cannot open: %s", rdir,
				  strerror(errno));
		goto cleanup;
	}
	if ((err = spool_scan(s, s->dfd, true, dir, d)) != CF_OK)
		goto cleanup;
	/* Rejected names are not reused either, so a later rejection never
	 * replaces an earlier one. */
	if ((err = spool_scan(s, s->rfd, false, rdir, d)) != CF_OK)
		goto cleanup;
	*out = s;
	s = NULL;
cleanup:
	cf_spool_close(s);
	return err;
}

void cf_spool_close(struct cf_spool *s)
{
	if (!s)
		return;
	if (s->rfd >= 0)
		close(s->rfd);
	if (s->lockfd >= 0)
		close(s->lockfd);  /* releases the lock */
	if (s->dfd >= 0)
		close(s->dfd);
	free(s->seq);
	free(s);
}

enum cf_err cf_spool_put(struct cf_spool *s, const char *body, size_t len,
			 struct cf_diag *d)
{
	enum cf_err err;
	char name[CF_SPOOL_NAME_MAX];

	if (!s || (!body && len > 0))
		return cf_diag_set(d, CF_EINVAL, "spool put: no spool or body");
	if (cf_spool_count(s) >= CF_SPOOL_MAX_ENTRIES)
		return cf_diag_set(d, CF_ETOOBIG, "%s: spool is full (%u reports "
				   "waiting)", s->dir, CF_SPOOL_MAX_ENTRIES);
	if (len > CF_DOC_MAX_BYTES)
		return cf_diag_set(d, CF_ETOOBIG, "%s: report of %zu bytes is over "
				   "the limit of %u", s->dir, len,
				   CF_DOC_MAX_BYTES);
	if (s->next_seq > SPOOL_SEQ_MAX)
		return cf_diag_set(d, CF_ETOOBIG, "%s: sequence numbers exhausted",
				   s->dir);
	/* Reserve the slot first, so a failed push never leaves a file the
	 * queue does not know. */
	if ((err = spool_push(s, s->next_seq)) != CF_OK)
		return err;
	spool_name(s->next_seq, name, sizeof(name));
	err = spool_write_at(s, s->dfd, name, body ? body : "", len, d);
	if (err != CF_OK) {
		s->n--;
		if (s->head == s->n)
			s->head = s->n = 0;
		return err;
	}
	s->next_seq++;
	return CF_OK;
}

size_t cf_spool_count(struct cf_spool *s)
{
	return s ? s->n - s->head : 0;
}

/* Reads entry NAME, at most CF_DOC_MAX_BYTES; CF_ENOTFOUND if it is gone. */
static enum cf_err spool_read(struct cf_spool *s, const char *name,
			      char **body, size_t *len, struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	int fd;
	struct stat st;
	char *b = NULL;
	size_t off = 0;

	fd = openat(s->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return CF_ENOTFOUND;
		return cf_diag_set(d, CF_EIO, "%s/%s: cannot open: %s", s->dir,
				   name, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = cf_diag_set(d, CF_EIO, "%s/%s: not a readable file", s->dir,
				  name);
		goto cleanup;
	}
	if ((uintmax_t)st.st_size > CF_DOC_MAX_BYTES) {
		err = cf_diag_set(d, CF_ETOOBIG, "%s/%s: %jd bytes, over the "
				  "limit of %u", s->dir, name,
				  (intmax_t)st.st_size, CF_DOC_MAX_BYTES);
		goto cleanup;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		err = CF_ENOMEM;
		goto cleanup;
	}
	while (off < (size_t)st.st_size) {
		ssize_t r = read(fd, b + off, (size_t)st.st_size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = cf_diag_set(d, CF_EIO, "%s/%s: read failed: %s",
					  s->dir, name, strerror(errno));
			goto cleanup;
		}
		if (r == 0)
			break;  /* shrank under us: take what is there */
		off += (size_t)r;
	}
	b[off] = '\0';
	*body = b;
	*len = off;
	b = NULL;
cleanup:
	free(b);
	close(fd);
	return err;
}

enum cf_err cf_spool_oldest(struct cf_spool *s, char *name, size_t name_len,
			    char **body, size_t *len, struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	char n[CF_SPOOL_NAME_MAX];

	if (body)
		*body = NULL;
	if (len)
		*len = 0;
	if (!s || !name || !body || !len || name_len < SPOOL_DIGITS + 6)
		return cf_diag_set(d, CF_EINVAL, "spool oldest: bad arguments");
	name[0] = '\0';
	while (s->head < s->n) {
		spool_name(s->seq[s->head], n, sizeof(n));
		err = spool_read(s, n, body, len, d);
		if (err != CF_ENOTFOUND) {
			/* The name is given on errors too, so that the caller
			 * can reject an entry that cannot be read. */
			snprintf(name, name_len, "%s", n);
			return err;
		}
		/* Removed behind our back: nothing to deliver. */
		spool_forget(s, s->seq[s->head]);
	}
	return cf_diag_set(d, CF_ENOTFOUND, "%s: spool is empty", s->dir);
}

enum cf_err cf_spool_remove(struct cf_spool *s, const char *name,
			    struct cf_diag *d)
{
	uint64_t seq;

	if (!s || !name || !spool_parse_name(name, &seq))
		return cf_diag_set(d, CF_EINVAL, "spool: '%s' is not an entry "
				   "name", name ? name : "(null)");
	if (unlinkat(s->dfd, name, 0) != 0) {
		if (errno == ENOENT) {
			spool_forget(s, seq);
			return cf_diag_set(d, CF_ENOTFOUND, "%s/%s: no such "
					   "entry", s->dir, name);
		}
		return cf_diag_set(d, CF_EIO, "%s/%s: cannot remove: %s", s->dir,
				   name, strerror(errno));
	}
	spool_forget(s, seq);
	return spool_sync_dir(s->dfd, s->dir, d);
}

enum cf_err cf_spool_reject(struct cf_spool *s, const char *name,
			    const char *reason, struct cf_diag *d)
{
	enum cf_err err;
	char why[CF_SPOOL_NAME_MAX + 8], rdir[PATH_MAX + 16];
	char *text = NULL;
	size_t rlen;
	uint64_t seq;
	struct stat st;

	if (!s || !name || !spool_parse_name(name, &seq))
		return cf_diag_set(d, CF_EINVAL, "spool: '%s' is not an entry "
				   "name", name ? name : "(null)");
	snprintf(rdir, sizeof(rdir), "%s/" SPOOL_REJECTED, s->dir);
	if (fstatat(s->dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT) {
			spool_forget(s, seq);
			return cf_diag_set(d, CF_ENOTFOUND, "%s/%s: no such "
					   "entry", s->dir, name);
		}
		return cf_diag_set(d, CF_EIO, "%s/%s: %s", s->dir, name,
				   strerror(errno));
	}
	/* The reason first: a crash between the two steps leaves the entry
	 * queued (and rejected again), never a rejection without a reason. */
	if (!reason)
		reason = "";
	rlen = strlen(reason);
	text = malloc(rlen + 2);
	if (!text)
		return CF_ENOMEM;
	memcpy(text, reason, rlen);
	text[rlen] = '\n';
	text[rlen + 1] = '\0';
	snprintf(why, sizeof(why), "%s.why", name);
	err = spool_write_at(s, s->rfd, why, text, rlen + 1, d);
	free(text);
	if (err != CF_OK)
		return err;
	if (renameat(s->dfd, name, s->rfd, name) != 0)
		return cf_diag_set(d, CF_EIO, "%s/%s: cannot move to %s: %s",
				   s->dir, name, rdir, strerror(errno));
	spool_forget(s, seq);
	if ((err = spool_sync_dir(s->rfd, rdir, d)) != CF_OK)
		return err;
	return spool_sync_dir(s->dfd, s->dir, d);
}
