# shellcheck shell=sh
# snp-keybroker volume and policy end to end on a real state directory;
# then kill -9 right before each system call that `volume add`, `rotate`
# and `remove` make (strace fault injection), and at 30 random instants:
# after every kill, no volume is lost, none is broken, the old secret of a
# rotated one is in the archive, and the command can be run again.
# Secrets are compared by build/bin/store-check, which never prints them.
set -eu
. "$TOP/tests/lib.sh"

broker=$BUILD/snp-keybroker
check=$BUILD/bin/store-check
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
state=$tmp/state
outputs=$tmp/outputs
: >"$outputs"

vol_a=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0
vol_b=ffffffff-0000-4000-8000-000000000001
vol_c=12345678-9abc-4def-8123-456789abcdef
vol_d=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee

kb() {
	"$broker" "$@" --state "$state"
}

# run NAME WANT CMD...: t_status, keeping every output to look for secrets in.
run() {
	t_status "$@"
	printf '%s\n' "$t_out" >>"$outputs"
}

# same NAME UUID FILE [--archive]: the store holds FILE's secret for UUID.
same() {
	name=$1
	shift
	if got=$("$check" "$state" "$@" 2>&1) && [ "$got" = same ]; then
		t_ok "$name"
	else
		t_fail "$name" "store-check $*: $got"
	fi
}

# registration UUID KEYFILE OUT: the file `snp-unseal enroll` writes.
registration() {
	printf '{"version":1,"volume":"%s","secret":"%s"}\n' "$1" "$(base64 -w0 "$2")" >"$3"
	chmod 600 "$3"
}

key() {
	head -c "${2:-32}" /dev/urandom >"$tmp/$1"
	chmod 600 "$tmp/$1"
}

key a.key
key a2.key 48
key b.key
key c.key 64
key d.key
key short.key 15
key long.key 257
registration "$vol_a" "$tmp/a.key" "$tmp/a.reg"
registration "$vol_c" "$tmp/c.key" "$tmp/c.reg"
printf '{"version":1,"allow_any_measurement":true,"allow_any_tcb":true}\n' >"$tmp/open.json"
printf '{"version":1,"measurements":["%096d"],"allow_any_tcb":true}\n' 0 >"$tmp/strict.json"
printf '{"version":1}\n' >"$tmp/unconstrained.json"

# --- policies ---
run "policy set stores a valid policy" 0 kb policy set default "$tmp/open.json"
t_contains "policy set says so" "$t_out" "stored policy default"
set_strict_from_stdin() {
	kb policy set strict - <"$tmp/strict.json"
}
run "policy set reads stdin" 0 set_strict_from_stdin
run "policy without measurement or waiver is refused" 2 \
	kb policy set loose "$tmp/unconstrained.json"
t_contains "the refusal names the file" "$t_out" "$tmp/unconstrained.json"
run "policy that is not JSON is refused" 2 kb policy set loose "$tmp/a.key"
run "bad policy name is refused" 2 kb policy set ../x "$tmp/open.json"
run "policy list" 0 kb policy list
t_contains "policy list names both" "$t_out" "default
strict"
run "refused policy is not stored" 1 kb policy show loose
run "policy show prints the canonical form" 0 kb policy show strict
t_contains "policy show has the measurement" "$t_out" "000000000000000000000000"
t_contains "policy show has the defaults" "$t_out" '"allow_debug": false'

# --- adding volumes ---
run "state is made 0700" 0 test "$(stat -c %a "$state")" = 700
run "volume add --from" 0 kb volume add --from "$tmp/a.reg"
t_contains "add --from reminds to delete the file" "$t_out" "$tmp/a.reg holds the volume's secret"
run "volume record is 0600" 0 test "$(stat -c %a "$state/volumes/$vol_a.json")" = 600
same "added secret is the registration's" "$vol_a" "$tmp/a.key"
run "adding it again is refused" 1 kb volume add --from "$tmp/a.reg"
t_contains "refusal says it exists" "$t_out" "exists"
run "volume add UUID --secret-file (upper case id)" 0 \
	kb volume add "$(echo "$vol_b" | tr a-f A-F)" --secret-file "$tmp/b.key" --policy strict
same "raw secret stored" "$vol_b" "$tmp/b.key"
run "a 15-byte secret is refused" 2 kb volume add "$vol_d" --secret-file "$tmp/short.key" \
	--policy default
