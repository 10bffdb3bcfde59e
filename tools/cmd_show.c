#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "tools/cli_source.h"
#include "tools/cli_util.h"

static const char help[] =
"usage: cpufleet show [--json] [--all] FILE\n"
"       cpufleet show [--json] [--all] --server URL NAME[@VERSION]\n"
"\n"
"Decodes a report or a profile: each register, its fields and the features\n"
"their values mean (arm64 FEAT_* names, x86 /proc/cpuinfo flag names); [w]\n"
"marks a field KVM lets userspace change.  A KVM capability shows its role\n"
"(capacity, setting, mechanism, guest: never compared), or \"enabled by the\n"
"VMs: required\" for one a profile's VMs enable.  For x86, also the x86-64\n"
"psABI level (v1 to v4) the flags reach, and what the next level lacks, and\n"
"the richest libvirt named CPU model whose every feature bit is set; for\n"
"arm64, the Armv8.x/9.x level the ID registers reach (and what the next one\n"
"lacks) and the core MIDR_EL1 names.  A\n"
"report's content identity (cfid1:..., what the server keys uploads by:\n"
"equal identities, an unchanged host) and fingerprint come first.\n"
"\n"
"  -a, --all    also list fields whose value is zero\n"
"  -j, --json   one JSON document on stdout instead of text\n"
CLI_SOURCE_HELP
"  -h, --help   this text\n"
"\n"
"exit: 0 shown, 2 usage or input error, 3 internal error\n";

struct show_ctx {
	bool all;
	cJSON *regs;   /* JSON mode */
	cJSON *cur;    /* fields array of the current register */
	cJSON *feats;  /* every feature named, once */
};

static void add_features(cJSON *set, const char *list)
{
	char buf[CF_TEXT_MAX];
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		bool dup = false;
		cJSON *it;
		cJSON_ArrayForEach(it, set)
			dup = dup || !strcmp(it->valuestring, tok);
		if (!dup)
			cJSON_AddItemToArray(set, cJSON_CreateString(tok));
	}
}

