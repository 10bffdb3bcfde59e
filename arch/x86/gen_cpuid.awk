# Turns arch/x86/cpuid.txt (grammar in its header) into the C catalogue of
# x86 CPUID output registers and feature MSRs, plus the psABI level table.
#
# Usage: awk -v sym=cf_x86_catalog [-v arch=x86] -f arch/x86/gen_cpuid.awk \
#            arch/x86/cpuid.txt [arch/caps/caps.txt] > build/gen/x86_catalog.c
#
# A `cpuid` or `msr` line may end in gate=FLAG[,FLAG...]: the register describes
# what those flags enable; they become cf_x86_gates (ascending by register,
# one row per flag).
#
# With a second file, the KVM capabilities it lists for ARCH (default x86;
# grammar in arch/caps/caps.txt) become capability pseudo-registers, in the
# same shape arch/arm64/gen_catalog.awk gives them.
#
# Register keys (arch/x86/x86.h), in the order regs[] lists them:
#   capability      0x1000000 + its KVM_CAP_* number      (pseudo 2)
#   fact            its KEY, 0x2000000 .. 0x2ffffff         (pseudo 3)
#   CPUID register  (cpuid_base << 48) | leaf << 16 | (subleaf & 0x3fff) << 2
#                   | reg (eax 0, ebx 1, ecx 2, edx 3)
#   MSR             (msr_base << 48) | index
# -v cpuid_base=N -v msr_base=N choose bits 63:48 (defaults 1 and 2, as
# CF_X86_CPUID_KEY / CF_X86_MSR_KEY; 1 <= cpuid_base < msr_base <= 31).
#
# Anything wrong in the input (malformed line, overlapping fields, a field
# outside the register, registers out of order or listed twice, an unknown
# kind or register, a flag name used twice, a level or a gate naming an
# unknown flag, a register gated by its own flag)
# stops with "FILE:LINE: reason" on stderr, exit status 1 and nothing on
# stdout: the C text is only printed once the whole file has been read.
# POSIX awk (tested with mawk).  Numbers stay below 2^53, so awk's doubles
# hold them exactly.

function fatal(msg) {
	fatal_at(FILENAME, FNR, msg)
}

function fatal_at(file, line, msg) {
	printf "%s:%d: %s\n", file, line, msg > "/dev/stderr"
	failed = 1
	exit 1
}

# Value of a hex numeral 0x..., or -1 if it has more than MAXD significant
# digits.  The caller has checked the syntax.
function hexval(s, maxd,   d, n, i) {
	d = tolower(substr(s, 3))
	sub(/^0+/, "", d)
	if (length(d) > maxd)
		return -1
	n = 0
	for (i = 1; i <= length(d); i++)
		n = n * 16 + index("0123456789abcdef", substr(d, i, 1)) - 1
	return n
}

# The hex numeral S as exactly W lowercase digits (S fits, checked).
function hexdigits(s, w,   d) {
	d = tolower(substr(s, 3))
	sub(/^0+/, "", d)
	while (length(d) < w)
		d = "0" d
	return d
}

function cstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}

function isdec(s) {
	return s ~ /^(0|[1-9][0-9]?)$/
}

# Parses a bit spec (BIT or MSB:LSB) into lo/hi; RANGEOK says whether a
# range is allowed.
function bits(spec, rangeok,   p) {
	if (isdec(spec)) {
		hi = spec + 0
		lo = hi
	} else if (spec ~ /^[0-9]+:[0-9]+$/) {
		split(spec, p, ":")
		if (!isdec(p[1]) || !isdec(p[2]))
			fatal("bad bit range '" spec "'")
		if (!rangeok)
			fatal("'" $1 "' takes one bit, not a range ('" spec "')")
		hi = p[1] + 0
		lo = p[2] + 0
		if (lo > hi)
			fatal("bit range " spec " is reversed")
	} else {
		fatal("bad bit " (rangeok ? "range" : "number") " '" spec "'")
	}
	if (hi >= rwidth)
		fatal("bit range " spec " is outside the " rwidth "-bit register " rname)
}

function add_field(name, l, w, pol, vals, nv) {
	nf++
	fname[nf] = name
	flsb[nf] = l
	fwid[nf] = w
	fpol[nf] = pol
	fvals[nf] = vals
	fnv[nf] = nv
}

