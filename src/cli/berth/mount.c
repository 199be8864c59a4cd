/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "image/image.h"
#include "image/snapshot.h"

/* `berth image mount IMAGE [DIR]` and `berth image unmount IMAGE|DIR`:
 * an image's file system, read-only, for a look inside.  Without DIR the
 * mount point is DATA-ROOT/mounts/SHORT-ID, made here and removed again
 * by unmount. */

static char *mounts_dir(struct store *s)
{
        return xasprintf("%s/mounts", store_root(s));
}

static char *default_target(struct store *s, const char *id)
{
        _cleanup_free_ char *shortid = cli_short_id(id);

        return xasprintf("%s/mounts/%s", store_root(s), shortid);
}

/* DIR given by the user: an existing directory, or made here (*CREATED). */
static int user_target(const char *dir, bool *created, struct error *err)
{
        struct stat st;

        if (stat(dir, &st) >= 0) {
                if (!S_ISDIR(st.st_mode))
                        return error_setx(err, ENOTDIR, "`%s` is not a directory", dir);
                return 0;
        }
        if (errno != ENOENT)
                return error_set(err, errno, "stat `%s`", dir);
        if (mkdir(dir, 0755) < 0)
                return error_set(err, errno, "create `%s`", dir);
        *created = true;
        return 0;
}

/* DATA-ROOT/mounts/SHORT-ID, made when missing (*CREATED).  1 when the
 * image is mounted there already. */
static int berth_target(struct store *s, const char *target, bool *created, struct error *err)
{
        _cleanup_free_ char *parent = mounts_dir(s);
        int r;

        if (mkdir(parent, 0700) < 0 && errno != EEXIST)
                return error_set(err, errno, "create `%s`", parent);
        if (mkdir(target, 0755) >= 0) {
                *created = true;
                return 0;
        }
        if (errno != EEXIST)
                return error_set(err, errno, "create `%s`", target);
        /* ours either way: a leftover of a killed mount is used again */
        *created = true;
        r = snapshot_probe(s, target, err);
        if (r < 0)
                return r;
        if (r == SNAPSHOT_OURS) {
                *created = false;
                return 1;
        }
        if (r == SNAPSHOT_OTHER) {
                *created = false;
                return error_setx(err, EBUSY, "`%s` is already a mount point", target);
        }
        return 0;
}

static int mount_image(struct store *s, const char *what, const char *dir, struct error *err)
{
        _cleanup_free_ char *target = NULL, *real = NULL;
        struct store_image img = {};
        bool created = false;
        int r;

        r = image_lookup(s, what, &img, NULL, err);
        if (r < 0)
                return r;
        target = dir ? xstrdup(dir) : default_target(s, img.id);
        r = dir ? user_target(dir, &created, err) : berth_target(s, target, &created, err);
        if (r == 0)
                r = snapshot_mount(s, &img, NULL, NULL, target, err);
        if (r == 0) {
                /* rmi (and gc) keep the layers of a mounted image */
                _cleanup_free_ char *user = NULL;

                real = realpath(target, NULL);
                user = xasprintf("mount:%s", real ? real : target);
                r = store_image_use(s, user, img.id, err);
                if (r < 0)
                        (void) snapshot_unmount(target, NULL);
        }
        if (r < 0 && created && rmdir(target) < 0)
                fprintf(stderr, "berth: remove `%s`: %m, ignoring\n", target);
        store_image_clear(&img);
        if (r < 0)
                return r;
        printf("%s\n", real ? real : target);
        return 0;
}

int cmd_mount(int argc, char **argv)
{
        static const struct option opts[] = { {} };
        const char *env = getenv("BERTH_SNAPSHOT_NO_LOWERDIR_PLUS");
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                return 2;
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage("image mount: expected IMAGE [DIR], got %d arguments", argc - optind);
        /* testing: take the path of kernels before 6.8 */
        snapshot_no_lowerdir_plus = env && strcmp(env, "1") == 0;
        if (cli_store(&s))
                return 1;
        r = mount_image(s, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, &err);
        store_close(s);
        return r < 0 ? cli_fail(&err) : 0;
}

/* WHAT as a mount point: a path when it has a slash or is no image's
 * name (0); an image's DATA-ROOT/mounts/SHORT-ID otherwise (1). */
static int unmount_target(struct store *s, const char *what, char **ret, struct error *err)
{
        struct store_image img = {};
        struct stat st;
        int r;

        if (!strchr(what, '/') && strcmp(what, ".") != 0 && strcmp(what, "..") != 0) {
                struct error e = ERROR_INIT;
                r = image_lookup(s, what, &img, NULL, &e);
                if (r >= 0) {
                        *ret = default_target(s, img.id);
                        store_image_clear(&img);
                        return 1;
                }
                if (e.code != ENOENT) { /* an ambiguous id prefix */
                        *err = e;
                        return r;
                }
                error_clear(&e);
                if (stat(what, &st) < 0 || !S_ISDIR(st.st_mode))
                        return error_setx(err, ENOENT, "no such image or mount point: %s", what);
        }
        *ret = xstrdup(what);
        return 0;
}

/* Is TARGET a directory directly in DATA-ROOT/mounts (one berth made)? */
static bool in_mounts_dir(struct store *s, const char *target)
{
        _cleanup_free_ char *mounts = mounts_dir(s), *real_mounts = realpath(mounts, NULL),
                            *real = realpath(target, NULL);
        char *slash;

        if (!real_mounts || !real || !(slash = strrchr(real, '/')))
                return false;
        *slash = 0;
        return strcmp(real, real_mounts) == 0;
}

static int unmount_one(struct store *s, const char *what, struct error *err)
{
        _cleanup_free_ char *target = NULL, *real = NULL;
        bool by_image, ours;
        int r;

        r = unmount_target(s, what, &target, err);
        if (r < 0)
                return r;
        by_image = r > 0;
        /* umount2() does not follow a final symlink: go by the real path */
        real = realpath(target, NULL);
        if (real) {
                free(target);
                target = TAKE_PTR(real);
        }
        r = snapshot_probe(s, target, err);
        if (by_image && (r == -ENOENT || r == SNAPSHOT_NONE)) {
                error_clear(err);
                return error_setx(err, EINVAL, "image `%s` is not mounted", what);
        }
        if (r < 0)
                return r;
        if (r == SNAPSHOT_NONE)
                return error_setx(err, EINVAL, "`%s` is not a mount point", target);
        if (r == SNAPSHOT_OTHER)
                return error_setx(err, EINVAL, "`%s` is not an image mount: berth did not mount it", target);
        ours = in_mounts_dir(s, target);
        r = snapshot_unmount(target, err);
        if (r < 0)
                return r;
        {
                _cleanup_free_ char *user = xasprintf("mount:%s", target);
                r = store_image_release(s, user, err);
                if (r < 0)
                        return r;
        }
        if (ours && rmdir(target) < 0)
                fprintf(stderr, "berth: remove `%s`: %m, ignoring\n", target);
        return 0;
}

int cmd_unmount(int argc, char **argv)
{
        static const struct option opts[] = { {} };
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                return 2;
        if (argc - optind != 1)
                return cli_usage("image unmount: expected IMAGE or DIR, got %d arguments", argc - optind);
        if (cli_store(&s))
                return 1;
        r = unmount_one(s, argv[optind], &err);
        store_close(s);
        return r < 0 ? cli_fail(&err) : 0;
}
