# shellcheck shell=sh
# snp-unseal enroll and unenroll on LUKS2 images made here, checked with
# Debian's cryptsetup (cryptsetup-bin: another reader and writer of LUKS2
# headers than the libcryptsetup we link) and python3's json: the token
# and the PBKDF2 keyslot are there, the token says what the command line
# said (the CA pin recomputed with openssl), the registration file is
# 0600, imports into snp-keybroker and its secret opens the new keyslot;
# every refusal leaves the header byte for byte as it was; unenroll takes
# both away. Then enroll is killed right before each header write and
# sync (strace fault injection): after every kill the header loads, the
# old passphrase opens, the state is one of the four enroll passes
# through, unenroll restores the original keyslots and enroll works
# again. Secrets are compared as files; no output shows them.
set -eu
. "$TOP/tests/lib.sh"

agent=$BUILD/snp-unseal
broker=$BUILD/snp-keybroker
store_check=$BUILD/bin/store-check
cs=/sbin/cryptsetup
python=/usr/bin/python3
ca=$TOP/tests/data/tls/ca.pem
server=$TOP/tests/data/tls/server.pem
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"
keys=$tmp/keys		# passphrases and decoded secrets: 0700, never printed
mkdir -m 700 "$keys"
outputs=$tmp/outputs	# everything the commands printed, to look for secrets in
: >"$outputs"

if [ ! -x "$cs" ]; then
	echo "skipped: $cs is missing (apt-get install cryptsetup-bin)"
	t_done
	exit
fi

HEADER_BYTES=16777216	# LUKS2's default data offset: both headers and the keyslots
printf 'old passphrase' >"$keys/old"
printf 'not the passphrase' >"$keys/wrong"
b1=https://broker.test:8443
b2='https://[fd00::5]/kb'

# format IMG [luks1]: a 32 MiB sparse LUKS image opened by $keys/old, fast KDF.
format() {
	rm -f "$1"
	truncate -s 32M "$1"
	if [ "${2:-}" = luks1 ]; then
		"$cs" luksFormat -q --type luks1 --iter-time 1 "$1" "$keys/old"
	else
		"$cs" luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
			"$1" "$keys/old"
	fi
}

# run NAME WANT CMD...: t_status, keeping the output to look for secrets in.
run() {
	t_status "$@"
	printf '%s\n' "$t_out" >>"$outputs"
}

# enroll IMG REG [OPTIONS]: the usual enrollment, with the old passphrase.
enroll() {
	img=$1 reg=$2
	shift 2
	"$agent" enroll "$img" --broker "$b1" --ca "$ca" --key-file "$keys/old" \
		--registration "$reg" "$@"
}

# state IMG: "slots=0,1 tokens=ID:TYPE:KEYSLOTS[:pending=N] ...", from the header's JSON.
state() {
	"$cs" luksDump --dump-json-metadata "$1" | "$python" -c '
import json, sys
h = json.load(sys.stdin)
toks = []
for tid in sorted(h["tokens"], key=int):
    t = h["tokens"][tid]
    s = "%s:%s:%s" % (tid, t["type"], ",".join(t["keyslots"]))
    if "pending_keyslot" in t:
        s += ":pending=%s" % t["pending_keyslot"]
    toks.append(s)
print("slots=%s tokens=%s" % (",".join(sorted(h["keyslots"], key=int)), " ".join(toks) or "-"))
'
}

# same_header NAME IMG COPY: the header area is byte for byte the copy's.
same_header() {
	if cmp -s -n "$HEADER_BYTES" "$2" "$3"; then
		t_ok "$1"
	else
		t_fail "$1" "the header of $2 changed"
	fi
}

# opens IMG SLOT KEYFILE: cryptsetup accepts the key file for that keyslot.
opens() {
	"$cs" open --test-passphrase --key-slot "$2" --key-file "$3" "$1" >/dev/null 2>&1
}

# secret_of REG OUT: the registration's secret, decoded, into OUT (0600).
secret_of() {
	(umask 077 && "$python" -c '
import base64, json, sys
sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["secret"], validate=True))
' "$1" >"$2")
}

# temps DIR: how many temporary registration files DIR holds.
temps() {
	find "$1" -name '.*.tmp.*' | wc -l
}

# field TEXT WORD: the token after "WORD " in TEXT, up to a comma or the end.
field() {
	printf '%s\n' "$1" | sed -n "s/.*$2 \([^ ,]*\).*/\1/p" | head -n 1
}

pin_of() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER |
		sha256sum | cut -d' ' -f1
}

