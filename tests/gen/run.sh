#!/bin/sh
# Tests of arch/arm64/gen_catalog.awk, the catalogue generator.
#
#   sh tests/gen/run.sh        (make gen-test)
#
# bad/*.txt  each must make the generator exit non-zero and print on stderr
#            "FILE:LINE: reason".  The file's first line says what the reason
#            must contain: "# expect: SUBSTRING".  The offending line carries
#            the comment "# <- error"; its number is the LINE expected (a file
#            without the marker only needs some FILE:NUMBER:).
# good/*.txt each must generate, silently, C that compiles with
#            cc -std=c11 -Wall -Wextra -Werror -I. -c   (from the repo root);
#            good/every-form.txt is also linked into a program that checks
#            the tables hold what the file says.
# The real arch/arm64/idregs.txt must generate and compile too.
#
# Prints "ok - NAME" or "FAIL - NAME: why" per case, then "N passed, N failed";
# exits 1 if anything failed.  POSIX sh.

here=$(dirname "$0")
cd "$here/../.." || { echo "cannot cd to the repository root" >&2; exit 2; }

. tests/gen/lib.sh
GEN=arch/arm64/gen_catalog.awk
CFLAGS_T="-std=c11 -Wall -Wextra -Werror -I."

# ---- bad catalogues --------------------------------------------------------

