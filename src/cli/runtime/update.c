/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <string.h>

#include "basic/fileio.h"
#include "cli.h"

/* runc's update flags map onto one linux.resources object. */
static int flag_value(const char *flag, const char *v, int64_t *ret)
{
        int64_t n;
        char *end;
        const char *units = "kmg";
        double mult = 1;

        if (parse_int64(v, &n) == 0) {
                *ret = n;
                return 0;
        }
        n = strtoll(v, &end, 10);
        if (end != v && end[1] == 0 && strchr(units, end[0] | 0x20)) {
                for (const char *u = units; *u; u++) {
                        mult *= 1024;
                        if (*u == (end[0] | 0x20))
                                break;
                }
                *ret = (int64_t) (n * mult);
                return 0;
        }
        return cli_usage("%s: invalid value `%s`", flag, v);
}

int cmd_update(int argc, char **argv)
{
        static const struct option opts[] = {
                { "resources", required_argument, NULL, 'r' }, { "memory", required_argument, NULL, 'm' },
                { "memory-swap", required_argument, NULL, 's' }, { "memory-reservation", required_argument, NULL, 'R' },
                { "cpu-shares", required_argument, NULL, 'S' }, { "cpu-quota", required_argument, NULL, 'q' },
                { "cpu-period", required_argument, NULL, 'p' }, { "cpuset-cpus", required_argument, NULL, 'c' },
                { "cpuset-mems", required_argument, NULL, 'M' }, { "pids-limit", required_argument, NULL, 'P' },
                { "blkio-weight", required_argument, NULL, 'b' }, {},
        };
        struct spec_resources *res = NULL;
        struct spec_resources flags = {};
        struct error err = ERROR_INIT;
        const char *file = NULL, *id;
        int64_t v = 0;
        int c, r, idx = 0;

        while ((c = getopt_long_only(argc, argv, "+r:", opts, &idx)) >= 0) {
                if (c != 'r' && c != 'c' && c != 'M' && c != '?' && flag_value(opts[idx].name, optarg, &v))
                        return 1;
                switch (c) {
                case 'r': file = optarg; break;
                case 'm': flags.has_memory = flags.memory.has_limit = true; flags.memory.limit = v; break;
                case 's': flags.has_memory = flags.memory.has_swap = true; flags.memory.swap = v; break;
                case 'R': flags.has_memory = flags.memory.has_reservation = true; flags.memory.reservation = v; break;
                case 'S': flags.has_cpu = flags.cpu.has_shares = true; flags.cpu.shares = v; break;
                case 'q': flags.has_cpu = flags.cpu.has_quota = true; flags.cpu.quota = v; break;
                case 'p': flags.has_cpu = flags.cpu.has_period = true; flags.cpu.period = v; break;
                case 'c': flags.has_cpu = true; flags.cpu.cpus = optarg; break;
                case 'M': flags.has_cpu = true; flags.cpu.mems = optarg; break;
                case 'P': flags.has_pids_limit = true; flags.pids_limit = v; break;
                case 'b': flags.has_block_io = flags.block_io.has_weight = true; flags.block_io.weight = v; break;
                default: return 1;
                }
        }
        if (cli_one_id(argc, argv, &id))
                return 1;
        if (file) {
                _cleanup_free_ char *data = NULL;
                size_t len;
                r = strcmp(file, "-") == 0 ? read_full_fd(STDIN_FILENO, 1 << 20, &data, &len)
                                           : read_full_file_at(AT_FDCWD, file, 1 << 20, &data, &len);
                if (r < 0)
                        return cli_usage("--resources: read `%s`: %s", file, strerror(-r));
                if (spec_parse_resources(data, len, &res, &err) < 0) {
                        error_prefix(&err, "--resources");
                        return cli_fail(&err);
                }
        }
        r = container_update(&arg_ctx, id, res ? res : &flags, &err);
        spec_resources_free(res);
        if (r < 0)
                return cli_fail(&err);
        return 0;
}
