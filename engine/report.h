/* A host's report as the engine sees it: who the host is and its CPU
 * configuration (shared, immutable). */
#ifndef CF_REPORT_H
#define CF_REPORT_H

#include <cpufleet.h>
#include "engine/config.h"
#include "engine/handles.h"

struct cf_report {
	struct cf_config *cfg;
	/* Every text of the report but its host id, back to back, each ended
	 * by its NUL: its report_id, then the fields of enum cf_report_field
	 * in that order (the JSON texts last); NULL when all are empty, and
	 * rebuilt whole by each set.  A report costs what it says, in one
	 * allocation: a million reports are not a million times seven fixed
	 * arrays (1.2 KB each) and seven allocations.  Read them through the
	 * accessors (cf_report_kernel, cf_report_field...). */
	char *texts;
	char host_id[];   /* set once, by cf_report_create */
};

/* A report collected here: cf_report_create (taking CFG) plus this
 * machine's identity: hostname, kernel release, microcode revision
 * (/sys/devices/system/cpu/cpu0/microcode/version, else /proc/cpuinfo's
 * "microcode" line), firmware version (/sys/class/dmi/id/bios_version),
 * /etc/machine-id and the time now. */
enum cf_err cf_report_create_local(const char *host_id, struct cf_config *cfg,
				   struct cf_report **out, struct cf_diag *d);

/* The microcode revision the kernel reports for CPU 0: file SYSFS
 * (/sys/devices/system/cpu/cpu0/microcode/version), else the first
 * "microcode\t: 0x2b000590" line of CPUINFO (/proc/cpuinfo); "" when
 * neither says (arm64, a guest without it). */
void cf_report_read_microcode(const char *sysfs, const char *cpuinfo,
			      char *buf, size_t len);

#endif