t_contains "the refusal gives the length" "$t_out" "not 15"
run "a 257-byte secret is refused" 2 kb volume add "$vol_d" --secret-file "$tmp/long.key" \
	--policy default
run "an unknown policy is refused" 1 kb volume add "$vol_d" --secret-file "$tmp/d.key" \
	--policy nope
t_contains "the refusal names the policy" "$t_out" "no policy 'nope'"
run "a bad volume id is refused" 2 kb volume add 1234 --secret-file "$tmp/d.key" --policy default
run "a directory as registration file is refused" 2 kb volume add --from "$tmp"
t_contains "the refusal says why" "$t_out" "not a regular file"
run "a non-registration file is refused" 2 kb volume add --from "$tmp/open.json"
registration "$vol_d" "$tmp/d.key" "$tmp/d.reg"
chmod 644 "$tmp/d.reg"
run "a world-readable registration file is taken, with a warning" 0 \
	kb volume add --from "$tmp/d.reg" --policy strict
t_contains "the warning names the file" "$t_out" "$tmp/d.reg holds a secret but is open"
run "--from with a UUID is bad usage" 2 kb volume add "$vol_c" --from "$tmp/c.reg"
run "--json does not apply to add" 2 kb volume add --from "$tmp/c.reg" --json
run "unknown option" 2 kb volume list --frob

# --- reading ---
run "volume list" 0 kb volume list
t_contains "list gives uuid, policy, generation" "$t_out" "$vol_a default 1 "
t_contains "list has the other volume" "$t_out" "$vol_b strict 1 "
run "list has three lines" 0 test "$(printf '%s\n' "$t_out" | wc -l)" -eq 3
run "volume show" 0 kb volume show "$vol_a"
t_contains "show gives the secret's length only" "$t_out" "secret      32 bytes"
run "volume show --json" 0 kb volume show "$vol_a" --json
t_contains "show --json" "$t_out" '"secret_length":32'
run "show of an unknown volume" 1 kb volume show "$vol_c"
run "show of a bad id" 2 kb volume show nope

# --- rotate, set-policy, remove, purge ---
run "rotate --secret-file" 0 kb volume rotate "$vol_a" --secret-file "$tmp/a2.key"
t_contains "rotate gives the generation" "$t_out" "generation 2"
same "rotated secret is current" "$vol_a" "$tmp/a2.key"
same "old secret is archived" "$vol_a" "$tmp/a.key" --archive
run "archive is 0600" 0 test "$(stat -c %a "$state/archive/$vol_a.1.json")" = 600
run "rotate with another volume's registration" 2 kb volume rotate "$vol_a" --from "$tmp/c.reg"
same "refused rotate changed nothing" "$vol_a" "$tmp/a2.key"
run "rotate without a secret" 2 kb volume rotate "$vol_a"
run "rotate of an unknown volume" 1 kb volume rotate "$vol_c" --from "$tmp/c.reg"
run "set-policy" 0 kb volume set-policy "$vol_a" strict
run "set-policy shows" 0 kb volume show "$vol_a"
t_contains "policy changed" "$t_out" "policy      strict"
run "set-policy to an unknown policy" 1 kb volume set-policy "$vol_a" nope
run "purge of a current volume is refused" 1 kb volume purge "$vol_d"
run "remove" 0 kb volume remove "$vol_d"
run "removed volume is gone" 1 kb volume show "$vol_d"
same "removed volume's secret is archived" "$vol_d" "$tmp/d.key" --archive
run "purge" 0 kb volume purge "$vol_d"
t_contains "purge counts" "$t_out" "purged 1 archived record"
run "purged archive is gone" 0 test ! -e "$state/archive/$vol_d.1.json"

# --- the state directory itself ---
chmod 755 "$state"
run "a state open to others is refused" 1 kb volume list
t_contains "the refusal says why" "$t_out" "open to group or others"
chmod 700 "$state"
ln -s "$state" "$tmp/link"
run "a symlinked state is refused" 1 "$broker" volume list --state "$tmp/link"
t_contains "the refusal says why" "$t_out" "symbolic link"
printf 'state_dir = %s\n' "$state" >"$tmp/broker.conf"
run "--config gives the state" 0 "$broker" volume list --config "$tmp/broker.conf"
t_contains "--config lists the volumes" "$t_out" "$vol_a"
run "--state wins over --config" 1 "$broker" volume list --config "$tmp/broker.conf" \
	--state "$tmp/none"

