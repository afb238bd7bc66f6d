# shellcheck shell=sh
# initramfs-tools initrds for the QEMU end-to-end tests and the demo,
# beside qemu-scripts/lib.sh's dracut ones: source it after lib.sh (TOP,
# BUILD, e2e_init and e2e_kernel or e2e_world done).
#
#   e2e_initramfs OUT CONFDIR CRYPTTAB with|without|nosysboot [LINE...]
#       mkinitramfs -d CONFDIR -o OUT $E2E_KVER, zstd. CONFDIR (made
#       empty) gets an initramfs.conf with MODULES=list and the virtio and
#       ext4 drivers, initramfs-tools/'s hook and scripts (unless
#       "without": the same initrd without snp-unseal, to measure what it
#       adds; "nosysboot": with them, but the agent runs without
#       CAP_SYS_BOOT, through util-linux's setpriv, so that failing closed cannot power
#       off), the initrd's /etc/snp-unseal (e2e_guest_etc with LINEs) and
#       a hook of the test's own that makes CRYPTTAB (a file; empty: none)
#       the initrd's /cryptroot/crypttab. The agent comes from $BUILD.
#       The log is $E2E_W/mkinitramfs.log.
#   e2e_initramfs_append     the kernel command line for these initrds
#                            (crypttab names the root root_crypt), on stdout.
#
# Why a hook of our own for crypttab: cryptsetup-initramfs's hook reads
# only the builder's /etc/crypttab, for the builder's own root; hooks in
# CONFDIR/hooks run after it, so ours writes the line of the guest's
# root, and copies the keyscript a line names, as cryptroot's hook does.
# Nothing is written outside CONFDIR and OUT.

e2e_initramfs_append() {
	echo "root=/dev/mapper/root_crypt ip=dhcp"
}

e2e_initramfs() {
	ei_out=$1 ei_conf=$2 ei_tab=$3 ei_with=$4
	shift 4
	[ -x /usr/share/initramfs-tools/hooks/cryptroot ] ||
		e2e_err "cryptsetup-initramfs is not installed (qemu-scripts/install-deps)" ||
		return 1
	rm -rf "$ei_conf"
	mkdir -p "$ei_conf/hooks" "$ei_conf/scripts/local-top" "$ei_conf/scripts/local-bottom" ||
		return 1
	cat >"$ei_conf/initramfs.conf" <<EOF
# initramfs-tools for the QEMU end-to-end guest: only the drivers it needs
MODULES=list
BUSYBOX=y
KEYMAP=n
COMPRESS=zstd
DEVICE=
NFSROOT=auto
RUNSIZE=10%
FSTYPE=ext4
EOF
	printf '%s\n' virtio_pci virtio_blk virtio_net ext4 >"$ei_conf/modules"
	e2e_guest_etc "$ei_conf/etc" "$@" || return 1
	if [ "$ei_with" != without ]; then
		cp "$TOP/initramfs-tools/hooks/snp-unseal" "$ei_conf/hooks/" &&
			cp "$TOP/initramfs-tools/scripts/snp-unseal-functions" "$ei_conf/scripts/" &&
			cp "$TOP/initramfs-tools/scripts/local-top/snp-unseal" \
				"$ei_conf/scripts/local-top/" &&
			cp "$TOP/initramfs-tools/scripts/local-bottom/snp-unseal" \
				"$ei_conf/scripts/local-bottom/" || return 1
	fi
	if [ -s "$ei_tab" ]; then
		cp "$ei_tab" "$ei_conf/crypttab" || return 1
	fi
	cp "$TOP/initramfs-tools/keyscript/snp-unseal-keyscript" "$ei_conf/keyscript" || return 1
	if [ "$ei_with" = nosysboot ]; then
		printf '%s\n' '#!/bin/sh' \
			'# e2e: the real agent without CAP_SYS_BOOT (util-linux setpriv, not busybox)' \
			'exec /usr/libexec/e2e-setpriv --bounding-set -sys_boot /usr/sbin/snp-unseal.real "$@"' \
			>"$ei_conf/agent-wrapper" || return 1
	fi
	cat >"$ei_conf/hooks/zz-e2e-crypttab" <<'EOF'
#!/bin/sh
# The guest's crypttab as the initrd's /cryptroot/crypttab, and the
# keyscript it names (what cryptroot's hook does for the builder's root);
# the agent behind a wrapper when there is one. After hooks/snp-unseal.
case "$1" in prereqs) echo snp-unseal; exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
if [ -f "$CONFDIR/agent-wrapper" ]; then
	mv "$DESTDIR/usr/sbin/snp-unseal" "$DESTDIR/usr/sbin/snp-unseal.real" &&
		cp "$CONFDIR/agent-wrapper" "$DESTDIR/usr/sbin/snp-unseal" &&
		chmod 0755 "$DESTDIR/usr/sbin/snp-unseal" &&
		copy_exec /usr/bin/setpriv /usr/libexec/e2e-setpriv || exit 1
fi
[ -f "$CONFDIR/crypttab" ] || exit 0
mkdir -p "$DESTDIR/cryptroot"
cp "$CONFDIR/crypttab" "$DESTDIR/cryptroot/crypttab"
if grep -q 'keyscript=/lib/cryptsetup/scripts/snp-unseal-keyscript' "$CONFDIR/crypttab"; then
	copy_file keyscript "$CONFDIR/keyscript" /lib/cryptsetup/scripts/snp-unseal-keyscript ||
		[ $? -eq 1 ] || exit 1
fi
exit 0
EOF
	chmod 0755 "$ei_conf/hooks/"* || return 1
	SNP_UNSEAL_AGENT=$BUILD/snp-unseal SNP_UNSEAL_CONFIG_DIR=$ei_conf/etc \
		mkinitramfs -d "$ei_conf" -o "$ei_out" "$E2E_KVER" >"$E2E_W/mkinitramfs.log" 2>&1 ||
		e2e_err "mkinitramfs: $(tail -n 20 "$E2E_W/mkinitramfs.log")"
}
