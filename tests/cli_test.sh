# shellcheck shell=sh
# snp-unseal's command line, and the shape of the binary: fully static, so
# it runs in an initrd that carries no libraries for it.
set -eu
. "$TOP/tests/lib.sh"

agent=$BUILD/snp-unseal

out=$("$agent" --version)
t_contains "version names snp-unseal" "$out" "snp-unseal "
t_contains "version names mbedTLS 3.6" "$out" "Mbed TLS 3.6."
t_contains "version names libcryptsetup 2.8" "$out" "libcryptsetup 2.8."
t_contains "version names libblkid" "$out" "libblkid 2."
t_contains "libcryptsetup answers at run time" "$out" "(default format LUKS2)"

out=$("$agent" --help)
t_contains "help shows usage" "$out" "Usage: snp-unseal"

status=0
err=$("$agent" --frobnicate 2>&1) || status=$?
if [ "$status" -eq 2 ]; then t_ok "unknown option exits 2"; else t_fail "unknown option exits 2" "exit $status"; fi
t_contains "unknown option is named" "$err" "'--frobnicate'"

status=0
err=$("$agent" --version extra 2>&1) || status=$?
if [ "$status" -eq 2 ]; then t_ok "extra argument exits 2"; else t_fail "extra argument exits 2" "exit $status"; fi
t_contains "extra argument is named" "$err" "'extra'"

status=0
"$agent" >/dev/null 2>&1 || status=$?
if [ "$status" -eq 2 ]; then t_ok "no argument exits 2"; else t_fail "no argument exits 2" "exit $status"; fi

t_contains "file says statically linked" "$(file -L "$agent")" "statically linked"
status=0
out=$(ldd "$agent" 2>&1) || status=$?
t_contains "ldd says not a dynamic executable" "$out" "not a dynamic executable"

t_done
