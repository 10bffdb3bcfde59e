#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include "engine/report.h"
#include "util/diag.h"
#include "util/text.h"

/* The texts' slots in R->texts: the report_id, then each field. */
#define SLOT_REPORT_ID 0
#define SLOT(f) (1 + (size_t)(f))
#define NSLOTS SLOT(CF_REPORT_ARCH_JSON + 1)

/* Slot K of R's texts ("" if none). */
static const char *text_at(const struct cf_report *r, size_t k)
{
	const char *p = r->texts;

	if (!p)
		return "";
	while (k--)
		p += strlen(p) + 1;
	return p;
}

/* R's texts with slot K set to a copy of VALUE ("": none); CF_EINVAL if
 * it has MAX bytes or more (0: no bound), R unchanged.  VALUE may be one
 * of R's own texts. */
static enum cf_err text_set(struct cf_report *r, size_t k, const char *value,
			    size_t max)
{
	const char *part[NSLOTS];
	size_t len[NSLOTS], total = 0;
	char *b, *p, *old = r->texts;

	if (max && strlen(value) >= max)
		return CF_EINVAL;
	for (size_t i = 0; i < NSLOTS; i++) {
		part[i] = i == k ? value : text_at(r, i);
		len[i] = strlen(part[i]);
		total += len[i] + 1;
	}
	if (total == NSLOTS) {
		free(r->texts);
		r->texts = NULL;
		return CF_OK;
	}
	p = b = malloc(total);
	if (!b)
		return CF_ENOMEM;
	for (size_t i = 0; i < NSLOTS; i++) {
		memcpy(p, part[i], len[i] + 1);
		p += len[i] + 1;
	}
	r->texts = b;
	free(old);
	return CF_OK;
}

enum cf_err cf_report_create(const char *host_id, struct cf_config *cfg,
			     struct cf_report **out)
{
	struct cf_report *r;
	size_t n = host_id ? strlen(host_id) : 0;

	*out = NULL;
	if (!host_id || !cfg || n >= CF_HOST_ID_MAX || n == 0) {
		cf_config_unref(cfg);
		return CF_EINVAL;
	}
	r = calloc(1, sizeof(*r) + n + 1);
	if (!r) {
		cf_config_unref(cfg);
		return CF_ENOMEM;
	}
	memcpy(r->host_id, host_id, n + 1);
	cf_config_seal(cfg);
	r->cfg = cfg;
	*out = r;
	return CF_OK;
}

void cf_report_destroy(struct cf_report *r)
{
	if (!r)
		return;
	cf_config_unref(r->cfg);
	free(r->texts);
	free(r);
}

const char *cf_report_host_id(const struct cf_report *r)
{
	return r->host_id;
}

const char *cf_report_arch(const struct cf_report *r)
{
	return r->cfg->arch->name;
}

bool cf_report_vendor(const struct cf_report *r, char *buf, size_t len)
{
	const struct cf_arch_ops *a = r->cfg->arch;

	return a->vendor && a->vendor(r->cfg, buf, len);
}

const char *cf_report_id(const struct cf_report *r)
{
	return text_at(r, SLOT_REPORT_ID);
}

const char *cf_report_hostname(const struct cf_report *r)
{
	return text_at(r, SLOT(CF_REPORT_HOSTNAME));
}

const char *cf_report_collected_at(const struct cf_report *r)
{
	return text_at(r, SLOT(CF_REPORT_COLLECTED_AT));
}

const char *cf_report_kernel(const struct cf_report *r)
{
	return text_at(r, SLOT(CF_REPORT_KERNEL));
}

const char *cf_report_microcode(const struct cf_report *r)
{
	return text_at(r, SLOT(CF_REPORT_MICROCODE));
}

const char *cf_report_firmware(const struct cf_report *r)
{
	return text_at(r, SLOT(CF_REPORT_FIRMWARE));
}

enum cf_err cf_report_set_id(struct cf_report *r, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n >= CF_REPORT_ID_MAX ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		       "0123456789._:-") != n)
		return CF_EINVAL;
	return text_set(r, SLOT_REPORT_ID, id, CF_REPORT_ID_MAX);
}

enum cf_err cf_report_set_collected_at(struct cf_report *r, const char *t)
{
	if (!t || !cf_text_time_ok(t, CF_TEXT_MAX))
		return CF_EINVAL;
	return text_set(r, SLOT(CF_REPORT_COLLECTED_AT), t, CF_TEXT_MAX);
}

const struct cf_config *cf_report_config(const struct cf_report *r)
{
	return r->cfg;
}

const char *cf_report_field(const struct cf_report *r, enum cf_report_field f)
{
	const char *t;

	if ((unsigned)f > CF_REPORT_ARCH_JSON)
		return NULL;
	t = text_at(r, SLOT(f));
	return t[0] ? t : NULL;
}

