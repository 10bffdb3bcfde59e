# Turns arch/arm64/idregs.txt (grammar in its header) into a C catalogue.
# Usage: awk -v sym=cf_arm64_catalog [-v arch=arm64] -f gen_catalog.awk \
#            idregs.txt [caps.txt] > out.c
# With a second file, the KVM capabilities it lists for ARCH (grammar in
# arch/caps/caps.txt) follow the registers as capability pseudo-registers.
# Any malformed line, overlap or misordering stops the build with
# FILE:LINE: reason on stderr and exit status 1.

function fatal(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 1
}

function isnum(s) {
	return s ~ /^(0[xX][0-9a-fA-F]+|[0-9]+)$/
}

# Bits needed by the numeral S, computed on its digits: awk's numbers are
# doubles and cannot hold every 64-bit value exactly.  Returns 999 for
# numerals past 64 bits; decimals past 15 digits count as 64 bits.
function bits_needed(s,   d, n, first, fb) {
	if (s ~ /^0[xX]/) {
		d = tolower(substr(s, 3))
		sub(/^0+/, "", d)
		n = length(d)
		if (n == 0)
			return 0
		first = index("123456789abcdef", substr(d, 1, 1))
		fb = first >= 8 ? 4 : first >= 4 ? 3 : first >= 2 ? 2 : 1
		return (n - 1) * 4 + fb
	}
	sub(/^0+/, "", s)
	if (length(s) > 15) {
		# Past double precision: only "fits 64 bits or not" is exact.
		if (length(s) < 20 || (length(s) == 20 && s <= "18446744073709551615"))
			return 64
		return 999
	}
	n = s + 0
	fb = 0
	while (n >= 1) {
		n = int(n / 2)
		fb++
	}
	return fb
}

function dec(s,   n) {
	if (s !~ /^[0-9]+$/)
		fatal("expected a decimal number, got '" s "'")
	n = s + 0
	return n
}

function cstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}

# OPT=V:X[,V:X...] (OPT as or bits, X the letter its grammar names the
# second number by): decimal pairs, V fitting a field of WIDTH bits, X one
# of at most XDIGITS digits (0: fitting the field too), no V twice and,
# unless SELF_OK, none mapped to itself.  Returns the pairs as C
# initialisers in pairs_c, their number as the result.
function parse_pairs(s, opt, x, width, xdigits, self_ok,   n, i, pr, kv, from) {
	n = split(s, pr, ",")
	if (n == 0 || n > 16)
		fatal("'" opt "=' wants 1 to 16 V:" x " pairs")
	split("", from)
	pairs_c = ""
	for (i = 1; i <= n; i++) {
		if (split(pr[i], kv, ":") != 2 || kv[1] !~ /^[0-9]+$/ ||
		    kv[2] !~ /^[0-9]+$/ || length(kv[1]) > 15 ||
		    length(kv[2]) > (xdigits ? xdigits : 15))
			fatal("bad '" opt "=' pair '" pr[i] "' (want V:" x ", decimal)")
		if (bits_needed(kv[1]) > width ||
		    (!xdigits && bits_needed(kv[2]) > width))
			fatal("'" opt "=' pair " pr[i] " does not fit the field")
		if (!self_ok && kv[1] + 0 == kv[2] + 0)
			fatal("'" opt "=' pair " pr[i] " maps a value to itself")
		if ((kv[1] + 0) in from)
			fatal("'" opt "=' maps " kv[1] " twice")
		from[kv[1] + 0] = 1
		pairs_c = pairs_c sprintf("\t{ %sULL, %sULL },\n", kv[1], kv[2])
	}
	return n
}

# `as=V:C[,V:C...]`: KVM takes a written V as C.  Sets asmap (C
# initialisers) and returns the number of pairs.
function parse_as(s, width, pol, sg,   n) {
	if (pol != "CF_POL_LOWER" || sg)
		fatal("'as=' needs an unsigned field of the lower policy")
	n = parse_pairs(s, "as", "C", width, 0, 0)
	asmap = pairs_c
	return n
}

# bits=V:N[,...]: what value V of the field means as a size, N bits
# (decimal both); the message text only.  Sets bitsmap.
function parse_bits(s, width,   n) {
	n = parse_pairs(s, "bits", "N", width, 4, 1)
	bitsmap = pairs_c
	return n
}

