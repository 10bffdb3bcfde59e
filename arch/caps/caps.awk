# The capability half of the catalogue generators: reads one line of
# arch/caps/caps.txt (NAME NUMBER ARCHES KIND ROLE [since=VERSION]; grammar in
# its header) for
# the architecture being generated.  Loaded before the generator
# (awk -f arch/caps/caps.awk -f arch/<arch>/gen_*.awk ...), which provides
# fatal(msg) and cstr(s).

# Checks the current line; 0 if the capability is not for ARCH, else 1 with
# cap_n (its number), cap_kind, cap_role and cap_since (a C string or NULL)
# set.  Numbers must ascend (cap_last).  Every line, of ARCH or not, is
# also remembered for `needs` terms (arch/deps.awk): cap_known[NAME] its
# key (0x1000000 + number, decimal), cap_arches[NAME] its ARCHES,
# cap_ours[NAME] 1 if it is ARCH's; cap_arch is ARCH.
function cap_parse(arch,   arches, i, a) {
	if (NF != 5 && NF != 6)
		fatal("capability line wants NAME NUMBER ARCHES KIND ROLE [since=VERSION]")
	cap_since = "NULL"
	if (NF == 6) {
		if ($6 !~ /^since=[1-9][0-9]*\.[0-9]+$/)
			fatal("bad '" $6 "' (want since=MAJOR.MINOR, the Linux version)")
		cap_since = "\"" substr($6, 7) "\""
	}
	if ($1 !~ /^KVM_CAP_[A-Z0-9_]+$/)
		fatal("bad capability name '" $1 "'")
	if ($2 !~ /^[0-9]+$/ || length($2) > 6)
		fatal("bad capability number '" $2 "'")
	cap_n = $2 + 0
	if (cap_n <= cap_last)
		fatal("capability " $1 " is not in ascending number order")
	cap_last = cap_n
	if ($4 != "bool" && $4 != "count" && $4 != "bitmask")
		fatal("capability kind must be bool, count or bitmask")
	cap_kind = $4
	if ($5 != "capacity" && $5 != "setting" && $5 != "mechanism" && \
	    $5 != "guest")
		fatal("capability role must be capacity, setting, mechanism or guest")
	if ($5 == "capacity" && cap_kind == "bool")
		fatal("capability " $1 " is a capacity, so a number: kind count or bitmask")
	cap_role = $5
	split($3, arches, ",")
	a = 0
	for (i in arches) {
		if (arches[i] !~ /^(all|x86|arm64|s390|ppc|riscv|loongarch|mips)$/)
			fatal("unknown architecture '" arches[i] "'")
		if (arches[i] == "all" || arches[i] == arch)
			a = 1
	}
	cap_arch = arch
	cap_known[$1] = 16777216 + cap_n
	cap_arches[$1] = $3
	cap_ours[$1] = a
	return a
}

# The C arrays of the parsed capability as register number NREG: bool ones
# name the capability when 1; counts compare as numbers (min), bitmasks AND.
function cap_c(nreg,   pol, s) {
	pol = cap_kind == "bitmask" ? "CF_POL_AND" : "CF_POL_LOWER"
	if (cap_kind == "bool") {
		s = sprintf("static const struct cf_fvalue r%d_v[] = {\n\t{ 1ULL, %s },\n};\n", \
		    nreg, cstr($1))
		return s sprintf("static const struct cf_field r%d_f[] = {\n\t{ \"%s\", 0, 64, 0, %s, 0ULL, r%d_v, 1, 0, 0ULL, NULL, 0, NULL, 0, 0 },\n};\n\n", \
		    nreg, cap_kind, pol, nreg)
	}
	return sprintf("static const struct cf_field r%d_f[] = {\n\t{ \"%s\", 0, 64, 0, %s, 0ULL, NULL, 0, 0, 0ULL, NULL, 0, NULL, 0, 0 },\n};\n\n", \
	    nreg, cap_kind, pol)
}

# Its entry in the register table: pseudo-register class 2, key
# 0x1000000 + number, every bit a VMM may choose, its role and the Linux
# version that brought it.
function cap_entry(nreg) {
	return sprintf("\t{ %s, 0x%xULL, r%d_f, 1, 2, ~0ULL, 0, CF_ROLE_%s, NULL, %s },\n", \
	    cstr($1), 16777216 + cap_n, nreg, toupper(cap_role), cap_since)
}