/* The texts are bounded as the document bounds them; the JSON ones not. */
enum cf_err cf_report_set_field(struct cf_report *r, enum cf_report_field f,
				const char *value)
{
	if ((unsigned)f > CF_REPORT_ARCH_JSON)
		return CF_EINVAL;
	return text_set(r, SLOT(f), value ? value : "",
			f == CF_REPORT_KVM_JSON || f == CF_REPORT_ARCH_JSON ?
			0 : CF_TEXT_MAX);
}

enum cf_err cf_report_share(struct cf_report *r, struct cf_config_table *t)
{
	return cf_config_table_share(t, &r->cfg);
}

uint64_t cf_report_fingerprint(const struct cf_report *r)
{
	return r->cfg->fp;
}

enum cf_err cf_report_clone_as(const struct cf_report *r, const char *host_id,
			       struct cf_report **out)
{
	static const enum cf_report_field texts[] = {
		CF_REPORT_HOSTNAME, CF_REPORT_KERNEL, CF_REPORT_MACHINE_ID,
		CF_REPORT_COLLECTED_AT, CF_REPORT_MICROCODE, CF_REPORT_FIRMWARE,
	};
	enum cf_err err = cf_report_create(host_id, cf_config_ref(r->cfg), out);

	for (size_t i = 0; err == CF_OK && i < sizeof(texts) / sizeof(texts[0]);
	     i++)
		err = cf_report_set_field(*out, texts[i],
					  text_at(r, SLOT(texts[i])));
	if (err != CF_OK && *out) {
		cf_report_destroy(*out);
		*out = NULL;
	}
	return err;
}

/* The first line of file PATH into BUF, without its newline and
 * surrounding blanks; "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	if (!cf_text_ok(buf, 0, len))
		buf[0] = '\0';
}

void cf_report_read_microcode(const char *sysfs, const char *cpuinfo,
			      char *buf, size_t len)
{
	char line[CF_TEXT_MAX];
	FILE *f;

	read_line(sysfs, buf, len);
	if (buf[0])
		return;
	f = fopen(cpuinfo, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *v;
		size_t n;

		if (strncmp(line, "microcode", 9) != 0 ||
		    !(v = strchr(line, ':')))
			continue;
		v += strspn(v + 1, " \t") + 1;
		n = strcspn(v, "\r\n");
		snprintf(buf, len, "%.*s", (int)n, v);
		break;
	}
	fclose(f);
	if (!cf_text_ok(buf, 0, len))
		buf[0] = '\0';
}

/* This machine's texts into R: kernel release, hostname, microcode and
 * firmware versions, machine id, the time now. */
static enum cf_err local_texts(struct cf_report *r)
{
	char host[CF_TEXT_MAX] = "", mc[CF_TEXT_MAX], fw[CF_TEXT_MAX];
	char mid[CF_TEXT_MAX] = "", when[CF_TEXT_MAX] = "";
	struct utsname u;
	struct tm tm;
	time_t t = time(NULL);
	enum cf_err err = CF_OK;
	FILE *f;

	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	cf_report_read_microcode("/sys/devices/system/cpu/cpu0/microcode/version",
				 "/proc/cpuinfo", mc, sizeof(mc));
	read_line("/sys/class/dmi/id/bios_version", fw, sizeof(fw));
	/* systemd's machine id: the host's stable identity, if it has one. */
	f = fopen("/etc/machine-id", "r");
	if (f) {
		if (!fgets(mid, (int)sizeof(mid), f))
			mid[0] = '\0';
		mid[strcspn(mid, "\r\n")] = '\0';
		fclose(f);
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	{
		const struct {
			enum cf_report_field f;
			const char *text;
		} got[] = {
			{ CF_REPORT_KERNEL, uname(&u) == 0 ? u.release : "" },
			{ CF_REPORT_HOSTNAME, host },
			{ CF_REPORT_MICROCODE, mc },
			{ CF_REPORT_FIRMWARE, fw },
			{ CF_REPORT_MACHINE_ID, mid },
			{ CF_REPORT_COLLECTED_AT, when },
		};
		for (size_t i = 0; err == CF_OK && i < sizeof(got) / sizeof(got[0]);
		     i++)
			err = cf_report_set_field(r, got[i].f, got[i].text);
	}
	return err;
}

enum cf_err cf_report_create_local(const char *host_id, struct cf_config *cfg,
				   struct cf_report **out, struct cf_diag *d)
{
	enum cf_err err = cf_report_create(host_id, cfg, out);

	if (err != CF_OK)
		return cf_diag_set(d, err, "host id '%s': %s", host_id,
				   cf_strerror(err));
	if (local_texts(*out) != CF_OK) {
		cf_report_destroy(*out);
		*out = NULL;
		return cf_diag_set(d, CF_ENOMEM, "out of memory");
	}
	return CF_OK;
}
