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

/* containers (run.c, containers.c, exec.c, volumes.c, stats.c, cp.c) */
int cmd_run(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_port(int argc, char **argv);
int cmd_container_prune(int argc, char **argv);
int cmd_container_inspect(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_volume(int argc, char **argv);
int cmd_network(int argc, char **argv);

struct engine;
struct container;
/* `berth NOUN VERB …` over the engine: run the VERBS entry named by
 * ARGV[1] with the engine open (WHAT names NOUN in errors). */
struct cli_engine_verb {
        const char *verb;
        int (*fn)(int argc, char **argv, struct engine *e);
};
int cli_engine_verbs(const char *what, const struct cli_engine_verb *verbs, size_t n, int argc, char **argv);
/* Open the engine at arg.root, or print why not (returns 1). */
int cli_engine(struct engine **ret);
/* Attach our stdio (IN: stdin too; TTY: raw mode) to C's monitor on FD
 * until it exits; its exit code (125 when unknown). */
int cli_attach(const struct container *c, int fd, bool in, bool tty);
/* run/create's pull of a missing image WHAT: status on stderr; 0 or 1
 * (the error printed). */
int cli_pull_missing(const char *what);
/* Docker's run exit codes for an error: 125, 126 or 127. */
int cli_run_code(const struct error *err);
/* A container as `inspect` shows it. */
struct json_object *cli_container_json(const struct container *c);
/* An image as `image inspect` shows it, or NULL with ERR. */
struct json_object *cli_image_json(struct store *s, const char *what, struct error *err);
/* "Up 5 seconds", "Exited (0) 3 seconds ago"; Docker's human durations. */
char *cli_status_text(const struct container *c);
char *cli_duration(long secs);
char *cli_command(const struct container *c);

/* Print O through a Go-template subset: {{.A.B}}, {{json .A}}. */
int cli_format(struct json_object *o, const char *tmpl);
int cmd_any_inspect(int argc, char **argv);
/* A text table: add rows of COLS strings (the header first), print it
 * with columns as wide as their widest cell (and free the cells). */
struct cli_table {
        size_t cols, rows;
        char **cells;
};
void cli_table_add(struct cli_table *t, ...);
void cli_table_print(struct cli_table *t);

/* Print "berth: MESSAGE" once and return 1. */
int cli_fail(struct error *err);
_printf_(1, 2) int cli_usage(const char *fmt, ...);
/* Open the store at arg.root, or print why not. */
int cli_store(struct store **ret);

/* Docker's renderings: "4.26MB", "2 weeks ago", the 12-digit short id. */
char *cli_size(int64_t bytes);
char *cli_ago(const char *rfc3339);
char *cli_short_id(const char *digest);
