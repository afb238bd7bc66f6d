# shellcheck shell=sh
# A flow of qemu-scripts/demo: dracut (Debian 12's, with systemd in the
# initrd, as Debian builds it) with the module dracut/91snp-unseal.
#
# A flow file is sourced by the demo after e2e_world (qemu-scripts/lib.sh)
# and defines:
#   FLOW_TITLE                the builder, for the demo's output
#   flow_initrd OUT           an initrd with snp-unseal
#   flow_initrd_plain OUT     the same builder's initrd without it (for its size)
#   flow_initrd_net OUT       without it but with the network it brings (size)
#   flow_append               the kernel command line for flow_initrd, on stdout

# shellcheck disable=SC2034 # read by qemu-scripts/demo
FLOW_TITLE="dracut $(dracut --help 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)"

flow_initrd() {
	e2e_dracut_snp "$1" systemd
}

flow_initrd_plain() {
	mkdir -p "$E2E_W/plain.conf.d" && e2e_dracut "$1" "$E2E_W/plain.conf.d"
}

flow_initrd_net() {
	mkdir -p "$E2E_W/plain.conf.d" && e2e_dracut "$1" "$E2E_W/plain.conf.d" --add network
}

flow_append() {
	echo "$E2E_DRACUT_APPEND"
}
