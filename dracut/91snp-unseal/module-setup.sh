#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck disable=SC2154 # dracut sets initdir, moddir, systemd*dir... and the .conf settings
# dracut module snp-unseal: unlock LUKS2 volumes early in the initrd with a
# key the guest owner's attestation service (snp-keybroker) releases against
# an SEV-SNP attestation report. See README.md beside this file.
#
# Settings a builder may put in a dracut .conf file:
#   snp_unseal_binary=PATH   the agent to copy (default: snp-unseal on PATH,
#                            /usr/sbin/snp-unseal after `make install`)
#   snp_unseal_confdir=DIR   where snp-unseal.conf and ca.pem are taken from
#                            (default /etc/snp-unseal); both are optional
#   snp_unseal_cmdline=yes   also write "rd.neednet=1 ip=dhcp" into the
#                            initrd's /etc/cmdline.d (and, with systemd-networkd,
#                            the .network file that ip=dhcp stands for: its
#                            generator reads only /proc/cmdline)
#   snp_unseal_retry=SECONDS dracut's rd.retry, written into the initrd's
#                            /etc/cmdline.d (default 300; "no" leaves dracut's
#                            180). dracut's initqueue counts it down while it
#                            waits for the root device, and past it drops to
#                            the emergency shell ("Could not boot"); it pauses
#                            only while a passphrase is asked for, or while a
#                            job of its own runs (with rd.luks.uuid and no
#                            crypttab line, 90crypt's job starts the
#                            cryptsetup unit and waits: seen in the e2e boots),
#                            not while the agent runs before a crypttab's
#                            cryptsetup unit. The agent's default bounds
#                            (device_timeout 30 s + deadline 120 s) and the
#                            network's start come near 180 s. A kernel command
#                            line rd.retry still wins.

snp_unseal_agent() {
    local _bin=${snp_unseal_binary:-}
    [[ $_bin ]] || _bin=$(find_binary snp-unseal) || return 1
    [[ -x $dracutsysrootdir$_bin ]] || return 1
    printf '%s\n' "$_bin"
}

# called by dracut
check() {
    snp_unseal_agent > /dev/null || return 1
    # Only when asked for: an initrd for a machine that is no SEV-SNP guest
    # has no use for it.
    return 255
}

# called by dracut
#
# The network: 40network picks systemd-networkd on Debian 12 whenever its
# binary is there (no NetworkManager, wicked or connman), which in an initrd
# with systemd gives network-online.target through
# systemd-networkd-wait-online. Without systemd that module cannot run (it
# needs dbus and systemd-sysusers), so network-legacy (dhclient) is asked
# for instead: it calls the initqueue/online hooks when a lease is bound.
depends() {
    if dracut_module_included "systemd"; then
        echo crypt network
    else
        echo crypt network-legacy network
    fi
    return 0
}

# called by dracut
#
# Always, whatever the host runs (hostonly='' as 90crypt does for drbg):
# the builder is usually no SEV-SNP guest. sev-guest is /dev/sev-guest;
# tsm is configfs-tsm (Linux 6.7 and later; silently absent before);
# virtio_console carries the firmware simulator's port in the simulated set-up.
installkernel() {
    hostonly='' instmods sev-guest tsm configfs virtio_console dm_crypt
}

# called by dracut
install() {
    local _bin _confdir=${snp_unseal_confdir:-/etc/snp-unseal} _f

    _bin=$(snp_unseal_agent) || {
        dfatal "snp-unseal: the agent is missing (set snp_unseal_binary or run make install)"
        return 1
    }
    inst_simple "$_bin" /usr/sbin/snp-unseal
    for _f in snp-unseal.conf ca.pem; do
        [[ -f $_confdir/$_f ]] && inst_simple "$_confdir/$_f" "/etc/snp-unseal/$_f"
    done
    # Not /sys/kernel/config: dracut's init mounts sysfs only when there is
    # no /sys/kernel in the image; configfs' mount point comes with sysfs.

    mkdir -p "$initdir/etc/cmdline.d"
    if [[ ${snp_unseal_retry:-300} != no ]]; then
        echo "rd.retry=${snp_unseal_retry:-300}" > "$initdir/etc/cmdline.d/91snp-unseal-retry.conf"
    fi
    if [[ $snp_unseal_cmdline == yes ]]; then
        echo "rd.neednet=1 ip=dhcp" > "$initdir/etc/cmdline.d/91snp-unseal.conf"
        if dracut_module_included "systemd-networkd"; then
            inst_simple "$moddir/91-snp-unseal-dhcp.network" \
                "$systemdnetworkconfdir/91-snp-unseal-dhcp.network"
        fi
    fi

    if dracut_module_included "systemd"; then
        inst_multiple -o modprobe
        inst_simple "$moddir/snp-unseal.service" "$systemdsystemunitdir/snp-unseal.service"
        $SYSTEMCTL -q --root "$initdir" enable snp-unseal.service
    else
        inst_simple "$moddir/snp-unseal-lib.sh" /lib/snp-unseal-lib.sh
        inst_script "$moddir/snp-unseal-ask.sh" /sbin/snp-unseal-ask
        inst_hook cmdline 31 "$moddir/parse-snp-unseal.sh"
        inst_hook initqueue/online 60 "$moddir/snp-unseal-online.sh"
        inst_multiple mount
    fi
    dracut_need_initqueue
}
