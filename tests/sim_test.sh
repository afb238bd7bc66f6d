# shellcheck shell=sh
# snp-sim, the software SEV-SNP firmware: a real init (RSA-4096 keys), its
# files and modes, strict configuration, serving on a Unix socket and on
# TCP, the client side (snp-sim request), one log line per request, the
# VCEK re-issued for a new TCB, and reports that snp-keybroker verifies
# under the simulator's ARK but not under AMD's.
set -eu
. "$TOP/tests/lib.sh"

sim=$BUILD/snp-sim
broker=$BUILD/snp-keybroker
tmp=$(mktemp -d)
server=""

cleanup() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# start_server NAME LISTEN [ARGS...]: serve in the background, log in
# $tmp/NAME.log, and wait (at most 30 s) for the "listening on" line.
start_server() {
	name=$1 listen=$2
	shift 2
	"$sim" serve --state "$st" --listen "$listen" "$@" 2>"$tmp/$name.log" &
	server=$!
	i=0
	while ! grep -q 'listening on' "$tmp/$name.log" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 300 ] || ! kill -0 "$server" 2>/dev/null; then
			t_fail "$name: server started" "$(cat "$tmp/$name.log")"
			return 1
		fi
		sleep 0.1
	done
	t_ok "$name: server started"
}

# stop_server NAME: SIGTERM, and the server must exit 0 (not in a subshell:
# only this shell can wait for it).
stop_server() {
	kill "$server"
	status=0
	wait "$server" || status=$?
	server=""
	if [ "$status" -eq 0 ]; then
		t_ok "$1"
	else
		t_fail "$1" "exit status $status"
	fi
}

# byte_at FILE OFFSET COUNT: the bytes in hex, no spaces.
bytes_at() {
	od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'
}

size_of() {
	wc -c <"$1" | tr -d ' '
}

st=$tmp/state

# One real init: two RSA-4096 key generations.
t_status "init makes a state" 0 "$sim" init --state "$st" --not-before 2025-01-01
t_contains "init says what to trust" "$t_out" "trust $st/ark.pem"
t_contains "init says how long it took" "$t_out" " s); "
t_check "state dir is 0700" test "$(stat -c %a "$st")" = 700
for f in ark.key ask.key chip.key; do
	t_check "$f is 0600" test "$(stat -c %a "$st/$f")" = 600
done
for f in ark.pem ask.pem vcek.pem; do
	t_check "$f is 0644" test "$(stat -c %a "$st/$f")" = 644
done
t_check "no ASVK without --vlek" test ! -e "$st/asvk.key"
if command -v openssl >/dev/null 2>&1; then
	t_check "openssl verifies the chain" \
		openssl verify -CAfile "$st/ark.pem" -untrusted "$st/ask.pem" "$st/vcek.pem"
	out=$(openssl x509 -in "$st/ark.pem" -noout -subject)
	t_contains "ARK subject is AMD's shape" "$out" "OU = Engineering, C = US, L = Santa Clara, ST = CA"
	t_contains "ARK says it is the simulator's" "$out" "snp-unseal simulator (test only, not AMD)"
	t_contains "ARK CN" "$out" "CN = ARK-Milan"
else
	echo "skipped: openssl is absent, so no independent check of the chain (deps/install-build-deps installs it)"
fi
t_status "init refuses an existing state" 1 "$sim" init --state "$st"
t_contains "init names the existing key" "$t_out" "already holds a simulator state"
t_status "init refuses an unknown product" 2 "$sim" init --state "$tmp/x" --product rome
t_contains "init names the product" "$t_out" "'rome'"

# Configuration errors: refused before serving, with file:line and why.
printf 'version = 3\nmeasurement = xyz\n' >"$tmp/bad.conf"
t_status "bad value refused" 1 "$sim" serve --state "$st" --config "$tmp/bad.conf" \
	--listen "unix:$tmp/never.sock"
t_contains "bad value: file, line and reason" "$t_out" \
	"$tmp/bad.conf:2: measurement: expected 96 hex digits (48 bytes), got 3 characters"
printf 'colour = blue\n' >"$tmp/unknown.conf"
t_status "unknown key refused" 1 "$sim" report --state "$st" --config "$tmp/unknown.conf" \
	--out "$tmp/never.bin"
t_contains "unknown key named" "$t_out" "$tmp/unknown.conf:1: unknown key 'colour'"
printf 'current_tcb = fmc=1 bl=2\n' >"$tmp/fmc.conf"
t_status "Turin-only TCB part refused on Milan" 1 "$sim" report --state "$st" \
	--config "$tmp/fmc.conf" --out "$tmp/never.bin"
t_contains "fmc named" "$t_out" "$tmp/fmc.conf:1: current_tcb: fmc= exists only in Turin's TCB"
t_check "nothing written on errors" test ! -e "$tmp/never.bin"

# Serving on a Unix socket.
cat >"$tmp/sim.conf" <<'EOF'
# a guest at VMPL 1
guest_vmpl = 1
measurement = 8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c
policy = 0x30000
EOF
sock=$tmp/sim.sock
start_server unix "unix:$sock" --config "$tmp/sim.conf" --timeout 2000 || t_done
t_check "socket is 0600" test "$(stat -c %a "$sock")" = 600
t_status "request an extended report" 0 "$sim" request --connect "unix:$sock" --vmpl 1 \
	--data 0011223344556677 --ext --out "$tmp/report.bin" --certs "$tmp/certs.bin"
