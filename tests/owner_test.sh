# shellcheck shell=sh disable=SC2086 # $launch_args: words without spaces
# snp-owner, the guest owner's tool, as its users run it: the measurement
# of the issue's known answers through the command line (files mapped,
# options as launch-snp-guest takes them); an ID block and auth info made,
# read back and checked against launches that fit and that do not; key
# digests against an independent computation (python3 from openssl's DER);
# the broker policy written from a launch and stored, then used: the real
# snp-keybroker releases a secret to a simulated guest whose report holds
# what snp-owner computed, and refuses one launched otherwise; and
# launch-snp-guest checking its ID block with snp-owner.
set -eu
. "$TOP/tests/lib.sh"

owner=$BUILD/snp-owner
broker=$BUILD/snp-keybroker
sim=$BUILD/snp-sim
load=$BUILD/bin/broker-load
launch=$TOP/qemu-scripts/launch-snp-guest
tls=$TOP/tests/data/tls
measure=$TOP/../shared/testdata/measure
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

# t_equal NAME GOT WANT
t_equal() {
	if [ "$2" = "$3" ]; then
		t_ok "$1"
	else
		t_fail "$1" "got:  $2" "want: $3"
	fi
}

# json_get FILE EXPR: a Python expression over the JSON object j, printed.
json_get() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

if [ ! -d "$measure" ]; then
	echo "skip: ../shared/testdata/measure is absent: the known answers and test keys"
	t_done
	exit 0
fi
amdsev=$measure/fixtures/ovmf_AmdSev_suffix.bin
ovmfx64=$measure/fixtures/ovmf_OvmfX64_suffix.bin
id_key=$measure/keys/sev_test_id_key.pem
author_key=$measure/keys/sev_test_auth_key.pem

# --- measure: the issue's known answers, through the command line
t_status "measure: AmdSev, 1 vCPU, EPYC" 0 "$owner" measure --bios "$amdsev" --smp 1 --cpu EPYC
t_equal "measure: AmdSev, 1 vCPU, EPYC: the known answer" "$t_out" \
	19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d
t_status "measure: OvmfX64, 4 vCPUs, EPYC-Genoa" 0 \
	"$owner" measure --bios "$ovmfx64" --vcpus 4 --cpu EPYC-Genoa
t_equal "measure: OvmfX64, 4 vCPUs, EPYC-Genoa: the known answer" "$t_out" \
	403aa9a8e082a1763575d6b52d7b8bfbcc0f1b1d996f0b17040e6418bdfb6a855eca502b391ce776dbd5af275c6c8d0b
python3 -c '
import sys
open(sys.argv[1], "wb").write(bytes(i % 251 for i in range(70000)))
open(sys.argv[2], "wb").write(bytes((31 * i + 7) & 0xff for i in range(50000)))
' "$tmp/kernel" "$tmp/initrd"
append="console=ttyS0 root=/dev/vda1 rd.luks=1"
t_status "measure: kernel hashes" 0 "$owner" measure --bios "$amdsev" --smp 1 \
	--cpu EPYC-Milan --kernel "$tmp/kernel" --initrd "$tmp/initrd" --append "$append" --kernel-hashes
t_equal "measure: kernel hashes: the known answer" "$t_out" \
	d1085c5c28f35bd5dece9afe8f31b331c34a7a74080725997df2385b424597b897434b2c6d22bfb937391cc2f536a1e6
# Without --kernel-hashes QEMU leaves the hashes page empty: so does the
# measurement, and the user is told.
t_status "measure: kernel without --kernel-hashes" 0 "$owner" measure --bios "$amdsev" \
	--smp 1 --cpu EPYC-Milan --kernel "$tmp/kernel" --initrd "$tmp/initrd" --append "$append"
t_contains "measure: kernel without --kernel-hashes: says it is not measured" "$t_out" \
	"not measured"
