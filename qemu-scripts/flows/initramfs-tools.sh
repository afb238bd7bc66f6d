# shellcheck shell=sh
# A flow of qemu-scripts/demo: Debian's initramfs-tools (mkinitramfs, with
# cryptsetup-initramfs's cryptroot) with initramfs-tools/'s hook and
# scripts, built by tests/e2e/initramfs-tools.sh (see
# qemu-scripts/flows/dracut.sh for what a flow defines).

# shellcheck source=tests/e2e/initramfs-tools.sh
. "$TOP/tests/e2e/initramfs-tools.sh"

# shellcheck disable=SC2034 # read by qemu-scripts/demo
FLOW_TITLE="initramfs-tools $(dpkg-query -W -f='${Version}' initramfs-tools-core 2>/dev/null)"

# The root's crypttab line, which the initrd's /cryptroot/crypttab holds.
flow_crypttab() {
	printf 'root_crypt UUID=%s none luks,discard\n' "$E2E_UUID" >"$E2E_W/initramfs-tools.crypttab"
}

flow_initrd() {
	flow_crypttab &&
		e2e_initramfs "$1" "$E2E_W/initramfs-tools.d" "$E2E_W/initramfs-tools.crypttab" with
}

flow_initrd_plain() {
	flow_crypttab &&
		e2e_initramfs "$1" "$E2E_W/initramfs-tools-plain.d" "$E2E_W/initramfs-tools.crypttab" \
			without
}

# initramfs-tools always carries its network (klibc's ipconfig,
# configure_networking) and the initrds here all list virtio_net: the
# initrd without snp-unseal already has it.
flow_initrd_net() {
	flow_initrd_plain "$1"
}

flow_append() {
	e2e_initramfs_append
}
