/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cadeia-bench's command line: main.c dispatches, one cmd_*.c per
 * subcommand. Each cmd_* gets argv from the subcommand's name on (argv[0]
 * is the name) and returns the process's exit status.
 */
#ifndef CADEIA_CLI_H
#define CADEIA_CLI_H

#include <stdbool.h>

/* Exit status: 0 success, 1 failure, 2 usage or scenario error, 3 interrupted. */
#define EXIT_USAGE 2

/* Prints "cadeia-bench: <fmt with arg>" and the usage; returns EXIT_USAGE. */
int usage_error(const char *usage, const char *fmt, const char *arg);

int cmd_run(int argc, char **argv, bool up);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_fn(int argc, char **argv);
int cmd_load(int argc, char **argv);

extern const char usage_run[], usage_up[], usage_down[], usage_status[], usage_validate[],
	usage_plot[];

#endif /* CADEIA_CLI_H */
