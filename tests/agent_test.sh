# shellcheck shell=sh
# snp-unseal unlock end to end: the real snp-keybroker on loopback TLS,
# reports from snp-sim, LUKS2 images made here with cryptsetup and
# enrolled with snp-unseal enroll; keys checked with --verify-only (this
# kernel may have no device-mapper). Then the fault matrix: every way a
# broker or the network can fail (tests/tools/bad-broker plays the
# misbehaving broker) ends within its bound, with the exit status the
# initrd glue expects and a message naming the cause. The secret is in no
# output, and (snp-unseal-memscan) not in the agent's memory at exit.
set -eu
. "$TOP/tests/lib.sh"

agent=$BUILD/snp-unseal
broker=$BUILD/snp-keybroker
sim=$BUILD/snp-sim
bad=$BUILD/bin/bad-broker
load=$BUILD/bin/broker-load
memscan=$BUILD/bin/snp-unseal-memscan
tls=$TOP/tests/data/tls
tmp=$(mktemp -d)
pids=""
broker_pid=""
loopdev=""

# The agent's bounds in these tests: short, so that the matrix is quick.
deadline_ms=3000
margin_ms=2000
quick_ms=1500	# what a final error may take

cleanup() {
	for pid in $pids $broker_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	[ -z "$loopdev" ] || losetup -d "$loopdev" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v cryptsetup >/dev/null 2>&1; then
	echo "skipped: cryptsetup is absent (deps/install-build-deps installs cryptsetup-bin)"
	t_done
	exit 0
fi

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# serve_sim NAME STATE CONFIG: snp-sim on unix:$tmp/NAME.sock.
serve_sim() {
	printf '%s\n' "$3" >"$tmp/sim-$1.conf"
	"$sim" serve --state "$2" --config "$tmp/sim-$1.conf" --listen "unix:$tmp/$1.sock" \
		2>"$tmp/sim-$1.log" &
	pids="$pids $!"
	t_wait_for "$tmp/sim-$1.log" 'listening on' "$!" ||
		t_fail "simulator $1 starts" "$(cat "$tmp/sim-$1.log")"
}

# start_bad NAME ARGS...: a bad-broker; $bad_port, $bad_pid, its log $tmp/bad-NAME.log.
start_bad() {
	bad_name=$1
	shift
	"$bad" --print-port "$@" >"$tmp/bad-$bad_name.port" 2>"$tmp/bad-$bad_name.log" &
	bad_pid=$!
	pids="$pids $bad_pid"
	t_wait_for "$tmp/bad-$bad_name.port" '[0-9]' "$bad_pid" ||
		t_fail "bad-broker $bad_name starts" "$(cat "$tmp/bad-$bad_name.log")"
	bad_port=$(head -n 1 "$tmp/bad-$bad_name.port")
}

stop_bad() {
	kill "$bad_pid" 2>/dev/null || true
	wait "$bad_pid" 2>/dev/null || true
}

# Connections a bad-broker saw (one log line each, once they ended).
bad_conns() {
	grep -c ': conn ' "$tmp/bad-$1.log" || true
}

# The simulators: the default guest (the broker trusts its ARK); another
# chip under an ARK the broker does not trust; the default guest sending no
# certificate table, at a TCB whose VCEK the broker has not cached.
cp -r "$TOP/tests/data/sim" "$tmp/sim"
cp -r "$TOP/tests/data/sim-turin" "$tmp/sim-turin"
serve_sim good "$tmp/sim" "# the default guest"
serve_sim untrusted "$tmp/sim-turin" "# a chip under an ARK nobody trusts"
serve_sim nocerts "$tmp/sim" "cert_table = no
reported_tcb = bl=4 tee=0 snp=24 ucode=218"

# The broker, with a policy for the simulator's default guest.
conf=$tmp/broker.conf
cat >"$conf" <<EOF
listen = 127.0.0.1:0
tls_cert = $tls/server.pem
tls_key = $tls/server.key
state_dir = $tmp/state
trust_ark = $tmp/sim/ark.pem
handshake_timeout = 2s
EOF
"$load" policy --sim "$tmp/sim" >"$tmp/policy.json"
t_status "broker: policy default" 0 "$broker" policy set default "$tmp/policy.json" --config "$conf"
sed 's/"measurements":\["0*"\]/"measurements":["'"$(printf '01%.0s' $(seq 48))"'"]/' \
	"$tmp/policy.json" >"$tmp/strict.json"
t_status "broker: policy strict (another measurement)" 0 \
	"$broker" policy set strict "$tmp/strict.json" --config "$conf"
if ! t_start_broker; then
	t_fail "broker starts" "$(cat "$tmp/broker.log")"
	t_done
	exit 1
fi

# Two LUKS2 images: img (enrolled and registered) and img2 (for refusals
# about the volume). A known volume key, so that the memory scan can look for it.
printf 'correct horse battery staple' >"$tmp/pass"
head -c 64 /dev/urandom >"$tmp/vk"
vk_hex=$(od -An -v -tx1 "$tmp/vk" | tr -d ' \n')
for image in img img2; do
	truncate -s 20M "$tmp/$image"
	cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --key-size 512 --volume-key-file "$tmp/vk" \
		--key-file "$tmp/pass" "$tmp/$image"
	t_status "enroll $image" 0 "$agent" enroll "$tmp/$image" --broker "$url" --ca "$tls/ca.pem" \
		--key-file "$tmp/pass" --registration "$tmp/$image.reg"
	t_check "$image: the registration file is 0600" test "$(stat -c %a "$tmp/$image.reg")" = 600
	t_status "broker: volume add $image" 0 "$broker" volume add --from "$tmp/$image.reg" \
		--config "$conf"
done
if [ "$t_failed" -ne 0 ]; then
	echo "the setup failed: no case can run"
	t_done
	exit 1
fi
img=$tmp/img
uuid=$(cryptsetup luksUUID "$img")
uuid2=$(cryptsetup luksUUID "$tmp/img2")
t_status "broker: volume remove img2" 0 "$broker" volume remove "$uuid2" --config "$conf"
secret_b64=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$tmp/img.reg")
secret_hex=$(printf '%s' "$secret_b64" | base64 -d | od -An -v -tx1 | tr -d ' \n')
t_check "the registration holds a 32-byte secret" test "${#secret_hex}" -eq 64

# The agent's settings for the cases, from its configuration file.
write_agent_conf() { # FILE [EXTRA-LINE...]
	out=$1
	shift
	cat >"$out" <<EOF
# snp-unseal settings for tests/agent_test.sh
ca = $tls/ca.pem
connect_to = 127.0.0.1
deadline = ${deadline_ms}ms
attempt_timeout = 1s
device_timeout = 3s
backoff = 100ms
backoff_max = 400ms
EOF
	for line; do
		echo "$line" >>"$out"
	done
}
write_agent_conf "$tmp/agent.conf" "provider = sim" "sim = unix:$tmp/good.sock"
write_agent_conf "$tmp/auto.conf"

mkdir "$tmp/cwd"
cases=""
# unlock NAME [ARGS...]: snp-unseal unlock --verify-only with $tmp/agent.conf
# (unless ARGS give --config), no kernel command line (unless ARGS give
# one), from the empty directory $tmp/cwd. Leaves the exit status in $st,
# the wall time in $ms, stderr in $err and $tmp/NAME.err, the kmsg lines in
# $tmp/NAME.kmsg.
unlock() {
	u_name=$1
	shift
	set -- "$@" --kmsg "$tmp/$u_name.kmsg" --verify-only
	case " $* " in *" --config "*) ;; *) set -- "$@" --config "$tmp/agent.conf" ;; esac
	case " $* " in *" --crypttab "*) ;; *) set -- "$@" --crypttab none ;; esac
	case " $* " in *" --cmdline "*) ;; *) set -- "$@" --cmdline none ;; esac
	start=$(now_ms)
	st=0
	(cd "$tmp/cwd" && exec "$agent" unlock "$@") >"$tmp/$u_name.out" 2>"$tmp/$u_name.err" || st=$?
	ms=$(($(now_ms) - start))
	err=$(cat "$tmp/$u_name.err")
	cases="$cases
  $u_name: exit $st after $ms ms"
}