# --- enroll ---
img=$tmp/a.img
format "$img"
uuid=$("$cs" luksUUID "$img" | tr A-F a-f)
mkdir "$tmp/reg"
reg=$tmp/reg/a.json
ca_pin=$(pin_of "$ca")
server_pin=$(pin_of "$server")
start=$(date +%s%N)
run "enroll succeeds" 0 "$agent" enroll "$img" --broker "$b1" --broker "$b2" --ca "$ca" \
	--pin "sha256:$server_pin" --name secure-data --key-file "$keys/old" --registration "$reg"
echo "one enroll takes $((($(date +%s%N) - start) / 1000000)) ms"
t_contains "enroll names the device, keyslot, token and volume" "$t_out" \
	"enrolled $img: keyslot 1, token 0, volume $uuid"
t_contains "enroll says the file holds the secret" "$t_out" "$reg holds the disk secret"
t_contains "enroll says how to import it" "$t_out" "snp-keybroker volume add --from $reg"
slot=$(field "$t_out" keyslot)
token=$(field "$t_out" token)
run "luksDump shows the token and the new keyslot" 0 test "$(state "$img")" = \
	"slots=0,$slot tokens=$token:snp-unseal:$slot"
dump=$("$cs" luksDump "$img")
t_contains "luksDump lists the token type" "$dump" "snp-unseal"
"$cs" luksDump --dump-json-metadata "$img" >"$tmp/a.hdr.json"
run "the new keyslot is PBKDF2-SHA256 at 1000 iterations" 0 "$python" -c '
import json, sys
kdf = json.load(open(sys.argv[1]))["keyslots"][sys.argv[2]]["kdf"]
sys.exit(kdf != {"type": "pbkdf2", "hash": "sha256", "iterations": 1000, "salt": kdf["salt"]})
' "$tmp/a.hdr.json" "$slot"
"$cs" token export --token-id "$token" "$img" >"$tmp/a.token.json"
run "the token is what the command line said" 0 "$python" -c '
import json, sys
t = json.load(open(sys.argv[1]))
want = {"type": "snp-unseal", "keyslots": [sys.argv[2]], "snp_unseal_version": 1,
        "volume": sys.argv[3], "brokers": [sys.argv[4], sys.argv[5]],
        "ca_pins": ["sha256:" + sys.argv[6]], "server_pin": "sha256:" + sys.argv[7],
        "name": "secure-data"}
if t != want:
    print("token:", t, "\nwanted:", want)
    sys.exit(1)
' "$tmp/a.token.json" "$slot" "$uuid" "$b1" "$b2" "$ca_pin" "$server_pin"
run "the registration file is 0600" 0 test "$(stat -c %a "$reg")" = 600
run "no temporary file is left" 0 test "$(temps "$tmp/reg")" -eq 0
run "the registration names the volume" 0 "$python" -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(sorted(r) != ["secret", "version", "volume"] or r["version"] != 1 or r["volume"] != sys.argv[2])
' "$reg" "$uuid"
secret_of "$reg" "$keys/a.secret"
run "the secret is 32 bytes" 0 test "$(wc -c <"$keys/a.secret")" -eq 32
run "the secret opens the new keyslot" 0 opens "$img" "$slot" "$keys/a.secret"
run "the secret opens no other keyslot" nonzero opens "$img" 0 "$keys/a.secret"
run "the old passphrase still opens its keyslot" 0 opens "$img" 0 "$keys/old"
run "the old passphrase does not open the new keyslot" nonzero opens "$img" "$slot" "$keys/old"

state_dir=$tmp/state
printf '{"version":1,"allow_any_measurement":true,"allow_any_tcb":true}\n' >"$tmp/open.json"
run "the broker has a default policy" 0 "$broker" policy set default "$tmp/open.json" \
	--state "$state_dir"
run "snp-keybroker volume add --from imports the registration" 0 \
	"$broker" volume add --from "$reg" --state "$state_dir"
run "the broker lists the volume" 0 "$broker" volume show "$uuid" --state "$state_dir"
if [ -x "$store_check" ]; then
	run "the broker holds the secret that opens the keyslot" 0 \
		test "$("$store_check" "$state_dir" "$uuid" "$keys/a.secret" 2>&1)" = same
fi

# The other ways to give the passphrase and the registration's name.
img2=$tmp/b.img
format "$img2"
uuid2=$("$cs" luksUUID "$img2" | tr A-F a-f)
enroll_stdin() {
	(cd "$tmp/reg" && "$agent" enroll "$img2" --broker="$b1" --ca="$ca" --key-file=- \
		<"$keys/old")
}
run "enroll reads the passphrase from stdin, --opt=value" 0 enroll_stdin
run "the default registration is ./snp-unseal-UUID.json" 0 \
	test -f "$tmp/reg/snp-unseal-$uuid2.json"
