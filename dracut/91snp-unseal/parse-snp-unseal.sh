#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# cmdline hook, after 90crypt's (30): its udev rules queue cryptroot-ask,
# the passphrase prompt, as a "settled" initqueue job, which can run before
# the network is up and so before snp-unseal (an initqueue/online hook) had
# its chance. Route those jobs through /sbin/snp-unseal-ask, which holds
# the prompt back until the agent ran (or the network never came).

if getargbool 1 rd.snp_unseal && [ -e /etc/udev/rules.d/70-luks.rules ]; then
    sed -i -e 's|\([ "]\)[^ "]*/cryptroot-ask |\1/sbin/snp-unseal-ask |' \
        /etc/udev/rules.d/70-luks.rules
fi
