/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <getopt.h>

#include "basic/error.h"
#include "basic/log.h"
#include "runtime/container.h"

/* Global state of one berth-runtime call. */
extern struct runtime_ctx arg_ctx;

/* Every subcommand: argc/argv start at the subcommand's name; returns the
 * process exit status. */
int cmd_create(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_spec(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_events(int argc, char **argv);

/* Print ERR once (stderr and --log) and return 1. */
int cli_fail(struct error *err);
/* Usage error for the subcommand: one line naming the problem; returns 1. */
_printf_(1, 2) int cli_usage(const char *fmt, ...);
/* Exactly one positional <container-id>. */
int cli_one_id(int argc, char **argv, const char **ret_id);