secret_of "$tmp/reg/snp-unseal-$uuid2.json" "$keys/b.secret"
run "that secret opens keyslot 1" 0 opens "$img2" 1 "$keys/b.secret"
run "a second volume's secret differs" nonzero cmp -s "$keys/a.secret" "$keys/b.secret"
"$cs" token export --token-id 0 "$img2" >"$tmp/b.token.json"
run "the token has no server pin or name unless given" 1 \
	grep -q -e server_pin -e '"name"' "$tmp/b.token.json"

if command -v script >/dev/null && command -v timeout >/dev/null; then
	format "$img2"
	# The passphrase arrives after the prompt (echo off flushes typed-ahead input).
	ask() {
		(sleep 1 && cat "$keys/old" && printf '\n') | timeout 20 script -qec \
			"'$agent' enroll '$img2' --broker $b1 --ca '$ca' --registration '$tmp/reg/tty.json'" \
			/dev/null
	}
	run "enroll asks on the terminal" 0 ask
	t_contains "the prompt names the device" "$t_out" \
		"Enter an existing passphrase for $img2: "
	case $t_out in
	*"$(cat "$keys/old")"*) t_fail "the passphrase is not echoed" ;;
	*) t_ok "the passphrase is not echoed" ;;
	esac
	run "the typed passphrase enrolled" 0 test "$(state "$img2")" = "slots=0,1 tokens=0:snp-unseal:1"
else
	echo "skipped: script(1) or timeout(1) missing: the terminal prompt is not tested"
fi

# --- refusals: exit status, a message naming the problem, header unchanged ---
rimg=$tmp/r.img
format "$rimg"
cp --sparse=always "$rimg" "$tmp/r.orig"
rreg=$tmp/reg/r.json

# refuse NAME WANT TEXT CMD...: fails with WANT saying TEXT; the header and the directory unchanged.
refuse() {
	name=$1 want=$2 text=$3
	shift 3
	run "refused: $name" "$want" "$@"
	t_contains "refused: $name: the message" "$t_out" "$text"
	same_header "refused: $name: header unchanged" "$rimg" "$tmp/r.orig"
	run "refused: $name: no registration written" 0 test ! -e "$rreg"
	run "refused: $name: no temporary file left" 0 test "$(temps "$tmp/reg")" -eq 0
}

refuse "http:// broker" 2 "only https://" "$agent" enroll "$rimg" --broker http://kb.test \
	--ca "$ca" --key-file "$keys/old" --registration "$rreg"
refuse "no --broker" 2 "no --broker" "$agent" enroll "$rimg" --ca "$ca" \
	--key-file "$keys/old" --registration "$rreg"
refuse "no --ca" 2 "no --ca" "$agent" enroll "$rimg" --broker "$b1" \
	--key-file "$keys/old" --registration "$rreg"
# with_ca CA: enroll $rimg with that --ca.
with_ca() {
	"$agent" enroll "$rimg" --broker "$b1" --ca "$1" --key-file "$keys/old" --registration "$rreg"
}
# with_key KEYFILE: enroll $rimg with that --key-file.
with_key() {
	"$agent" enroll "$rimg" --broker "$b1" --ca "$ca" --key-file "$1" --registration "$rreg"
}
refuse "wrong passphrase" 1 "$rimg" with_key "$keys/wrong"
refuse "unreadable CA" 2 "$tmp/none.pem" with_ca "$tmp/none.pem"
refuse "CA file that is a directory" 2 "$tmp/reg" with_ca "$tmp/reg"
printf 'no certificate here\n' >"$tmp/empty.pem"
refuse "CA file with no certificate" 2 "$tmp/empty.pem" with_ca "$tmp/empty.pem"
refuse "bad --pin" 2 "--pin" enroll "$rimg" "$rreg" --pin sha256:1234
refuse "bad --name" 2 "name" enroll "$rimg" "$rreg" --name a/b
refuse "nine brokers" 2 "more than 8" enroll "$rimg" "$rreg" --broker "$b1" --broker "$b1" \
	--broker "$b1" --broker "$b1" --broker "$b1" --broker "$b1" --broker "$b1" --broker "$b1"
refuse "two devices" 2 "unexpected argument" enroll "$rimg" "$rreg" "$img2"
refuse "missing key file" 2 "$tmp/none.key" with_key "$tmp/none.key"
: >"$keys/empty"
refuse "empty key file" 2 "empty" with_key "$keys/empty"
refuse "nonexistent device" 1 "$tmp/none.img" enroll "$tmp/none.img" "$rreg"

