#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# snp-unseal in a dracut initrd without systemd: what the hooks share.
# Sourced after /lib/dracut-lib.sh (getargbool, getargnum, info, warn).
# shellcheck disable=SC3043 # dracut's shells have local; its own libraries use it

SNP_UNSEAL_RUN=/run/snp-unseal
# Written once the agent ran: its exit status.
SNP_UNSEAL_DONE=$SNP_UNSEAL_RUN/done
# The agent's standard error; its lines are in the kernel log too.
SNP_UNSEAL_LOG=/run/initramfs/snp-unseal.log

snp_unseal_enabled() {
    getargbool 1 rd.snp_unseal
}

# Seconds since boot.
snp_unseal_uptime() {
    local _up _rest
    read -r _up _rest < /proc/uptime
    echo "${_up%.*}"
}

# Fail closed by other means than the agent's (exit 11): the kernel's
# SysRq power-off, and never return.
snp_unseal_poweroff() {
    warn "snp-unseal: failing closed: powering off"
    echo o > /proc/sysrq-trigger
    while :; do
        sleep 60
    done
}

# Run the agent, once: modules and configfs first, its status kept in
# $SNP_UNSEAL_DONE, and one line saying what comes next.
snp_unseal_run() {
    local _st=0
    [ -e "$SNP_UNSEAL_DONE" ] && return 0
    mkdir -p "$SNP_UNSEAL_RUN" /run/initramfs
    modprobe -q sev-guest 2> /dev/null
    modprobe -q tsm 2> /dev/null
    if [ -d /sys/kernel/config ] && ! ismounted /sys/kernel/config; then
        mount -t configfs configfs /sys/kernel/config 2> /dev/null
    fi
    info "snp-unseal: unlocking"
    /usr/sbin/snp-unseal unlock 2>> "$SNP_UNSEAL_LOG" || _st=$?
    echo "$_st" > "$SNP_UNSEAL_DONE"
    case $_st in
        0) info "snp-unseal: done" ;;
        10) info "snp-unseal: disabled" ;;
        11) snp_unseal_poweroff ;;
        *) warn "snp-unseal: exit status $_st (the reason is above): the passphrase prompt follows" ;;
    esac
}