# expect NAME STATUS MIN_MS MAX_MS: the last unlock's status and wall time.
expect() {
	if [ "$st" = "$2" ]; then
		t_ok "$1: exit $2"
	else
		t_fail "$1: exit $2" "exit $st after $ms ms" "$err"
	fi
	if [ "$ms" -ge "$3" ] && [ "$ms" -le "$4" ]; then
		t_ok "$1: ended after $ms ms (bound $3-$4 ms)"
	else
		t_fail "$1: ended within $3-$4 ms" "it took $ms ms" "$err"
	fi
}

# says NAME ERE: the last unlock's stderr matches ERE (case aside).
says() {
	if grep -qiE "$2" "$tmp/$1.err"; then
		t_ok "$1: stderr says /$2/"
	else
		t_fail "$1: stderr says /$2/" "$err"
	fi
}

# Retried to the deadline, then 7; final errors well before it.
retried_bounds() {
	expect "$1" 7 $((deadline_ms - 500)) $((deadline_ms + margin_ms))
}
final_bounds() { # NAME STATUS
	expect "$1" "$2" 0 "$quick_ms"
}

# --- The happy path, every setting from the configuration file.
unlock happy "$img"
expect happy 0 0 "$deadline_ms"
says happy 'simulat'
t_check "happy: stderr has a line per step (at least 5)" \
	test "$(grep -c '^snp-unseal: ' "$tmp/happy.err")" -ge 5
