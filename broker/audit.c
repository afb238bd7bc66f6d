// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The audit log (broker/audit.h): one decision, one line, one write(2),
 * then fdatasync.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/audit.h"

struct audit_log {
	int fd;
	char path[4096];
};

int audit_open(struct audit_log **log, const char *path, struct snp_err *err)
{
	struct audit_log *a;

	*log = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return snp_errf(err, -ENOMEM, "out of memory for the audit log");
	snprintf(a->path, sizeof(a->path), "%s", path);
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (a->fd < 0) {
		int ret = -errno;

		free(a);
		return snp_errf(err, ret, "audit log %s: %s", path, strerror(-ret));
	}
	*log = a;
	return 0;
}

void audit_close(struct audit_log *log)
{
	if (!log)
		return;
	close(log->fd);
	free(log);
}

static int add_str(struct json_object *o, const char *key, const char *value)
{
	struct json_object *v = json_object_new_string(value ? value : "");

	if (!v)
		return -ENOMEM;
	return json_object_object_add(o, key, v) ? -ENOMEM : 0;
}

static int add_hex(struct json_object *o, const char *key, const uint8_t *buf, size_t len)
{
	char hex[2 * SNP_CHIP_ID_SIZE + 1];

	return add_str(o, key, buf ? snp_hex(hex, buf, len) : "");
}

static int add_report(struct json_object *o, const struct snp_report *r, const char *product)
{
	enum snp_product p = product ? snp_product_from_name(product, strlen(product)) :
			     SNP_PRODUCT_UNKNOWN;
	size_t chip_len = p == SNP_PRODUCT_UNKNOWN ? SNP_CHIP_ID_SIZE : snp_chip_id_len(p);
	int ret;

	ret = add_hex(o, "measurement", r ? r->measurement : NULL, SNP_MEASUREMENT_SIZE);
	if (!ret)
		ret = add_hex(o, "chip_id", r ? r->chip_id : NULL, chip_len);
	if (!ret)
		ret = add_hex(o, "report_id", r ? r->report_id : NULL, SNP_REPORT_ID_SIZE);
	return ret;
}

static void format_time(time_t now, char out[32])
{
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "@%lld", (long long)now);
}

int audit_format(const struct audit_record *rec, time_t now, char *out, size_t size)
{
	struct json_object *o = json_object_new_object();
	const char *text;
	char when[32];
	size_t len;
	int ret;

	if (!o)
		return -ENOMEM;
	format_time(now, when);
	ret = add_str(o, "time", when);
	if (!ret)
		ret = add_str(o, "peer", rec->peer);
	if (!ret)
		ret = add_str(o, "volume", rec->volume);
	if (!ret)
		ret = add_str(o, "verdict", rec->granted ? "granted" : "refused");
	if (!ret)
		ret = add_str(o, "reason", rec->reason);
	if (!ret)
		ret = add_str(o, "rule", rec->rule);
	if (!ret)
		ret = add_str(o, "check", rec->check);
	if (!ret)
		ret = add_report(o, rec->report, rec->product);
	if (!ret)
		ret = add_str(o, "product", rec->product);
	if (!ret)
		ret = add_str(o, "vek_source", rec->vek_source);
	if (ret)
		goto out;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	len = text ? strlen(text) : 0;
	if (!text || len + 2 > size) {
		ret = -ENOSPC;
		goto out;
	}
	memcpy(out, text, len);
	out[len++] = '\n';
	out[len] = '\0';
	ret = (int)len;
out:
	json_object_put(o);
	return ret;
}

int audit_write(struct audit_log *log, const struct audit_record *rec, struct snp_err *err)
{
	char line[AUDIT_LINE_MAX];
	ssize_t n;
	int len;

	len = audit_format(rec, time(NULL), line, sizeof(line));
	if (len < 0)
		return snp_errf(err, len, "audit line: %s", strerror(-len));
	/* One write: with O_APPEND, concurrent lines never interleave. */
	do
		n = write(log->fd, line, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n != len) {
		int ret = n < 0 ? -errno : -EIO;

		return snp_errf(err, ret, "audit log %s: write: %s", log->path, strerror(-ret));
	}
	if (fdatasync(log->fd))
		return snp_errf(err, -errno, "audit log %s: fdatasync: %s", log->path,
				strerror(errno));
	return 0;
}
