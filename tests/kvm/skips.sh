# What tests/kvm/run.sh and x86.sh share (sourced): a check that does not
# run says `skip - NAME: REASON` and counts in $skipped.
skipped=0
skip() { skipped=$((skipped + 1)); echo "skip - $1: $2"; }
# skip_each "NAME|NAME|..." REASON: every check of the list, for one reason.
skip_each() {
	old_ifs=$IFS
	IFS='|'
	for c in $1; do
		skip "$c" "$2"
	done
	IFS=$old_ifs
}