t_check "happy: every stderr line is the agent's" \
	sh -c "! grep -v '^snp-unseal: ' '$tmp/happy.err'"
t_check "happy: kmsg has as many lines as stderr" \
	test "$(wc -l <"$tmp/happy.kmsg")" -eq "$(wc -l <"$tmp/happy.err")"
t_check "happy: every kmsg line is <PRI>snp-unseal[PID]: with facility daemon" \
	sh -c "! grep -vE '^<(2[4-9]|3[01])>snp-unseal\[[0-9]+\]: ' '$tmp/happy.kmsg'"
t_check "happy: the simulator warning is a warning in kmsg (<28>)" \
	grep -qiE '^<28>snp-unseal\[[0-9]+\]: .*simulat' "$tmp/happy.kmsg"
t_check "happy: stderr names the volume" grep -q "$uuid" "$tmp/happy.err"
t_check "happy: nothing on stdout" test ! -s "$tmp/happy.out"

# --- crypttab names the mapping (the initrd's own unlockers look for that name).
printf '# name source keyfile options\nother UUID=0f0e0d0c-0b0a-4908-8706-050403020100 none luks\nroot_crypt\tUUID="%s" none luks,discard\n' \
	"$uuid" >"$tmp/crypttab"
unlock crypttab "$img" --crypttab "$tmp/crypttab"
expect crypttab 0 0 "$deadline_ms"
says crypttab 'names it root_crypt'
printf 'a UUID=%s\nb /dev/disk/by-uuid/%s\n' "$uuid" "$uuid" >"$tmp/crypttab-twice"
unlock crypttab-ambiguous "$img" --crypttab "$tmp/crypttab-twice"
final_bounds crypttab-ambiguous 2
says crypttab-ambiguous 'ambiguous'
unlock crypttab-missing "$img" --crypttab "$tmp/no-crypttab"
final_bounds crypttab-missing 2
says crypttab-missing 'no-crypttab'
# A wrong crypttab is a failure like any other: on_failure = poweroff still fails closed.
unlock crypttab-poweroff "$img" --crypttab "$tmp/crypttab-twice" --on-failure poweroff \
	--no-poweroff
