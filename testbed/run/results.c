/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "run/results.h"

void res_utc_now(char *out, size_t len)
{
	struct timeval tv;
	struct tm tm;
	char buf[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03ldZ", buf, (long)(tv.tv_usec / 1000));
}

int res_open(struct results *r, const char *root, const char *scenario, const char *run_id,
	     char *err, size_t errlen)
{
	char path[1300];
	time_t now = time(NULL);
	int ret;

	memset(r, 0, sizeof(*r));
	snprintf(r->root, sizeof(r->root), "%s", root);
	strftime(r->stamp, sizeof(r->stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	snprintf(r->stage, sizeof(r->stage), "%s/.%s-%s.%s.partial", root, scenario, r->stamp,
		 run_id);
	snprintf(r->final, sizeof(r->final), "%s/%s-%s", root, scenario, r->stamp);
	if (mkdir(root, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "creating %s: %s", root, strerror(errno));
		return ret;
	}
	if (mkdir(r->stage, 0755) < 0) {
		ret = -errno;
		snprintf(err, errlen, "creating %s: %s", r->stage, strerror(errno));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/plots", r->stage);
	mkdir(path, 0755);
	res_path(r, "raw.csv", path, sizeof(path));
	r->raw = fopen(path, "w");
	if (!r->raw) {
		ret = -errno;
		snprintf(err, errlen, "creating %s: %s", path, strerror(errno));
		return ret;
	}
	fprintf(r->raw, "architecture,chain,length,round,seq,tx_ns,rtt_us,lost,timestamps\n");
	return res_raw_flush(r, err, errlen);
}

void res_failed(struct results *r, int errnum, const char *msg)
{
	if (r->write_errno)
		return;
	r->write_errno = errnum ? errnum : EIO;
	snprintf(r->write_msg, sizeof(r->write_msg), "%s", msg);
}

/* Records and reports "writing PATH: reason". */
static int write_failed(struct results *r, const char *path, int errnum, char *err, size_t errlen)
{
	char msg[1400];

	if (!errnum)
		errnum = EIO;
	snprintf(msg, sizeof(msg), "writing %s: %s", path, strerror(errnum));
	res_failed(r, errnum, msg);
	snprintf(err, errlen, "%s", msg);
	return -errnum;
}

int res_raw_flush(struct results *r, char *err, size_t errlen)
{
	char path[1300];

	/* stdio keeps a short write's errno only until the next call: check
	 * both the flush and the stream's error flag. */
	if (fflush(r->raw) == 0 && !ferror(r->raw))
		return 0;
	res_path(r, "raw.csv", path, sizeof(path));
	return write_failed(r, path, errno, err, errlen);
}

int res_close_file(struct results *r, FILE *f, const char *path, char *err, size_t errlen)
{
	int e = 0;

	if (fflush(f) != 0 || ferror(f))
		e = errno ? errno : EIO;
	/* tmpfs and friends accept fsync; a real disk reports late errors here. */
	if (!e && fsync(fileno(f)) < 0 && errno != EINVAL)
		e = errno;
	if (fclose(f) != 0 && !e)
		e = errno;
	if (e)
		return write_failed(r, path, e, err, errlen);
	return 0;
}

void res_path(const struct results *r, const char *file, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", r->stage, file);
}

int res_write_json(struct results *r, const char *file, json_t *doc, char *err,
		   size_t errlen)
{
	char path[1300];
	FILE *f;

	res_path(r, file, path, sizeof(path));
	f = fopen(path, "w");
	if (!f)
		return write_failed(r, path, errno, err, errlen);
	errno = 0;
	if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
		int e = errno ? errno : EIO;

		fclose(f);
		return write_failed(r, path, e, err, errlen);
	}
	return res_close_file(r, f, path, err, errlen);
}

/*
 * A write failed: the files may be cut and meta.json may be missing, so the
 * run never takes its final name. The staging directory becomes
 * "<final>.incomplete" (or keeps its hidden name if even that fails) with an
 * INCOMPLETE file naming the failure, written as far as the disk allows: an
 * empty file still needs no data block.
 */
static int finish_cut(struct results *r, const char *reason, char *err, size_t errlen)
{
	char path[1300], cut[1300];
	FILE *f;

	res_path(r, "INCOMPLETE", path, sizeof(path));
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s%s%s\n", r->write_msg, reason ? "; " : "", reason ? reason : "");
		fclose(f);
	}
	snprintf(cut, sizeof(cut), "%.1200s.incomplete", r->final);
	if (renameat2(AT_FDCWD, r->stage, AT_FDCWD, cut, RENAME_NOREPLACE) == 0)
		snprintf(r->final, sizeof(r->final), "%s", cut);
	else
		snprintf(r->final, sizeof(r->final), "%s", r->stage);
	snprintf(err, errlen, "results incomplete: %s; the partial results are in %s (not a complete run)",
		 r->write_msg, r->final);
	return -r->write_errno;
}

int res_finish(struct results *r, const char *incomplete_reason, char *err, size_t errlen)
{
	char path[1300], werr[1400];
	int ret;

	if (r->raw) {
		res_path(r, "raw.csv", path, sizeof(path));
		res_close_file(r, r->raw, path, werr, sizeof(werr));
		r->raw = NULL;
	}
	if (r->write_errno)
		return finish_cut(r, incomplete_reason, err, errlen);
	if (incomplete_reason) {
		FILE *f;

		res_path(r, "INCOMPLETE", path, sizeof(path));
		f = fopen(path, "w");
		if (!f) {
			write_failed(r, path, errno, werr, sizeof(werr));
		} else {
			fprintf(f, "%s\n", incomplete_reason);
			res_close_file(r, f, path, werr, sizeof(werr));
		}
		if (r->write_errno)
			return finish_cut(r, incomplete_reason, err, errlen);
	}
	/* Two runs of one scenario in the same second: keep both. NOREPLACE
	 * makes the check and the rename one step, so concurrent runs cannot
	 * both take a name. */
	char base[1200];

	snprintf(base, sizeof(base), "%s", r->final);
	for (int i = 1;; i++) {
		if (renameat2(AT_FDCWD, r->stage, AT_FDCWD, r->final, RENAME_NOREPLACE) == 0)
			break;
		if ((errno != EEXIST && errno != ENOTEMPTY) || i >= 100) {
			ret = -errno;
			snprintf(err, errlen, "renaming %s to %s: %s", r->stage, r->final,
				 strerror(errno));
			return ret;
		}
		snprintf(r->final, sizeof(r->final), "%.1100s-%d", base, i);
	}
	return 0;
}

static char *first_line_of(const char *cmd)
{
	char buf[256] = "";
	FILE *p = popen(cmd, "r");

	if (!p)
		return strdup("unknown");
	if (!fgets(buf, sizeof(buf), p))
		snprintf(buf, sizeof(buf), "unknown");
	pclose(p);
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

static char *cpu_model(void)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return strdup("unknown");
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *v = strchr(line, ':');

			fclose(f);
			v = v ? v + 2 : line;
			v[strcspn(v, "\n")] = '\0';
			return strdup(v);
		}
	}
	fclose(f);
	return strdup("unknown");
}

