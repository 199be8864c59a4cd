/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "image/image.h"

/* ---- save ---- */

int cmd_save(int argc, char **argv)
{
        static const struct option opts[] = { { "output", required_argument, NULL, 'o' }, {} };
        _cleanup_free_ char *tmp = NULL;
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        const char *out = NULL;
        int c, fd = STDOUT_FILENO, r;

        while ((c = getopt_long(argc, argv, "o:", opts, NULL)) >= 0) {
                if (c != 'o')
                        return 2;
                out = optarg;
        }
        if (optind >= argc)
                return cli_usage("save: missing image name or id");
        if (!out && isatty(STDOUT_FILENO))
                return cli_usage("save: refusing to write an archive to a terminal (use -o FILE or a redirect)");
        if (cli_store(&s))
                return 1;
        if (out) {
                /* a complete archive or none: written aside, renamed at the end */
                tmp = xasprintf("%s.tmp-%d", out, (int) getpid());
                fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0) {
                        store_close(s);
                        return cli_usage("save: -o: create `%s`: %m", tmp);
                }
        }
        r = image_save(s, (const char *const *) argv + optind, fd, &err);
        if (out) {
                if (close(fd) < 0 && r >= 0)
                        r = error_set(&err, errno, "write `%s`", tmp);
                if (r >= 0 && rename(tmp, out) < 0)
                        r = error_set(&err, errno, "save: -o: rename to `%s`", out);
                if (r < 0)
                        (void) unlink(tmp);
        }
        store_close(s);
        return r < 0 ? cli_fail(&err) : 0;
}

/* ---- load ---- */

int cmd_load(int argc, char **argv)
{
        static const struct option opts[] = { { "input", required_argument, NULL, 'i' },
                                              { "quiet", no_argument, NULL, 'q' }, {} };
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        const char *in = NULL;
        char **names = NULL;
        bool quiet = false;
        int c, fd = STDIN_FILENO, r;

        while ((c = getopt_long(argc, argv, "i:q", opts, NULL)) >= 0) {
                if (c == 'i')
                        in = optarg;
                else if (c == 'q')
                        quiet = true;
                else
                        return 2;
        }
        if (optind < argc)
                return cli_usage("load: unexpected argument `%s` (the archive comes with -i or on stdin)", argv[optind]);
        if (!in && isatty(STDIN_FILENO))
                return cli_usage("load: no archive: give -i FILE or redirect stdin");
        if (in && (fd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
                return cli_usage("load: -i: open `%s`: %m", in);
        if (cli_store(&s)) {
                if (in)
                        close(fd);
                return 1;
        }
        r = image_load(s, fd, NULL, &names, &err);
        if (in)
                close(fd);
        store_close(s);
        if (r < 0)
                return cli_fail(&err);
        for (char **n = names; !quiet && *n; n++)
                printf(strncmp(*n, "sha256:", 7) == 0 ? "Loaded image ID: %s\n" : "Loaded image: %s\n", *n);
        strv_free(names);
        return 0;
}

/* ---- import ---- */

int cmd_import(int argc, char **argv)
{
        static const struct option opts[] = { { "change", required_argument, NULL, 'c' },
                                              { "message", required_argument, NULL, 'm' }, {} };
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        char **changes = xzalloc(sizeof(char *)), *id = NULL;
        size_t n = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:m:", opts, NULL)) >= 0) {
                if (c == 'c') {
                        changes = xrealloc(changes, (n + 2) * sizeof(char *));
                        changes[n++] = xstrdup(optarg);
                        changes[n] = NULL;
                } else if (c != 'm') {
                        strv_free(changes);
                        return 2;
                }
        }
        if (optind >= argc || argc - optind > 2) {
                strv_free(changes);
                return cli_usage("import: expected SOURCE (a tar file, a directory or -) and an optional name");
        }
        if (cli_store(&s)) {
                strv_free(changes);
                return 1;
        }
        r = image_import(s, argv[optind], (const char *const *) changes, optind + 1 < argc ? argv[optind + 1] : NULL,
                         &id, &err);
        store_close(s);
        strv_free(changes);
        if (r < 0)
                return cli_fail(&err);
        printf("%s\n", id);
        free(id);
        return 0;
}

/* ---- doctor ---- */

static void report_bad(const char *what, const char *why, void *userdata)
{
        (void) userdata;
        printf("%s: %s\n", what, why);
}

int cmd_doctor(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        int r;

        if (argc != 2 || strcmp(argv[1], "--verify") != 0)
                return cli_usage("doctor: expected --verify");
        if (cli_store(&s))
                return 1;
        r = store_verify(s, report_bad, NULL, &err);
        store_close(s);
        if (r < 0)
                return cli_fail(&err);
        if (r > 0) {
                fprintf(stderr, "berth: %d problem%s found in %s\n", r, r == 1 ? "" : "s", arg.root);
                return 1;
        }
        printf("store %s: every blob matches its digest, every image is whole\n", arg.root);
        return 0;
}