final_bounds crypttab-poweroff 2
says crypttab-poweroff 'ambiguous'
says crypttab-poweroff 'would power off'

# --- A typo in the settings fails the run, but a fail-closed on_failure still holds.
write_agent_conf "$tmp/typo.conf" "provider = sim" "sim = unix:$tmp/good.sock" \
	"on_failure = poweroff" "vmpl = banana"
unlock typo-poweroff "$img" --config "$tmp/typo.conf" --no-poweroff
final_bounds typo-poweroff 2
says typo-poweroff 'banana'
says typo-poweroff 'would power off'

# --- Activation needs device-mapper: without it, no broker is even asked.
if ! grep -qw device-mapper /proc/misc 2>/dev/null; then
	start=$(now_ms)
	st=0
	(cd "$tmp/cwd" && exec "$agent" unlock "$img" --config "$tmp/agent.conf" --cmdline none \
		--crypttab none --kmsg none) >"$tmp/no-dm.out" 2>"$tmp/no-dm.err" || st=$?
	ms=$(($(now_ms) - start))
	err=$(cat "$tmp/no-dm.err")
	cases="$cases
  no-device-mapper: exit $st after $ms ms"
	expect no-device-mapper 9 0 "$quick_ms"
	says no-dm 'device-mapper'
	t_check "no-device-mapper: no broker was asked" sh -c "! grep -q asking '$tmp/no-dm.err'"
else
	echo "skip the no-device-mapper case: this kernel has device-mapper"
fi

# --- --print-key (a crypttab keyscript): the verified secret on standard output only.
st=0
(cd "$tmp/cwd" && exec "$agent" unlock "$img" --print-key --config "$tmp/agent.conf" \
	--cmdline none --crypttab none --kmsg "$tmp/print-key.kmsg") >"$tmp/print-key.key" \
	2>"$tmp/print-key.err" || st=$?
t_check "print-key: exit 0 (got $st)" test "$st" -eq 0
t_check "print-key: standard output is the secret, nothing else" \
	test "$(od -An -v -tx1 "$tmp/print-key.key" | tr -d ' \n')" = "$secret_hex"
t_status "print-key: cryptsetup opens the token's keyslot with it" 0 \
	cryptsetup open --test-passphrase --key-slot 1 --key-file "$tmp/print-key.key" "$img"
rm -f "$tmp/print-key.key"
if command -v script >/dev/null 2>&1; then
	st=0
	script -qec "'$agent' unlock '$img' --print-key --config '$tmp/agent.conf' --cmdline none --kmsg none" \
		/dev/null >"$tmp/print-tty.log" 2>&1 || st=$?
	t_check "print-key: refused on a terminal (exit 2, got $st)" test "$st" -eq 2
	t_check "print-key: the refusal says why" grep -q 'must not be a terminal' "$tmp/print-tty.log"
	t_check "print-key: nothing printed on the terminal is the secret" \
		sh -c "! od -An -v -tx1 '$tmp/print-tty.log' | tr -d ' \\n' | grep -q '$secret_hex'"
fi

# --- Configuration sources and their precedence (cmdline > token > file).
# A proxy to the real broker shows which broker URL the agent took.
start_bad route --mode proxy --upstream "127.0.0.1:$port"
route_url=https://broker.test:$bad_port
write_agent_conf "$tmp/file-broker.conf" "provider = sim" "sim = unix:$tmp/good.sock" \
	"broker = $route_url"
unlock token-beats-file "$img" --config "$tmp/file-broker.conf"
expect token-beats-file 0 0 "$deadline_ms"
t_check "token-beats-file: the file's broker was not used" test "$(bad_conns route)" -eq 0
printf 'BOOT_IMAGE=/vmlinuz ro quiet rd.snp_unseal.broker=%s rd.luks=0\n' "$route_url" \
	>"$tmp/cmdline"
