// SPDX-License-Identifier: GPL-2.0-or-later
/* snp-sim: a software SEV-SNP firmware for tests (being written). */
#include <stdio.h>

int main(void)
{
	fputs("snp-sim: not built yet\n", stderr);
	return 2;
}
