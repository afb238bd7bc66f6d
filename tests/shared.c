// SPDX-License-Identifier: GPL-2.0-or-later
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tests/shared.h"

const char *test_shared_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("SNP_SHARED_TESTDATA");
	struct stat st;

	if (env && *env)
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "%s/../../shared/testdata", TESTS_DIR);
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return NULL;
	return dir;
}
