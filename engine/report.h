/* A host's report as the engine sees it: who the host is and its CPU
 * configuration (shared, immutable). */
#ifndef CF_REPORT_H
#define CF_REPORT_H

#include <cpufleet.h>
#include "engine/config.h"
#include "engine/handles.h"

struct cf_report {
	char host_id[CF_HOST_ID_MAX];
	char report_id[CF_REPORT_ID_MAX];  /* "" when the document has none */
	char hostname[CF_TEXT_MAX];
	char kernel[CF_TEXT_MAX];
	char machine_id[CF_TEXT_MAX];
	char collected_at[CF_TEXT_MAX];
	struct cf_config *cfg;
	/* JSON text of what the engine does not model yet but a report carries
	 * (KVM capabilities, counter frequency, SVE lengths...): objects merged
	 * into "kvm" and into the architecture's section when written. */
	char *kvm_json;
	char *arch_json;
	/* Most reports have neither (an arm64 host has no microcode), so
	 * malloc'd, NULL if unknown; at most CF_TEXT_MAX - 1 bytes. */
	char *microcode;  /* x86 microcode revision */
	char *firmware;   /* BIOS/firmware version */
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
