# Turns arch/arm64/kvm-writable.txt (grammar in its header) into C: from
# which Linux release KVM lets userspace write each arm64 ID register field
# (engine/kernel.h reads it: kernel advice and `--kernel X.Y` planning).
# Usage: awk -f gen_kvmwr.awk arch/arm64/idregs.txt arch/caps/caps.txt \
#            arch/arm64/kvm-writable.txt > out.c
# The first file is read only for its registers (names, encodings) and
# their fields (names, bits); the second only for the KVM_CAP_* names a
# cap= option may give.  A malformed line, an unknown register, field,
# source, capability or option, a field listed twice or an impossible
# release stops with FILE:LINE: reason on stderr, exit status 1 and
# nothing on stdout.  POSIX awk.

function fatal(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 1
}

function cstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}

# X.Y as major * 1000 + minor (engine/kernel.h), or -1.
function rel(s,   p) {
	if (s !~ /^[1-9][0-9]?\.[0-9][0-9]?[0-9]?$/)
		return -1
	split(s, p, ".")
	return p[1] * 1000 + p[2]
}

# X.Y or A..B (WHAT names it in messages) into lo and hi; ..B only when
# OPEN.  Sets rlo, rhi (rlo 0 for ..B).
function range(s, what, open,   p) {
	if (open && s ~ /^\.\./) {
		rlo = 0
		rhi = rel(substr(s, 3))
		if (rhi < 0)
			fatal(what " " s ": expected ..X.Y")
		return
	}
	if (index(s, "..")) {
		split(s, p, /\.\./)
		rlo = rel(p[1]); rhi = rel(p[2])
		if (rlo < 0 || rhi < 0 || s != p[1] ".." p[2])
			fatal(what " " s ": expected A..B, each X.Y")
		if (rlo >= rhi)
			fatal(what " " s ": the range's first release is not below its last")
		return
	}
	rlo = rhi = rel(s)
	if (rlo < 0)
		fatal(what " " s ": expected X.Y" (open ? ", A..B or ..B" : " or A..B"))
}

# SOURCE[+SOURCE...]: each defined by a `source` line before.
function sources(s, what,   p, n, i) {
	n = split(s, p, "+")
	if (n == 0 || s ~ /^\+|\+$|\+\+/)
		fatal(what ": expected SOURCE[+SOURCE...]")
	for (i = 1; i <= n; i++)
		if (!(p[i] in srcline))
			fatal(what ": source " p[i] " is not defined by a source line before")
}

BEGIN {
	file = 0; n = 0; inreg = 0
}

FNR == 1 { file++ }

