/* cpufleet: git-style front end; each subcommand lives in tools/cmd_*.c. */
#include <stdio.h>
#include <string.h>
#include "tools/cli_util.h"

#ifndef CPUFLEET_VERSION
#error "CPUFLEET_VERSION comes from the Makefile (mk/install.mk VERSION)"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "apply", cmd_apply, "dry-run a profile on this host's KVM, read it back" },
	{ "baseline", cmd_baseline, "richest profile every host of a pool accepts" },
	{ "check", cmd_check, "can a profile run on these hosts, and if not why" },
	{ "collect", cmd_collect, "ask KVM on this host what it offers a guest" },
	{ "explain", cmd_explain, "migration verdict both ways between two hosts" },
	{ "export", cmd_export, "a profile as QEMU, libvirt or Firecracker take it" },
	{ "import", cmd_import, "a Firecracker CPU template as a host's profile" },
	{ "matrix", cmd_matrix, "migration verdicts for every pair of hosts" },
	{ "pools", cmd_pools, "split hosts into pools that each have a baseline" },
	{ "show", cmd_show, "decode a report or profile into feature names" },
#ifdef CF_NET
	{ "server", cmd_server, "run the central service (HTTP API, database)" },
	{ "token", cmd_token, "create, list and revoke the server's tokens" },
	{ "agent", cmd_agent, "collect this host's report and upload it" },
	{ "hosts", cmd_hosts, "the hosts a server knows, a host's history" },
	{ "pool", cmd_pool, "pools on a server: define, baseline, matrix" },
	{ "profile", cmd_profile, "published profiles on a server: list, get" },
	{ "drift", cmd_drift, "what changed on hosts, and which profiles broke" },
#endif
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cpufleet COMMAND [OPTIONS] ARGS...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'cpufleet COMMAND --help' describes one command; "
		"'cpufleet --version' names the release.\n"
		"exit: 0 compatible/feasible, 1 incompatible/infeasible, "
		"2 usage or input error, 3 internal error\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		/* The release: mk/install.mk's VERSION. */
		printf("cpufleet %s\n", CPUFLEET_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "cpufleet: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
