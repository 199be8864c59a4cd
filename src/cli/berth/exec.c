/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/engine.h"
#include "engine/ocispec.h"

int cmd_exec(int argc, char **argv)
{
        static const struct option opts[] = {
                { "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
                { "detach", no_argument, NULL, 'd' },      { "env", required_argument, NULL, 'e' },
                { "env-file", required_argument, NULL, 'E' }, { "workdir", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },  { "privileged", no_argument, NULL, 'P' }, {},
        };
        _cleanup_strv_free_ char **env = NULL;
        struct exec_opts o = {};
        struct error err = ERROR_INIT;
        struct container ct = {};
        struct engine *e = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "+itde:w:u:", opts, NULL)) >= 0) {
                switch (c) {
                case 'i': o.interactive = true; break;
                case 't': o.tty = true; break;
                case 'd': o.detach = true; break;
                case 'e':
                        if (strchr(optarg, '='))
                                strv_push(&env, xstrdup(optarg));
                        else if (getenv(optarg))
                                strv_push(&env, xasprintf("%s=%s", optarg, getenv(optarg)));
                        break;
                case 'E': {
                        json_object *a = json_object_new_array();
                        if (parse_env_file(optarg, a, &err) < 0) {
                                json_object_put(a);
                                return cli_fail(&err);
                        }
                        for (size_t i = 0; i < json_object_array_length(a); i++)
                                strv_push(&env, xstrdup(json_object_get_string(json_object_array_get_idx(a, i))));
                        json_object_put(a);
                        break;
                }
                case 'w': o.workdir = optarg; break;
                case 'u': o.user = optarg; break;
                case 'P': o.privileged = true; break;
                default: return 125;
                }
        }
        if (argc - optind < 2)
                return cli_usage("exec: requires at least 2 arguments (CONTAINER COMMAND...)"), 125;
        if (o.tty && o.interactive && !o.detach && !isatty(0))
                return cli_usage("the input device is not a TTY (leave out -t)"), 125;
        o.env = env;
        o.argv = argv + optind + 1;
        if (cli_engine(&e))
                return 125;
        r = engine_lookup(e, argv[optind], &ct, &err);
        if (r >= 0)
                r = engine_exec(e, &ct, &o, &err);
        if (r < 0) {
                /* Docker's exec: 126 for a command that cannot be run, 125 for the rest */
                int code = strstr(err.msg ? err.msg : "", "executable file not found") ? 126 : 125;
                cli_fail(&err);
                r = code;
        }
        container_clear(&ct);
        engine_close(e);
        return r;
}
