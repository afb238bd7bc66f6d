# shellcheck shell=sh
# The unseal protocol end to end, with real processes over loopback TLS:
# snp-sim serves reports (as a guest's firmware would), snp-keybroker
# serve decides, snp-keybroker probe runs the agent's side. A grant opens
# to the registration file's secret; refusals arrive with their reason and
# rule; the engine answers bad HTTP itself; a stalled handshake is dropped
# in time and a trickling client blocks nobody; SIGHUP reloads, SIGTERM
# stops with status 0; the audit log has one line per decision and no
# secret.
set -eu
. "$TOP/tests/lib.sh"

broker=$BUILD/snp-keybroker
sim=$BUILD/snp-sim
poke=$BUILD/bin/broker-poke
load=$BUILD/bin/broker-load
tls=$TOP/tests/data/tls
tmp=$(mktemp -d)
pids=""
broker_pid=""

cleanup() {
	for pid in $pids $broker_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

cp -r "$TOP/tests/data/sim" "$tmp/sim"
t_start_sim good "# the default guest"
t_start_sim debug "policy = 0xb0000"
t_start_sim vmpl1 "guest_vmpl = 1"
t_start_sim measured "measurement = $(printf '01%.0s' $(seq 48))"

# The broker's configuration: short limits, so that the tests of them are quick.
conf=$tmp/broker.conf
write_conf() {
	cat >"$conf" <<EOF
listen = 127.0.0.1:0
tls_cert = $tls/server.pem
tls_key = $tls/server.key
state_dir = $tmp/state
trust_ark = $tmp/sim/ark.pem
handshake_timeout = 1s
header_timeout = 2s
body_timeout = 2s
idle_timeout = 5s
shutdown_grace = 2s
max_body = $1
EOF
}
write_conf 65536

# A policy for the simulator's default guest, a volume under it.
volume=0b5c1e7a-3f0d-4c2e-9a55-6d1f2e3c4b5a
"$load" policy --sim "$tmp/sim" >"$tmp/policy.json"
t_status "policy set" 0 "$broker" policy set default "$tmp/policy.json" --config "$conf"
secret=$(head -c 32 /dev/urandom | base64)
umask 077
printf '{"version":1,"volume":"%s","secret":"%s"}\n' "$volume" "$secret" >"$tmp/reg.json"
umask 022
t_status "volume add" 0 "$broker" volume add --from "$tmp/reg.json" --config "$conf"

if t_start_broker; then
	t_ok "broker started"
else
	t_fail "broker started" "$(cat "$tmp/broker.log")"
	t_done
	exit 1
fi
log=$(cat "$tmp/broker.log")
t_contains "startup says TEST ONLY for the extra ARK" "$log" "TEST ONLY"
t_contains "startup names the bound port" "$log" "addresses=127.0.0.1:$port"
pin=$(sed -n 's/.* pin=\(sha256:[0-9a-f]*\).*/\1/p' "$tmp/broker.log")
t_contains "startup gives the pin" "$pin" "sha256:"

decisions=0
# probe SIM [ARGS...]: snp-keybroker probe against the broker with reports from SIM.
probe() {
	name=$1
	shift
	"$broker" probe "$url" --ca "$tls/ca.pem" --connect-to 127.0.0.1 \
		--sim "unix:$tmp/$name.sock" --timeout 10s "$@"
}

t_status "probe unseals" 0 probe good --volume "$volume" --check-secret "$tmp/reg.json"
decisions=$((decisions + 1))
t_contains "probe says the secret is the registered one" "$t_out" "secret:    equals"
t_contains "probe says the report is simulated" "$t_out" "SIMULATED"
case $t_out in
*"$secret"*) t_fail "probe never prints the secret" ;;
*) t_ok "probe never prints the secret" ;;
esac
t_status "probe with the pin alone" 0 "$broker" probe "$url" --pin "$pin" \
	--connect-to 127.0.0.1 --sim "unix:$tmp/good.sock" --volume "$volume"
decisions=$((decisions + 1))
t_status "a wrong pin is a transport failure" 3 "$broker" probe "$url" \
	--pin "sha256:$(printf '00%.0s' $(seq 32))" --connect-to 127.0.0.1 \
	--sim "unix:$tmp/good.sock" --volume "$volume"

# Refusals, end to end, with their reasons and rules.
t_status "DEBUG guest refused" 1 probe debug --volume "$volume"
decisions=$((decisions + 1))
t_contains "DEBUG: the rule" "$t_out" "403 policy-rejected rule policy-debug"
t_status "VMPL 1 refused" 1 probe vmpl1 --volume "$volume" --vmpl 1
decisions=$((decisions + 1))
t_contains "VMPL 1: the rule" "$t_out" "403 policy-rejected rule vmpl"
t_status "unlisted measurement refused" 1 probe measured --volume "$volume"
decisions=$((decisions + 1))
t_contains "measurement: the rule" "$t_out" "403 policy-rejected rule measurement"
t_status "unknown volume refused" 1 probe good --volume 7d6c5b4a-3928-4716-8e5d-4c3b2a190807
decisions=$((decisions + 1))
t_contains "unknown volume: the reason" "$t_out" "404 unknown-volume"

