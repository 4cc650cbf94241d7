/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `cadeia-bench lab`: the lab course; its parsing lives in lab/lab.c beside the checkers. */
#include "cli/cli.h"
#include "lab/lab.h"

int cmd_lab(int argc, char **argv)
{
	return lab_main(argc, argv);
}