nohash=$("$owner" measure --quiet --bios "$amdsev" --smp 1 --cpu EPYC-Milan --kernel "$tmp/kernel")
plain=$("$owner" measure --bios "$amdsev" --smp 1 --cpu EPYC-Milan)
t_equal "measure: kernel without --kernel-hashes: the firmware-only digest" "$nohash" "$plain"
t_status "ovmf-hash: AmdSev" 0 "$owner" ovmf-hash --bios "$amdsev"
t_equal "ovmf-hash: AmdSev: the known answer" "$t_out" \
	086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74
seeded=$("$owner" measure --bios "$amdsev" --smp 1 --cpu EPYC --ovmf-hash "$t_out")
t_equal "measure: seeded with --ovmf-hash: the same digest" "$seeded" \
	19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d
debian_ovmf=/usr/share/ovmf/OVMF.fd
if [ -f "$debian_ovmf" ] && [ "$(sha256sum <"$debian_ovmf" | cut -c1-64)" = \
	7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773 ]; then
	t_status "measure: Debian 12's OVMF.fd by default, 4 vCPUs, EPYC" 0 \
		"$owner" measure --smp 4 --cpu EPYC
	t_equal "measure: Debian 12's OVMF.fd: the known answer" "$t_out" \
		32ac9d7a17d28f7cd4404a4516d2f00519668c40ada2062351c36767e908eb3f090d66c33ab10f80150e00a4385b6d0f
	t_status "measure: Debian's OVMF has no hashes page: refused" 2 \
		"$owner" measure --kernel "$tmp/kernel" --kernel-hashes
	t_contains "measure: no hashes page: says so" "$t_out" "kernel-hashes"
else
	echo "skip: $debian_ovmf is not ovmf 2022.11-6+deb12u2's"
fi

# --- measure: refusals, each naming what is wrong, nothing on stdout
# refused NAME NEEDLE ARGS...: snp-owner ARGS exits 2, NEEDLE in the message, no digest printed.
refused() {
	rf_name=$1 rf_needle=$2
	shift 2
	t_refused_run "$rf_name" "$rf_needle" "$owner" "$@"
}
head -c 4000 "$amdsev" >"$tmp/short.bin"
refused "refused: firmware not whole pages" "4096" measure --bios "$tmp/short.bin"
refused "refused: missing firmware" "$tmp/none" measure --bios "$tmp/none"
refused "refused: unknown vCPU model" "EPYC-Zen9" measure --bios "$amdsev" --cpu EPYC-Zen9
refused "refused: no vCPUs" "--smp" measure --bios "$amdsev" --smp 0
refused "refused: too many vCPUs" "--smp" measure --bios "$amdsev" --smp 513
refused "refused: --kernel-hashes without a kernel" "--kernel-hashes needs --kernel" \
	measure --bios "$amdsev" --kernel-hashes
refused "refused: --initrd without a kernel" "need --kernel" \
	measure --bios "$amdsev" --initrd "$tmp/initrd"
refused "refused: a short --ovmf-hash" "--ovmf-hash" measure --bios "$amdsev" --ovmf-hash abcd
refused "refused: unknown --vmm" "--vmm" measure --bios "$amdsev" --vmm xen
refused "refused: family without model" "go together" measure --bios "$amdsev" --vcpu-family 25
refused "refused: unknown option" "--help" measure --bogus
refused "refused: unknown command" "unknown command" frobnicate

# --- vCPU given three ways: the same signature, the same digest
by_name=$("$owner" measure --bios "$amdsev" --smp 1 --cpu EPYC-Milan)
by_fms=$("$owner" measure --bios "$amdsev" --smp 1 --vcpu-family 25 --vcpu-model 1 --vcpu-stepping 1)
by_sig=$("$owner" measure --bios "$amdsev" --smp 1 --vcpu-sig 0xa00f11)
t_equal "vCPU by family/model/stepping = by name" "$by_fms" "$by_name"
t_equal "vCPU by signature = by name" "$by_sig" "$by_name"