printf 'keep me\n' >"$tmp/reg/exists.json"
cp "$tmp/reg/exists.json" "$tmp/exists.orig"
run "refused: existing registration file" 1 enroll "$rimg" "$tmp/reg/exists.json"
t_contains "refused: existing registration file: the message" "$t_out" \
	"$tmp/reg/exists.json exists"
run "refused: existing registration file: it is not modified" 0 \
	cmp "$tmp/reg/exists.json" "$tmp/exists.orig"
same_header "refused: existing registration file: header unchanged" "$rimg" "$tmp/r.orig"
ln -s "$tmp/nowhere" "$tmp/reg/dangling.json"
run "refused: a dangling symlink as registration file" 1 enroll "$rimg" "$tmp/reg/dangling.json"
run "refused: the symlink's target is not created" 0 test ! -e "$tmp/nowhere"
rm "$tmp/reg/dangling.json"
run "refused: a registration in a missing directory" 1 enroll "$rimg" "$tmp/none/r.json"
same_header "refused: missing directory: header unchanged" "$rimg" "$tmp/r.orig"
run "refused: a missing directory is told before the passphrase is read" 1 \
	"$agent" enroll "$rimg" --broker "$b1" --ca "$ca" --key-file "$tmp/no-such-key" \
	--registration "$tmp/none/r.json"
t_contains "refused: missing directory: the message names it" "$t_out" \
	"$tmp/none: cannot write the registration there"

cp "$img" "$tmp/a.before"
run "refused: already enrolled" 1 enroll "$img" "$rreg"
t_contains "refused: already enrolled: the message says how to undo it" "$t_out" \
	"snp-unseal unenroll $img"
same_header "refused: already enrolled: header unchanged" "$img" "$tmp/a.before"
run "refused: already enrolled: no registration written" 0 test ! -e "$rreg"

head -c 33554432 /dev/zero >"$tmp/zero.img"
cp "$tmp/zero.img" "$tmp/zero.orig"
run "refused: not LUKS" 1 enroll "$tmp/zero.img" "$rreg"
t_contains "refused: not LUKS: the message names the file" "$t_out" "$tmp/zero.img"
run "refused: not LUKS: the file unchanged" 0 cmp "$tmp/zero.img" "$tmp/zero.orig"
format "$tmp/l1.img" luks1
cp "$tmp/l1.img" "$tmp/l1.orig"
run "refused: LUKS1" 1 enroll "$tmp/l1.img" "$rreg"
t_contains "refused: LUKS1: the message names the file" "$t_out" "$tmp/l1.img"
run "refused: LUKS1: the image unchanged" 0 cmp "$tmp/l1.img" "$tmp/l1.orig"

run "enroll --help" 0 "$agent" enroll --help
t_contains "enroll --help is the usage" "$t_out" "Usage: snp-unseal enroll DEVICE"
run "a usage error points to --help" 2 "$agent" enroll "$rimg" --frob
t_contains "the usage error names the argument" "$t_out" \
	"unexpected argument '--frob'; see 'snp-unseal enroll --help'"

# --- unenroll ---
run "unenroll" 0 "$agent" unenroll "$img"
t_contains "unenroll says what it removed" "$t_out" "removed 1 token and 1 keyslot"
run "unenroll left the original keyslot only, no token" 0 test "$(state "$img")" = \
	"slots=0 tokens=-"
run "the passphrase still opens after unenroll" 0 opens "$img" 0 "$keys/old"
run "the removed secret opens nothing" nonzero "$cs" open --test-passphrase --key-file \
	"$keys/a.secret" "$img"
run "unenroll with no token" 0 "$agent" unenroll "$img"
t_contains "unenroll says there is none" "$t_out" "$img has no snp-unseal token"
rm "$reg"
run "enroll works again after unenroll" 0 enroll "$img" "$reg"
secret_of "$reg" "$keys/a2.secret"
run "the new secret opens the new keyslot" 0 opens "$img" 1 "$keys/a2.secret"
run "luksKillSlot the passphrase keyslot" 0 "$cs" luksKillSlot -q --key-file "$keys/a2.secret" \
	"$img" 0
cp "$img" "$tmp/a.before"
run "unenroll refuses to remove the last keyslot" 1 "$agent" unenroll "$img"
t_contains "the refusal names the device" "$t_out" "snp-unseal unenroll: $img: "
same_header "the refused unenroll left the header" "$img" "$tmp/a.before"
run "unenroll of a missing device" 1 "$agent" unenroll "$tmp/none.img"
run "unenroll without a device" 2 "$agent" unenroll
run "unenroll --help" 0 "$agent" unenroll --help