static int show_one(void *p, const struct cf_decoded *d)
{
	struct show_ctx *c = p;
	char hex[24];

	if (d->features[0])
		add_features(c->feats, d->features);
	if (c->regs) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return 1;
		if (!d->field) {
			snprintf(hex, sizeof(hex), "0x%016" PRIx64, d->reg_value);
			cJSON_AddStringToObject(o, "register", d->reg);
			cJSON_AddStringToObject(o, "value", hex);
			snprintf(hex, sizeof(hex), "0x%016" PRIx64, d->reg_writable);
			cJSON_AddStringToObject(o, "writable", hex);
			if (d->role[0])
				cJSON_AddStringToObject(o, "role", d->role);
			if (d->enabled)
				cJSON_AddBoolToObject(o, "enabled", true);
			c->cur = cJSON_AddArrayToObject(o, "fields");
			cJSON_AddItemToArray(c->regs, o);
			return c->cur ? 0 : 1;
		}
		cJSON_AddStringToObject(o, "field", d->field);
		cJSON_AddNumberToObject(o, "value", (double)d->value);
		cJSON_AddBoolToObject(o, "writable", d->writable);
		cJSON_AddStringToObject(o, "features", d->features);
		cJSON_AddItemToArray(c->cur, o);
		return 0;
	}
	if (!d->field) {
		/* A capability: its role; what a profile's VMs enable is
		 * judged, the rest never. */
		printf("%s = 0x%016" PRIx64 "%s%s%s\n", d->reg, d->reg_value,
		       d->role[0] ? "  (" : "",
		       d->enabled ? "enabled by the VMs: required" : d->role,
		       d->role[0] ? ")" : "");
		return 0;
	}
	if (d->value == 0 && !c->all && !d->features[0])
		return 0;
	printf("  %-14s %-6" PRIu64 "%s %s\n", d->field, d->value,
	       d->writable ? " [w]" : "    ", d->features);
	return 0;
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		CLI_SOURCE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct show_ctx ctx = { 0 };
	struct cli_source src = { 0 };
	struct cf_report *r = NULL;
	struct cf_profile *pr = NULL;
	cJSON *root = NULL;
	bool json = false;
	struct cli_levels lv;
	char id[CF_CONTENT_ID_MAX] = "", fp[24];
	enum cf_err err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ajh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': ctx.all = true; break;
		case 'j': json = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default:
			if (cli_source_opt(&src, c, optarg))
				break;
			fputs(help, stderr);
			return CLI_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_error("show", "wants exactly one file");
		fputs(help, stderr);
		return CLI_USAGE;
	}
	/* With --server, what is not a file is a published profile. */
	if (src.server && strchr(argv[optind], '/') == NULL &&
	    access(argv[optind], F_OK) != 0)
		rc = cli_load_profile_from("show", &src, argv[optind], &pr,
					   NULL, 0, NULL);
	else
		rc = cli_load_any(argv[optind], &r, &pr);
	if (rc != CLI_OK)
		return rc;
	rc = CLI_INTERNAL;
	if (r && cf_report_content_id(r, id, sizeof(id)) != CF_OK)
		goto cleanup;
	snprintf(fp, sizeof(fp), "%016" PRIx64, r ? cf_report_fingerprint(r) : 0);
	ctx.feats = cJSON_CreateArray();
	if (!ctx.feats)
		goto cleanup;
	if (json) {
		root = cJSON_CreateObject();
		if (!root)
			goto cleanup;
		cJSON_AddStringToObject(root, "kind", r ? "report" : "profile");
		if (r) {
			cJSON_AddStringToObject(root, "host", cf_report_host_id(r));
			cJSON_AddStringToObject(root, "identity", id);
			cJSON_AddStringToObject(root, "fingerprint", fp);
		}
		ctx.regs = cJSON_AddArrayToObject(root, "registers");
		if (!ctx.regs)
			goto cleanup;
	} else if (r) {
		printf("report of host %s (%s)\nidentity %s, fingerprint %s\n",
		       cf_report_host_id(r), cf_report_arch(r), id, fp);
	} else {
		printf("profile (%s) for", cf_profile_arch(pr));
		for (size_t i = 0; cf_profile_host(pr, i); i++)
			printf(" %s", cf_profile_host(pr, i));
		printf("%s\n", cf_profile_feasible(pr) ? "" : " -- INFEASIBLE");
	}
	err = r ? cf_report_decode(r, show_one, &ctx)
		: cf_profile_decode(pr, show_one, &ctx);
	if (err != CF_OK)
		goto cleanup;
	{
		struct cf_profile *own = NULL;
		if (r && cf_profile_from_report(r, &own) != CF_OK)
			goto cleanup;
		cli_levels_of(own ? own : pr, &lv);
		cf_profile_destroy(own);
	}
	if (json) {
		char *s;
		cJSON_AddItemToObject(root, "features", ctx.feats);
		ctx.feats = NULL;
		if (lv.x86 || lv.arm64) {
			cJSON *m = cJSON_AddArrayToObject(root, lv.x86 ?
							  "psabi_next_missing" :
							  "arch_level_next_missing");
			char *save = NULL;
			cJSON_AddStringToObject(root, lv.x86 ? "psabi_level" :
						"arch_level", lv.level);
			for (char *t = strtok_r(lv.missing, " ", &save); t && m;
			     t = strtok_r(NULL, " ", &save))
				cJSON_AddItemToArray(m, cJSON_CreateString(t));
		}
		if (lv.x86) {
			cJSON_AddItemToObject(root, "named_model", lv.model[0] ?
					      cJSON_CreateString(lv.model) :
					      cJSON_CreateNull());
			cJSON_AddStringToObject(root, "named_model_source",
						lv.source);
		}
		if (lv.arm64)
			cJSON_AddItemToObject(root, "core", lv.core[0] ?
					      cJSON_CreateString(lv.core) :
					      cJSON_CreateNull());
		s = cJSON_Print(root);
		if (!s)
			goto cleanup;
		printf("%s\n", s);
		free(s);
	} else {
		cJSON *it;
		printf("features:");
		cJSON_ArrayForEach(it, ctx.feats)
			printf(" %s", it->valuestring);
		printf("\n");
		cli_levels_print(stdout, &lv);
		for (size_t i = 0; pr && i < cf_profile_conflict_count(pr); i++) {
			char text[512];
			cf_profile_conflict_text(pr, i, text, sizeof(text));
			printf("conflict: %s\n", text);
		}
	}
	rc = CLI_OK;
cleanup:
	cJSON_Delete(ctx.feats);
	cJSON_Delete(root);
	cf_report_destroy(r);
	cf_profile_destroy(pr);
	return rc;
}