# --- concurrent admin commands: the lock serialises them ---
key r1.key
key r2.key
rotate_b_8_times() {
	for _ in 1 2 3 4 5 6 7 8; do
		kb volume rotate "$vol_b" --secret-file "$1" || return 1
	done
}
rotate_b_8_times "$tmp/r1.key" >/dev/null 2>&1 &
p1=$!
rotate_b_8_times "$tmp/r2.key" >/dev/null 2>&1 &
p2=$!
s1=0 s2=0
wait "$p1" || s1=$?
wait "$p2" || s2=$?
run "16 concurrent rotates all succeed" 0 test "$s1$s2" = 00
run "concurrent rotates" 0 kb volume show "$vol_b" --json
t_contains "no rotate was lost" "$t_out" '"generation":17'
t_contains "every generation archived" "$t_out" '"archived":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]'

# Whichever rotate came last set volume B's secret.
b_key=$tmp/r2.key
if "$check" "$state" "$vol_b" "$tmp/r1.key" >/dev/null 2>&1; then
	b_key=$tmp/r1.key
fi

secrets_seen=0
for k in a a2 b c d r1 r2; do
	if grep -qF "$(base64 -w0 "$tmp/$k.key")" "$outputs"; then
		secrets_seen=$((secrets_seen + 1))
	fi
done
run "no output ever showed a secret" 0 test "$secrets_seen" -eq 0

# --- kill -9 right before each system call of a store change ---
syscalls="openat write fsync rename renameat renameat2 unlinkat"
cp -a "$state" "$tmp/base"
kills=0 torn=0 rotated_old=0 rotated_new=0

# no_debris WHERE: the kill left nothing a reader sees, and the next command swept it.
no_debris() {
	[ -z "$(find "$state" -name '.*.tmp.*')" ] || torn=$((torn + 1))
	run "$1: the store is readable after the kill" 0 kb volume list
	debris=$(find "$state" -name '.*.tmp.*')
	run "$1: stale temporaries swept" 0 test -z "$debris"
	same "$1: untouched volume intact" "$vol_b" "$b_key"
}

after_add() {
	no_debris "$1"
	same "$1: volume A intact" "$vol_a" "$tmp/a2.key"
	if kb volume show "$vol_c" >/dev/null 2>&1; then
		same "$1: added volume is whole" "$vol_c" "$tmp/c.key"
		run "$1: re-run says it exists" 1 kb volume add --from "$tmp/c.reg"
		t_contains "$1: re-run refusal" "$t_out" "exists"
	else
		run "$1: re-run adds it" 0 kb volume add --from "$tmp/c.reg"
	fi
	same "$1: volume C after the re-run" "$vol_c" "$tmp/c.key"
}

after_rotate() {
	no_debris "$1"
	if "$check" "$state" "$vol_a" "$tmp/a2.key" >/dev/null 2>&1; then
		t_ok "$1: rotated volume has its old secret"
		rotated_old=$((rotated_old + 1))
	else
		rotated_new=$((rotated_new + 1))
		same "$1: rotated volume has its new secret" "$vol_a" "$tmp/a.key"
		same "$1: old secret is in the archive" "$vol_a" "$tmp/a2.key" --archive
	fi
	run "$1: re-run succeeds" 0 kb volume rotate "$vol_a" --secret-file "$tmp/a.key"
	same "$1: new secret after the re-run" "$vol_a" "$tmp/a.key"
	same "$1: old secret archived after the re-run" "$vol_a" "$tmp/a2.key" --archive
}

after_remove() {
	no_debris "$1"
	if kb volume show "$vol_a" >/dev/null 2>&1; then
		same "$1: volume not yet removed is whole" "$vol_a" "$tmp/a2.key"
		run "$1: re-run removes it" 0 kb volume remove "$vol_a"
	else
		same "$1: removed volume is in the archive" "$vol_a" "$tmp/a2.key" --archive
		run "$1: re-run says it is gone" 1 kb volume remove "$vol_a"
	fi
	same "$1: archived after the re-run" "$vol_a" "$tmp/a2.key" --archive
}