# --- kill -9 right before each header write and sync ---
base=$tmp/crash.base
format "$base"
want_base=$(state "$base")
cimg=$tmp/crash.img
creg=$tmp/crash/reg.json
mkdir "$tmp/crash"
kills=0 torn=0 untouched=0 pending=0 pending_slot=0 complete=0 published=0

# after_kill WHERE: what the killed enroll left is usable and can be undone.
after_kill() {
	where=$1
	run "$where: luksDump reads the header" 0 "$cs" luksDump "$cimg"
	run "$where: the old passphrase opens" 0 opens "$cimg" 0 "$keys/old"
	got=$(state "$cimg")
	case $got in
	"$want_base") untouched=$((untouched + 1)) ;;
	"slots=0 tokens=0:snp-unseal::pending=1") pending=$((pending + 1)) ;;
	"slots=0,1 tokens=0:snp-unseal::pending=1") pending_slot=$((pending_slot + 1)) ;;
	"slots=0,1 tokens=0:snp-unseal:1") complete=$((complete + 1)) ;;
	*) t_fail "$where: the header is in a state enroll passes through" "$got" ;;
	esac
	if [ -e "$creg" ]; then
		published=$((published + 1))
		run "$where: a registration file exists only for a complete enroll" 0 \
			test "$got" = "slots=0,1 tokens=0:snp-unseal:1"
		secret_of "$creg" "$keys/crash.secret"
		run "$where: its secret opens the keyslot" 0 opens "$cimg" 1 "$keys/crash.secret"
		rm "$creg"
	fi
	if [ "$(temps "$tmp/crash")" -gt 0 ]; then
		torn=$((torn + 1))
		find "$tmp/crash" -name '.*.tmp.*' -exec rm {} +
	fi
	case $got in
	*pending*)
		cp --sparse=always "$cimg" "$tmp/crash.copy"
		run "$where: enroll over the pending token" 0 enroll "$tmp/crash.copy" "$creg"
		t_contains "$where: enroll notes the cleared token" "$t_out" "pending token"
		run "$where: ... and completes" 0 test "$(state "$tmp/crash.copy")" = \
			"slots=0,1 tokens=0:snp-unseal:1"
		rm -f "$creg"
		;;
	esac
	run "$where: unenroll" 0 "$agent" unenroll "$cimg"
	run "$where: unenroll restores the original keyslots" 0 test "$(state "$cimg")" = \
		"$want_base"
	run "$where: then enroll succeeds" 0 enroll "$cimg" "$creg"
	rm -f "$creg"
}

if ! command -v strace >/dev/null; then
	echo "skipped: strace is not installed, so the kill-at-each-syscall checks cannot run"
else
	for sc in pwrite64 fsync fdatasync renameat2; do
		n=1
		while [ "$n" -le 60 ]; do
			cp --sparse=always "$base" "$cimg"
			status=0
			strace -f -qq -o /dev/null -e trace=pwrite64,write,fsync,fdatasync,openat,renameat2 \
				-e inject="$sc:signal=SIGKILL:when=$n" \
				"$agent" enroll "$cimg" --broker "$b1" --ca "$ca" --key-file "$keys/old" \
				--registration "$creg" >"$tmp/crash.out" 2>&1 || status=$?
			[ "$status" -eq 137 ] || break
			kills=$((kills + 1))
			after_kill "killed at $sc #$n"
			n=$((n + 1))
		done
		run "enroll completes under strace after $((n - 1)) kills at $sc" 0 \
			test "$status" -eq 0
		rm -f "$creg"
	done
	echo "killed $kills times: header untouched $untouched, pending token $pending," \
		"pending with its keyslot $pending_slot, complete $complete" \
		"(registration published $published); a temporary file was left $torn times"
	run "kills came before, between and after the header writes" 0 \
		test "$untouched" -gt 0 -a "$pending" -gt 0 -a "$pending_slot" -gt 0 -a "$complete" -gt 0
fi

secrets_seen=0
for k in a.secret b.secret a2.secret; do
	if grep -qF -e "$(base64 -w0 "$keys/$k")" -e "$(od -An -tx1 "$keys/$k" | tr -d ' \n')" \
		"$outputs"; then
		secrets_seen=$((secrets_seen + 1))
	fi
done
grep -qF "$(cat "$keys/old")" "$outputs" && secrets_seen=$((secrets_seen + 1))
run "no output ever showed a secret or the passphrase" 0 test "$secrets_seen" -eq 0

t_done