# Opens a register block; PSEUDO and WRITABLE go to struct cf_reg.
function begin_reg(name, ord, keystr, width, pseudo, writable) {
	if (inreg)
		fatal("'" $1 "' inside register " rname " (missing 'end')")
	if (name in seenreg)
		fatal("register " name " listed twice")
	if (ord <= lastord)
		fatal("register " name " is not in ascending order (after " lastname ")")
	seenreg[name] = 1
	lastord = ord
	lastname = name
	rname = name
	rkey = keystr
	rwidth = width
	rpseudo = pseudo
	rwritable = writable
	rflags = "0"
	inreg = 1
	nf = 0
	rdefault = ""
	nreg++
	split("", used)
	split("", rfnames)
}

# Where the default kind fills the gap lo..hi.
function fill_gap(l, h,   b) {
	if (rdefault == "flag") {
		for (b = l; b <= h; b++)
			add_field("bit" b, b, 1, "CF_POL_LOWER", "", 0)
		return
	}
	add_field(l == h ? "bit" l : "bits" h "_" l, l, h - l + 1, \
	    rdefault == "equal" ? "CF_POL_EQUAL" : \
	    rdefault == "vcpu" ? "CF_POL_IGNORE" : "CF_POL_ZERO", "", 0)
}

function close_reg(   b, start, i, j, t, order, k) {
	start = -1
	for (b = 0; b <= rwidth; b++) {
		if (b < rwidth && !(b in used)) {
			if (start < 0)
				start = b
			continue
		}
		if (start >= 0) {
			if (rdefault == "")
				fatal("register " rname ": " \
				    (b - 1 == start ? "bit " start " is" : \
				    "bits " (b - 1) ":" start " are") \
				    " described by no line and there is no 'default'")
			fill_gap(start, b - 1)
			start = -1
		}
	}
	# Most significant field first.
	for (i = 1; i <= nf; i++)
		order[i] = i
	for (i = 2; i <= nf; i++) {
		t = order[i]
		for (j = i - 1; j >= 1 && flsb[order[j]] < flsb[t]; j--)
			order[j + 1] = order[j]
		order[j + 1] = t
	}
	body = ""
	deps_reg(rname, rkey)
	for (i = 1; i <= nf; i++) {
		k = order[i]
		deps_field(rname, fname[k], rkey, i - 1, fwid[k], 0, \
		    fpol[k] == "CF_POL_AND" || fpol[k] == "CF_POL_OR")
		vname = "NULL"
		if (fnv[k] > 0) {
			vname = sprintf("r%d_%d_v", nreg, flsb[k])
			out = out sprintf("static const struct cf_fvalue %s[] = {\n%s};\n", \
			    vname, fvals[k])
		}
		body = body sprintf("\t{ %s, %d, %d, 0, %s, 0ULL, %s, %d, 0, 0ULL, NULL, 0, NULL, 0, 0 },\n", \
		    cstr(fname[k]), flsb[k], fwid[k], fpol[k], vname, fnv[k])
		nfields++
	}
	out = out sprintf("static const struct cf_field r%d_f[] = {\n%s};\n\n", \
	    nreg, body)
	line = sprintf("\t{ %s, %s, r%d_f, %d, %d, %sULL, %s, CF_ROLE_NONE, NULL, NULL },\n", \
	    cstr(rname), rkey, nreg, nf, rpseudo, rwritable, rflags)
	if (rpseudo == 3) {
		facttab = facttab line
		nfacts++
	} else
		regtab = regtab line
	inreg = 0
}

# NAME NUMBER ARCHES KIND from the capability file, for the architecture
# being generated (arch/caps/caps.awk, shared with arch/arm64).
function cap_line() {
	if (inreg)
		fatal_at(firstfile, firstlines, "register " rname " has no 'end'")
	if (!cap_parse(arch))
		return
	nreg++
	ncaps++
	out = out cap_c(nreg)
	nfields++
	captab = captab cap_entry(nreg)
}

BEGIN {
	if (sym == "")
		sym = "cf_x86_catalog"
	if (cpuid_base == "")
		cpuid_base = 1
	if (msr_base == "")
		msr_base = 2
	if (arch == "")
		arch = "x86"
	if (cpuid_base !~ /^[0-9]+$/ || msr_base !~ /^[0-9]+$/ || \
	    cpuid_base + 0 < 1 || cpuid_base + 0 >= msr_base + 0 || \
	    msr_base + 0 > 31) {
		print "gen_cpuid.awk: want 1 <= cpuid_base < msr_base <= 31" \
		    > "/dev/stderr"
		failed = 1
		exit 1
	}
	cpuid_base += 0
	msr_base += 0
	regidx["eax"] = 0; regidx["ebx"] = 1; regidx["ecx"] = 2; regidx["edx"] = 3
	kinds = " flag inverted number equal exact0 rate pick vcpu runtime orset andset "
	nreg = 0
	nfields = 0
	nflags = 0
	nlevels = 0
	ngated = 0
	inreg = 0
	lastord = -1
	cap_last = -1
	ncaps = 0
	nfacts = 0
	lastname = "the start"
	out = ""
	regtab = ""
	captab = ""
	facttab = ""
}

