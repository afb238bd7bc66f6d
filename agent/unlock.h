/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_UNLOCK_H
#define SNP_UNSEAL_AGENT_UNLOCK_H

/*
 * Unlocking one volume: the boot path's core, between finding the volume
 * (luks/find.h) and the exit code (agent/exit.h).
 *
 * Rounds until the overall deadline: in each round every broker in order
 * (one attempt each, bounded by attempt_timeout and by what the deadline
 * has left): TLS connect, challenge, fresh ephemeral key, report from the
 * provider for the protocol's REPORT_DATA, unseal, open the secret (in
 * locked memory), then luks_open on the token's keyslot. Between rounds a
 * backoff that doubles from backoff up to backoff_max, with jitter.
 *
 * What ends it at once, without trying other brokers or rounds:
 *   - a report provider failure (a failed request disables the guest's
 *     key until reboot: it is never retried) -> EXIT_NO_PROVIDER or
 *     EXIT_REPORT_FAILED;
 *   - a refusal about the evidence or the volume (403 nonce-*, report-*,
 *     evidence-rejected, policy-rejected; 404 unknown-volume) and any 4xx
 *     the broker sent -> EXIT_REFUSED, its reason and message logged;
 *   - a secret that does not open the keyslot -> EXIT_BAD_SECRET;
 *   - activation failing after the keyslot opened -> EXIT_ACTIVATE_FAILED.
 * What moves on to the next broker and, after the last, to the next
 * round: connect/TLS/timeout/reset, server authentication failures,
 * broken HTTP or JSON, 5xx (overloaded, vek-unavailable, internal).
 * When the deadline passes: EXIT_UNREACHABLE (or, when a broker refused
 * with 5xx last, still EXIT_UNREACHABLE, naming it).
 *
 * Already active under its name: EXIT_OK without asking anyone.
 */
#include <stdint.h>

#include "agent/config.h"
#include "luks/find.h"
#include "luks/open.h"
#include "snp/deadline.h"

/* Returns an enum snp_unseal_exit; logs one line per step. */
int unlock_volume(const struct luks_found *volume, const struct agent_settings *settings,
		  enum luks_open_mode mode, const struct snp_deadline *overall);

/*
 * The same, verifying the secret on the keyslot (LUKS_OPEN_VERIFY), then
 * writing it to key_fd: a crypttab keyscript's standard output, which
 * cryptsetup reads from a pipe. Nothing is mapped here. EXIT_FAILURE_OTHER
 * when the write fails.
 */
int unlock_volume_key(const struct luks_found *volume, const struct agent_settings *settings,
		      int key_fd, const struct snp_deadline *overall);

/*
 * The wait before round `round` (1 for the wait after the first round):
 * min(backoff_max, backoff * 2^(round-1)), then a jitter that keeps
 * between half and all of it, taken from rnd (uniform 32 bits).
 */
int unlock_backoff_ms(unsigned int round, int backoff_ms, int backoff_max_ms, uint32_t rnd);

#endif
