#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include "engine/report.h"
#include "util/diag.h"
#include "util/text.h"

enum cf_err cf_report_create(const char *host_id, struct cf_config *cfg,
			     struct cf_report **out)
{
	struct cf_report *r;

	*out = NULL;
	if (!host_id || !cfg || strlen(host_id) >= CF_HOST_ID_MAX ||
	    host_id[0] == '\0') {
		cf_config_unref(cfg);
		return CF_EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		cf_config_unref(cfg);
		return CF_ENOMEM;
	}
	snprintf(r->host_id, sizeof(r->host_id), "%s", host_id);
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
	free(r->kvm_json);
	free(r->arch_json);
	free(r->microcode);
	free(r->firmware);
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
	return r->report_id;
}

const char *cf_report_hostname(const struct cf_report *r)
{
	return r->hostname;
}

const char *cf_report_collected_at(const struct cf_report *r)
{
	return r->collected_at;
}

const char *cf_report_kernel(const struct cf_report *r)
{
	return r->kernel;
}

const char *cf_report_microcode(const struct cf_report *r)
{
	return r->microcode ? r->microcode : "";
}

const char *cf_report_firmware(const struct cf_report *r)
{
	return r->firmware ? r->firmware : "";
}

enum cf_err cf_report_set_id(struct cf_report *r, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n >= CF_REPORT_ID_MAX ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		       "0123456789._:-") != n)
		return CF_EINVAL;
	memcpy(r->report_id, id, n + 1);
	return CF_OK;
}

enum cf_err cf_report_set_collected_at(struct cf_report *r, const char *t)
{
	if (!t || !cf_text_time_ok(t, sizeof(r->collected_at)))
		return CF_EINVAL;
	snprintf(r->collected_at, sizeof(r->collected_at), "%s", t);
	return CF_OK;
}

const struct cf_config *cf_report_config(const struct cf_report *r)
{
	return r->cfg;
}

/* Where each field of enum cf_report_field lives: a text array of R, or
 * one of its malloc'd JSON texts. */
static char *text_of(struct cf_report *r, enum cf_report_field f)
{
	return f == CF_REPORT_HOSTNAME ? r->hostname :
	       f == CF_REPORT_KERNEL ? r->kernel :
	       f == CF_REPORT_MACHINE_ID ? r->machine_id :
	       f == CF_REPORT_COLLECTED_AT ? r->collected_at : NULL;
}

/* The malloc'd ones (NULL: none); texts among them are bounded as the
 * arrays are. */
static char **json_of(struct cf_report *r, enum cf_report_field f)
{
	return f == CF_REPORT_KVM_JSON ? &r->kvm_json :
	       f == CF_REPORT_ARCH_JSON ? &r->arch_json :
	       f == CF_REPORT_MICROCODE ? &r->microcode :
	       f == CF_REPORT_FIRMWARE ? &r->firmware : NULL;
}

const char *cf_report_field(const struct cf_report *r, enum cf_report_field f)
{
	const char *t = text_of((struct cf_report *)r, f);
	char **j = json_of((struct cf_report *)r, f);

	return t ? (t[0] ? t : NULL) : j ? *j : NULL;
}

enum cf_err cf_report_set_field(struct cf_report *r, enum cf_report_field f,
				const char *value)
{
	char *t = text_of(r, f), **j = json_of(r, f), *copy = NULL;

	if (!value)
		value = "";
	if (t) {
		/* Every text field is CF_TEXT_MAX bytes (engine/report.h). */
		if (strlen(value) >= CF_TEXT_MAX)
			return CF_EINVAL;
		memcpy(t, value, strlen(value) + 1);
		return CF_OK;
	}
	if (!j || ((f == CF_REPORT_MICROCODE || f == CF_REPORT_FIRMWARE) &&
		   strlen(value) >= CF_TEXT_MAX))
		return CF_EINVAL;
	if (value[0] && !(copy = strdup(value)))
		return CF_ENOMEM;
	free(*j);
	*j = copy;
	return CF_OK;
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
	enum cf_err err = cf_report_create(host_id, cf_config_ref(r->cfg), out);

	if (err == CF_OK) {
		memcpy((*out)->hostname, r->hostname, sizeof(r->hostname));
		memcpy((*out)->kernel, r->kernel, sizeof(r->kernel));
		memcpy((*out)->machine_id, r->machine_id, sizeof(r->machine_id));
		memcpy((*out)->collected_at, r->collected_at,
		       sizeof(r->collected_at));
		err = cf_report_set_field(*out, CF_REPORT_MICROCODE,
					  r->microcode);
		if (err == CF_OK)
			err = cf_report_set_field(*out, CF_REPORT_FIRMWARE,
						  r->firmware);
		if (err != CF_OK) {
			cf_report_destroy(*out);
			*out = NULL;
		}
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

enum cf_err cf_report_create_local(const char *host_id, struct cf_config *cfg,
				   struct cf_report **out, struct cf_diag *d)
{
	struct utsname u;
	struct tm tm;
	time_t t = time(NULL);
	struct cf_report *r;
	enum cf_err err = cf_report_create(host_id, cfg, out);
	FILE *f;

	if (err != CF_OK)
		return cf_diag_set(d, err, "host id '%s': %s", host_id,
				   cf_strerror(err));
	r = *out;
	if (uname(&u) == 0)
		snprintf(r->kernel, sizeof(r->kernel), "%s", u.release);
	if (gethostname(r->hostname, sizeof(r->hostname) - 1) != 0)
		r->hostname[0] = '\0';
	{
		char mc[CF_TEXT_MAX], fw[CF_TEXT_MAX];
		cf_report_read_microcode(
			"/sys/devices/system/cpu/cpu0/microcode/version",
			"/proc/cpuinfo", mc, sizeof(mc));
		read_line("/sys/class/dmi/id/bios_version", fw, sizeof(fw));
		if (cf_report_set_field(r, CF_REPORT_MICROCODE, mc) != CF_OK ||
		    cf_report_set_field(r, CF_REPORT_FIRMWARE, fw) != CF_OK) {
			cf_report_destroy(r);
			*out = NULL;
			return cf_diag_set(d, CF_ENOMEM, "out of memory");
		}
	}
	/* systemd's machine id: the host's stable identity, if it has one. */
	r->machine_id[0] = '\0';
	f = fopen("/etc/machine-id", "r");
	if (f) {
		if (!fgets(r->machine_id, (int)sizeof(r->machine_id), f))
			r->machine_id[0] = '\0';
		r->machine_id[strcspn(r->machine_id, "\r\n")] = '\0';
		fclose(f);
	}
	gmtime_r(&t, &tm);
	strftime(r->collected_at, sizeof(r->collected_at), "%Y-%m-%dT%H:%M:%SZ",
		 &tm);
	return CF_OK;
}