unlock cmdline-beats-token "$img" --cmdline "$tmp/cmdline"
expect cmdline-beats-token 0 0 "$deadline_ms"
sleep 0.2
t_check "cmdline-beats-token: the command line's broker was used" \
	test "$(bad_conns route)" -eq 1
unlock option-beats-cmdline "$img" --cmdline "$tmp/cmdline" --broker "$url"
expect option-beats-cmdline 0 0 "$deadline_ms"
sleep 0.2
t_check "option-beats-cmdline: the command line's broker was not used" \
	test "$(bad_conns route)" -eq 1
# Everything but the CA from the kernel command line.
printf 'ro rd.snp_unseal.provider=sim rd.snp_unseal.sim=unix:%s rd.snp_unseal.connect_to=127.0.0.1 rd.snp_unseal.deadline=3s rd.snp_unseal.attempt_timeout=1s\n' \
	"$tmp/good.sock" >"$tmp/cmdline-all"
write_agent_conf "$tmp/ca-only.conf"
unlock cmdline-settings "$img" --config "$tmp/ca-only.conf" --cmdline "$tmp/cmdline-all"
expect cmdline-settings 0 0 "$deadline_ms"
printf 'ro quiet rd.snp_unseal=0\n' >"$tmp/cmdline-off"
unlock disabled "$img" --cmdline "$tmp/cmdline-off"
final_bounds disabled 10
says disabled 'disabled|rd\.snp_unseal=0'

# --- Discovery: no DEVICE, the volume found by libblkid on a loop device.
if loopdev=$(losetup -f --show "$img" 2>"$tmp/losetup.err"); then
	unlock discovery --uuid "$uuid"
	expect discovery 0 0 $((deadline_ms + 3000))
	t_check "discovery: the log names the loop device" grep -q "$loopdev" "$tmp/discovery.err"
	losetup -d "$loopdev" || true
	loopdev=""
else
	loopdev=""
	echo "skip discovery on a loop device: losetup: $(cat "$tmp/losetup.err")"
fi
unlock missing-device "$img" "$tmp/nothing.img" --device-timeout 1s
expect missing-device 5 1000 $((1000 + deadline_ms))
says missing-device '1 of the 2 devices named did not appear'
says missing-device 'secret verified'
unlock no-volume --uuid 0f0e0d0c-0b0a-4908-8706-050403020100 --device-timeout 1s
expect no-volume 5 1000 $((1000 + margin_ms))
says no-volume '0f0e0d0c-0b0a-4908-8706-050403020100|no volume'

# --- Several brokers, retries.
start_bad gone --mode stall
dead_port=$bad_port
stop_bad
unlock dead-then-real "$img" --broker "https://broker.test:$dead_port,$url"
expect dead-then-real 0 0 "$deadline_ms"
says dead-then-real "$dead_port"
start_bad flaky --mode proxy --upstream "127.0.0.1:$port" --fail 2
unlock flaky-proxy "$img" --broker "https://broker.test:$bad_port" --log-level debug
expect flaky-proxy 0 0 "$deadline_ms"
sleep 0.2
t_check "flaky-proxy: three connections, two of them reset" \
	test "$(bad_conns flaky)" -eq 3 -a "$(grep -c 'reset at once' "$tmp/bad-flaky.log")" -eq 2
t_check "flaky-proxy: the log shows backoff waits" \
	test "$(grep -ciE 'backoff|retry|waiting' "$tmp/flaky-proxy.err")" -ge 2
stop_bad

# --- The fault matrix: transport failures are retried until the deadline.
unlock service-down "$img" --broker "https://broker.test:$dead_port"
retried_bounds service-down
says service-down 'refused'
t_check "service-down: several attempts" \
	test "$(grep -ciE 'refused' "$tmp/service-down.err")" -ge 2

