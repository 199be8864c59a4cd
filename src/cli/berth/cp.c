/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `berth cp`: files between a container and the host, as `docker cp`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/engine.h"
#include "engine/ops.h"

/* Docker's splitCpArg: "CONTAINER:PATH", unless ARG is an absolute path
 * or starts with "." (./file:name.txt is a local file), or has no ":". */
static void split_arg(const char *s, char **ret_container, const char **ret_path)
{
        const char *colon = strchr(s, ':');

        *ret_container = NULL;
        *ret_path = s;
        if (s[0] == '/' || s[0] == '.' || !colon)
                return;
        *ret_container = xstrndup(s, (size_t) (colon - s));
        *ret_path = colon + 1;
}

int cmd_cp(int argc, char **argv)
{
        static const struct option opts[] = {
                { "archive", no_argument, NULL, 'a' }, { "follow-link", no_argument, NULL, 'L' },
                { "quiet", no_argument, NULL, 'q' },   {},
        };
        _cleanup_free_ char *src_ctr = NULL, *dst_ctr = NULL;
        struct error err = ERROR_INIT;
        struct container ct = {};
        struct engine *e = NULL;
        const char *src, *dst;
        unsigned flags = 0;
        uint64_t bytes = 0;
        bool quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "aLq", opts, NULL)) >= 0) {
                switch (c) {
                case 'a': flags |= CP_ARCHIVE; break;
                case 'L': flags |= CP_FOLLOW; break;
                case 'q': quiet = true; break;
                default: return 1;
                }
        }
        if (argc - optind != 2)
                return cli_usage("cp: usage: berth cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-\n"
                                 "       berth cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH");
        split_arg(argv[optind], &src_ctr, &src);
        split_arg(argv[optind + 1], &dst_ctr, &dst);
        if (!src_ctr && !dst_ctr)
                return cli_usage("cp: must specify at least one container source");
        if (src_ctr && dst_ctr)
                return cli_usage("cp: copying between containers is not supported");
        if (!*src || !*dst)
                return cli_usage("cp: `%s`: empty path", !*src ? argv[optind] : argv[optind + 1]);
        if (cli_engine(&e))
                return 1;
        r = engine_lookup(e, src_ctr ? src_ctr : dst_ctr, &ct, &err);
        if (r >= 0 && src_ctr)
                r = engine_cp_from(e, &ct, src, strcmp(dst, "-") == 0 ? NULL : dst, STDOUT_FILENO, flags, &bytes,
                                   &err);
        else if (r >= 0)
                r = engine_cp_to(e, &ct, strcmp(src, "-") == 0 ? NULL : src, STDIN_FILENO, dst, flags, &bytes,
                                 &err);
        container_clear(&ct);
        engine_close(e);
        if (r < 0)
                return cli_fail(&err);
        /* Docker reports on a terminal only, and not around a tar stream */
        if (!quiet && isatty(STDERR_FILENO) && strcmp(src, "-") != 0 && strcmp(dst, "-") != 0) {
                _cleanup_free_ char *size = cli_size((int64_t) bytes);
                fprintf(stderr, "Successfully copied %s to %s\n", size, argv[optind + 1]);
        }
        return 0;
}
