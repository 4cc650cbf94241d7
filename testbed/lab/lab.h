/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `cadeia-bench lab`: checks a student's lab work on the live testbed. */
#ifndef CADEIA_LAB_H
#define CADEIA_LAB_H

/* cadeia-bench lab list | lab check N [--run ID] [--dir DIR] [--json].
 * Exit status: 0 the lab passes, 1 it does not yet, 2 usage error. */
int lab_main(int argc, char **argv);

#endif
