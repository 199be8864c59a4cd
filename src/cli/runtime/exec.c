/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "basic/fileio.h"
#include "cli.h"

int cmd_exec(int argc, char **argv)
{
        static const struct option opts[] = {
                { "process", required_argument, NULL, 'p' }, { "detach", no_argument, NULL, 'd' },
                { "tty", no_argument, NULL, 't' },           { "console-socket", required_argument, NULL, 'c' },
                { "pid-file", required_argument, NULL, 'P' }, { "env", required_argument, NULL, 'e' },
                { "cwd", required_argument, NULL, 'w' },     { "user", required_argument, NULL, 'u' },
                { "cap", required_argument, NULL, 'C' },     { "preserve-fds", required_argument, NULL, 'f' },
                { "no-new-privs", no_argument, NULL, 'n' },  { "additional-gids", required_argument, NULL, 'g' },
                { "apparmor", required_argument, NULL, 'a' }, { "process-label", required_argument, NULL, 'l' },
                { "ignore-paused", no_argument, NULL, 'i' }, { "cgroup", required_argument, NULL, 'G' },
                {},
        };
        _cleanup_strv_free_ char **env = NULL, **caps = NULL;
        struct exec_opts o = {};
        struct error err = ERROR_INIT;
        int c, status = 0;

        while ((c = getopt_long_only(argc, argv, "+p:dtc:e:w:u:", opts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        o.process_file = optarg;
                        break;
                case 'd':
                        o.detach = true;
                        break;
                case 't':
                        o.tty = true;
                        break;
                case 'c':
                        o.console_socket = optarg;
                        break;
                case 'P':
                        o.pid_file = optarg;
                        break;
                case 'e':
                        if (!strchr(optarg, '='))
                                return cli_usage("--env: expected KEY=VALUE, got `%s`", optarg);
                        strv_push(&env, xstrdup(optarg));
                        break;
                case 'w':
                        if (optarg[0] != '/')
                                return cli_usage("--cwd: `%s` is not an absolute path", optarg);
                        o.cwd = optarg;
                        break;
                case 'u':
                        o.user = optarg;
                        break;
                case 'C':
                        strv_push(&caps, xstrdup(optarg));
                        break;
                case 'f': {
                        uint64_t n;
                        if (parse_uint64(optarg, &n) < 0 || n > 1 << 20)
                                return cli_usage("--preserve-fds: invalid number `%s`", optarg);
                        o.preserve_fds = (int) n;
                        break;
                }
                case 'n':
                        o.no_new_privs = true;
                        break;
                case 'a':
                        o.apparmor = optarg;
                        break;
                case 'l':
                        o.process_label = optarg;
                        break;
                case 'g': case 'i': case 'G':
                        break;
                default:
                        return 1;
                }
        }
        if (optind >= argc)
                return cli_usage("exec: missing container id");
        o.id = argv[optind];
        o.args = argv + optind + 1;
        o.env = env;
        o.caps = caps;
        if (!o.process_file && !o.args[0])
                return cli_usage("exec: a command to run is required (or --process)");
        if (container_exec(&arg_ctx, &o, &status, &err) < 0)
                return cli_fail(&err);
        return status;
}
