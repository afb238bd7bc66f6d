# shellcheck shell=sh
# The unseal protocol's test vectors (tests/data/proto-vectors.txt, quoted
# in docs/protocol.md) recomputed from their inputs by Python's hashlib and
# cryptography, independently of mbedTLS and of proto/; the C unit tests
# check proto/ against the same file. python3-cryptography is a build
# dependency: without it this suite fails rather than skips.
set -eu
. "$TOP/tests/lib.sh"

python=/usr/bin/python3
checker=$TOP/tests/proto_vectors.py
vectors=$TOP/tests/data/proto-vectors.txt
doc=$TOP/docs/protocol.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$python" -c 'import cryptography.hazmat.primitives.ciphers.aead' 2>"$tmp/err"; then
	t_fail "python3-cryptography is installed" "$(cat "$tmp/err")" \
		"install it: apt-get install python3-cryptography"
	t_done || exit 1
fi
t_ok "python3-cryptography is installed"

# One line per vector: "ok NAME" or "FAIL NAME: ...".
status=0
"$python" "$checker" "$vectors" >"$tmp/out" 2>&1 || status=$?
while read -r verdict rest; do
	case $verdict in
	ok) t_ok "vector ${rest} recomputed" ;;
	FAIL) t_fail "vector ${rest%%:*} recomputed" "$rest" ;;
	esac
done <"$tmp/out"
t_status "the checker agrees with every vector" 0 sh -c "exit $status"
t_check "the checker checked all 14 outputs" test "$(grep -c '^ok ' "$tmp/out")" -eq 14

# The document quotes the file itself, between the fences after "## Test vectors".
awk '/^## Test vectors/ { in_section = 1 }
	in_section && /^```/ { if (in_block) exit; in_block = 1; next }
	in_block { print }' "$doc" >"$tmp/quoted"
t_check "docs/protocol.md quotes the vector file verbatim" cmp "$vectors" "$tmp/quoted"

# The check can fail: changed outputs and inputs are caught, by name.
sed 's/^\(ciphertext = \)6/\17/' "$vectors" >"$tmp/ct"
t_status "a changed ciphertext is refused" 1 "$python" "$checker" "$tmp/ct"
t_contains "the changed ciphertext is named" "$t_out" "FAIL ciphertext"
sed 's/^\(nonce = .*\)1f$/\11e/' "$vectors" >"$tmp/nonce"
t_status "a changed nonce is refused" 1 "$python" "$checker" "$tmp/nonce"
for name in report_data okm aad ciphertext challenge_json; do
	t_contains "a changed nonce changes $name" "$t_out" "FAIL $name:"
done
case $t_out in
*"FAIL z:"* | *"FAIL agent_public:"*) t_fail "the nonce does not enter Z or the keys" "$t_out" ;;
*) t_ok "the nonce does not enter Z or the keys" ;;
esac
sed 's/^\(volume = .*\)b$/\1c/' "$vectors" >"$tmp/volume"
t_status "a changed volume is refused" 1 "$python" "$checker" "$tmp/volume"
t_contains "a changed volume changes the KDF info" "$t_out" "FAIL info:"
grep -v '^okm = ' "$vectors" >"$tmp/missing"
t_status "a missing vector is refused" 1 "$python" "$checker" "$tmp/missing"
t_contains "the missing vector is named" "$t_out" "FAIL okm: the file has None"

t_done
