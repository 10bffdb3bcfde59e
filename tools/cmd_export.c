/* cpufleet export / import: a profile in the formats VMMs take, and a
 * Firecracker template back into a profile. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profiles/doc.h"
#include "tools/cli_source.h"
#include "tools/cli_util.h"

static const char help_export[] =
"usage: cpufleet export --format qemu|libvirt|firecracker [-o FILE] [--json]\n"
"                       [--allow-drop] [--name NAME [--version N]] PROFILE\n"
"       cpufleet export --format ... --server URL NAME[@VERSION]\n"
"\n"
"Writes PROFILE (a profile file, or x86-64-v1..v4) in a format a VMM takes:\n"
"  qemu         a -cpu value.  x86: the named model libvirt would choose,\n"
"               vendor, family/model/stepping, level, xlevel, phys-bits,\n"
"               tsc-frequency, +feat/-feat in QEMU 7.2's names, enforce.\n"
"               arm64: -cpu host with pmu, sve, sve<N> and pauth; QEMU cannot\n"
"               set ID registers, and each one is listed as such.\n"
"  libvirt      x86: a domain <cpu mode='custom' match='exact'> element in\n"
"               libvirt's feature names (arm64: refused, libvirt cannot say it)\n"
"  firecracker  a custom CPU template: x86 cpuid_modifiers and msr_modifiers,\n"
"               aarch64 reg_modifiers and vcpu_features\n"
"Feature bits are matched to a VMM's names by CPUID bit, never by name.  The\n"
"export names the profile (NAME, version N) and its fingerprint (sha256 of\n"
"the profile's JSON): in a comment (qemu, libvirt) or, for firecracker, whose\n"
"JSON has no room for one, on stderr with the notes.\n"
"\n"
"  -f, --format FORMAT  qemu, libvirt or firecracker\n"
"  -o, --output FILE    write to FILE instead of stdout ('-': stdout), durably\n"
"  -j, --json           one JSON document: format, arch, profile, version,\n"
"                       fingerprint, notes, dropped, text\n"
"  -a, --allow-drop     leave out (and list) feature bits the format has no\n"
"                       name for, instead of refusing the profile\n"
"  -n, --name NAME      the profile's name, for the export's origin line\n"
"  -V, --version N      its published version\n"
CLI_SOURCE_HELP
"                       (its name and version go in the origin line)\n"
"  -h, --help           this text\n"
"\n"
"A bit the format has no name for (without --allow-drop), a bit it cannot\n"
"remove, an infeasible profile, or a format that cannot describe the\n"
"profile's architecture is an error naming the field; nothing is written.\n"
"\n"
"exit: 0 written, 1 an infeasible profile, 2 usage or input error,\n"
"3 internal error (cannot write the output)\n";

static const char help_import[] =
"usage: cpufleet import --format firecracker --host REPORT [-o FILE] TEMPLATE\n"
"\n"
"Turns a Firecracker custom CPU template (JSON; e.g. Firecracker's T2, T2S,\n"
"T2CL or V1N1) into the profile of what a guest sees under it on the host of\n"
"REPORT: each bitmap applied to that host's registers as Firecracker applies\n"
"it ('x' keeps the host's bit).  `cpufleet check` then says which other\n"
"hosts can run that guest.  A template that changes a CPUID leaf, MSR\n"
"or register REPORT lacks is refused, as Firecracker refuses it.\n"
"\n"
"  -f, --format FORMAT  firecracker\n"
"  -H, --host REPORT    the host the template is applied on\n"
"  -o, --output FILE    write the profile to FILE ('-': stdout), durably\n"
"  -h, --help           this text\n"
"\n"
"exit: 0 written, 2 usage or input error, 3 internal error\n";

static int print_or_write(const char *cmd, const char *out, const char *text)
{
	if (!out || !strcmp(out, "-")) {
		if (printf("%s\n", text) < 0 || fflush(stdout) != 0) {
			cli_error(cmd, "cannot write to stdout");
			return CLI_INTERNAL;
		}
		return CLI_OK;
	}
	return cli_write_file(cmd, out, text) ? CLI_INTERNAL : CLI_OK;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "allow-drop", no_argument, NULL, 'a' },
		{ "name", required_argument, NULL, 'n' },
		{ "version", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct cf_export_opts eo = { NULL, 0, false };
	struct cli_source src = { 0 };
	char pname[256];
	int pversion;
	const char *format = NULL, *out = NULL;
	struct cf_profile *pr = NULL;
	struct cf_export *e = NULL;
	struct cf_diag d = { "" };
	bool json = false;
	char *doc = NULL;
	long v;
	enum cf_err err;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:jan:V:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'o': out = optarg; break;
		case 'j': json = true; break;
		case 'a': eo.allow_drop = true; break;
		case 'n': eo.name = optarg; break;
		case 'V':
			if (!cli_parse_long(optarg, 1, 1000000000, &v)) {
				cli_error("export", "--version %s: expected a number "
					  "from 1", optarg);
				return CLI_USAGE;
			}
			eo.version = (int)v;
			break;
		case 'h': fputs(help_export, stdout); return CLI_OK;
		default:
			if (cli_source_opt(&src, c, optarg))
				break;
			fputs(help_export, stderr);
			return CLI_USAGE;
		}
	}
	if (!format) {
		cli_error("export", "--format is required (qemu, libvirt or "
			  "firecracker)");
		fputs(help_export, stderr);
		return CLI_USAGE;
	}
	if (eo.version && !eo.name) {
		cli_error("export", "--version needs --name");
		return CLI_USAGE;
	}
	if (optind != argc - 1) {
		cli_error("export", optind >= argc ? "no profile given" :
			  "one profile at a time");
		fputs(help_export, stderr);
		return CLI_USAGE;
	}
	rc = cli_load_profile_from("export", &src, argv[optind], &pr, pname,
				   sizeof(pname), &pversion);
	if (rc != CLI_OK)
		return rc;
	if (!eo.name && pname[0]) {
		/* A published version names itself. */
		eo.name = pname;
		eo.version = pversion;
	}
	err = cf_profile_export(pr, format, &eo, &e, &d);
	if (err != CF_OK) {
		cli_error("export", "%s: %s", argv[optind],
			  d.msg[0] ? d.msg : cf_strerror(err));
		rc = err == CF_ENOMEM ? CLI_INTERNAL :
		     !cf_profile_feasible(pr) ? CLI_NO : CLI_USAGE;
		goto cleanup;
	}
	if (json) {
		if (cf_export_to_json(e, &doc) != CF_OK) {
			cli_error("export", "out of memory");
			rc = CLI_INTERNAL;
			goto cleanup;
		}
		rc = print_or_write("export", out, doc);
		goto cleanup;
	}
	rc = print_or_write("export", out, cf_export_text(e));
	if (rc == CLI_OK && !strcmp(format, "firecracker")) {
		/* The template's JSON refuses any other member. */
		if (eo.version)
			fprintf(stderr, "cpufleet export: firecracker template of "
				"profile %s version %d, fingerprint %s\n", eo.name,
				eo.version, cf_export_fingerprint(e));
		else
			fprintf(stderr, "cpufleet export: firecracker template of "
				"%s, fingerprint %s\n", eo.name ? eo.name : argv[optind],
				cf_export_fingerprint(e));
		for (size_t i = 0; i < cf_export_note_count(e); i++)
			fprintf(stderr, "cpufleet export: note: %s\n",
				cf_export_note(e, i));
		for (size_t i = 0; i < cf_export_dropped_count(e); i++)
			fprintf(stderr, "cpufleet export: left out: %s\n",
				cf_export_dropped(e, i));
	}
