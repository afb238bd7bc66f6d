# shellcheck shell=sh
# snp-unseal report: its command line, its exit statuses on a machine with
# no SEV-SNP (like this one), its output files, and a real report from the
# firmware simulator (snp-sim) when that is built.
set -eu
. "$TOP/tests/lib.sh"

agent=$BUILD/snp-unseal
tmp=$(mktemp -d)
sim_pid=
cleanup() {
	[ -z "$sim_pid" ] || kill "$sim_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

hex64=$(printf '%s' 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff)
hex64=$hex64$hex64

out=$("$agent" report --help)
t_contains "report --help shows its usage" "$out" "Usage: snp-unseal report"
help=$("$agent" --help)
for cmd in unlock enroll unenroll report; do
	t_contains "the main help names the command $cmd" "$help" "
  $cmd "
done

# The command line: each mistake exits 2 and names what was wrong.
t_status "odd hex digits exit 2" 2 "$agent" report --data abc
t_contains "odd hex digits are named" "$t_out" "--data 'abc' has an odd number of hex digits"
t_status "non-hex data exits 2" 2 "$agent" report --data 00zz
t_contains "non-hex data is named" "$t_out" "--data '00zz' is not hex"
t_status "65 bytes of data exit 2" 2 "$agent" report --data "${hex64}00"
t_contains "too much data is named" "$t_out" "is longer than 64 bytes"
t_status "unknown provider exits 2" 2 "$agent" report --provider tpm
t_contains "unknown provider is named" "$t_out" "unknown provider 'tpm'"
t_status "sim provider without an address exits 2" 2 "$agent" report --provider sim
t_contains "sim without --sim says so" "$t_out" "--provider sim needs --sim ADDR"
t_status "--sim with another provider exits 2" 2 "$agent" report --provider ioctl --sim unix:/x
t_contains "--sim with ioctl says so" "$t_out" "--sim goes only with --provider sim, not 'ioctl'"
t_status "VMPL 4 exits 2" 2 "$agent" report --vmpl 4
t_contains "VMPL 4 is named" "$t_out" "--vmpl '4'"
t_status "timeout 0 exits 2" 2 "$agent" report --timeout 0
t_status "unknown option exits 2" 2 "$agent" report --frobnicate
t_contains "unknown option is named" "$t_out" "'--frobnicate'"
t_status "option without its value exits 2" 2 "$agent" report --out
t_contains "missing value is named" "$t_out" "--out needs a value"

# No SEV-SNP here: the ioctl provider says what is missing, and exits 3.
if [ ! -e /dev/sev-guest ]; then
	t_status "ioctl provider without the device exits 3" 3 \
		"$agent" report --provider ioctl --data "$hex64"
	t_contains "ioctl provider names the device and the module" "$t_out" \
		"no /dev/sev-guest (is the sev-guest module loaded?)"
	t_status "a failed request leaves no output file" 3 \
		"$agent" report --provider ioctl --out "$tmp/never.bin"
	t_check "the output file was removed" test ! -e "$tmp/never.bin"
else
	echo "skip the ioctl checks: this machine has /dev/sev-guest"
fi
# Auto would mount configfs where /sys/kernel/config exists: only where it does not.
if [ ! -e /dev/sev-guest ] && [ ! -e /sys/kernel/config ]; then
	t_status "auto without any provider exits 3" 3 "$agent" report
	t_contains "auto gives both reasons" "$t_out" \
		"no SEV-SNP report provider here: no configfs-tsm:"
else
	echo "skip the auto check: this machine has configfs or /dev/sev-guest"
fi

# Output files are never overwritten, and are checked before any request.
echo keep >"$tmp/taken.bin"
t_status "an existing --out file exits 1" 1 "$agent" report --provider ioctl --out "$tmp/taken.bin"
t_contains "the existing file is named" "$t_out" "$tmp/taken.bin exists; not overwriting it"
t_contains "the existing file is left alone" "$(cat "$tmp/taken.bin")" "keep"
case $t_out in
*sev-guest*) t_fail "no request before refusing the file" "$t_out" ;;
*) t_ok "no request before refusing the file" ;;
esac
t_status "an unwritable --certs file exits 1" 1 "$agent" report --certs "$tmp/no/such/dir"

# A report from the simulator, when snp-sim is built, on the committed test state.
sim=$BUILD/snp-sim
if "$sim" --help >/dev/null 2>&1; then
	sock=$tmp/sim.sock
	"$sim" serve --state "$TOP/tests/data/sim" --listen "unix:$sock" \
		--max-clients 8 >"$tmp/sim.log" 2>&1 &
	sim_pid=$!
	i=0
	while [ ! -S "$sock" ] && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	t_status "a report from the simulator" 0 "$agent" report --provider sim \
		--sim "unix:$sock" --data "$hex64" --out "$tmp/sim.bin" --certs "$tmp/certs.bin" --show
	t_contains "it carries the data" "$t_out" "report_data: $hex64"
	t_contains "it says it is simulated" "$t_out" "SIMULATED"
	t_check "the raw report is 1184 bytes" test "$(wc -c <"$tmp/sim.bin")" -eq 1184
	t_check "the certificate table was saved" test -s "$tmp/certs.bin"
	t_contains "the listing gives the table's size" "$t_out" \
		"certificate table: $(wc -c <"$tmp/certs.bin") bytes"
	# The bytes came through untouched: the signature and chain verify
	# against the simulator's root, and not against AMD's.
	t_status "the report verifies against the simulator's ARK" 0 "$BUILD/snp-keybroker" \
		verify "$tmp/sim.bin" --cert-table "$tmp/certs.bin" \
		--trust-ark "$TOP/tests/data/sim/ark.pem"
	t_contains "the signature is checked" "$t_out" "[pass] report-signature"
	t_status "the report does not verify against AMD's roots" 1 "$BUILD/snp-keybroker" \
		verify "$tmp/sim.bin" --cert-table "$tmp/certs.bin"
	t_status "--sim alone picks the simulator" 0 "$agent" report --sim "unix:$sock" \
		--data 01 --vmpl 2
	t_contains "short data is zero-padded" "$t_out" "report_data: 01$(printf '%0126d' 0)"
	t_contains "the VMPL asked for is reported" "$t_out" "vmpl: 2 "
	t_status "an absent simulator exits 4" 4 "$agent" report --sim "unix:$tmp/none.sock"
else
	echo "skip the simulator checks: $sim does not serve yet"
fi

t_done
