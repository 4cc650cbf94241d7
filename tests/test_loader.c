// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libcadeia_stage helpers that need no kernel: names, MACs, stage lists,
 * and the netns switch returning to where it started. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tap.h"
#include "cadeia_stage.h"

static int inode_of_netns(void *arg)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	*(ino_t *)arg = st.st_ino;
	return 0;
}

int main(void)
{
	uint8_t mac[6];
	char buf[18];
	unsigned mask;
	struct cs_err err;
	ino_t before, inside = 0, after;

	tap_plan(22);
	CHECK(cs_mac_parse("02:00:00:00:00:0a", mac) == 0 && mac[0] == 0x02 &&
	      mac[5] == 0x0a, "cs_mac_parse accepts 02:00:00:00:00:0a");
	CHECK(cs_mac_parse("02:AB:cd:00:00:ff", mac) == 0 && mac[1] == 0xab &&
	      mac[2] == 0xcd && mac[5] == 0xff, "cs_mac_parse takes either case");
	CHECK(cs_mac_parse("02:00:00:00:00", mac) == -EINVAL, "cs_mac_parse refuses 5 octets");
	CHECK(cs_mac_parse("02:00:00:00:00:0a:", mac) == -EINVAL, "cs_mac_parse refuses a trailing colon");
	CHECK(cs_mac_parse("02:00:00:00:00:0g", mac) == -EINVAL, "cs_mac_parse refuses a non-hex digit");
	CHECK(cs_mac_parse("02-00-00-00-00-0a", mac) == -EINVAL, "cs_mac_parse refuses '-' separators");
	CHECK(cs_mac_parse(" 2:00:00:00:00:0a", mac) == -EINVAL, "cs_mac_parse refuses a leading space");
	CHECK(cs_mac_parse(NULL, mac) == -EINVAL, "cs_mac_parse refuses NULL");

	mac[0] = 0xde; mac[1] = 0xad; mac[2] = 0xbe; mac[3] = 0xef; mac[4] = 0; mac[5] = 1;
	cs_mac_format(mac, buf);
	CHECK(!strcmp(buf, "de:ad:be:ef:00:01"), "cs_mac_format: %s", buf);

	CHECK(cs_stages_parse("classifier,dec,enc,fwd,kwire", &mask, &err) == 0 &&
	      mask == (CS_STAGE_CLASSIFIER | CS_STAGE_DEC | CS_STAGE_ENC |
		       CS_STAGE_FWD | CS_STAGE_KWIRE), "all five stages parse");
	CHECK(cs_stages_parse("sf", &mask, &err) == 0 &&
	      mask == (CS_STAGE_DEC | CS_STAGE_ENC | CS_STAGE_FWD), "sf = dec,enc,fwd");
	CHECK(cs_stages_parse("nsh-aware", &mask, &err) == 0 && mask == CS_STAGE_FWD,
	      "nsh-aware = fwd");
	CHECK(cs_stages_parse("dec,bogus", &mask, &err) == -EINVAL &&
	      strstr(err.msg, "\"bogus\""), "unknown stage named: %s", err.msg);
	CHECK(cs_stages_parse("dec,,enc", &mask, &err) == -EINVAL, "empty word refused");
	CHECK(cs_stages_parse("", &mask, &err) == -EINVAL, "empty list refused");

	CHECK(!strcmp(cs_stage_name(CS_STAGE_CLASSIFIER), "classifier") &&
	      !strcmp(cs_stage_name(CS_STAGE_KWIRE), "kwire") &&
	      cs_stage_name(3) == NULL, "cs_stage_name");

	CHECK(!cs_node_exists("../etc") && !cs_node_exists(""),
	      "cs_node_exists refuses path-like names");
	CHECK(cs_detach("a/b", &err) == -EINVAL, "cs_detach refuses a '/' in the node name");
	CHECK(cs_detach("cbtBU-no-such-node", &err) == -ENOENT &&
	      strstr(err.msg, "cbtBU-no-such-node"), "cs_detach of an unknown node: %s", err.msg);

	inode_of_netns(&before);
	CHECK(cs_in_netns(NULL, inode_of_netns, &inside, &err) == 0 && inside == before,
	      "cs_in_netns(NULL) runs in the current netns");
	CHECK(cs_in_netns("cbtBU-no-such-netns", inode_of_netns, &inside, &err) == -ENOENT &&
	      strstr(err.msg, "cbtBU-no-such-netns"), "missing netns named: %s", err.msg);
	inode_of_netns(&after);
	CHECK(after == before, "still in the original netns");

	return tap_done();
}
