/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/store.h"

/* Global options of one `berth` call. */
struct berth_args {
        char *root;      /* --root, $BERTH_ROOT, /var/lib/berth */
        char *auth_file; /* $BERTH_AUTH_FILE, $DOCKER_CONFIG/config.json, ~/.docker/config.json */
        char **registries; /* $BERTH_REGISTRIES (comma separated) for short names; NULL when unset:
                            * the registries.conf search list, else docker.io */
        char **insecure;   /* $BERTH_INSECURE_REGISTRIES */
};
extern struct berth_args arg;

/* Every subcommand: argv[0] is its name; returns the exit status. */
int cmd_images(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_unmount(int argc, char **argv);

/* Print "berth: MESSAGE" once and return 1. */
int cli_fail(struct error *err);
_printf_(1, 2) int cli_usage(const char *fmt, ...);
/* Open the store at arg.root, or print why not. */
int cli_store(struct store **ret);

/* Docker's renderings: "4.26MB", "2 weeks ago", the 12-digit short id. */
char *cli_size(int64_t bytes);
char *cli_ago(const char *rfc3339);
char *cli_short_id(const char *digest);