# crash_each CHECK CMD...: for each traced system call S and N = 1, 2, ...
# until CMD completes, run CMD from the base state, killed right before
# its Nth call of S, then CHECK what it left.
crash_each() {
	after=$1
	shift
	for sc in $syscalls; do
		n=1
		while [ "$n" -le 200 ]; do
			rm -rf "$state"
			cp -a "$tmp/base" "$state"
			status=0
			strace -f -o /dev/null -e trace="$sc" -e inject="$sc:signal=KILL:when=$n" \
				"$broker" "$@" --state "$state" >/dev/null 2>&1 || status=$?
			[ "$status" -eq 137 ] || break
			kills=$((kills + 1))
			"$after" "$2 killed at $sc #$n"
			n=$((n + 1))
		done
		run "$2 completes under strace after $((n - 1)) kills at $sc" 0 test "$status" -eq 0
	done
}

if ! command -v strace >/dev/null; then
	echo "skipped: strace is not installed, so the kill-at-each-syscall checks cannot run"
else
	crash_each after_add volume add --from "$tmp/c.reg"
	crash_each after_rotate volume rotate "$vol_a" --secret-file "$tmp/a.key"
	crash_each after_remove volume remove "$vol_a"
	echo "killed $kills times at a system call: $torn left a temporary file;" \
		"a rotate left the old secret $rotated_old times, the new one $rotated_new times"
	run "some kills came mid-write (a temporary file was left)" 0 test "$torn" -gt 0
	run "some rotates were killed before, some after the switch" 0 \
		test "$rotated_old" -gt 0 -a "$rotated_new" -gt 0
fi

# --- kill -9 at random instants: rotate volume A, add volumes ---
# A command takes a few milliseconds here: delays are drawn up to what one
# takes (at most 20 ms), so that most kills land inside it. timeout(1)
# starts the clock as it starts the command and sends the SIGKILL;
# --foreground makes it wait until the command is dead (without it, it
# kills its whole group, itself first, and the next command could find the
# lock still held by the dying one).
rm -rf "$state"
cp -a "$tmp/base" "$state"
start=$(date +%s%N)
for _ in 1 2 3 4 5; do
	kb volume rotate "$vol_a" --secret-file "$tmp/a2.key" >/dev/null
done
span_us=$((($(date +%s%N) - start) / 5000))
[ "$span_us" -le 20000 ] || span_us=20000
echo "one rotate takes about $span_us us"
rm -rf "$state"
cp -a "$tmp/base" "$state"
cp "$tmp/a2.key" "$tmp/current.key"
completed=0
i=0
while [ "$i" -lt 30 ]; do
	i=$((i + 1))
	us=$(($(od -An -N4 -tu4 /dev/urandom) % span_us + 1))
	key next.key
	set -- volume rotate "$vol_a" --secret-file "$tmp/next.key"
	if [ $((i % 2)) -eq 1 ]; then
		vol=$(printf '%08x-0000-4000-8000-%012x' "$i" "$i")
		registration "$vol" "$tmp/next.key" "$tmp/next.reg"
		set -- volume add --from "$tmp/next.reg"
	fi
	status=0
	timeout --foreground -s KILL "0.$(printf %06d "$us")" "$broker" "$@" --state "$state" \
		>/dev/null 2>&1 || status=$?
	where="random kill $i after $us us"
	case $status in
	124 | 137) ;;	# timed out, so killed (or finishing as the kill came)
	0) completed=$((completed + 1)) ;;
	*) t_fail "$where: $1 $2 failed (exit $status) instead of completing or dying" ;;
	esac
	no_debris "$where"
	if [ $((i % 2)) -eq 1 ]; then
		if kb volume show "$vol" >/dev/null 2>&1; then
			same "$where: added volume is whole" "$vol" "$tmp/next.key"
		else
			t_ok "$where: volume not added, nothing left"
		fi
	elif "$check" "$state" "$vol_a" "$tmp/current.key" >/dev/null 2>&1; then
		t_ok "$where: rotated volume has its old secret"
	else
		same "$where: rotated volume has its new secret" "$vol_a" "$tmp/next.key"
		same "$where: old secret is in the archive" "$vol_a" "$tmp/current.key" --archive
		cp "$tmp/next.key" "$tmp/current.key"
	fi
done
echo "random kills: $completed of 30 commands completed before the kill"

t_done
