// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snp/fdio.h"

int snp_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int snp_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		  struct snp_err *err)
{
	uint8_t *data = NULL;
	size_t used = 0;
	int fd, ret = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return snp_errf(err, -errno, "%s: %s", path, strerror(errno));
	data = malloc(max + 1);
	if (!data) {
		ret = snp_errf(err, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	/* Read one byte beyond max to tell "exactly max" from "more". */
	while (used <= max) {
		ssize_t n = read(fd, data + used, max + 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = snp_errf(err, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		ret = snp_errf(err, -EFBIG, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	data[used] = '\0';
	*buf = data;
	*len = used;
	data = NULL;
out:
	if (data)
		explicit_bzero(data, used);
	free(data);
	close(fd);
	return ret;
}
