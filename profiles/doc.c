#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "profiles/doc.h"
#include "util/diag.h"

enum cf_err cf_doc_read_file(const char *path, char **buf, size_t *len,
			     struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	FILE *f = NULL;
	char *b = NULL;
	size_t n, cap;
	struct stat st;

	*buf = NULL;
	f = fopen(path, "rb");
	if (!f) {
		err = cf_diag_set(d, CF_EIO, "%s: cannot open: %s", path,
				  strerror(errno));
		goto cleanup;
	}
	/* A regular file's own size (and a byte more, which shows a file
	 * that grew since), not the most a document may have: most are a
	 * few kB.  Read without stdio's buffer. */
	cap = CF_DOC_MAX_BYTES + 1;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size >= 0 && (uintmax_t)st.st_size < CF_DOC_MAX_BYTES)
		cap = (size_t)st.st_size + 2;
	setvbuf(f, NULL, _IONBF, 0);
	b = malloc(cap);
	if (!b) {
		err = CF_ENOMEM;
		goto cleanup;
	}
	n = fread(b, 1, cap, f);
	if (n == cap && cap < CF_DOC_MAX_BYTES + 1 && !ferror(f)) {
		char *more = realloc(b, CF_DOC_MAX_BYTES + 1);
		if (!more) {
			err = CF_ENOMEM;
			goto cleanup;
		}
		b = more;
		n += fread(b + n, 1, CF_DOC_MAX_BYTES + 1 - n, f);
	}
	if (ferror(f)) {
		err = cf_diag_set(d, CF_EIO, "%s: read error: %s", path,
				  strerror(errno));
		goto cleanup;
	}
	if (n > CF_DOC_MAX_BYTES) {
		err = cf_diag_set(d, CF_ETOOBIG, "%s: larger than %u bytes", path,
				  CF_DOC_MAX_BYTES);
		goto cleanup;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
cleanup:
	free(b);
	if (f)
		fclose(f);
	return err;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string,
		      (*(const cJSON *const *)b)->string);
}

/* P (LEN bytes) followed by the N bytes of S, cut at CF_DOC_PATH_MAX - 1
 * bytes as snprintf cuts; the new length. */
static size_t path_add(char *p, size_t len, const char *s, size_t n)
{
	if (n > CF_DOC_PATH_MAX - 1 - len)
		n = CF_DOC_PATH_MAX - 1 - len;
	memcpy(p + len, s, n);
	p[len + n] = '\0';
	return len + n;
}

/* The name given twice in object O of N members that sorts first (as
 * strcmp orders them), or NULL; *ERR = CF_ENOMEM if out of memory. */
static const char *twice(const cJSON *o, size_t n, enum cf_err *err)
{
	const cJSON *it, *jt, **names;
	const char *first = NULL;
	size_t i = 0;

	if (n <= 16) {		/* small objects: no allocation */
		for (it = o->child; it; it = it->next)
			for (jt = it->next; jt; jt = jt->next)
				if (!strcmp(it->string, jt->string) &&
				    (!first || strcmp(it->string, first) < 0))
					first = it->string;
		return first;
	}
	if (!(names = malloc(n * sizeof(*names)))) {
		*err = CF_ENOMEM;
		return NULL;
	}
	cJSON_ArrayForEach(it, o)
		names[i++] = it;
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 1; i < n && !first; i++)
		if (!strcmp(names[i - 1]->string, names[i]->string))
			first = names[i]->string;
	free(names);
	return first;
}

/* CF_ESCHEMA naming the first member found given twice in one object of
 * O (at the path in P, LEN bytes; P has CF_DOC_PATH_MAX bytes), at any
 * depth: such a document says two things, and what it means would depend
 * on which one a reader takes. */
static enum cf_err unique_members(const cJSON *o, const char *origin,
				  char *p, size_t len, struct cf_diag *d)
{
	const cJSON *it;
	enum cf_err err = CF_OK;
	size_t n = 0, i = 0;
	const char *dup;

	cJSON_ArrayForEach(it, o)
		n++;
	if (cJSON_IsObject(o) && n > 1 && (dup = twice(o, n, &err)) != NULL)
		return cf_diag_set(d, CF_ESCHEMA, "%s: %s.%s: given twice",
				   origin, p, dup);
	if (err != CF_OK)
		return err;
	cJSON_ArrayForEach(it, o) {
		size_t l;
		char num[24];
		if (!it->child) {	/* nothing below: no path to build */
			i++;
			continue;
		}
		if (cJSON_IsObject(o)) {
			l = path_add(p, len, ".", 1);
			l = path_add(p, l, it->string, strlen(it->string));
		} else {
			int k = (int)sizeof(num);
			size_t v = i;
			num[--k] = ']';
			do
				num[--k] = (char)('0' + v % 10);
			while ((v /= 10) != 0);
			num[--k] = '[';
			l = path_add(p, len, num + k, sizeof(num) - (size_t)k);
		}
		i++;
		err = unique_members(it, origin, p, l, d);
		p[len] = '\0';
		if (err != CF_OK)
			break;
	}
	return err;
}