# Raw HTTP: what the engine and the routes answer by themselves.
# raw NAME WANT METHOD PATH TYPE LENGTH BODY: one request, its status and reason checked.
raw() {
	printf '%s %s HTTP/1.1\r\nHost: broker.test\r\nContent-Type: %s\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' \
		"$3" "$4" "$5" "$6" "$7" >"$tmp/req"
	out=$("$poke" raw --url "$url" --ca "$tls/ca.pem" --connect-to 127.0.0.1 "$tmp/req" 2>&1) ||
		true
	t_contains "$1" "$out" "$2"
}
raw "oversized body: 413" 'status 413' POST /v1/unseal application/json 70000 ""
t_contains "oversized body: reason" "$out" '"error":"body-too-large"'
raw "malformed JSON: 400" 'status 400' POST /v1/unseal application/json 1 "{"
decisions=$((decisions + 1))
t_contains "malformed JSON: reason" "$out" '"error":"bad-request"'
raw "unknown path: 404" '"error":"not-found"' POST /v1/other application/json 2 "{}"
raw "GET: 405" '"error":"method-not-allowed"' GET /v1/challenge application/json 0 ""
raw "not JSON: 415" '"error":"unsupported-media-type"' POST /v1/challenge text/plain 2 "{}"
raw "a challenge over raw HTTP" '"expires_in":60' POST /v1/challenge application/json 2 "{}"

# A client that never finishes its handshake is dropped after handshake_timeout (1 s).
out=$("$poke" stall --connect "127.0.0.1:$port" 2>&1) || true
ms=$(echo "$out" | sed -n 's/^closed after \([0-9]*\) ms$/\1/p')
if [ -n "$ms" ] && [ "$ms" -ge 900 ] && [ "$ms" -le 3000 ]; then
	t_ok "stalled handshake dropped after ${ms} ms"
else
	t_fail "stalled handshake dropped within handshake_timeout" "$out"
fi

# A client trickling its head one byte every 300 ms blocks nobody, and gets a
# 408 after header_timeout (2 s).
"$poke" trickle --url "$url" --ca "$tls/ca.pem" --connect-to 127.0.0.1 --interval-ms 300 \
	>"$tmp/trickle.out" 2>&1 &
trickle=$!
sleep 0.5
t_status "probe while a client trickles" 0 probe good --volume "$volume"
decisions=$((decisions + 1))
if kill -0 "$trickle" 2>/dev/null; then
	t_ok "the trickling client was still connected meanwhile"
else
	t_fail "the trickling client was still connected meanwhile" "$(cat "$tmp/trickle.out")"
fi
wait "$trickle" || true
t_contains "the trickling client got a 408" "$(cat "$tmp/trickle.out")" "status 408"

# SIGHUP: a max_body below an unseal's size takes effect, then the old one again.
write_conf 1024
kill -HUP "$broker_pid"
if t_wait_for "$tmp/broker.log" 'msg="reloaded"' "$broker_pid"; then
	t_ok "SIGHUP reloads"
else
	t_fail "SIGHUP reloads" "$(tail -5 "$tmp/broker.log")"
fi
t_status "after the reload an unseal is too large" 1 probe good --volume "$volume"
t_contains "after the reload: 413" "$t_out" "413 body-too-large"
write_conf 65536
kill -HUP "$broker_pid"
i=0
while [ "$(grep -c 'msg="reloaded"' "$tmp/broker.log")" -lt 2 ] && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_status "reloaded back: unseals again" 0 probe good --volume "$volume" \
	--check-secret "$tmp/reg.json"
decisions=$((decisions + 1))

# SIGTERM: a graceful stop, status 0.
kill "$broker_pid"
status=0
wait "$broker_pid" || status=$?
broker_pid=""
t_check "SIGTERM: exit status 0 (got $status)" test "$status" -eq 0
t_contains "SIGTERM: the log says stopped" "$(tail -3 "$tmp/broker.log")" 'msg="stopped"'

audit=$tmp/state/audit.log
t_check "audit: one line per decision ($decisions)" test "$(wc -l <"$audit")" -eq "$decisions"
t_check "audit: $((decisions - 5)) grants" \
	test "$(grep -c '"verdict":"granted"' "$audit")" -eq "$((decisions - 5))"
t_check "audit: the DEBUG refusal" grep -q '"rule":"policy-debug"' "$audit"
t_check "audit: the bad request" grep -q '"reason":"bad-request"' "$audit"
t_check "audit: mode 0600" test "$(stat -c %a "$audit")" = 600
t_check "audit: no secret" sh -c "! grep -qF '$secret' '$audit' '$tmp/broker.log'"

t_done
