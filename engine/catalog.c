#include <stdio.h>
#include <string.h>
#include "engine/catalog.h"

int cf_catalog_find_key(const struct cf_catalog *cat, uint64_t key)
{
	size_t lo = 0, hi = cat->nregs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cat->regs[mid].key == key)
			return (int)mid;
		if (cat->regs[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const struct cf_field *cf_catalog_field_named(const struct cf_catalog *cat,
					      const char *name, uint64_t *key)
{
	for (size_t i = 0; i < cat->nregs; i++)
		for (int f = 0; f < cat->regs[i].nfields; f++)
			if (!strcmp(cat->regs[i].fields[f].name, name)) {
				*key = cat->regs[i].key;
				return &cat->regs[i].fields[f];
			}
	return NULL;
}

int cf_catalog_find_name(const struct cf_catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->nregs; i++)
		if (strcmp(cat->regs[i].name, name) == 0)
			return (int)i;
	return -1;
}

void cf_catalog_cap_text(const struct cf_catalog *cat, const char *name,
			 char *buf, size_t len)
{
	int i = cf_catalog_find_name(cat, name);

	if (i >= 0 && cat->regs[i].since)
		snprintf(buf, len, "%s (Linux %s+)", name, cat->regs[i].since);
	else
		snprintf(buf, len, "%s", name);
}

const char *cf_role_name(unsigned role)
{
	static const char *const names[] = {
		[CF_ROLE_NONE] = "", [CF_ROLE_CAPACITY] = "capacity",
		[CF_ROLE_SETTING] = "setting", [CF_ROLE_MECHANISM] = "mechanism",
		[CF_ROLE_GUEST] = "guest",
	};
	return role < sizeof(names) / sizeof(names[0]) ? names[role] : "";
}

int cf_catalog_find_field(const struct cf_reg *reg, const char *name)
{
	for (int i = 0; i < reg->nfields; i++)
		if (strcmp(reg->fields[i].name, name) == 0)
			return i;
	return -1;
}

uint64_t cf_reg_described(const struct cf_reg *reg)
{
	uint64_t m = 0;

	for (int i = 0; i < reg->nfields; i++)
		m |= cf_field_mask(&reg->fields[i]);
	return m;
}

uint64_t cf_reg_policy_bits(const struct cf_reg *reg, enum cf_policy pol)
{
	uint64_t m = 0;

	for (int i = 0; i < reg->nfields; i++)
		if (reg->fields[i].policy == pol)
			m |= cf_field_mask(&reg->fields[i]);
	return m;
}

uint64_t cf_reg_canon(const struct cf_reg *reg, uint64_t v)
{
	for (int i = 0; i < reg->nfields; i++) {
		const struct cf_field *f = &reg->fields[i];
		uint64_t m = cf_field_mask(f);
		v = (v & ~m) | (cf_field_canon(f, cf_field_raw(f, v)) << f->shift);
	}
	return v;
}

/* Mirrors KVM's arm64_check_features(): a value other than the limit is
 * accepted only if the policy's safe combination of (want, limit) is want. */
bool cf_field_accepts(const struct cf_field *f, uint64_t limit, bool writable,
		      uint64_t want)
{
	if (want == limit)
		return true;
	/* set_id_aa64dfr0_el1()/set_id_dfr0_el1() rewrite a written
	 * IMPLEMENTATION DEFINED PMU version to 0 before any check. */
	want = cf_field_canon(f, want);
	if (want == limit)
		return true;
	/* KVM_SET_TSC_KHZ without scaling: within tsc_tolerance_ppm. */
	if (f->policy == CF_POL_RATE && !writable)
		return (want > limit ? want - limit : limit - want) * 1000000 <=
		       250 * limit;
	if (!writable)
		return false;
	/* KVM's setters refuse some values outright (DebugVer and CopDbg
	 * below Armv8, a PMU below PMUv3). */
	if (f->floor_kind && cf_field_cmp(f, want, f->floor) < 0 &&
	    (f->floor_kind == 1 || want != 0))
		return false;
	switch (f->policy) {
	case CF_POL_LOWER:
		return cf_field_cmp(f, want, limit) < 0;
	case CF_POL_LOWER_IMPDEF:
		/* A host's IMPLEMENTATION DEFINED PMU is no PMUv3: only 0
		 * goes there. */
		return cf_field_cmp(f, want, limit) <= 0;
	case CF_POL_HIGHER:
		return cf_field_cmp(f, want, limit) > 0;
	case CF_POL_HIGHER0:
		return want == 0 || (limit != 0 && cf_field_cmp(f, want, limit) > 0);
	case CF_POL_EXACT:
		return want == f->safe;
	case CF_POL_ANY:
	case CF_POL_ANY_MAX:
	case CF_POL_IGNORE:
	case CF_POL_RATE:
		return true;
	case CF_POL_AND:
		return (want & ~limit) == 0;
	case CF_POL_OR:
		return (want & limit) == limit;
	case CF_POL_EQUAL:
		return false;
	case CF_POL_ZERO:
		return want == 0;
	case CF_POL_PREFIX: {
		/* KVM's set_sve_vls(): nothing above the host's largest, and
		 * every length up to the largest wanted as the host has it. */
		uint64_t upto;
		if (want == 0)
			return false;
		upto = (63 - __builtin_clzll(want)) >= 63 ? ~0ULL :
		       (2ULL << (63 - __builtin_clzll(want))) - 1;
		return (limit & upto) == want;
	}
	}
	return false;
}

static size_t append_names(char *buf, size_t len, size_t used, const char *names,
			   size_t *count)
{
	size_t n = strlen(names);

	if (n == 0)
		return used;
	if (used + (used ? 1 : 0) + n + 1 > len)
		return used;
	if (used)
		buf[used++] = ',';
	memcpy(buf + used, names, n);
	used += n;
	buf[used] = '\0';
	for (size_t i = 0; i < n; i++)
		if (names[i] == ',')
			(*count)++;
	(*count)++;
	return used;
}

/* A value listed with no feature (`= 0xf -`) means "not implemented",
 * whatever its place in the order. */
static bool marked_ni(const struct cf_field *f, uint64_t v)
{
	for (int i = 0; i < f->nvalues; i++)
		if (f->values[i].value == v && f->values[i].features[0] == '\0')
			return true;
	return false;
}

size_t cf_field_features_between(const struct cf_field *f, uint64_t from,
				 uint64_t to, char *buf, size_t len)
{
	size_t used = 0, count = 0;

	if (len)
		buf[0] = '\0';
	if (marked_ni(f, to))
		return 0;
	for (int i = 0; i < f->nvalues; i++) {
		uint64_t v = f->values[i].value;
		if (cf_field_cmp(f, v, from) > 0 && cf_field_cmp(f, v, to) <= 0)
			used = append_names(buf, len, used, f->values[i].features,
					    &count);
	}
	return count;
}

size_t cf_field_features_at(const struct cf_field *f, uint64_t v, char *buf,
			    size_t len)
{
	size_t used = 0, count = 0;
	/* Values build on each other (FEAT_PAuth2 implies FEAT_PAuth) except
	 * where any value goes. */
	bool ordered = f->policy != CF_POL_ANY && f->policy != CF_POL_ANY_MAX &&
		       f->policy != CF_POL_AND &&
		       f->policy != CF_POL_PREFIX && f->policy != CF_POL_OR &&
		       f->policy != CF_POL_EQUAL && f->policy != CF_POL_IGNORE &&
		       f->policy != CF_POL_ZERO && f->policy != CF_POL_RATE;

	if (len)
		buf[0] = '\0';
	if (marked_ni(f, v))
		return 0;
	for (int i = 0; i < f->nvalues; i++) {
		const struct cf_fvalue *fv = &f->values[i];
		if (ordered ? cf_field_cmp(f, fv->value, v) <= 0 : fv->value == v)
			used = append_names(buf, len, used, fv->features, &count);
	}
	return count;
}

/* A field's value in users' words, where the catalogue says what it is:
 * a TSC rate (policy "rate", kHz) in MHz; a size named *_bits or *_width
 * in decimal bits; a 32-bit field that must be equal and holds four
 * printable bytes (the CPUID vendor string) as that text.  False for any
 * other field. */
bool cf_field_unit_text(const struct cf_field *f, uint64_t val, char *buf,
			size_t len)
{
	size_t n = strlen(f->name);

	if (f->policy == CF_POL_RATE) {
		if (val % 1000)
			snprintf(buf, len, "%llu.%03llu MHz",
				 (unsigned long long)(val / 1000),
				 (unsigned long long)(val % 1000));
		else
			snprintf(buf, len, "%llu MHz",
				 (unsigned long long)(val / 1000));
		return true;
	}
	/* A set of sizes (idregs.txt `bits=*N`): "128, 256 bits". */
	if (f->bits_step && val) {
		size_t at = 0;
		buf[0] = '\0';
		for (int b = 0; b < 64 && at < len; b++)
			if (val >> b & 1) {
				int w = snprintf(buf + at, len - at, "%s%llu",
						 at ? ", " : "",
						 (unsigned long long)(b + 1) *
						 f->bits_step);
				if (w < 0)
					return false;
				at += (size_t)w;
			}
		if (at < len)
			snprintf(buf + at, len - at, " bits");
		return true;
	}
	/* A size the catalogue maps value by value (idregs.txt `bits=`). */
	for (int i = 0; i < f->nbits; i++)
		if (f->bits[i].from == val) {
			snprintf(buf, len, "%llu bits",
				 (unsigned long long)f->bits[i].to);
			return true;
		}
	if (f->width > 1 && ((n > 4 && !strcmp(f->name + n - 4, "bits")) ||
			     (n > 5 && !strcmp(f->name + n - 5, "width")))) {
		snprintf(buf, len, "%llu bits", (unsigned long long)val);
		return true;
	}
	if (f->policy == CF_POL_EQUAL && f->width == 32) {
		char s[5];
		for (int i = 0; i < 4; i++) {
			s[i] = (char)(val >> (8 * i));
			if (s[i] < 0x20 || s[i] > 0x7e)
				return false;
		}
		s[4] = '\0';
		snprintf(buf, len, "\"%s\"", s);
		return true;
	}
	return false;
}

void cf_field_value_text(const struct cf_field *f, uint64_t val, char *buf,
			 size_t len)
{
	if (cf_field_unit_text(f, val, buf, len))
		return;
	/* Signed fields sign-extended (-1 for a 0xf "not implemented"),
	 * small values in decimal, large ones (part numbers) in hex. */
	if (f->is_signed && f->width < 64 && (val >> (f->width - 1)) & 1)
		snprintf(buf, len, "%lld",
			 (long long)(val | ~((1ULL << f->width) - 1)));
	else if (val < 10)
		snprintf(buf, len, "%llu", (unsigned long long)val);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)val);
}
