/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `cadeia-bench fn`, `load` and `load-sink`: their parsing lives with the
 * code they drive (traffic/fn.c, traffic/loadgen.c), so the guest helper and
 * the tests call the same entry points.
 */
#include "cli/cli.h"
#include "traffic/fn.h"
#include "traffic/loadgen.h"

/* Internal: a service function process, spawned by the orchestrator. */
int cmd_fn(int argc, char **argv)
{
	return fn_main(argc, argv);
}

/* Tools of the load experiment, usable by hand inside a testbed. */
int cmd_load(int argc, char **argv)
{
	return loadgen_cli(argc, argv);
}
