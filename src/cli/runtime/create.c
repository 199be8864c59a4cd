/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "cli.h"

/* create and run share their flags. */
static int parse_create(int argc, char **argv, struct create_opts *o, bool *detach, bool is_run)
{
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },     { "pid-file", required_argument, NULL, 'p' },
                { "console-socket", required_argument, NULL, 'c' }, { "preserve-fds", required_argument, NULL, 'P' },
                { "no-pivot", no_argument, NULL, 'n' },         { "no-new-keyring", no_argument, NULL, 'k' },
                { "detach", no_argument, NULL, 'd' },           { "config", required_argument, NULL, 'f' },
                { "no-subreaper", no_argument, NULL, 'S' },     { "keep", no_argument, NULL, 'K' },
                {},
        };
        int c;

        while ((c = getopt_long_only(argc, argv, is_run ? "+b:dh" : "+b:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        o->bundle = optarg;
                        break;
                case 'p':
                        o->pid_file = optarg;
                        break;
                case 'c':
                        o->console_socket = optarg;
                        break;
                case 'P': {
                        uint64_t n;
                        if (parse_uint64(optarg, &n) < 0 || n > 1 << 20)
                                return cli_usage("--preserve-fds: invalid number `%s`", optarg);
                        o->preserve_fds = (int) n;
                        break;
                }
                case 'n':
                        o->no_pivot = true;
                        break;
                case 'k':
                        o->no_new_keyring = true;
                        break;
                case 'd':
                        if (!is_run)
                                return cli_usage("create: unknown flag --detach");
                        *detach = true;
                        break;
                case 'f':
                        o->config = optarg;
                        break;
                case 'K':
                        if (!is_run)
                                return cli_usage("create: unknown flag --keep");
                        o->keep = true;
                        break;
                case 'S':
                        break;
                default:
                        return 1;
                }
        }
        {
                /* LISTEN_FDS (socket activation) are passed on like runc does */
                const char *lf = getenv("LISTEN_FDS");
                uint64_t n;
                if (lf && parse_uint64(lf, &n) == 0 && n < 1024 && (int) n > o->preserve_fds)
                        o->preserve_fds = (int) n;
        }
        return cli_one_id(argc, argv, &o->id);
}

int cmd_create(int argc, char **argv)
{
        struct create_opts o = {};
        struct error err = ERROR_INIT;
        bool detach = false;

        if (parse_create(argc, argv, &o, &detach, false))
                return 1;
        if (container_run(&arg_ctx, &o, RUN_CREATE, NULL, &err) < 0)
                return cli_fail(&err);
        return 0;
}

int cmd_run(int argc, char **argv)
{
        struct create_opts o = {};
        struct error err = ERROR_INIT;
        bool detach = false;
        int status = 0;

        if (parse_create(argc, argv, &o, &detach, true))
                return 1;
        if (container_run(&arg_ctx, &o, detach ? RUN_DETACHED : RUN_FOREGROUND, &status, &err) < 0)
                return cli_fail(&err);
        return status;
}
