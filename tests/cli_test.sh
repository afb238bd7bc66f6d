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

t_status "unknown option exits 2" 2 "$agent" --frobnicate
t_contains "unknown option is named" "$t_out" "'--frobnicate'"
t_status "extra argument exits 2" 2 "$agent" --version extra
t_contains "extra argument is named" "$t_out" "'extra'"
t_status "no argument exits 2" 2 "$agent"
t_contains "no argument shows usage" "$t_out" "Usage: snp-unseal"

t_contains "file says statically linked" "$(file -L "$agent")" "statically linked"
t_status "ldd refuses the agent" nonzero ldd "$agent"
t_contains "ldd says not a dynamic executable" "$t_out" "not a dynamic executable"

# make install puts the agent and its man page under DESTDIR and PREFIX.
dest=$(mktemp -d)
t_check "make install succeeds" make -s -C "$TOP" BUILD="$BUILD" DESTDIR="$dest" PREFIX=/opt/su install
t_check "install puts the agent in PREFIX/sbin" test -x "$dest/opt/su/sbin/snp-unseal"
t_check "install puts the man page in section 8" test -f "$dest/opt/su/share/man/man8/snp-unseal.8"
t_status "the installed agent runs" 0 "$dest/opt/su/sbin/snp-unseal" --version
t_check "install puts snp-keybroker in PREFIX/sbin" test -x "$dest/opt/su/sbin/snp-keybroker"
t_check "install puts snp-sim in PREFIX/bin" test -x "$dest/opt/su/bin/snp-sim"
t_check "install puts the man pages in place" test -f "$dest/opt/su/share/man/man8/snp-keybroker.8" -a -f "$dest/opt/su/share/man/man1/snp-sim.1"
t_check "install puts snp-owner and its man page in place" test -x "$dest/opt/su/bin/snp-owner" \
	-a -f "$dest/opt/su/share/man/man1/snp-owner.1"
t_status "the installed snp-owner runs" 0 "$dest/opt/su/bin/snp-owner" --help
rm -rf "$dest"

t_done