/* The source tree is two levels above build/cadeia-bench. */
static char *git_revision(void)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 128];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return strdup("unknown");
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd),
		 "git -C '%s/..' describe --always --dirty --abbrev=12 2>/dev/null", dirname(exe));
	return first_line_of(cmd);
}

json_t *res_environment(void)
{
	struct utsname u;
	char libbpf[32];
	char *clang = first_line_of("clang --version 2>/dev/null");
	char *bpftool = first_line_of("bpftool version 2>/dev/null");
	char *gnuplot = first_line_of("gnuplot --version 2>/dev/null");
	char *cpu = cpu_model(), *rev = git_revision();
	json_t *env;

	uname(&u);
	snprintf(libbpf, sizeof(libbpf), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	env = json_pack("{s:s, s:s, s:s, s:i, s:s, s:{s:s, s:s, s:s, s:s, s:s}}",
			"kernel", u.release, "machine", u.machine, "cpu_model", cpu,
			"cpus_online", (int)sysconf(_SC_NPROCESSORS_ONLN), "git_revision", rev,
			"tools", "clang", clang, "bpftool", bpftool, "libbpf", libbpf, "jansson",
			JANSSON_VERSION, "gnuplot", gnuplot);
	free(clang);
	free(bpftool);
	free(gnuplot);
	free(cpu);
	free(rev);
	return env;
}
