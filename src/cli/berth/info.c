/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "image/regconf.h"

/* `berth version` and `berth info`: what a bug report needs. */

/* Go's names for the architectures, as Docker prints them. */
static const char *go_arch(const char *machine)
{
        return strcmp(machine, "x86_64") == 0 ? "amd64" : strcmp(machine, "aarch64") == 0 ? "arm64" : machine;
}

int cmd_version(int argc, char **argv)
{
        struct utsname u;

        if (argc > 1 && strcmp(argv[1], "--format") != 0)
                return cli_usage("version: unexpected argument `%s`", argv[1]);
        (void) uname(&u);
        if (argc > 2 && strcmp(argv[2], "json") == 0) {
                printf("{\"Version\":\"%s\",\"Os\":\"%s\",\"Arch\":\"%s\",\"KernelVersion\":\"%s\"}\n", BERTH_VERSION,
                       "linux", go_arch(u.machine), u.release);
                return 0;
        }
        printf("Version:        %s\nOS/Arch:        linux/%s\nKernel:         %s\n", BERTH_VERSION, go_arch(u.machine),
               u.release);
        return 0;
}

static bool fs_is(const char *path, unsigned long magic)
{
        struct statfs f;

        return statfs(path, &f) == 0 && (unsigned long) f.f_type == magic;
}

static const char *cgroup_version(void)
{
        if (fs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
                return "2";
        if (fs_is("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
                return "1 (hybrid: v1 controllers, a cgroup2 mount at /sys/fs/cgroup/unified)";
        return "1";
}

/* The registries short names are searched in, from $BERTH_REGISTRIES or
 * registries.conf; "docker.io" when neither says. */
static json_object *search_registries(struct error *err)
{
        json_object *a = json_object_new_array();
        struct regconf conf = {};
        char **list = arg.registries && arg.registries[0] ? arg.registries : NULL;

        if (!list && regconf_load(NULL, &conf, err) >= 0)
                list = conf.search;
        if (!list)
                json_object_array_add(a, json_object_new_string("docker.io"));
        for (char **r = list; r && *r; r++)
                json_object_array_add(a, json_object_new_string(*r));
        regconf_clear(&conf);
        return a;
}

static json_object *info_json(struct store *s, struct error *err)
{
        json_object *o = json_object_new_object();
        struct store_image *imgs = NULL;
        struct sysinfo si = {};
        struct utsname u;
        size_t n = 0;

        if (store_image_list(s, &imgs, &n, err) < 0) {
                json_object_put(o);
                return NULL;
        }
        store_images_free(imgs, n);
        (void) uname(&u);
        (void) sysinfo(&si);
        json_object_object_add(o, "Images", json_object_new_int64((int64_t) n));
        json_object_object_add(o, "DataRoot", json_object_new_string(store_root(s)));
        json_object_object_add(o, "StorageDriver", json_object_new_string("overlay"));
        json_object_object_add(o, "CgroupVersion", json_object_new_string(cgroup_version()));
        json_object_object_add(o, "KernelVersion", json_object_new_string(u.release));
        json_object_object_add(o, "Architecture", json_object_new_string(u.machine));
        json_object_object_add(o, "NCPU", json_object_new_int64(sysconf(_SC_NPROCESSORS_ONLN)));
        json_object_object_add(o, "MemTotal", json_object_new_int64((int64_t) si.totalram * si.mem_unit));
        json_object_object_add(o, "Registries", search_registries(err));
        json_object_object_add(o, "ServerVersion", json_object_new_string(BERTH_VERSION));
        return o;
}

int cmd_info(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        json_object *o, *v;
        bool json = false;

        if (argc == 3 && strcmp(argv[1], "--format") == 0 && strcmp(argv[2], "json") == 0)
                json = true;
        else if (argc > 1)
                return cli_usage("info: expected no argument or --format json");
        if (cli_store(&s))
                return 1;
        o = info_json(s, &err);
        store_close(s);
        if (!o)
                return cli_fail(&err);
        error_clear(&err);
        if (json)
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        else {
                _cleanup_free_ char *mem = NULL;

                json_object_object_get_ex(o, "MemTotal", &v);
                mem = cli_size(json_object_get_int64(v));
                printf("%-16s %s\n", "ServerVersion", BERTH_VERSION);
                json_object_object_foreach(o, key, val) {
                        if (strcmp(key, "Registries") == 0 || strcmp(key, "MemTotal") == 0 ||
                            strcmp(key, "ServerVersion") == 0)
                                continue;
                        printf("%-16s %s\n", key, json_object_get_string(val));
                }
                printf("%-16s %s\n", "MemTotal", mem);
                json_object_object_get_ex(o, "Registries", &v);
                printf("%-16s %s\n", "Registries", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        }
        json_object_put(o);
        return 0;
}
