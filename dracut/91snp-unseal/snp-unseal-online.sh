#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# initqueue/online hook (sourced with the interface as $1 when a lease is
# bound): the network is up, unlock. Once, whatever the number of links.

# shellcheck source=/dev/null # the initrd's copy of snp-unseal-lib.sh
type snp_unseal_run > /dev/null 2>&1 || . /lib/snp-unseal-lib.sh

snp_unseal_enabled && snp_unseal_run
