# The dependency half of the catalogue generators: the `needs` lines of
# arch/x86/cpuid.txt and arch/arm64/idregs.txt (grammar in each file's
# header) become the table struct cf_deps of engine/catalog.h.  Loaded
# with the generator (awk -f arch/caps/caps.awk -f arch/deps.awk
# -f arch/<arch>/gen_*.awk ...), which calls:
#
#   deps_field(REG, FIELD, KEY, INDEX, WIDTH, SIGNED, SET)
#       for every field of every register it closes: KEY the register's C
#       key text, INDEX the field's place in the generated field array,
#       SET 1 for a bit-set field (AND/OR policy), else 0;
#   deps_reg(REG, KEY)        for every register;
#   deps_flag(NAME, REG, FIELD)  for every name usable alone (x86 flags);
#   deps_line()               on each `needs` line;
#   deps_resolve()            in END, once the whole file is read: resolves
#       every line, or stops with "FILE:LINE: reason" on stderr and exit
#       status 1;
#   deps_print(SYM)           then prints the C table named SYM.
#
# A term is FLAG, REG, REG[BIT], REG[MSB:LSB], REG.FIELD, REG.FIELD>=VALUE
# or REG.FIELD:BIT.  POSIX awk; numbers below 2^53.

function deps_fatal(line, msg) {
	printf "%s:%d: %s\n", deps_file, line, msg > "/dev/stderr"
	failed = 1
	exit 1
}

function deps_field(reg, field, key, idx, width, sgn, set) {
	deps_fkey[reg "." field] = key
	deps_fidx[reg "." field] = idx
	deps_fwid[reg "." field] = width
	deps_fsgn[reg "." field] = sgn
	deps_fset[reg "." field] = set
}

function deps_reg(reg, key) {
	deps_rkey[reg] = key
}

function deps_flag(name, reg, field) {
	deps_alias[name] = reg "." field
}

# Value of a decimal or 0x hex numeral, or -1.
function deps_num(s,   d, n, i) {
	if (s ~ /^[0-9]+$/ && length(s) <= 15)
		return s + 0
	if (s !~ /^0[xX][0-9a-fA-F]+$/)
		return -1
	d = tolower(substr(s, 3))
	sub(/^0+/, "", d)
	if (length(d) > 13)
		return -1
	n = 0
	for (i = 1; i <= length(d); i++)
		n = n * 16 + index("0123456789abcdef", substr(d, i, 1)) - 1
	return n
}

function deps_pow2(n,   p) {
	p = 1
	while (n-- > 0)
		p *= 2
	return p
}

# The hex text of the bits LO..HI.
function deps_mask(lo, hi) {
	return sprintf("0x%sULL", deps_hex((deps_pow2(hi - lo + 1) - 1) * deps_pow2(lo)))
}

# Hex digits of N (< 2^64, exact below 2^53 and for all-ones masks).
function deps_hex(n,   s, d) {
	if (n >= 18446744073709551615)
		return "ffffffffffffffff"
	s = ""
	while (n >= 1) {
		d = n % 16
		s = substr("0123456789abcdef", d + 1, 1) s
		n = (n - d) / 16
	}
	return s == "" ? "0" : s
}

function deps_line(   text, p, words, n, i) {
	if (deps_file == "")
		deps_file = FILENAME
	text = $0
	p = index(text, "|")
	deps_n++
	deps_lno[deps_n] = FNR
	deps_text[deps_n] = ""
	if (p) {
		deps_text[deps_n] = substr(text, p + 1)
		sub(/^[ \t]+/, "", deps_text[deps_n])
		if (deps_text[deps_n] == "")
			deps_fatal(FNR, "nothing after '|' (want the needs in words)")
		text = substr(text, 1, p - 1)
	}
	n = split(text, words, /[ \t]+/)
	i = 1
	if (words[i] == "")
		i++
	if (n - i < 2)
		deps_fatal(FNR, "'needs' wants FEATURE[,FEATURE...] NEED... [| TEXT]")
	deps_what[deps_n] = words[i + 1]
	deps_need[deps_n] = ""
	for (i += 2; i <= n; i++)
		deps_need[deps_n] = deps_need[deps_n] (deps_need[deps_n] == "" ? "" : " ") words[i]
}