/* Line and column (from 1) of STOP in TEXT. */
static void doc_pos(const char *text, const char *stop, size_t *line,
		    size_t *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < stop; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* The first \u0000 escape in TEXT, or NULL.  cJSON decodes it into a NUL
 * that ends the C string early, so "n1-01\u0000x" would be read as
 * "n1-01": a document would say one name and be taken for another.  A
 * backslash outside a string is malformed anyway, so escapes can be
 * skipped pairwise without tracking strings. */
static const char *nul_escape(const char *text, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] != '\\')
			continue;
		if (text[i + 1] == 'u' && len - i >= 6 &&
		    !memcmp(text + i + 2, "0000", 4))
			return text + i;
		i++;  /* the escaped character */
	}
	return NULL;
}

enum cf_err cf_doc_parse(const char *text, size_t len, const char *origin,
			 cJSON **out, struct cf_diag *d)
{
	enum cf_err err;
	const char *end = NULL, *nul;
	size_t line, col;
	cJSON *j;

	*out = NULL;
	if (len > CF_DOC_MAX_BYTES)
		return cf_diag_set(d, CF_ETOOBIG, "%s: larger than %u bytes",
				   origin, CF_DOC_MAX_BYTES);
	j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (j && end) {
		/* One document per file: only white space may follow. */
		while (end < text + len &&
		       (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
			end++;
		if (end < text + len) {
			cJSON_Delete(j);
			j = NULL;
		}
	}
	if (!j) {
		const char *stop = end ? end : text + len;
		if (stop < text || stop > text + len)
			stop = text + len;
		doc_pos(text, stop, &line, &col);
		return cf_diag_set(d, CF_ESYNTAX,
				   "%s:%zu:%zu: malformed JSON", origin, line, col);
	}
	if ((nul = nul_escape(text, len)) != NULL) {
		cJSON_Delete(j);
		doc_pos(text, nul, &line, &col);
		return cf_diag_set(d, CF_ESCHEMA, "%s:%zu:%zu: \\u0000 (NUL) in a "
				   "string: no name or text may hold one",
				   origin, line, col);
	}
	{
		char p[CF_DOC_PATH_MAX] = "$";
		err = unique_members(j, origin, p, 1, d);
	}
	if (err != CF_OK) {
		cJSON_Delete(j);
		return err;
	}
	*out = j;
	return CF_OK;
}

enum cf_err cf_doc_parse_with(const char *text, size_t len, const char *origin,
			      cf_doc_build_fn build, void **out,
			      struct cf_diag *d)
{
	cJSON *root = NULL;
	enum cf_err err;

	*out = NULL;
	err = cf_doc_parse(text, len, origin, &root, d);
	if (err == CF_OK)
		err = build(root, origin, out, d);
	cJSON_Delete(root);
	return err;
}

enum cf_err cf_doc_load_with(const char *path, cf_doc_build_fn build,
			     void **out, struct cf_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	enum cf_err err;

	*out = NULL;
	err = cf_doc_read_file(path, &buf, &len, d);
	if (err == CF_OK)
		err = cf_doc_parse_with(buf, len, path, build, out, d);
	free(buf);
	return err;
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum cf_err cf_doc_hex(const cJSON *item, const char *origin, const char *path,
		       uint64_t *out, struct cf_diag *d)
{
	const char *s;
	uint64_t v = 0;
	size_t n = 0;

	if (!cJSON_IsString(item))
		goto bad;
	s = item->valuestring;
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		goto bad;
	for (s += 2; *s; s++, n++) {
		int h = hexdigit(*s);
		if (h < 0 || n >= 16)
			goto bad;
		v = v << 4 | (uint64_t)h;
	}
	if (n == 0)
		goto bad;
	*out = v;
	return CF_OK;
bad:
	return cf_diag_set(d, CF_ESCHEMA,
			   "%s: %s: expected a string \"0x\" followed by 1 to 16 "
			   "hex digits", origin, path);
}

enum cf_err cf_doc_string(const cJSON *item, const char *origin,
			  const char *path, char *out, size_t max,
			  struct cf_diag *d)
{
	size_t n;

	if (!cJSON_IsString(item))
		return cf_diag_set(d, CF_ESCHEMA, "%s: %s: expected a string",
				   origin, path);
	n = strlen(item->valuestring);
	if (n == 0 || n >= max)
		return cf_diag_set(d, CF_ESCHEMA,
				   "%s: %s: expected 1 to %zu bytes, got %zu",
				   origin, path, max - 1, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)item->valuestring[i] < 0x20)
			return cf_diag_set(d, CF_ESCHEMA,
					   "%s: %s: control character in string",
					   origin, path);
	memcpy(out, item->valuestring, n + 1);
	return CF_OK;
}

enum cf_err cf_doc_object(const cJSON *obj, const char *key, bool required,
			  const char *origin, const char *path,
			  const cJSON **out, struct cf_diag *d)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!it) {
		if (required)
			return cf_diag_set(d, CF_ESCHEMA,
					   "%s: %s.%s: required object missing",
					   origin, path, key);
		return CF_OK;
	}
	if (!cJSON_IsObject(it))
		return cf_diag_set(d, CF_ESCHEMA, "%s: %s.%s: expected an object",
				   origin, path, key);
	*out = it;
	return CF_OK;
}