# matrix NAME WANT-ERE BAD-BROKER-ARGS...: a bad-broker as the only broker.
matrix() {
	m_name=$1 m_says=$2
	shift 2
	start_bad "$m_name" "$@"
	unlock "$m_name" "$img" --broker "https://broker.test:$bad_port"
	stop_bad
	retried_bounds "$m_name"
	says "$m_name" "$m_says"
}
matrix blackhole 'handshake.*(time|bound)|(time|bound).*handshake' --mode blackhole
matrix stall '(time|bound)' --mode stall
matrix trickle '(time|bound)' --mode trickle --interval 300ms
matrix reset 'reset' --mode reset
matrix garbage 'HTTP' --mode garbage
matrix huge '16384|limit|too (large|long)' --mode huge
sent=$(sed -n 's/.*sent \([0-9]*\) bytes$/\1/p' "$tmp/bad-huge.log" | sort -n | tail -n 1)
t_check "huge: bad-broker sent at most 8 MiB of the 100 MB (${sent:-?} bytes)" \
	test "${sent:-999999999}" -le 8388608
matrix overloaded 'overloaded' --mode status --status 503 --reason overloaded
t_check "overloaded: retried (several connections)" test "$(bad_conns overloaded)" -ge 2
matrix overloaded-unseal 'overloaded' --mode status --status 503 --reason overloaded --challenge

# Server authentication.
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca2.key" \
		-out "$tmp/ca2.pem" -days 2 -subj "/CN=another CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
		2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/other.key" \
		-out "$tmp/other.csr" -subj "/CN=broker.test" 2>/dev/null
	printf 'subjectAltName=DNS:broker.test\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
		>"$tmp/ext.cnf"
	openssl x509 -req -in "$tmp/other.csr" -CA "$tmp/ca2.pem" -CAkey "$tmp/ca2.key" \
		-CAcreateserial -out "$tmp/other.pem" -days 2 -extfile "$tmp/ext.cnf" 2>/dev/null
	matrix wrong-cert 'certificate|verif|authenticat' --mode status --challenge \
		--cert "$tmp/other.pem" --key "$tmp/other.key"
else
	echo "skip the wrong-certificate case: openssl is absent"
fi
unlock wrong-pin "$img" --pin "sha256:$(printf '00%.0s' $(seq 32))"
retried_bounds wrong-pin
says wrong-pin 'pin'

# --- Refusals from the real broker: 4xx are final (6), 5xx retried (7).
unlock unknown-volume "$tmp/img2"
final_bounds unknown-volume 6
says unknown-volume 'unknown-volume'
t_status "broker: volume set-policy strict" 0 "$broker" volume set-policy "$uuid" strict \
	--config "$conf"
unlock policy-rejected "$img"
final_bounds policy-rejected 6
says policy-rejected 'policy-rejected'
says policy-rejected 'measurement'
t_status "broker: volume set-policy default" 0 "$broker" volume set-policy "$uuid" default \
	--config "$conf"
unlock evidence-rejected "$img" --sim "unix:$tmp/untrusted.sock"
final_bounds evidence-rejected 6
says evidence-rejected 'evidence-rejected'
unlock vek-unavailable "$img" --sim "unix:$tmp/nocerts.sock"
retried_bounds vek-unavailable
says vek-unavailable 'vek-unavailable'
start_bad refuse400 --mode status --status 400 --reason bad-request --challenge
unlock bad-request "$img" --broker "https://broker.test:$bad_port"
stop_bad
final_bounds bad-request 6
says bad-request 'bad-request'
t_check "bad-request: a 4xx is not retried (one connection)" test "$(bad_conns refuse400)" -eq 1

# --- Report provider failures: final at once.
unlock sim-dead "$img" --sim "unix:$tmp/nothing.sock"
final_bounds sim-dead 4
says sim-dead 'nothing\.sock|simulator'
unlock provider-auto "$img" --config "$tmp/auto.conf" --provider auto
final_bounds provider-auto 3
says provider-auto 'configfs|sev-guest'