# Resolves TERM of line LINE into t_key, t_field, t_kind, t_value (C text)
# and t_name (the field or register, for messages).
function deps_term(term, line, dependent,   reg, field, op, v, b, hi, lo, nm) {
	op = ""
	if (term in deps_alias)
		term = deps_alias[term]
	if (term ~ /\[/) {
		if (term !~ /^[A-Za-z0-9_]+\[[0-9]+(:[0-9]+)?\]$/)
			deps_fatal(line, "bad term '" term "' (want REG[BIT] or REG[MSB:LSB])")
		reg = substr(term, 1, index(term, "[") - 1)
		b = substr(term, index(term, "[") + 1)
		sub(/\]$/, "", b)
		if (!(reg in deps_rkey))
			deps_fatal(line, "unknown register " reg)
		hi = b
		lo = b
		if (index(b, ":")) {
			hi = substr(b, 1, index(b, ":") - 1)
			lo = substr(b, index(b, ":") + 1)
		}
		hi += 0
		lo += 0
		if (hi > 63 || lo > hi)
			deps_fatal(line, "bad bit range in '" term "'")
		t_key = deps_rkey[reg]; t_field = -1; t_kind = "CF_DEP_BITS"
		t_value = deps_mask(lo, hi)
		return
	}
	if (term !~ /\./) {
		if (!(term in deps_rkey))
			deps_fatal(line, "unknown flag or register '" term "'")
		t_key = deps_rkey[term]; t_field = -1; t_kind = "CF_DEP_BITS"
		t_value = "0xffffffffffffffffULL"
		return
	}
	if (term ~ />=/) {
		op = ">="
		v = substr(term, index(term, ">=") + 2)
		term = substr(term, 1, index(term, ">=") - 1)
	} else if (term ~ /:/) {
		op = ":"
		v = substr(term, index(term, ":") + 1)
		term = substr(term, 1, index(term, ":") - 1)
	}
	if (!(term in deps_fkey))
		deps_fatal(line, "unknown field " term)
	t_key = deps_fkey[term]
	t_field = deps_fidx[term]
	if (op == ":") {
		if (v !~ /^[0-9]+$/ || v + 0 >= deps_fwid[term])
			deps_fatal(line, "bit " v " is not a bit of field " term \
			    " (" deps_fwid[term] " bits)")
		if (!deps_fset[term])
			deps_fatal(line, term " is not a set of bits: ':BIT' wants one")
		t_kind = "CF_DEP_BITS"
		t_value = deps_mask(v + 0, v + 0)
		return
	}
	if (deps_fset[term]) {
		if (op != "")
			deps_fatal(line, term " is a set of bits: '>=' wants a field with an order")
		t_kind = "CF_DEP_BITS"
		t_value = deps_mask(0, deps_fwid[term] - 1)
		return
	}
	t_kind = "CF_DEP_ATLEAST"
	if (op == "") {
		# implemented: 0 on a signed field (0xf is "not implemented")
		t_value = deps_fsgn[term] ? "0x0ULL" : "0x1ULL"
		return
	}
	if ((nm = deps_num(v)) < 0 || nm >= deps_pow2(deps_fwid[term]))
		deps_fatal(line, "value '" v "' does not fit field " term)
	if (nm == 0 && !deps_fsgn[term])
		deps_fatal(line, term ">=0 always holds")
	if (dependent && deps_fsgn[term] && nm == deps_pow2(deps_fwid[term] - 1))
		deps_fatal(line, term ">=" v ": nothing lies below it")
	t_value = sprintf("0x%sULL", deps_hex(nm))
}

function deps_cterm(term, line, dependent) {
	deps_term(term, line, dependent)
	return sprintf("{ %s, %d, %s, %s }", t_key, t_field, t_kind, t_value)
}

# Resolves every line, or stops with "FILE:LINE: reason" (before anything
# is printed, for a generator that prints only a whole file's output).
function deps_resolve(   i, j, k, nf, feats, needs, nn, ntab, all) {
	ntab = 0
	deps_tab = ""
	deps_dtab = ""
	deps_count = 0
	for (i = 1; i <= deps_n; i++) {
		nn = split(deps_need[i], needs, " ")
		nf = split(deps_what[i], feats, ",")
		# No term twice on a line: " a b c " holds each once.
		all = " "
		for (j = 1; j <= nn + nf; j++) {
			k = j <= nn ? needs[j] : feats[j - nn]
			if (index(all, " " k " "))
				deps_fatal(deps_lno[i], j <= nn ? "need " k \
				    " listed twice" : k " needs itself")
			all = all k " "
		}
		for (j = 1; j <= nn; j++)
			deps_tab = deps_tab "\t" deps_cterm(needs[j], deps_lno[i], 0) ",\n"
		for (k = 1; k <= nf; k++) {
			deps_dtab = deps_dtab sprintf("\t{ %s, &terms[%d], %d, %s, %d },\n", \
			    deps_cterm(feats[k], deps_lno[i], 1), ntab, nn, \
			    deps_text[i] == "" ? "NULL" : cstr(deps_text[i]), deps_lno[i])
			deps_count++
		}
		ntab += nn
	}
}

# Prints the resolved table as SYM.
function deps_print(sym) {
	if (deps_count == 0) {
		printf "\nconst struct cf_deps %s = { NULL, 0 };\n", sym
		return
	}
	printf "\nstatic const struct cf_dep_term terms[] = {\n%s};\n", deps_tab
	printf "static const struct cf_dep deps[] = {\n%s};\n", deps_dtab
	printf "const struct cf_deps %s = { deps, %d };\n", sym, deps_count
}
