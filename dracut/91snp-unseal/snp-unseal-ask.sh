#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /sbin/snp-unseal-ask DEVICE NAME [ARGS...]: 90crypt's cryptroot-ask (the
# passphrase prompt), held back until snp-unseal ran. While the agent has
# not run and the network has not been up for long (rd.snp_unseal_net_wait,
# seconds, default 60), the job puts itself back into the settled queue;
# the initqueue/online hook runs the agent meanwhile. Then cryptroot-ask
# finds the volume open and asks nothing, or prompts as usual.

# shellcheck source=/dev/null # dracut's, in the initrd
. /lib/dracut-lib.sh
# shellcheck source=/dev/null # the initrd's copy of snp-unseal-lib.sh
. /lib/snp-unseal-lib.sh

if [ ! -e "$SNP_UNSEAL_DONE" ] && snp_unseal_enabled; then
    mkdir -p "$SNP_UNSEAL_RUN"
    [ -e "$SNP_UNSEAL_RUN/ask-since" ] || snp_unseal_uptime > "$SNP_UNSEAL_RUN/ask-since"
    read -r since < "$SNP_UNSEAL_RUN/ask-since"
    wait=$(getargnum 60 0 3600 rd.snp_unseal_net_wait)
    if [ $(($(snp_unseal_uptime) - since)) -lt "$wait" ]; then
        initqueue --settled --unique --onetime --name "cryptroot-ask-${1##*/}" \
            /sbin/snp-unseal-ask "$@"
        exit 0
    fi
    warn "snp-unseal: no network after ${wait} s: the volume was not unlocked; the passphrase prompt follows"
fi
exec /sbin/cryptroot-ask "$@"