function close_field() {
	if (fld == "")
		return
	if (nval > 0) {
		printf "static const struct cf_fvalue %s_v[] = {\n%s};\n", fld, vals
	}
	fvals[nf] = (nval > 0) ? fld "_v" : "NULL"
	fnvals[nf] = nval
	if (fnas[nf] > 0)
		printf "static const struct cf_fas %s_as[] = {\n%s};\n", fld, fas[nf]
	fasn[nf] = (fnas[nf] > 0) ? fld "_as" : "NULL"
	if (fnbits[nf] > 0)
		printf "static const struct cf_fas %s_bits[] = {\n%s};\n", fld, fbits[nf]
	fbitsn[nf] = (fnbits[nf] > 0) ? fld "_bits" : "NULL"
	fld = ""
}

function close_reg(   i) {
	close_field()
	printf "static const struct cf_field r%d_f[] = {\n", nreg
	deps_reg(rname, rkeystr)
	for (i = 1; i <= nf; i++)
		deps_field(rname, fname[i], rkeystr, i - 1, fwidth[i], fsigned[i], \
		    fpol[i] == "CF_POL_AND" || fpol[i] == "CF_POL_PREFIX")
	for (i = 1; i <= nf; i++)
		printf "\t{ %s, %d, %d, %d, %s, %sULL, %s, %d, %d, %sULL, %s, %d, %s, %d, %d },\n", \
		    cstr(fname[i]), flsb[i], fwidth[i], fsigned[i], fpol[i], \
		    fsafe[i], fvals[i], fnvals[i], ffloork[i], ffloor[i], \
		    fasn[i], fnas[i], fbitsn[i], fnbits[i], fstep[i]
	if (nf == 0)
		printf "\t{ NULL, 0, 0, 0, CF_POL_LOWER, 0ULL, NULL, 0, 0, 0ULL, NULL, 0, NULL, 0, 0 },\n"
	printf "};\n\n"
	# Facts (keys 0x2000000 up) go after the capabilities.
	if (rwr ~ /^3,/)
		facttab = facttab sprintf("\t{ %s, %s, r%d_f, %d, %s },\n", \
		    cstr(rname), rkeystr, nreg, nf, rwr)
	else
		regtab = regtab sprintf("\t{ %s, %s, r%d_f, %d, %s },\n", \
		    cstr(rname), rkeystr, nreg, nf, rwr)
	inreg = 0
}

# NAME NUMBER ARCHES KIND, for the architecture being generated
# (arch/caps/caps.awk).
function cap_line() {
	if (inreg)
		fatal("register " rname " has no 'end'")
	if (!cap_parse(arch))
		return
	nreg++
	printf "%s", cap_c(nreg)
	regtab = regtab cap_entry(nreg)
}

# A register's name: well-formed and new.
function check_name(name) {
	if (name !~ /^[A-Z][A-Z0-9_]*$/)
		fatal("bad register name '" name "'")
	if (seen[name])
		fatal("register " name " listed twice")
	seen[name] = 1
}

# Opens a register block (reg, pseudo or fact).
function begin_block(name, keystr, wr) {
	rname = name
	rkeystr = keystr
	rwr = wr
	nreg++
	inreg = 1
	nf = 0
	fld = ""
	split("", used)
	split("", fnames)
}

BEGIN {
	cap_last = -1
	if (arch == "")
		arch = "arm64"
	if (sym == "")
		sym = "cf_arm64_catalog"
	print "/* Generated by arch/arm64/gen_catalog.awk: do not edit. */"
	print "#include <stddef.h>"
	print "#include \"engine/catalog.h\""
	print ""
	nreg = 0
	inreg = 0
	lastkey = -1
	lastpkey = ""
}