# --- on_failure = poweroff, only as PID 1 of a PID namespace of its own.
if [ "$(unshare --pid --fork --mount-proc sh -c 'echo $$' 2>/dev/null)" = 1 ]; then
	start=$(now_ms)
	st=0
	unshare --pid --fork --mount-proc "$agent" unlock "$tmp/img2" --config "$tmp/agent.conf" \
		--cmdline none --kmsg "$tmp/poweroff.kmsg" --verify-only --on-failure poweroff \
		>"$tmp/poweroff.out" 2>"$tmp/poweroff.err" || st=$?
	ms=$(($(now_ms) - start))
	err=$(cat "$tmp/poweroff.err")
	cases="$cases
  poweroff: exit $st after $ms ms"
	expect poweroff 130 0 "$quick_ms"
	says poweroff 'powering off'
	says poweroff 'unknown-volume'
else
	echo "skip the poweroff case: no PID namespace here (unshare --pid --fork --mount-proc)"
fi

# Without CAP_SYS_BOOT neither power-off nor halt works: status 11, never a
# plain failure. In a PID namespace of its own too, so that a capability
# that was not dropped after all ends only the namespace, not this machine.
if [ "$(unshare --pid --fork --mount-proc sh -c 'echo $$' 2>/dev/null)" = 1 ] &&
	setpriv --bounding-set=-sys_boot true 2>/dev/null; then
	start=$(now_ms)
	st=0
	unshare --pid --fork --mount-proc setpriv --bounding-set=-sys_boot "$agent" unlock "$tmp/img2" --config "$tmp/agent.conf" \
		--cmdline none --crypttab none --kmsg "$tmp/nocap.kmsg" --verify-only \
		--on-failure poweroff >"$tmp/nocap.out" 2>"$tmp/nocap.err" || st=$?
	ms=$(($(now_ms) - start))
	err=$(cat "$tmp/nocap.err")
	cases="$cases
  poweroff-without-cap: exit $st after $ms ms"
	expect poweroff-without-cap 11 0 "$quick_ms"
	says nocap 'cannot power off'
	says nocap 'cannot halt either'
else
	echo "skip the power-off-fails case: no PID namespace, or setpriv cannot drop CAP_SYS_BOOT"
fi

# --- No secret in anything the agent wrote.
leaks=""
for f in "$tmp"/*.err "$tmp"/*.out "$tmp"/*.kmsg; do
	raw=$(od -An -v -tx1 "$f" | tr -d ' \n')
	for needle in "$secret_b64" "$secret_hex" "$vk_hex"; do
		if grep -qiF "$needle" "$f"; then
			leaks="$leaks $f"
		fi
	done
	case $raw in *"$secret_hex"* | *"$vk_hex"*) leaks="$leaks $f(raw)" ;; esac
done
t_check "no secret or volume key in any output or kmsg file" test -z "$leaks"
[ -z "$leaks" ] || echo "    leaked into:$leaks"
t_check "the agent wrote no file in its working directory" \
	test -z "$(ls -A "$tmp/cwd")"

# --- The secret and the volume key are not in the agent's memory at exit.
if [ -x "$memscan" ]; then
	st=0
	(cd "$tmp/cwd" && SNP_UNSEAL_MEMSCAN_NEEDLES="$secret_hex,$vk_hex" exec "$memscan" unlock \
		"$img" --config "$tmp/agent.conf" --cmdline none --kmsg none --verify-only) \
		>"$tmp/memscan.out" 2>"$tmp/memscan.err" || st=$?
	t_check "memscan: exit 0 (got $st)" test "$st" -eq 0
	t_contains "memscan: clean" "$(cat "$tmp/memscan.err")" "memscan: clean"
	grep 'memscan: FOUND' "$tmp/memscan.err" || true
else
	t_fail "memscan: $memscan is built (make memscan)"
fi

echo "cases (exit status, wall time):$cases"
t_done