cleanup:
	free(doc);
	cf_export_destroy(e);
	cf_profile_destroy(pr);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "host", required_argument, NULL, 'H' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL, *host = NULL, *out = NULL;
	struct cli_reports rs = { 0 };
	struct cf_profile *pr = NULL;
	struct cf_diag d = { "" };
	char *text = NULL, *json = NULL, *hp[1];
	size_t len = 0;
	enum cf_err err;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:H:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'H': host = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(help_import, stdout); return CLI_OK;
		default: fputs(help_import, stderr); return CLI_USAGE;
		}
	}
	if (!format || strcmp(format, "firecracker")) {
		cli_error("import", "--format %s: only firecracker templates are "
			  "imported", format ? format : "(none)");
		fputs(help_import, stderr);
		return CLI_USAGE;
	}
	if (!host) {
		cli_error("import", "--host REPORT is required: a template keeps "
			  "the host's bits where it says x");
		return CLI_USAGE;
	}
	if (optind != argc - 1) {
		cli_error("import", optind >= argc ? "no template given" :
			  "one template at a time");
		fputs(help_import, stderr);
		return CLI_USAGE;
	}
	hp[0] = (char *)host;
	rc = cli_load_reports(hp, 1, &rs);
	if (rc != CLI_OK)
		return rc;
	err = cli_read_file(argv[optind], &text, &len, &d);
	if (err == CF_OK)
		err = cf_profile_import_firecracker(text, len, strcmp(argv[optind],
						    "-") ? argv[optind] : "stdin", rs.r[0],
						    &pr, &d);
	if (err == CF_OK)
		err = cf_profile_to_json(pr, &json);
	if (err != CF_OK) {
		cli_error("import", "%s", d.msg[0] ? d.msg : cf_strerror(err));
		rc = err == CF_ENOMEM ? CLI_INTERNAL : CLI_USAGE;
		goto cleanup;
	}
	rc = print_or_write("import", out, json);
cleanup:
	free(text);
	free(json);
	cf_profile_destroy(pr);
	cli_free_reports(&rs);
	return rc;
}