# ---- idregs.txt: registers and their fields ----
file == 1 {
	sub(/#.*/, "")
	if ($1 == "reg" && NF >= 7) {
		reg = $2; inreg = 1
		regkey[reg] = $3 * 16384 + $4 * 2048 + $5 * 128 + $6 * 8 + $7
	} else if ($1 == "end") {
		inreg = 0
	} else if (inreg && $1 == "field" && NF >= 3) {
		split($2, b, ":")
		fmsb[reg, $3] = b[1]
		flsb[reg, $3] = (2 in b) ? b[2] : b[1]
	}
	next
}

# ---- caps.txt: capability names ----
file == 2 {
	sub(/#.*/, "")
	if ($1 ~ /^KVM_CAP_/)
		cap[$1] = 1
	next
}

# ---- the table ----
{ sub(/#.*/, "") }
NF == 0 { next }

$1 == "source" {
	if (NF < 3 || $2 !~ /^[a-z0-9.-]+$/)
		fatal("expected: source NAME TEXT... (NAME of [a-z0-9.-])")
	if ($2 in srcline)
		fatal("source " $2 " defined twice (line " srcline[$2] ")")
	srcline[$2] = FNR
	next
}

$1 == "writable" {
	if (NF < 5)
		fatal("expected: writable REGISTER FIELD SINCE SOURCE [OPTION...]")
	r = $2; f = $3
	if (!(r in regkey))
		fatal("register " r " is not in idregs.txt")
	if (f ~ /^[0-9]+:[0-9]+$/) {
		split(f, b, ":")
		msb = b[1] + 0; lsb = b[2] + 0
		if (msb > 63 || lsb > msb)
			fatal("bits " f ": expected MSB:LSB with 63 >= MSB >= LSB")
	} else if ((r, f) in fmsb) {
		msb = fmsb[r, f]; lsb = flsb[r, f]
	} else {
		fatal(r " has no field " f " in idregs.txt")
	}
	if ((r, f) in seen)
		fatal(r "." f " listed twice (line " seen[r, f] ")")
	seen[r, f] = FNR
	range($4, "SINCE", 1)
	slo[n] = rlo; shi[n] = rhi
	sources($5, "SOURCE " $5)
	ulo[n] = uhi[n] = 0; stmm[n] = stp[n] = 0
	capn[n] = ""; aa32[n] = 0; approx[n] = 0
	for (i = 6; i <= NF; i++) {
		o = $i
		if (o == "approx") {
			if (approx[n])
				fatal("option approx given twice")
			approx[n] = 1
		} else if (o ~ /^until=/) {
			if (ulo[n])
				fatal("option until= given twice")
			v = substr(o, 7)
			if (index(v, ":") == 0)
				fatal(o ": expected until=RANGE:SOURCE")
			split(v, p, ":")
			range(p[1], "until", 0)
			sources(substr(v, length(p[1]) + 2), o)
			if (rlo <= shi[n])
				fatal(o ": no longer writable before it is writable (" $4 ")")
			ulo[n] = rlo; uhi[n] = rhi
		} else if (o ~ /^stable=/) {
			if (stmm[n])
				fatal("option stable= given twice")
			v = substr(o, 8)
			if (v !~ /^[1-9][0-9]?\.[0-9][0-9]?[0-9]?\.[1-9][0-9]?[0-9]?:/)
				fatal(o ": expected stable=X.Y.Z:SOURCE (Z at least 1)")
			split(v, p, ":")
			split(p[1], q, ".")
			stmm[n] = q[1] * 1000 + q[2]; stp[n] = q[3]
			sources(substr(v, length(p[1]) + 2), o)
			if (stmm[n] >= slo[n] && slo[n])
				fatal(o ": a stable series from " q[1] "." q[2] " is not older than " $4)
		} else if (o ~ /^cap=/) {
			if (capn[n] != "")
				fatal("option cap= given twice")
			capn[n] = substr(o, 5)
			if (!(capn[n] in cap))
				fatal(o ": " capn[n] " is not a capability of arch/caps/caps.txt")
		} else if (o == "host=aarch32") {
			if (aa32[n])
				fatal("option host=aarch32 given twice")
			aa32[n] = 1
		} else {
			fatal("unknown option " o " (approx, until=, stable=, cap=, host=aarch32)")
		}
	}
	ereg[n] = r; efield[n] = f; ekey[n] = regkey[r]
	emsb[n] = msb; elsb[n] = lsb; esrc[n] = $5; eline[n] = FNR
	n++
	next
}

{ fatal("unexpected line (expected source or writable)") }

END {
	if (failed)
		exit 1
	if (file < 3)
		fatal("expected three files: idregs.txt caps.txt kvm-writable.txt")
	if (n == 0)
		fatal("no writable line")
	print "/* Generated by arch/arm64/gen_kvmwr.awk from " FILENAME "; do not edit. */"
	print "#include <stddef.h>"
	print "#include \"engine/kernel.h\""
	print ""
	print "static const struct cf_kw_entry entries[] = {"
	for (i = 0; i < n; i++) {
		fl = ""
		if (approx[i]) fl = fl "|CF_KW_APPROX"
		if (aa32[i]) fl = fl "|CF_KW_AARCH32"
		if (slo[i] == 0) fl = fl "|CF_KW_FIRST_UNKNOWN"
		else if (slo[i] != shi[i]) fl = fl "|CF_KW_RANGE"
		if (fl == "") fl = "|0"
		printf "\t{ 0x%x, %d, %d, %d, %d, %d, %d, %d, %d, %s, %s, %d, %s, %s, %s },\n", \
			ekey[i], emsb[i], elsb[i], slo[i], shi[i], ulo[i], uhi[i], \
			stmm[i], stp[i], substr(fl, 2), \
			capn[i] == "" ? "NULL" : cstr(capn[i]), eline[i], \
			cstr(ereg[i]), cstr(efield[i]), cstr(esrc[i])
	}
	print "};"
	print ""
	printf "const struct cf_kw_table cf_arm64_kvm_writable = {\n"
	printf "\tentries, %d, %s,\n};\n", n, cstr(FILENAME)
}
