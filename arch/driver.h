/* One driver per architecture, reached from one registry (as libvirt's
 * cpuArchDriver): what the engine calls (struct cf_arch_ops), the codec of
 * the documents' architecture section, and how this machine's KVM is asked
 * what it offers.  Generic code finds a driver by name or as this
 * machine's, and never names an architecture itself. */
#ifndef CF_DRIVER_H
#define CF_DRIVER_H

#include <stdint.h>
#include <cpufleet.h>

struct cf_arch_ops;
struct cf_section_codec;
struct cf_diag;

struct cf_driver {
	const char *arch;   /* the name its ops carry: "arm64" */
	const struct cf_arch_ops *ops;
	const struct cf_section_codec *codec;
	/* uname(2)'s machine of the hosts it runs on ("aarch64"). */
	const char *machine;
	/* A report of this machine's KVM (FEATURES: arm64 vCPU features,
	 * ignored elsewhere). */
	enum cf_err (*collect)(uint32_t features, const char *host_id,
			       struct cf_report **out, struct cf_diag *d);
};

/* What is registered, defined by each architecture (arch/<arch>/) and
 * its document codec (profiles/); declared here, the registry's one
 * header, so the registry needs nothing of the modules it lists. */
extern const struct cf_arch_ops cf_arm64_ops;
extern const struct cf_arch_ops cf_x86_ops;
extern const struct cf_section_codec cf_section_regmap; /* arm64 */
extern const struct cf_section_codec cf_section_x86;

/* The driver of architecture ARCH ("arm64", "x86"), or NULL. */
const struct cf_driver *cf_driver_find(const char *arch);
/* The driver of the machine this runs on, or NULL for none. */
const struct cf_driver *cf_driver_native(void);

#endif