{
	if (firstfile == "")
		firstfile = FILENAME
	sub(/#.*/, "")
	sub(/[ \t]+$/, "")
	if ($0 ~ /^[ \t]*$/)
		next
}

FILENAME != firstfile {
	cap_line()
	next
}

$1 == "reg" {
	if (inreg)
		fatal("'reg' inside register " rname " (missing 'end')")
	if (NF < 7)
		fatal("'reg' wants NAME OP0 OP1 CRN CRM OP2 [identity] [required] [wcap=CAP]")
	rflags = ""
	wcap = "NULL"
	for (i = 8; i <= NF; i++) {
		if ($i ~ /^wcap=/) {
			if ($i !~ /^wcap=KVM_CAP_[A-Z0-9_]+$/)
				fatal("bad capability in '" $i "' (want wcap=KVM_CAP_...)")
			if (wcap != "NULL")
				fatal("register flag 'wcap' given twice")
			wcap = cstr(substr($i, 6))
			continue
		}
		if ($i == "identity")
			fl = "CF_REG_IDENTITY"
		else if ($i == "required")
			fl = "CF_REG_REQUIRED"
		else
			fatal("unknown register flag '" $i "' (want identity, required or wcap=CAP)")
		if (index(rflags, fl))
			fatal("register flag '" $i "' given twice")
		# engine/profile.h CF_IMPL_REGS
		if (fl == "CF_REG_IDENTITY" && ++nidentity > 4)
			fatal("more than 4 identity registers")
		rflags = rflags (rflags == "" ? "" : " | ") fl
	}
	if (lastpkey != "")
		fatal("system register " $2 " after a pseudo register")
	check_name($2)
	op0 = dec($3); op1 = dec($4); crn = dec($5); crm = dec($6); op2 = dec($7)
	if (op0 > 3 || op1 > 7 || crn > 15 || crm > 15 || op2 > 7)
		fatal("encoding out of range for " $2)
	rkey = op0 * 16384 + op1 * 2048 + crn * 128 + crm * 8 + op2
	if (rkey <= lastkey)
		fatal("register " $2 " is not in ascending encoding order")
	lastkey = rkey
	begin_block($2, sprintf("0x%xULL", rkey), \
	    "0, 0ULL, " (rflags == "" ? "0" : rflags) ", CF_ROLE_NONE, " wcap ", NULL")
	next
}

$1 == "pseudo" || $1 == "fact" {
	if (inreg)
		fatal("'" $1 "' inside register " rname " (missing 'end')")
	if (NF != 4 && !(NF == 5 && $1 == "pseudo" && $5 == "checkonly"))
		fatal("'" $1 "' wants NAME KEY WRITABLE" \
		    ($1 == "pseudo" ? " [checkonly]" : ""))
	check_name($2)
	if ($3 !~ /^0x[1-9a-f][0-9a-f]*$/ || bits_needed($3) > 32 || bits_needed($3) < 17)
		fatal("pseudo key must be hex in 0x10000..0xffffffff, got '" $3 "'")
	if ($1 == "fact" && bits_needed($3) < 26)
		fatal("fact key must be 0x2000000 or above, got '" $3 "'")
	if ($1 == "pseudo" && bits_needed($3) > 24)
		fatal("pseudo key must be below 0x1000000, got '" $3 "'")
	if ($4 !~ /^0x[0-9a-f]+$/ || bits_needed($4) > 64)
		fatal("bad writable mask '" $4 "'")
	# Keys compare as fixed-width lowercase hex strings.
	k = sprintf("%8s", substr($3, 3))
	gsub(/ /, "0", k)
	if (lastpkey != "" && k <= lastpkey)
		fatal("register " $2 " is not in ascending key order")
	lastpkey = k
	begin_block($2, $3 "ULL", \
	    ($1 == "fact" ? "3, " : "1, ") $4 "ULL" \
	    (NF == 5 ? ", CF_REG_CHECKONLY" : ", 0") ", CF_ROLE_NONE, NULL, NULL")
	next
}

$1 == "field" {
	if (!inreg)
		fatal("'field' outside a register")
	if (NF < 5 || NF > 7)
		fatal("'field' wants MSB:LSB NAME SIGN POLICY [min=N|minnz=N] [as=V:C,...]")
	close_field()
	if ($2 ~ /^[0-9]+:[0-9]+$/) {
		split($2, b, ":")
		msb = dec(b[1]); lsb = dec(b[2])
	} else if ($2 ~ /^[0-9]+$/) {
		msb = dec($2); lsb = msb
	} else {
		fatal("bad bit range '" $2 "'")
	}
	if (msb > 63 || lsb > msb)
		fatal("bit range " $2 " out of 63:0 or reversed")
	for (i = lsb; i <= msb; i++) {
		if (i in used)
			fatal("field " $3 " overlaps field " used[i] " at bit " i)
		used[i] = $3
	}
	if ($3 !~ /^[A-Za-z][A-Za-z0-9_]*$/)
		fatal("bad field name '" $3 "'")
	if ($3 in fnames)
		fatal("field " $3 " listed twice in " rname)
	fnames[$3] = 1
	if ($4 == "signed")
		sg = 1
	else if ($4 == "unsigned")
		sg = 0
	else
		fatal("sign must be 'signed' or 'unsigned', got '" $4 "'")
	safe = "0"
	if ($5 == "lower")
		pol = "CF_POL_LOWER"
	else if ($5 == "lower-impdef") {
		pol = "CF_POL_LOWER_IMPDEF"
		if (sg)
			fatal("lower-impdef: field " $3 " must be unsigned")
	}
	else if ($5 == "higher")
		pol = "CF_POL_HIGHER"
	else if ($5 == "higher0")
		pol = "CF_POL_HIGHER0"
	else if ($5 == "any")
		pol = "CF_POL_ANY"
	else if ($5 == "any-max")
		pol = "CF_POL_ANY_MAX"
	else if ($5 == "prefix")
		pol = "CF_POL_PREFIX"
	else if ($5 ~ /^exact=/) {
		pol = "CF_POL_EXACT"
		safe = substr($5, 7)
		if (!isnum(safe))
			fatal("bad safe value in '" $5 "'")
		if (bits_needed(safe) > msb - lsb + 1)
			fatal("exact=" safe ": safe value does not fit field " $3 \
			    " (" msb - lsb + 1 " bits)")
	} else
		fatal("unknown policy '" $5 "'")
	floor = "0"
	floorkind = 0
	asmap = ""
	nas = 0
	bitsmap = ""
	nbits = 0
	step = 0
	for (t = 6; t <= NF; t++) {
		if ($t ~ /^bits=\*/) {
			if (nbits || step)
				fatal("'bits=' given twice for field " $3)
			step = substr($t, 7)
			if (step !~ /^[1-9][0-9]*$/ || length(step) > 4)
				fatal("bad 'bits=*N' step '" step "' (1 to 9999)")
			continue
		}
		if ($t ~ /^bits=/) {
			if (nbits || step)
				fatal("'bits=' given twice for field " $3)
			nbits = parse_bits(substr($t, 6), msb - lsb + 1)
			continue
		}
		if ($t ~ /^as=/) {
			if (nas)
				fatal("'as=' given twice for field " $3)
			nas = parse_as(substr($t, 4), msb - lsb + 1, pol, sg)
			continue
		}
		if (floorkind)
			fatal("a second floor '" $t "' for field " $3)
		if ($t ~ /^min=/) {
			floorkind = 1
			floor = substr($t, 5)
		} else if ($t ~ /^minnz=/) {
			floorkind = 2
			floor = substr($t, 7)
		} else
			fatal("unknown floor '" $t "' (want min=N or minnz=N)")
		if (!isnum(floor))
			fatal("bad floor value in '" $t "'")
		if (bits_needed(floor) > msb - lsb + 1)
			fatal($t ": floor does not fit field " $3)
		if (pol != "CF_POL_LOWER" && pol != "CF_POL_LOWER_IMPDEF")
			fatal("a floor needs the lower policy")
	}
	nf++
	fas[nf] = asmap
	fnas[nf] = nas
	fbits[nf] = bitsmap
	fnbits[nf] = nbits
	fstep[nf] = step + 0
	ffloor[nf] = floor
	ffloork[nf] = floorkind
	fname[nf] = $3
	flsb[nf] = lsb
	fwidth[nf] = msb - lsb + 1
	fsigned[nf] = sg
	fpol[nf] = pol
	fsafe[nf] = safe
	fld = sprintf("r%d_%d", nreg, nf)
	nval = 0
	vals = ""
	next
}

$1 == "=" {
	if (fld == "")
		fatal("'=' line not after a field")
	if (NF != 3)
		fatal("'=' wants VALUE FEATURE[,FEATURE...]")
	if (!isnum($2))
		fatal("bad value '" $2 "'")
	if (bits_needed($2) > fwidth[nf])
		fatal("value " $2 " does not fit field " fname[nf] " (" \
		    fwidth[nf] " bits)")
	if ($3 != "-" && $3 !~ /^[A-Za-z][A-Za-z0-9_]*(,[A-Za-z][A-Za-z0-9_]*)*$/)
		fatal("bad feature list '" $3 "'")
	nval++
	vals = vals sprintf("\t{ %sULL, %s },\n", $2, cstr($3 == "-" ? "" : $3))
	next
}

$1 == "needs" {
	if (inreg)
		fatal("'needs' inside register " rname " (missing 'end')")
	deps_line()
	next
}

$1 == "refuse" {
	if (inreg)
		fatal("'refuse' inside register " rname " (missing 'end')")
	ref_n++
	ref_file = FILENAME
	ref_lno[ref_n] = FNR
	ref_src[ref_n] = $0
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

{
	fatal("unknown line '" $1 "'")
}

END {
	if (failed)
		exit 1
	if (inreg)
		fatal("register " rname " has no 'end'")
	if (nreg == 0)
		fatal("no registers")
	printf "static const struct cf_reg regs[] = {\n%s%s};\n\n", regtab, facttab
	printf "const struct cf_catalog %s = {\n", sym
	printf "\t\"arm64\", regs, %d\n};\n", nreg
	dsym = sym
	if (!sub(/_catalog$/, "_deps", dsym))
		dsym = sym "_deps"
	deps_resolve()
	deps_print(dsym)
	rsym = sym
	if (!sub(/_catalog$/, "_refusals", rsym))
		rsym = sym "_refusals"
	ref_print(rsym)
}

# REG.FIELD=VALUE[,...] of a `refuse` line as C terms appended to ref_tab;
# returns how many.
function ref_terms(list, line,   t, n, i, name, v, nv) {
	n = split(list, t, ",")
	for (i = 1; i <= n; i++) {
		if (t[i] !~ /^[A-Za-z0-9_]+\.[A-Za-z0-9_]+=[0-9a-fA-Fx]+$/)
			ref_fatal(line, "bad term '" t[i] "' (want REG.FIELD=VALUE)")
		name = substr(t[i], 1, index(t[i], "=") - 1)
		v = substr(t[i], index(t[i], "=") + 1)
		if (!(name in deps_fkey))
			ref_fatal(line, "unknown field " name)
		if ((nv = deps_num(v)) < 0 || nv >= deps_pow2(deps_fwid[name]))
			ref_fatal(line, "value '" v "' does not fit field " name)
		ref_tab = ref_tab sprintf("\t{ %s, %d, 0x%sULL },\n", deps_fkey[name], \
		    deps_fidx[name], deps_hex(nv))
	}
	return n
}

function ref_fatal(line, msg) {
	printf "%s:%d: %s\n", ref_file, line, msg > "/dev/stderr"
	failed = 1
	exit 1
}

# refuse WANT [where HOST] [since X.Y] | TEXT
function ref_print(rsym,   i, p, text, why, w, n, at, nw, nh, since, tab, k) {
	if (ref_n == 0) {
		printf "\nconst struct cf_refusals %s = { NULL, 0 };\n", rsym
		return
	}
	ref_tab = ""
	tab = ""
	at = 0
	for (i = 1; i <= ref_n; i++) {
		text = ref_src[i]
		p = match(text, /[ \t]\|([ \t]|$)/) ? RSTART + 1 : 0
		if (!p)
			ref_fatal(ref_lno[i], "'refuse' wants '| TEXT' (KVM's rule in words)")
		why = substr(text, p + 1)
		sub(/^[ \t]+/, "", why)
		sub(/[ \t]+$/, "", why)
		if (why == "")
			ref_fatal(ref_lno[i], "nothing after '|'")
		text = substr(text, 1, p - 1)
		sub(/^[ \t]+/, "", text)
		sub(/[ \t]+$/, "", text)
		n = split(text, w, /[ \t]+/)
		k = 1
		if (n < 2)
			ref_fatal(ref_lno[i], "'refuse' wants REG.FIELD=VALUE[,...] [where ...] [since X.Y] | TEXT")
		nw = ref_terms(w[k + 1], ref_lno[i])
		nh = 0
		since = 0
		for (k += 2; k <= n; k += 2) {
			if (k + 1 > n)
				ref_fatal(ref_lno[i], "'" w[k] "' wants a value")
			if (w[k] == "where" && !nh)
				nh = ref_terms(w[k + 1], ref_lno[i])
			else if (w[k] == "since" && !since && w[k + 1] ~ /^[0-9]+\.[0-9]+$/)
				since = substr(w[k + 1], 1, index(w[k + 1], ".") - 1) * 1000 + \
				    substr(w[k + 1], index(w[k + 1], ".") + 1)
			else
				ref_fatal(ref_lno[i], "unknown or repeated '" w[k] " " w[k + 1] \
				    "' (want 'where REG.FIELD=VALUE[,...]' or 'since X.Y')")
		}
		tab = tab sprintf("\t{ &rterms[%d], %d, %s, %d, %d, %s, %d },\n", at, nw, \
		    nh ? sprintf("&rterms[%d]", at + nw) : "NULL", nh, since, cstr(why), \
		    ref_lno[i])
		at += nw + nh
	}
	printf "\nstatic const struct cf_refuse_term rterms[] = {\n%s};\n", ref_tab
	printf "static const struct cf_refusal refusals[] = {\n%s};\n", tab
	printf "const struct cf_refusals %s = { refusals, %d };\n", rsym, ref_n
}
