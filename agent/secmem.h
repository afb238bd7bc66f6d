/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_SECMEM_H
#define SNP_UNSEAL_AGENT_SECMEM_H

/*
 * Memory for secrets (the released disk secret, the key it opens): its own
 * anonymous mapping, locked (mlock: never swapped), left out of core dumps
 * (MADV_DONTDUMP) and out of forked children (MADV_WIPEONFORK), and
 * wiped with explicit_bzero before it is unmapped. The process also makes
 * itself non-dumpable (agent_secmem_harden) before any secret exists.
 */
#include <stddef.h>
#include <stdint.h>

struct secmem {
	uint8_t *buf;
	size_t size;		/* what was asked for */
	size_t mapped;		/* whole pages */
	int locked;		/* mlock worked (it may not without CAP_IPC_LOCK) */
};

/* 0 or a negative errno. An mlock that fails is not an error: see locked. */
int secmem_alloc(struct secmem *m, size_t size);
/* Wipe, unlock, unmap; fine on a zeroed or freed struct. */
void secmem_free(struct secmem *m);

/* prctl(PR_SET_DUMPABLE, 0): no core dumps, no ptrace by others. 0 or -errno. */
int secmem_harden_process(void);

#endif