t_check "report is 1184 bytes" test "$(size_of "$tmp/report.bin")" = 1184
t_check "REPORT_DATA from the request" test "$(bytes_at "$tmp/report.bin" 80 9)" = 001122334455667700
t_check "VMPL from the request" test "$(bytes_at "$tmp/report.bin" 48 4)" = 01000000
t_check "MEASUREMENT from the configuration" test "$(bytes_at "$tmp/report.bin" 144 2)" = 8c8c
t_check "certificate table returned" test "$(size_of "$tmp/certs.bin")" -gt 3000
t_status "VMPL below the guest's refused" 1 "$sim" request --connect "unix:$sock" --vmpl 0 \
	--out "$tmp/r0.bin"
t_contains "refusal says INVALID_PARAM" "$t_out" "status 0x16 (INVALID_PARAM"
t_status "a second server on the same socket is refused" 1 "$sim" serve --state "$st" \
	--listen "unix:$sock"
t_contains "refusal names the socket" "$t_out" "another simulator is listening there"
stop_server "server stops on SIGTERM"
t_check "socket removed" test ! -e "$sock"
log=$(cat "$tmp/unix.log")
t_contains "log line for the extended report" "$log" "ext-report vmpl=1 data=0011223344556677.. -> status 0x0"
t_contains "log line for the refusal" "$log" "report vmpl=0 data=0000000000000000.. -> status 0x16"
t_check "one log line per request" test "$(grep -c ' -> status ' "$tmp/unix.log")" = 2
t_check "no key material in the log" sh -c "! grep -q 'PRIVATE\|SECRET' '$tmp/unix.log'"
t_status "request to a stopped simulator fails" 1 "$sim" request --connect "unix:$sock" \
	--out "$tmp/r.bin" --timeout 500

# The broker: trusted under the simulator's ARK, refused under AMD's.
if [ -x "$broker" ]; then
	t_status "broker verifies under the simulator's ARK" 0 "$broker" verify "$tmp/report.bin" \
		--cert-table "$tmp/certs.bin" --trust-ark "$st/ark.pem" --at 2026-01-01T00:00:00Z
	t_status "broker refuses it under AMD's roots" 1 "$broker" verify "$tmp/report.bin" \
		--cert-table "$tmp/certs.bin" --at 2026-01-01T00:00:00Z
	t_contains "the refusal is the ARK pin" "$t_out" "ark-pin"
fi

# A new reported TCB: a new VCEK, like AMD's KDS issues one per TCB.
cp "$st/vcek.pem" "$tmp/vcek-before.pem"
printf 'reported_tcb = bl=3 tee=0 snp=8 ucode=115\n' >"$tmp/tcb.conf"
start_server tcp tcp:127.0.0.1:0 --config "$tmp/tcb.conf" || t_done
t_contains "a new VCEK is issued" "$(cat "$tmp/tcp.log")" "issued a new VCEK (vcek.pem)"
t_status "vcek.pem changed" 1 cmp -s "$tmp/vcek-before.pem" "$st/vcek.pem"
addr=$(sed -n 's/.*listening on \(tcp:[0-9.]*:[0-9]*\)$/\1/p' "$tmp/tcp.log")
t_contains "listening on a real port" "$addr" "tcp:127.0.0.1:"
t_status "request over TCP" 0 "$sim" request --connect "$addr" --data ff --out "$tmp/tcp.bin"
t_check "TCP report carries REPORTED_TCB" test "$(bytes_at "$tmp/tcp.bin" 384 8)" = 0300000000000873
stop_server "server stops"

# Offline reports; the VCEK is kept when the configuration does not change it.
cp "$st/vcek.pem" "$tmp/vcek-tcb.pem"
t_status "offline report" 0 "$sim" report --state "$st" --config "$tmp/tcb.conf" --data abcdef \
	--vmpl 2 --out "$tmp/offline.bin" --certs "$tmp/offline-certs.bin"
t_check "offline REPORT_DATA" test "$(bytes_at "$tmp/offline.bin" 80 4)" = abcdef00
t_check "offline VMPL" test "$(bytes_at "$tmp/offline.bin" 48 1)" = 02
t_check "same TCB, same VCEK (not signed again)" cmp -s "$tmp/vcek-tcb.pem" "$st/vcek.pem"
if [ -x "$broker" ]; then
	t_status "broker verifies the offline report" 0 "$broker" verify "$tmp/offline.bin" \
		--cert-table "$tmp/offline-certs.bin" --trust-ark "$st/ark.pem" \
		--at 2026-01-01T00:00:00Z
fi

# Usage.
t_status "no command" 2 "$sim"
t_status "unknown command" 2 "$sim" frobnicate
t_contains "unknown command named" "$t_out" "'frobnicate'"
t_status "serve needs --listen" 2 "$sim" serve --state "$st"
t_contains "missing option named" "$t_out" "serve needs --listen ADDR"
t_status "an option of another command" 2 "$sim" init --state "$st" --listen unix:/x
t_contains "misplaced option named" "$t_out" "init takes no --listen"
t_status "bad --data" 2 "$sim" request --connect "unix:$sock" --data xyz --out "$tmp/x"
t_status "help" 0 "$sim" --help
t_contains "help shows usage" "$t_out" "Usage: snp-sim init"

t_done