void cf_doc_hexstr(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "0x%016" PRIx64, v);
}

static enum cf_err write_all(int fd, const char *name, const char *data,
			     size_t len, struct cf_diag *d)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cf_diag_set(d, CF_EIO, "%s: write failed: %s", name,
					   strerror(errno));
		off += (size_t)w;
	}
	return CF_OK;
}

/* A character device or FIFO: opened for writing as it is (no create, no
 * truncate; a FIFO waits for its reader) and written; nothing to sync. */
static enum cf_err write_in_place(const char *path, const char *data,
				  size_t len, struct cf_diag *d)
{
	enum cf_err err;
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return cf_diag_set(d, CF_EIO, "%s: cannot open for writing: %s",
				   path, strerror(errno));
	err = write_all(fd, path, data, len, d);
	if (close(fd) != 0 && err == CF_OK)
		err = cf_diag_set(d, CF_EIO, "%s: close failed: %s", path,
				  strerror(errno));
	return err;
}

/* A regular file PATH (or none yet): a temporary file beside it, fsync,
 * rename over it, fsync of the directory. */
static enum cf_err replace_file(const char *path, const char *data, size_t len,
				struct cf_diag *d)
{
	enum cf_err err = CF_OK;
	char tmp[4096], dir[4096];
	int fd = -1, dfd;
	bool created = false;
	const char *slash;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return cf_diag_set(d, CF_EINVAL, "%s: path too long", path);
	/* mkstemp: a fresh name, O_EXCL, so nothing planted there is followed. */
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = cf_diag_set(d, CF_EIO, "%s: cannot create a temporary file "
				  "beside it: %s", path, strerror(errno));
		goto cleanup;
	}
	created = true;
	if (fchmod(fd, 0644) != 0) {
		err = cf_diag_set(d, CF_EIO, "%s: chmod: %s", tmp, strerror(errno));
		goto cleanup;
	}
	err = write_all(fd, tmp, data, len, d);
	if (err != CF_OK)
		goto cleanup;
	if (fsync(fd) != 0) {
		err = cf_diag_set(d, CF_EIO, "%s: fsync failed: %s", tmp,
				  strerror(errno));
		goto cleanup;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = cf_diag_set(d, CF_EIO, "%s: close failed: %s", tmp,
				  strerror(errno));
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		err = cf_diag_set(d, CF_EIO, "%s: rename failed: %s", path,
				  strerror(errno));
		goto cleanup;
	}
	/* The rename itself must reach the disk: fsync the directory. */
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
cleanup:
	if (fd >= 0)
		close(fd);
	if (err != CF_OK && created)
		unlink(tmp);
	return err;
}

enum cf_err cf_doc_write_file(const char *path, const char *data, size_t len,
			      struct cf_diag *d)
{
	struct stat lst, st;
	enum cf_err err;
	char *real;

	/* A name that is not there yet (or cannot be looked at: the
	 * temporary file's creation then says why) becomes a new file. */
	if (lstat(path, &lst) != 0)
		return replace_file(path, data, len, d);
	if (stat(path, &st) != 0)
		return cf_diag_set(d, CF_EIO, "%s: a symbolic link to nothing "
				   "(%s): not written", path, strerror(errno));
	/* Never renamed over: a device node or FIFO replaced by a regular
	 * file breaks everything that uses it (as root, -o /dev/null). */
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
		return write_in_place(path, data, len, d);
	if (!S_ISREG(st.st_mode))
		return cf_diag_set(d, CF_EIO, "%s: %s: not written", path,
				   S_ISDIR(st.st_mode) ? "a directory" :
				   S_ISBLK(st.st_mode) ? "a block device" :
				   S_ISSOCK(st.st_mode) ? "a socket" :
				   "not a regular file");
	if (!S_ISLNK(lst.st_mode))
		return replace_file(path, data, len, d);
	/* A link to a regular file: its target is replaced, the link kept. */
	real = realpath(path, NULL);
	if (!real)
		return cf_diag_set(d, CF_EIO, "%s: cannot resolve the symbolic "
				   "link: %s", path, strerror(errno));
	err = replace_file(real, data, len, d);
	free(real);
	return err;
}
