# shellcheck shell=sh
# deps/: a pin that does not match what the archive holds stops the build
# with a message naming the file, and unchanged pins rebuild nothing.
# Uses the files `make` already fetched into build/deps, so no download.
set -eu
. "$TOP/tests/lib.sh"

deps=$BUILD/deps
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The real pins with the mbedtls .dsc hash changed in its first digit.
awk '$1 == "mbedtls" { $4 = ($4 ~ /^0/ ? "1" : "0") substr($4, 2) } { print }' \
	"$TOP/deps/pins" >"$tmp/pins"
fetch_with_pins() { DEPS_PINS="$tmp/pins" "$TOP/deps/fetch" "$deps"; }

t_status "wrong .dsc hash stops the fetch" nonzero fetch_with_pins
t_contains "the message names the .dsc" "$t_out" "mbedtls_3.6"
t_contains "the message says why" "$t_out" "sha256 is"

awk '$1 == "lvm2" { $5 = ($5 ~ /^0/ ? "1" : "0") substr($5, 2) } { print }' \
	"$TOP/deps/pins" >"$tmp/pins"
t_status "wrong orig hash stops the fetch" nonzero fetch_with_pins
t_contains "the message names the orig tarball" "$t_out" "lvm2_2.03.16.orig"

printf 'mbedtls 3.6.6-0.1~deb13u1 trixie\n' >"$tmp/pins"
t_status "a malformed pin line is refused" nonzero fetch_with_pins
t_contains "the message says malformed" "$t_out" "malformed line for 'mbedtls'"

stamp_before=$(cat "$deps/stamp")
out=$("$TOP/deps/build" "$deps" 2>&1)
if [ -z "$out" ]; then t_ok "unchanged pins rebuild nothing"; else t_fail "unchanged pins rebuild nothing" "$out"; fi
t_contains "the stamp still matches" "$(cat "$deps/stamp")" "$stamp_before"

t_done
