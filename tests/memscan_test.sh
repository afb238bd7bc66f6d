# shellcheck shell=sh
# The memory scanner of the test build (agent/memscan.h), on its own: the
# agent's tests rely on its "clean", so here it must be seen to fail.
# snp-unseal-memscan runs `unlock` with a configuration file that does not
# exist, which ends (exit 2) before any device or network, and scans at
# exit: a needle planted in the heap, across a chunk boundary, or given
# in the environment as raw bytes is FOUND; a needle that is nowhere is
# clean; a malformed needle list is refused by name, with no verdict.
set -eu
. "$TOP/tests/lib.sh"

memscan=$BUILD/bin/snp-unseal-memscan
agent=$BUILD/snp-unseal
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$memscan" ]; then
	echo "skipped: $memscan is not built (make memscan)"
	t_done
	exit 0
fi

# random_hex BYTES
random_hex() {
	od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n'
}

# scan LABEL BINARY VAR=VALUE...: unlock that fails at once, under those
# variables; its stderr is left in $t_out. Passes when unlock's exit
# status is still its own (2: configuration), whatever the scan found.
scan() {
	label=$1 bin=$2
	shift 2
	t_status "$label: unlock exits 2" 2 env "$@" "$bin" unlock --config "$tmp/absent.conf" \
		--cmdline none --kmsg none --no-poweroff --on-failure fallback
}

# t_lacks NAME HAYSTACK NEEDLE
t_lacks() {
	case $2 in
	*"$3"*) t_fail "$1" "did not expect: $3" "in: $2" ;;
	*) t_ok "$1" ;;
	esac
}

secret=$(random_hex 32)
key=$(random_hex 64)
needles="$secret,$key"

# --- What is nowhere is not found.
scan "no copy" "$memscan" SNP_UNSEAL_MEMSCAN_NEEDLES="$needles"
t_contains "clean without a copy" "$t_out" "memscan: clean ("
t_lacks "nothing found without a copy" "$t_out" "FOUND"
case $t_out in
*"memscan: clean (0 bytes"* | *" in 0 mappings)"*) t_fail "the scan read memory" "$t_out" ;;
*) t_ok "the scan read memory" ;;
esac

# --- What is there is found.
scan "heap copy" "$memscan" SNP_UNSEAL_MEMSCAN_NEEDLES="$needles" SNP_UNSEAL_MEMSCAN_PLANT=1
t_contains "a copy in the heap is found" "$t_out" "memscan: FOUND 0 in "
t_lacks "only the needle that was copied" "$t_out" "FOUND 1"
t_lacks "no clean verdict when found" "$t_out" "memscan: clean"

# Across a page boundary, read a page at a time: the copy straddles two chunks.
page=$(getconf PAGESIZE)
scan "straddle, page chunks" "$memscan" SNP_UNSEAL_MEMSCAN_NEEDLES="$needles" \
	SNP_UNSEAL_MEMSCAN_PLANT=straddle \
	SNP_UNSEAL_MEMSCAN_CHUNK="$page"
t_contains "a copy across a chunk boundary is found" "$t_out" "memscan: FOUND 0 in [anon] "

# The second needle, planted in the default 64 KiB chunks.
scan "straddle" "$memscan" SNP_UNSEAL_MEMSCAN_NEEDLES="$key,$secret" \
	SNP_UNSEAL_MEMSCAN_PLANT=straddle
t_contains "a copy in a page pair is found" "$t_out" "memscan: FOUND 0 in [anon] "
t_lacks "and the other needle is not" "$t_out" "FOUND 1"

# Without any plant: raw bytes the process really holds (its environment, on the stack).
canary="memscan-canary-$(random_hex 8)"
canary_hex=$(printf '%s' "$canary" | od -An -tx1 | tr -d ' \n')
scan "canary" "$memscan" SNP_UNSEAL_MEMSCAN_NEEDLES="$secret,$canary_hex" \
	MEMSCAN_CANARY="$canary"
t_contains "raw bytes in the environment are found on the stack" "$t_out" \
	"memscan: FOUND 1 in [stack] "
t_lacks "the secret given only in hex is not" "$t_out" "FOUND 0"

# --- Malformed needle lists: refused by name, with no verdict.
# refused NAME LIST WANT
refused() {
	scan "$1" "$memscan" SNP_UNSEAL_MEMSCAN_NEEDLES="$2" SNP_UNSEAL_MEMSCAN_PLANT=1
	t_contains "$1 is refused" "$t_out" "memscan: error: SNP_UNSEAL_MEMSCAN_NEEDLES: $3"
	case $t_out in
	*"memscan: clean"* | *"memscan: FOUND"*) t_fail "$1: no verdict" "$t_out" ;;
	*) t_ok "$1: no verdict" ;;
	esac
}
refused "an empty list" "" "needle 0: 0 bytes, fewer than 8"
refused "an empty needle" "$secret,,$key" "needle 1: 0 bytes"
refused "a trailing comma" "$secret," "needle 1: 0 bytes"
refused "an odd digit count" "${secret}a" "needle 0: not hex"
refused "a non-hex digit" "$secret,0011223344556g77" "needle 1: not hex"
refused "a 0x prefix" "0x$secret" "needle 0: not hex"
refused "a space" "$secret, $key" "needle 1: not hex"
refused "7 bytes" "00112233445566" "needle 0: 7 bytes, fewer than 8"
refused "129 bytes" "$(random_hex 129)" "needle 0: more than 128 bytes"
many=$secret
for _ in $(seq 16); do
	many="$many,$secret"
done
refused "17 needles" "$many" "more than 16 needles"
scan "8 and 128 bytes" "$memscan" SNP_UNSEAL_MEMSCAN_NEEDLES="$(random_hex 8),$(random_hex 128)"
t_contains "8 and 128 bytes are accepted" "$t_out" "memscan: clean ("

scan "bad chunk" "$memscan" SNP_UNSEAL_MEMSCAN_NEEDLES="$needles" SNP_UNSEAL_MEMSCAN_CHUNK=100
t_contains "a bad chunk size is refused" "$t_out" "memscan: error: SNP_UNSEAL_MEMSCAN_CHUNK"
scan "bad plant" "$memscan" SNP_UNSEAL_MEMSCAN_NEEDLES="$needles" SNP_UNSEAL_MEMSCAN_PLANT=yes
t_contains "a bad plant is refused" "$t_out" "memscan: error: SNP_UNSEAL_MEMSCAN_PLANT"

# --- Without needles, and in the normal agent, there is no scan at all.
scan "no needles" "$memscan" SNP_UNSEAL_MEMSCAN_PLANT=1
t_lacks "no needles: no scan" "$t_out" "memscan:"
if [ -x "$agent" ]; then
	scan "normal agent" "$agent" SNP_UNSEAL_MEMSCAN_NEEDLES="$needles" SNP_UNSEAL_MEMSCAN_PLANT=1
	t_lacks "the normal agent does not scan" "$t_out" "memscan:"
else
	t_fail "the normal agent $agent is built"
fi

t_done
