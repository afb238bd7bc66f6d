/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_MEMSCAN_H
#define SNP_UNSEAL_AGENT_MEMSCAN_H

/*
 * A test build's check that no secret outlives its use. The test binary
 * build/bin/snp-unseal-memscan is the agent with agent/memscan.c built
 * with -DSNP_UNSEAL_MEMSCAN; the normal agent's memscan_at_exit does
 * nothing.
 *
 * In the test build, when SNP_UNSEAL_MEMSCAN_NEEDLES is set to a
 * comma-separated list of hex strings (the disk secret, the LUKS volume
 * key), memscan_at_exit reads the process's own memory (every readable
 * mapping in /proc/self/maps, through /proc/self/mem) and reports each
 * needle found, with the mapping it was in, on stderr as
 * "memscan: FOUND <needle index> in <mapping>", or "memscan: clean
 * (N bytes in M mappings)". The needles themselves live in a mapping
 * of their own that the scan skips; the environment holds them only in
 * hex, which never matches the raw bytes.
 *
 * Returns the number of needles found (0 in the normal build).
 */
int memscan_at_exit(void);

#endif