# --- key-digest, against python3 over openssl's DER of the public key
# amd_digest PEM: SHA-384 of the AMD form (curve 2, QX and QY little-endian, 72 bytes each).
amd_digest() {
	openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | python3 -c '
import hashlib, struct, sys
der = sys.stdin.buffer.read()
x, y = der[-96:-48], der[-48:]
key = struct.pack("<I", 2) + x[::-1].ljust(72, b"\0") + y[::-1].ljust(72, b"\0")
print(hashlib.sha384(key.ljust(0x404, b"\0")).hexdigest())'
}
t_status "key-digest: the ID key" 0 "$owner" key-digest "$id_key"
t_equal "key-digest: the ID key = python3's" "$t_out" "$(amd_digest "$id_key")"
openssl pkey -in "$author_key" -pubout -out "$tmp/author.pub" 2>/dev/null
t_status "key-digest: a public key" 0 "$owner" key-digest "$tmp/author.pub"
t_equal "key-digest: the author key = python3's" "$t_out" "$(amd_digest "$author_key")"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/p256.pem" 2>/dev/null
refused "key-digest: a P-256 key is refused" "secp256r1" key-digest "$tmp/p256.pem"

# --- id-block: made for a launch, read back, checked
launch_args="--bios $amdsev --smp 1 --cpu EPYC-Milan"
family=00112233445566778899aabbccddeeff
image=ffeeddccbbaa99887766554433221100
t_status "id-block: made" 0 "$owner" id-block $launch_args --policy 0x30000 \
	--id-key "$id_key" --author-key "$author_key" --family-id "$family" --image-id "$image" \
	--svn 7 --id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64"
t_contains "id-block: prints the launch digest" "$t_out" "launch digest: $by_name"
t_contains "id-block: prints the ID key digest" "$t_out" "id key digest: $(amd_digest "$id_key")"
t_contains "id-block: prints the author key digest" "$t_out" \
	"author key digest: $(amd_digest "$author_key")"
