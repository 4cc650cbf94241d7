// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/fnreport.h"

#define FNR_COLS 9

/* Splits a CSV line of plain fields in place; returns the count. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	for (char *p = line; n < max; p++) {
		f[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p = '\0';
	}
	return n;
}

/* The entry of arr whose k1, k2 (and k3 unless NULL) are those, created. */
static json_t *entry(json_t *arr, const char *k1, const char *v1, const char *k2, const char *v2,
		     const char *k3, const char *v3)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		if (!strcmp(json_string_value(json_object_get(e, k1)) ?: "", v1) &&
		    !strcmp(json_string_value(json_object_get(e, k2)) ?: "", v2) &&
		    (!k3 || !strcmp(json_string_value(json_object_get(e, k3)) ?: "", v3)))
			return e;
	}
	e = json_pack("{s:s, s:s}", k1, v1, k2, v2);
	if (k3)
		json_object_set_new(e, k3, json_string(v3));
	json_array_append_new(arr, e);
	return e;
}

static void add(json_t *e, const char *k, long long v)
{
	json_object_set_new(e, k, json_integer(json_integer_value(json_object_get(e, k)) + v));
}

static void read_monitor(const char *path, json_t *out)
{
	char line[512], *f[FNR_COLS];
	FILE *fp = fopen(path, "r");

	if (!fp)
		return;
	/* architecture,node,proto,src,sport,dst,dport,packets,bytes */
	while (fgets(line, sizeof(line), fp)) {
		json_t *e;

		if (split(line, f, FNR_COLS) != FNR_COLS || !strcmp(f[0], "architecture"))
			continue;
		e = entry(out, "architecture", f[0], "node", f[1], NULL, NULL);
		add(e, "flows", 1);
		add(e, "packets", atoll(f[7]));
		add(e, "bytes", atoll(f[8]));
	}
	fclose(fp);
}

static void read_lb(const char *path, json_t *out)
{
	char line[512], *f[6];
	FILE *fp = fopen(path, "r");

	if (!fp)
		return;
	/* architecture,node,backend,ip,flows,packets */
	while (fgets(line, sizeof(line), fp)) {
		json_t *e;

		if (split(line, f, 6) != 6 || !strcmp(f[0], "architecture"))
			continue;
		e = entry(out, "architecture", f[0], "node", f[1], "backend", f[2]);
		add(e, "flows", atoll(f[4]));
		add(e, "packets", atoll(f[5]));
	}
	fclose(fp);
}

json_t *fnr_collect(const char *dir)
{
	json_t *mon = json_array(), *lb = json_array();
	char path[1400];
	struct dirent *d;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/flows.csv", dir);
	read_monitor(path, mon);
	if ((dp = opendir(dir))) {
		while ((d = readdir(dp))) {
			size_t n = strlen(d->d_name);

			if (!strncmp(d->d_name, "lb-", 3) && n > 7 && !strcmp(d->d_name + n - 4, ".csv")) {
				snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
				read_lb(path, lb);
			}
		}
		closedir(dp);
	}
	if (!json_array_size(mon) && !json_array_size(lb)) {
		json_decref(mon);
		json_decref(lb);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "monitor", mon, "lb", lb);
}

void fnr_print(json_t *summary)
{
	json_t *t = json_object_get(summary, "throughput"), *fn = json_object_get(summary, "functions");
	json_t *e;
	size_t i;

	if (json_array_size(t)) {
		printf("TCP (iperf3)\n  %-14s %-8s %4s %12s %8s %10s\n", "architecture", "chain", "SFs",
		       "goodput Mb/s", "retrans", "CPU s/GB");
		json_array_foreach(t, i, e)
			printf("  %-14s %-8s %4lld %12.1f %8lld %10.1f\n",
			       json_string_value(json_object_get(e, "architecture")),
			       json_string_value(json_object_get(e, "chain")),
			       json_integer_value(json_object_get(e, "chain_length")),
			       json_number_value(json_object_get(e, "goodput_mbps")),
			       json_integer_value(json_object_get(e, "retransmits")),
			       json_number_value(json_object_get(e, "cpu_s_per_gb")));
	}
	if (json_array_size(json_object_get(fn, "lb"))) {
		printf("load balancer spread\n");
		json_array_foreach(json_object_get(fn, "lb"), i, e)
			printf("  %-14s %-8s -> %-8s %6lld flows %10lld packets\n",
			       json_string_value(json_object_get(e, "architecture")),
			       json_string_value(json_object_get(e, "node")),
			       json_string_value(json_object_get(e, "backend")),
			       json_integer_value(json_object_get(e, "flows")),
			       json_integer_value(json_object_get(e, "packets")));
	}
	if (json_array_size(json_object_get(fn, "monitor"))) {
		printf("monitor (flows.csv)\n");
		json_array_foreach(json_object_get(fn, "monitor"), i, e)
			printf("  %-14s %-8s %6lld flows %10lld packets %12lld bytes\n",
			       json_string_value(json_object_get(e, "architecture")),
			       json_string_value(json_object_get(e, "node")),
			       json_integer_value(json_object_get(e, "flows")),
			       json_integer_value(json_object_get(e, "packets")),
			       json_integer_value(json_object_get(e, "bytes")));
	}
}