{
	sub(/\r$/, "")
	sub(/#.*/, "")
	sub(/[ \t]+$/, "")
	if (firstfile == "")
		firstfile = FILENAME
	if (FILENAME == firstfile)
		firstlines = FNR
	if ($0 ~ /^[ \t]*$/)
		next
}

FILENAME != firstfile {
	cap_line()
	next
}

$1 == "fact" {
	if (NF != 4)
		fatal("'fact' wants NAME KEY WRITABLE")
	if ($2 !~ /^[A-Z][A-Z0-9_]*$/)
		fatal("bad fact name '" $2 "' (want upper case, digits, _)")
	if ($3 !~ /^0[xX]2[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/)
		fatal("bad fact key '" $3 "' (want hex, 0x2000000 .. 0x2ffffff)")
	if ($4 !~ /^0[xX][0-9a-fA-F]+$/ || hexval($4, 16) < 0)
		fatal("bad writable mask '" $4 "' (want hex, 64 bits)")
	if (lastord >= cpuid_base * 281474976710656)
		fatal("fact " $2 " after a CPUID register or MSR: facts come first")
	begin_reg($2, hexval($3, 7), sprintf("0x%sULL", hexdigits($3, 7)), \
	    64, 3, "0x" hexdigits($4, 1))
	next
}

$1 == "cpuid" {
	if (NF < 4)
		fatal("'cpuid' wants LEAF SUBLEAF REG [required] [gate=FLAG,...]")
	# Optional words after REG, in any order, each at most once.
	rgate = ""
	rreq = 0
	for (i = 5; i <= NF; i++) {
		if ($i == "required" && !rreq)
			rreq = 1
		else if ($i ~ /^gate=/ && rgate == "") {
			if ($i !~ /^gate=[a-z0-9][a-z0-9_]*(,[a-z0-9][a-z0-9_]*)*$/)
				fatal("bad gate '" $i "' (want gate=FLAG or gate=FLAG,FLAG...)")
			rgate = substr($i, 6)
		} else
			fatal("'cpuid' wants LEAF SUBLEAF REG [required] [gate=FLAG,...]")
	}
	if ($2 !~ /^0[xX][0-9a-fA-F]+$/ || (leaf = hexval($2, 8)) < 0)
		fatal("bad leaf '" $2 "' (want hex, 0x0 .. 0xffffffff)")
	if ($3 !~ /^0[xX][0-9a-fA-F]+$/ || (sl = hexval($3, 4)) < 0 || sl > 16383)
		fatal("bad subleaf '" $3 "' (want hex, 0x0 .. 0x3fff)")
	if (!($4 in regidx))
		fatal("unknown register '" $4 "' (want eax, ebx, ecx or edx)")
	if (lastmsr)
		fatal("cpuid register after an MSR: CPUID registers come first")
	low = sl * 4 + regidx[$4]
	name = sprintf("CPUID_%s_%X_%s", toupper(hexdigits($2, 8)), sl, toupper($4))
	begin_reg(name, cpuid_base * 281474976710656 + leaf * 65536 + low, \
	    sprintf("0x%x%s%04xULL", cpuid_base, hexdigits($2, 8), low), 32, \
	    0, "0")
	if (rreq)
		rflags = "CF_REG_REQUIRED"
	if (rgate != "") {
		ngated++
		gatedreg[ngated] = name
		gatedkey[ngated] = rkey
		gatedline[ngated] = FNR
		gatedflags[ngated] = rgate
	}
	next
}

$1 == "msr" {
	if (NF != 3 && !(NF == 4 && $4 ~ /^gate=/))
		fatal("'msr' wants INDEX NAME [gate=FLAG,...]")
	rgate = ""
	if (NF == 4) {
		if ($4 !~ /^gate=[a-z0-9][a-z0-9_]*(,[a-z0-9][a-z0-9_]*)*$/)
			fatal("bad gate '" $4 "' (want gate=FLAG or gate=FLAG,FLAG...)")
		rgate = substr($4, 6)
	}
	if ($2 !~ /^0[xX][0-9a-fA-F]+$/ || (idx = hexval($2, 8)) < 0)
		fatal("bad MSR index '" $2 "' (want hex, 0x0 .. 0xffffffff)")
	if ($3 !~ /^[A-Z][A-Z0-9_]*$/)
		fatal("bad MSR name '" $3 "' (want upper case, digits, _)")
	lastmsr = 1
	begin_reg($3, msr_base * 281474976710656 + idx, \
	    sprintf("0x%x0000%sULL", msr_base, hexdigits($2, 8)), 64, 0, "0")
	if (rgate != "") {
		ngated++
		gatedreg[ngated] = $3
		gatedkey[ngated] = rkey
		gatedline[ngated] = FNR
		gatedflags[ngated] = rgate
	}
	next
}

index(kinds, " " $1 " ") > 0 {
	if (!inreg)
		fatal("'" $1 "' outside a register")
	if (NF != 3)
		fatal("'" $1 "' wants " \
		    ($1 ~ /^(flag|inverted)$/ ? "BIT" : "MSB:LSB") " NAME")
	bits($2, $1 !~ /^(flag|inverted)$/)
	if ($3 !~ /^[a-z0-9][a-z0-9_]*$/)
		fatal("bad name '" $3 "' (want lower case, digits, _)")
	if ($3 ~ /^bits?[0-9]/)
		fatal("name '" $3 "' is kept for the fields 'default' makes")
	if ($3 in rfnames)
		fatal("field " $3 " listed twice in " rname)
	rfnames[$3] = 1
	for (b = lo; b <= hi; b++) {
		if (b in used)
			fatal("field " $3 " overlaps field " used[b] " at bit " b)
		used[b] = $3
	}
	w = hi - lo + 1
	if ($1 == "flag" || $1 == "inverted" || $1 == "runtime") {
		if ($3 in featline)
			fatal("flag name " $3 " already used on line " featline[$3])
		featline[$3] = FNR
		featkind[$3] = $1
		featkey[$3] = rkey
		featbit[$3] = lo
		featreg[$3] = rname
		deps_flag($3, rname, $3)
	}
	if ($1 == "flag") {
		nflags++
		add_field($3, lo, 1, "CF_POL_LOWER", \
		    "\t{ 0ULL, \"\" },\n\t{ 1ULL, " cstr($3) " },\n", 2)
	} else if ($1 == "inverted") {
		nflags++
		add_field($3, lo, 1, "CF_POL_HIGHER", \
		    "\t{ 1ULL, " cstr($3) " },\n", 1)
	} else if ($1 == "number") {
		add_field($3, lo, w, "CF_POL_LOWER", "", 0)
	} else if ($1 == "equal") {
		add_field($3, lo, w, "CF_POL_EQUAL", "", 0)
	} else if ($1 == "exact0") {
		add_field($3, lo, w, "CF_POL_EXACT", "", 0)
	} else if ($1 == "rate") {
		add_field($3, lo, w, "CF_POL_RATE", "", 0)
	} else if ($1 == "pick") {
		add_field($3, lo, w, "CF_POL_ANY", "", 0)
	} else if ($1 == "vcpu" || $1 == "runtime") {
		add_field($3, lo, w, "CF_POL_IGNORE", "", 0)
	} else if ($1 == "orset") {
		add_field($3, lo, w, "CF_POL_OR", "", 0)
	} else {
		add_field($3, lo, w, "CF_POL_AND", "", 0)
	}
	next
}

$1 == "default" {
	if (!inreg)
		fatal("'default' outside a register")
	if (NF != 2)
		fatal("'default' wants KIND (flag, equal, vcpu or zero)")
	if ($2 !~ /^(flag|equal|vcpu|zero)$/)
		fatal("unknown default kind '" $2 "' (want flag, equal, vcpu or zero)")
	if (rdefault != "")
		fatal("second 'default' in register " rname)
	rdefault = $2
	next
}

$1 == "end" {
	if (!inreg)
		fatal("'end' outside a register")
	if (NF != 1)
		fatal("junk after 'end'")
	close_reg()
	next
}

$1 == "needs" {
	if (inreg)
		fatal("'needs' inside register " rname " (missing 'end')")
	deps_line()
	next
}

$1 == "level" {
	if (inreg)
		fatal("'level' inside register " rname " (missing 'end')")
	if (NF < 3)
		fatal("'level' wants NAME FLAG...")
	if ($2 !~ /^x86-64-v[1-9]$/)
		fatal("bad level name '" $2 "' (want x86-64-v1 .. x86-64-v9)")
	if (substr($2, 9) + 0 != nlevels + 1)
		fatal("level " $2 " out of order: want x86-64-v" nlevels + 1)
	nlevels++
	lvname[nlevels] = $2
	lvline[nlevels] = FNR
	lvn[nlevels] = NF - 2
	for (i = 3; i <= NF; i++) {
		if ($i !~ /^[a-z0-9][a-z0-9_]*$/)
			fatal("bad flag name '" $i "' in level " $2)
		if ($i in lvflag)
			fatal("flag " $i " listed twice (levels list only their own additions)")
		lvflag[$i] = $2
		lvf[nlevels, i - 2] = $i
	}
	next
}

{
	fatal("unknown line '" $1 "'")
}

END {
	if (failed)
		exit 1
	if (inreg)
		fatal_at(firstfile, firstlines, "register " rname " has no 'end'")
	if (nreg == 0)
		fatal_at(firstfile, firstlines, "no registers")
	# Levels may name flags defined further down: checked now, reported
	# at the level's line.
	for (l = 1; l <= nlevels; l++) {
		for (i = 1; i <= lvn[l]; i++) {
			f = lvf[l, i]
			if (!(f in featline) || featkind[f] != "flag") {
				fatal_at(firstfile, lvline[l], "level " lvname[l] " names " \
				    (f in featline ? featkind[f] " field " f ", not a flag" : \
				    "unknown flag " f))
			}
		}
	}
	# Gates too: each names flags of other registers, anywhere in the file.
	gatetab = ""
	ngates = 0
	for (g = 1; g <= ngated; g++) {
		n = split(gatedflags[g], gf, ",")
		split("", gseen)
		for (i = 1; i <= n; i++) {
			f = gf[i]
			if (f in gseen)
				fatal_at(firstfile, gatedline[g], "gate " f \
				    " listed twice for " gatedreg[g])
			gseen[f] = 1
			if (!(f in featline) || featkind[f] != "flag")
				fatal_at(firstfile, gatedline[g], gatedreg[g] \
				    " is gated by " (f in featline ? featkind[f] \
				    " field " f ", not a flag" : "unknown flag " f))
			if (featreg[f] == gatedreg[g])
				fatal_at(firstfile, gatedline[g], "gate " f \
				    " is a field of " gatedreg[g] " itself")
			gatetab = gatetab sprintf("\t{ %s, %s, %d, %s },\n", \
			    gatedkey[g], featkey[f], featbit[f], cstr(f))
			ngates++
		}
	}
	# The needs lines too, before anything is printed.
	deps_resolve()
	print "/* Generated by arch/x86/gen_cpuid.awk from arch/x86/cpuid.txt:"
	print " * do not edit. */"
	print "#include <stddef.h>"
	print "#include \"engine/catalog.h\""
	print "#include \"arch/x86/x86_catalog.h\""
	print ""
	printf "%s", out
	# Capabilities, then facts, then CPUID registers and MSRs: ascending key.
	printf "static const struct cf_reg regs[] = {\n%s%s%s};\n\n", \
	    captab, facttab, regtab
	printf "const struct cf_catalog %s = {\n\t\"x86\", regs, %d\n};\n\n", sym, nreg
	for (l = 1; l <= nlevels; l++) {
		printf "static const char *const level%d_flags[] = {\n", l
		for (i = 1; i <= lvn[l]; i++)
			printf "\t%s,\n", cstr(lvf[l, i])
		printf "};\n"
	}
	if (nlevels == 0) {
		printf "const struct cf_x86_level cf_x86_levels[1] = {\n"
		printf "\t{ NULL, NULL, 0 },\n};\n"
	} else {
		printf "\nconst struct cf_x86_level cf_x86_levels[] = {\n"
		for (l = 1; l <= nlevels; l++)
			printf "\t{ %s, level%d_flags, %d },\n", cstr(lvname[l]), l, lvn[l]
		printf "};\n"
	}
	printf "const size_t cf_x86_nlevels = %d;\n", nlevels
	if (ngates == 0) {
		printf "\nconst struct cf_gates cf_x86_gates = { NULL, 0 };\n"
	} else {
		printf "\nstatic const struct cf_gate gates[] = {\n%s};\n", gatetab
		printf "const struct cf_gates cf_x86_gates = { gates, %d };\n", ngates
	}
	dsym = sym
	if (!sub(/_catalog$/, "_deps", dsym))
		dsym = sym "_deps"
	deps_print(dsym)
	printf "\n/* %d registers (%d capabilities, %d facts), %d fields, %d named flags, %d levels, %d gates, %d dependencies. */\n", \
	    nreg, ncaps, nfacts, nfields, nflags, nlevels, ngates, deps_count
}