t_equal "id-block: 96 bytes" "$(base64 -d "$tmp/id-block.b64" | wc -c)" 96
t_equal "id-block: auth info is 4096 bytes" "$(base64 -d "$tmp/id-auth.b64" | wc -c)" 4096
# The ID block's signature, checked by openssl over the bytes QEMU is given.
python3 -c '
import base64, sys
auth = base64.b64decode(open(sys.argv[1]).read())
r, s = int.from_bytes(auth[0x40:0x88], "little"), int.from_bytes(auth[0x88:0xd0], "little")
def der_int(v):
    b = v.to_bytes((v.bit_length() + 8) // 8, "big")
    return b"\x02" + bytes([len(b)]) + b
body = der_int(r) + der_int(s)
open(sys.argv[2], "wb").write(b"\x30" + bytes([len(body)]) + body)
' "$tmp/id-auth.b64" "$tmp/id-sig.der"
base64 -d "$tmp/id-block.b64" >"$tmp/id-block.bin"
openssl pkey -in "$id_key" -pubout -out "$tmp/id.pub" 2>/dev/null
t_check "id-block: openssl verifies the ID block signature" openssl dgst -sha384 \
	-verify "$tmp/id.pub" -signature "$tmp/id-sig.der" "$tmp/id-block.bin"
t_status "check-id: fits its launch" 0 "$owner" check-id --id-block "$tmp/id-block.b64" \
	--id-auth "$tmp/id-auth.b64" $launch_args --policy 0x30000
t_contains "check-id: shows the svn" "$t_out" "guest svn: 7"
t_status "check-id: another vCPU count does not fit" 1 "$owner" check-id \
	--id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64" $launch_args --smp 2
t_contains "check-id: another vCPU count: says the digest differs" "$t_out" "launch digest"
t_status "check-id: another policy does not fit" 1 "$owner" check-id \
	--id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64" $launch_args --policy 0x70000
t_contains "check-id: another policy: names it" "$t_out" "policy 0x30000"
# A flipped byte in the ID key (offset 0x250) breaks the author's signature.
python3 -c '
import base64, sys
auth = bytearray(base64.b64decode(open(sys.argv[1]).read()))
auth[0x250] ^= 1
open(sys.argv[2], "w").write(base64.b64encode(auth).decode() + "\n")
' "$tmp/id-auth.b64" "$tmp/bad-auth.b64"
t_status "check-id: a changed ID key fails" 1 "$owner" check-id \
	--id-block "$tmp/id-block.b64" --id-auth "$tmp/bad-auth.b64"
refused "id-block: no --id-key" "--id-key" id-block --bios "$amdsev" \
	--id-block "$tmp/x.b64" --id-auth "$tmp/y.b64"
refused "id-block: a public key cannot sign" "private" id-block --bios "$amdsev" \
	--id-key "$tmp/id.pub" --id-block "$tmp/x.b64" --id-auth "$tmp/y.b64"
refused "id-block: a policy with reserved bits" "reserved" id-block --bios "$amdsev" \
	--policy 0x4030000 --id-key "$id_key" --id-block "$tmp/x.b64" --id-auth "$tmp/y.b64"

# --- policy: written from the launch, used by the real broker
cp -r "$TOP/tests/data/sim" "$tmp/sim"
conf=$tmp/broker.conf
cat >"$conf" <<CONF
listen = 127.0.0.1:0
tls_cert = $tls/server.pem
tls_key = $tls/server.key
state_dir = $tmp/state
trust_ark = $tmp/sim/ark.pem
CONF
"$load" policy --sim "$tmp/sim" >"$tmp/base.json"
# The base is the owner's: TCB and products. Its measurement is replaced.
refused "policy: without a minimum TCB to start from" "min_tcb" policy $launch_args
t_status "policy: to a file" 0 "$owner" policy $launch_args --from "$tmp/base.json" \
	--id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64" --output "$tmp/policy.json"
t_equal "policy: the measurement" "$(json_get "$tmp/policy.json" 'j["measurements"]')" \
	"['$by_name']"
t_equal "policy: the ID key digest" "$(json_get "$tmp/policy.json" 'j["id_key_digests"]')" \
	"['$(amd_digest "$id_key")']"
t_equal "policy: the author key digest" \
	"$(json_get "$tmp/policy.json" 'j["author_key_digests"]')" "['$(amd_digest "$author_key")']"
t_equal "policy: family, image, svn" \
	"$(json_get "$tmp/policy.json" '(j["family_id"], j["image_id"], j["min_guest_svn"])')" \
	"('$family', '$image', 7)"
t_equal "policy: the guest policy's bits pinned" \
	"$(json_get "$tmp/policy.json" '(j["smt"], j["single_socket"], j["allow_debug"], j["min_abi"])')" \
	"('require', 'forbid', False, '0.0')"
t_equal "policy: the base's TCB kept" "$(json_get "$tmp/policy.json" 'json.dumps(j["min_tcb"], sort_keys=True)')" \
	"$(json_get "$tmp/base.json" 'json.dumps(j["min_tcb"], sort_keys=True)')"
t_status "policy: the broker takes it" 0 "$broker" policy set launch "$tmp/policy.json" \
	--config "$conf"
# An ID block made for another launch is refused before anything is written.
refused "policy: an ID block of another launch" "launch digest" policy $launch_args --smp 2 \
	--from "$tmp/base.json" --id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64" \
	--output "$tmp/never.json"
if [ -e "$tmp/never.json" ]; then
	t_fail "policy: nothing written on refusal" "$tmp/never.json exists"
else
	t_ok "policy: nothing written on refusal"
fi

# Into the store: the stored policy is updated in place, the base's TCB kept.
t_status "policy: stored by name" 0 "$owner" policy $launch_args --state "$tmp/state" \
	--name launch --id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64"
"$broker" policy show launch --config "$conf" >"$tmp/stored.json"
t_equal "policy: stored: the measurement" "$(json_get "$tmp/stored.json" 'j["measurements"]')" \
	"['$by_name']"

# The guest as the simulator reports it: what the firmware would put in a
# report of this launch (the ID block's fields, the digests of its keys).
guest_conf() {
	printf '%s\n' "measurement = $1" "policy = 0x30000" "family_id = $family" \
		"image_id = $image" "guest_svn = 7" "id_key_digest = $(amd_digest "$id_key")" \
		"author_key_en = yes" "author_key_digest = $(amd_digest "$author_key")"
}
other=$("$owner" measure $launch_args --smp 2)
t_start_sim launched "$(guest_conf "$by_name")"
t_start_sim other "$(guest_conf "$other")"

volume=6a1c0de2-8f3b-4d7e-a1b9-2c3d4e5f6a7b
secret=$(head -c 32 /dev/urandom | base64)
umask 077
printf '{"version":1,"volume":"%s","secret":"%s"}\n' "$volume" "$secret" >"$tmp/reg.json"
umask 022
t_status "volume add under the launch's policy" 0 "$broker" volume add --from "$tmp/reg.json" \
	--policy launch --config "$conf"
if t_start_broker; then
	t_ok "broker started"
	probe() {
		"$broker" probe "$url" --ca "$tls/ca.pem" --connect-to 127.0.0.1 \
			--sim "unix:$tmp/$1.sock" --timeout 10s --volume "$volume" \
			--check-secret "$tmp/reg.json"
	}
	t_status "broker: the launched guest gets its secret" 0 probe launched
	t_contains "broker: the launched guest: the registered secret" "$t_out" "secret:    equals"
	t_status "broker: a guest launched with 2 vCPUs is refused" 1 probe other
	t_contains "broker: refused by the measurement rule" "$t_out" "measurement"
else
	t_fail "broker started" "$(cat "$tmp/broker.log")"
fi

# --add: a second launch joins the list; the first stays.
t_status "policy --add: a second launch" 0 "$owner" policy $launch_args --smp 2 \
	--state "$tmp/state" --name launch --add
"$broker" policy show launch --config "$conf" >"$tmp/stored.json"
t_equal "policy --add: both measurements" "$(json_get "$tmp/stored.json" 'sorted(j["measurements"])')" \
	"$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' "$by_name" "$other")"

# --volume: a new policy, and the volume moved to it; an unknown volume is
# refused before anything is stored.
t_status "policy --volume: stored and given to the volume" 0 "$owner" policy $launch_args \
	--from "$tmp/base.json" --state "$tmp/state" --name launch2 --volume "$volume"
t_contains "policy --volume: the broker shows the volume's new policy" \
	"$("$broker" volume show "$volume" --config "$conf")" "launch2"
refused "policy --volume: an unknown volume" "no such volume" policy $launch_args \
	--from "$tmp/base.json" --state "$tmp/state" --name launch3 \
	--volume 00000000-0000-4000-8000-000000000000
t_status "policy --volume: nothing stored on refusal" 1 "$broker" policy show launch3 \
	--config "$conf"

# --- launch-snp-guest: the same inputs, checked by snp-owner
t_status "launch-snp-guest --print-measurement" 0 env SNP_OWNER="$owner" sh "$launch" \
	--print-measurement --bios "$amdsev" --smp 1 --cpu EPYC-Milan --kernel "$tmp/kernel"
t_equal "launch-snp-guest --print-measurement: snp-owner's digest" \
	"$(printf '%s\n' "$t_out" | tail -n 1)" "$by_name"
t_status "launch-snp-guest: the ID block fits" 0 env SNP_OWNER="$owner" sh "$launch" \
	--dry-run --bios "$amdsev" --smp 1 --cpu EPYC-Milan --kernel "$tmp/kernel" \
	--id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64"
t_contains "launch-snp-guest: prints the expected measurement" "$t_out" \
	"expected launch measurement: $by_name"
t_status "launch-snp-guest: an ID block of another launch is refused" 2 \
	env SNP_OWNER="$owner" sh "$launch" --dry-run --bios "$amdsev" --smp 2 --cpu EPYC-Milan \
	--kernel "$tmp/kernel" --id-block "$tmp/id-block.b64" --id-auth "$tmp/id-auth.b64"
t_contains "launch-snp-guest: says why" "$t_out" "does not fit this launch"

t_done
