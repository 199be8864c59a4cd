/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/engine.h"

static json_object *volume_json(const struct volume *v)
{
        json_object *o = json_object_new_object(), *users = json_object_new_array();

        json_object_object_add(o, "CreatedAt", json_object_new_string(v->created));
        json_object_object_add(o, "Driver", json_object_new_string("local"));
        json_object_object_add(o, "Labels", json_object_get(v->labels));
        json_object_object_add(o, "Mountpoint", json_object_new_string(v->mountpoint));
        json_object_object_add(o, "Name", json_object_new_string(v->name));
        json_object_object_add(o, "Options", json_object_new_object());
        json_object_object_add(o, "Scope", json_object_new_string("local"));
        json_object_object_add(o, "Anonymous", json_object_new_boolean(v->anonymous));
        for (char **u = v->users; u && *u; u++)
                json_object_array_add(users, json_object_new_string(*u));
        json_object_object_add(o, "UsedBy", users);
        return o;
}

static int volume_create_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = {
                { "label", required_argument, NULL, 'l' }, { "driver", required_argument, NULL, 'd' }, {},
        };
        json_object *labels = json_object_new_object();
        struct error err = ERROR_INIT;
        struct volume v = {};
        _cleanup_free_ char *name = NULL;
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "l:d:", opts, NULL)) >= 0) {
                if (c == 'l') {
                        const char *eq = strchr(optarg, '=');
                        _cleanup_free_ char *k = eq ? xstrndup(optarg, (size_t) (eq - optarg)) : xstrdup(optarg);
                        json_object_object_add(labels, k, json_object_new_string(eq ? eq + 1 : ""));
                } else if (c == 'd' && strcmp(optarg, "local") == 0)
                        continue;
                else {
                        json_object_put(labels);
                        return c == 'd' ? cli_usage("volume create: only the local driver exists") : 1;
                }
        }
        if (argc - optind > 1) {
                json_object_put(labels);
                return cli_usage("volume create: at most one name");
        }
        if (optind < argc)
                name = xstrdup(argv[optind]);
        else {
                /* an anonymous-looking random name, as Docker gives */
                FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");
                char buf[64] = "";
                if (f) {
                        if (fgets(buf, sizeof(buf), f)) {
                                size_t j = 0;
                                for (size_t i = 0; buf[i]; i++)
                                        if (buf[i] != '-' && buf[i] != '\n')
                                                buf[j++] = buf[i];
                                buf[j] = '\0';
                        }
                        fclose(f);
                }
                name = xasprintf("%s%s", buf, buf);
        }
        if (volume_create(e, name, labels, false, &v, &err) < 0)
                r = cli_fail(&err);
        else
                printf("%s\n", v.name);
        volume_clear(&v);
        json_object_put(labels);
        return r;
}

static int volume_ls_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' }, { "format", required_argument, NULL, 'F' }, {},
        };
        struct error err = ERROR_INIT;
        struct volume *v = NULL;
        bool quiet = false, json = false;
        size_t n = 0;
        int c;

        while ((c = getopt_long(argc, argv, "q", opts, NULL)) >= 0) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'F' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "{{json .}}") == 0))
                        json = true;
                else
                        return c == 'F' ? cli_usage("volume ls: --format: only json") : 1;
        }
        if (volume_list(e, &v, &n, &err) < 0)
                return cli_fail(&err);
        if (!quiet && !json)
                printf("%-16s %s\n", "DRIVER", "VOLUME NAME");
        for (size_t i = 0; i < n; i++) {
                if (quiet)
                        printf("%s\n", v[i].name);
                else if (json) {
                        json_object *o = volume_json(&v[i]);
                        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(o);
                } else
                        printf("%-16s %s\n", "local", v[i].name);
                volume_clear(&v[i]);
        }
        free(v);
        return 0;
}

static int volume_rm_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, {} };
        bool force = false;
        int c, failed = 0;

        while ((c = getopt_long(argc, argv, "f", opts, NULL)) >= 0) {
                if (c != 'f')
                        return 1;
                force = true;
        }
        if (optind >= argc)
                return cli_usage("volume rm: requires at least 1 volume");
        for (int i = optind; i < argc; i++) {
                struct error err = ERROR_INIT;
                if (volume_remove(e, argv[i], force, &err) < 0)
                        failed = cli_fail(&err);
                else
                        printf("%s\n", argv[i]);
        }
        return failed;
}

static int volume_inspect_cmd(int argc, char **argv, struct engine *e)
{
        json_object *all = json_object_new_array();
        int failed = 0;

        if (argc < 2) {
                json_object_put(all);
                return cli_usage("volume inspect: requires at least 1 volume");
        }
        for (int i = 1; i < argc; i++) {
                struct error err = ERROR_INIT;
                struct volume v = {};
                if (volume_get(e, argv[i], &v, &err) < 0)
                        failed = cli_fail(&err);
                else
                        json_object_array_add(all, volume_json(&v));
                volume_clear(&v);
        }
        printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(all);
        return failed;
}

static int volume_prune_cmd(int argc, char **argv, struct engine *e)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' }, { "force", no_argument, NULL, 'f' }, {},
        };
        _cleanup_strv_free_ char **names = NULL;
        struct error err = ERROR_INIT;
        bool all = false;
        int c;

        while ((c = getopt_long(argc, argv, "af", opts, NULL)) >= 0) {
                if (c == 'a')
                        all = true;
                else if (c != 'f')
                        return 1;
        }
        if (volume_prune(e, all, &names, &err) < 0)
                return cli_fail(&err);
        printf("Deleted Volumes:\n");
        for (char **n = names; *n; n++)
                printf("%s\n", *n);
        return 0;
}

int cmd_volume(int argc, char **argv)
{
        static const struct cli_engine_verb verbs[] = {
                { "create", volume_create_cmd }, { "ls", volume_ls_cmd },       { "list", volume_ls_cmd },
                { "rm", volume_rm_cmd },         { "remove", volume_rm_cmd },   { "inspect", volume_inspect_cmd },
                { "prune", volume_prune_cmd },
        };

        if (argc < 2)
                return cli_usage("volume: missing command (create, ls, rm, inspect, prune)");
        return cli_engine_verbs("volume", verbs, sizeof(verbs) / sizeof(verbs[0]), argc, argv);
}