nbad=0
for f in tests/gen/bad/*.txt; do
	[ -e "$f" ] || continue
	nbad=$((nbad + 1))
	name="bad/$(basename "$f" .txt)"
	expect=$(sed -n '1s/^# expect: //p' "$f")
	if [ -z "$expect" ]; then
		notok "$name" "first line is not '# expect: SUBSTRING'"
		continue
	fi
	line=$(grep -n '# <- error' "$f" | cut -d: -f1 | head -n 1)
	"$AWK" -f "$CAPSLIB" -f "$DEPSLIB" -f "$GEN" "$f" >"$T/out" 2>"$T/err"
	rc=$?
	refused "$name" "$f" "$line" "$expect"
done
if [ "$nbad" -lt 16 ]; then
	notok "bad/ holds the cases" "only $nbad files in tests/gen/bad"
fi

# ---- good catalogues -------------------------------------------------------




for f in tests/gen/good/*.txt; do
	[ -e "$f" ] || continue
	name="good/$(basename "$f" .txt)"
	gen_ok "$name" "$f" "$T/gen.c" && cc_ok "$name" "$T/gen.c" && ok "$name"
done

# -v sym=NAME names the table.
name="good/minimal with -v sym=test_catalog"
if gen_ok "$name" tests/gen/good/minimal.txt "$T/sym.c" -v sym=test_catalog; then
	if ! grep -q '^const struct cf_catalog test_catalog = {' "$T/sym.c"; then
		notok "$name" "no 'const struct cf_catalog test_catalog' in the output"
	elif cc_ok "$name" "$T/sym.c"; then
		ok "$name"
	fi
fi

# every-form.txt: link the tables into a checker and run it.
cat >"$T/check.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "engine/catalog.h"

static int bad;

#define WANT(cond) do { if (!(cond)) { \
	printf("line %d: %s\n", __LINE__, #cond); bad = 1; } } while (0)

static const struct cf_field *fld(const struct cf_reg *r, int i,
				  const char *name, unsigned shift,
				  unsigned width, unsigned sg, unsigned pol)
{
	const struct cf_field *f = &r->fields[i];
	WANT(i < r->nfields);
	WANT(f->name && strcmp(f->name, name) == 0);
	WANT(f->shift == shift);
	WANT(f->width == width);
	WANT(f->is_signed == sg);
	WANT(f->policy == pol);
	return f;
}

static void val(const struct cf_field *f, int i, unsigned long long v,
		const char *feats)
{
	WANT(i < f->nvalues && f->values);
	if (i < f->nvalues && f->values) {
		WANT(f->values[i].value == v);
		WANT(strcmp(f->values[i].features, feats) == 0);
	}
}

int main(void)
{
	const struct cf_catalog *c = &cf_arm64_catalog;
	const struct cf_reg *r;
	const struct cf_field *f;

	WANT(strcmp(c->arch, "arm64") == 0);
	WANT(c->nregs == 3);
	if (c->nregs != 3)
		return 1;

	r = &c->regs[0];
	WANT(strcmp(r->name, "FIRST_EL1") == 0);
	WANT(r->key == 0);
	WANT(r->nfields == 10);
	if (r->nfields != 10)
		return 1;
	f = fld(r, 0, "Top", 63, 1, 0, CF_POL_ANY);
	WANT(f->nvalues == 0 && f->values == NULL);
	f = fld(r, 1, "Exact", 60, 3, 0, CF_POL_EXACT);
	WANT(f->safe == 5);
	WANT(f->nvalues == 2);
	val(f, 0, 0, "");
	val(f, 1, 5, "FEAT_FIVE");
	f = fld(r, 2, "ExactDec", 56, 4, 0, CF_POL_EXACT);
	WANT(f->safe == 3);
	WANT(f->nvalues == 0);
	f = fld(r, 3, "Signed", 32, 4, 1, CF_POL_LOWER);
	WANT(f->nvalues == 3);
	val(f, 0, 0xf, "");
	val(f, 1, 0, "FEAT_S0");
	val(f, 2, 1, "FEAT_S1,FEAT_S1b");
	f = fld(r, 4, "Higher", 28, 4, 0, CF_POL_HIGHER);
	WANT(f->nbits == 2 && f->bits_step == 0);
	WANT(f->bits[0].from == 0 && f->bits[0].to == 8);
	WANT(f->bits[1].from == 2 && f->bits[1].to == 16);
	f = fld(r, 5, "Higher0", 24, 4, 0, CF_POL_HIGHER0);
	WANT(f->nvalues == 1);
	val(f, 0, 10, "FEAT_TEN");
	WANT(f->nbits == 0 && f->bits == NULL && f->bits_step == 0);
	f = fld(r, 6, "ImpDef", 20, 4, 0, CF_POL_LOWER_IMPDEF);
	WANT(f->floor_kind == 2 && f->floor == 3);
	WANT(f->nvalues == 1);
	val(f, 0, 0xf, "");
	WANT(f->nas == 0 && f->as == NULL);
	f = fld(r, 7, "Mapped", 16, 4, 0, CF_POL_LOWER);
	WANT(f->floor_kind == 1 && f->floor == 1);
	WANT(f->nas == 2);
	WANT(f->as[0].from == 1 && f->as[0].to == 0);
	WANT(f->as[1].from == 2 && f->as[1].to == 3);
	WANT(cf_field_canon(f, 2) == 3 && cf_field_canon(f, 3) == 3 &&
	     cf_field_canon(f, 4) == 4);
	f = fld(r, 8, "AnyMax", 4, 4, 0, CF_POL_ANY_MAX);
	WANT(f->floor_kind == 0);
	fld(r, 9, "Bit0", 0, 1, 0, CF_POL_LOWER);

	r = &c->regs[1];
	WANT(strcmp(r->name, "EMPTY_EL1") == 0);
	WANT(r->key == (3u << 14 | 1u << 3));
	WANT(r->nfields == 0);
	WANT(r->flags == (CF_REG_REQUIRED | CF_REG_IDENTITY));
	WANT(r->wcap && strcmp(r->wcap, "KVM_CAP_TEST") == 0);
	WANT(c->regs[0].flags == 0 && c->regs[2].flags == 0);
	WANT(c->regs[0].wcap == NULL && c->regs[2].wcap == NULL);
	WANT(r->since == NULL);

	r = &c->regs[2];
	WANT(strcmp(r->name, "WIDE_EL1") == 0);
	WANT(r->key == 0xffff);
	WANT(r->nfields == 1);
	if (r->nfields != 1)
		return 1;
	f = fld(r, 0, "All", 0, 64, 0, CF_POL_LOWER);
	WANT(f->nvalues == 2);
	WANT(f->bits_step == 128 && f->nbits == 0);
	val(f, 0, ~0ULL, "FEAT_ALL");
	val(f, 1, ~0ULL - 1, "FEAT_ALMOST");

	/* needs: one entry per feature, the line's needs shared. */
	WANT(cf_arm64_deps.n == 3);
	if (cf_arm64_deps.n != 3)
		return 1;
	{
		const struct cf_dep *d = cf_arm64_deps.d;
		const struct cf_dep_term *n = d[0].needs;
		WANT(d[0].feature.key == 0 && d[0].feature.field == 9 &&
		     d[0].feature.kind == CF_DEP_ATLEAST && d[0].feature.value == 1);
		WANT(d[1].feature.key == 0 && d[1].feature.field == 4 &&
		     d[1].feature.kind == CF_DEP_ATLEAST && d[1].feature.value == 2);
		WANT(d[0].nneeds == 3 && d[1].nneeds == 3 && d[1].needs == n);
		/* Signed: implemented is 0 and above (0xf: not implemented). */
		WANT(n[0].key == 0 && n[0].field == 3 &&
		     n[0].kind == CF_DEP_ATLEAST && n[0].value == 0);
		WANT(n[1].key == 0 && n[1].field == 1 &&
		     n[1].kind == CF_DEP_ATLEAST && n[1].value == 5);
		WANT(n[2].key == 0xffff && n[2].field == -1 &&
		     n[2].kind == CF_DEP_BITS && n[2].value == 0xf0);
		WANT(d[0].text && strcmp(d[0].text, "the signed, exact and "
					 "wide ones") == 0);
		WANT(d[0].line == 39 && d[2].line == 40);
		WANT(d[2].feature.key == 0xffff && d[2].feature.field == -1 &&
		     d[2].feature.kind == CF_DEP_BITS &&
		     d[2].feature.value == ~0ULL);
		WANT(d[2].nneeds == 1 && d[2].needs[0].key == 0 &&
		     d[2].needs[0].field == 0 && d[2].needs[0].value == 1);
		WANT(d[2].text == NULL);
	}

	/* refuse: the want terms, then the host's, one table. */
	WANT(cf_arm64_refusals.n == 2);
	if (cf_arm64_refusals.n != 2)
		return 1;
	{
		const struct cf_refusal *x = cf_arm64_refusals.r;
		WANT(x[0].nwant == 2 && x[0].nhost == 1 && x[0].since == 6015);
		WANT(x[0].want[0].key == 0 && x[0].want[0].field == 4 &&
		     x[0].want[0].value == 0);
		WANT(x[0].want[1].key == 0 && x[0].want[1].field == 9 &&
		     x[0].want[1].value == 1);
		WANT(x[0].host[0].key == 0xffff && x[0].host[0].field == 0 &&
		     x[0].host[0].value == 0x10);
		WANT(strcmp(x[0].text, "the rule in words") == 0);
		WANT(x[0].line == 44 && x[1].line == 45);
		WANT(x[1].nwant == 1 && x[1].nhost == 0 && x[1].host == NULL &&
		     x[1].since == 0);
		WANT(x[1].want[0].field == 8 && x[1].want[0].value == 0);
		WANT(strcmp(x[1].text, "only the profile") == 0);
	}
	return bad;
}
EOF
name="good/every-form: generated tables hold what the file says"
if gen_ok "$name" tests/gen/good/every-form.txt "$T/every.c"; then
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS_T -o "$T/check" "$T/every.c" "$T/check.c" 2>"$T/cc"; then
		notok "$name" "does not build: $(ccerr)"
	elif ! "$T/check" >"$T/out" 2>&1; then
		notok "$name" "$(first "$T/out")"
	else
		ok "$name"
	fi
fi

# The real catalogue.
name="arch/arm64/idregs.txt generates and compiles"
if gen_ok "$name" arch/arm64/idregs.txt "$T/real.c" -v sym=cf_arm64_catalog &&
   cc_ok "$name" "$T/real.c"; then
	want=$(grep -cE '^(reg|pseudo|fact) ' arch/arm64/idregs.txt)
	got=$(sed -n '/^static const struct cf_reg regs\[\] = {$/,/^};$/p' "$T/real.c" |
		grep -c '^	{ "')
	if [ "$want" -ne "$got" ]; then
		notok "$name" "regs[] has $got entries, idregs.txt $want 'reg', 'pseudo' and 'fact' lines"
	else
		ok "$name"
	fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
