/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/rm-rf.h"
#include "image/store-internal.h"
#include "image/unpack.h"

void store_chain_id(const char *parent_chain, const char *diff_id, char ret[DIGEST_BUF_SIZE])
{
        _cleanup_free_ char *s = NULL;

        if (!parent_chain) {
                memcpy(ret, diff_id, DIGEST_BUF_SIZE);
                return;
        }
        s = xasprintf("%s %s", parent_chain, diff_id);
        digest_buffer(s, strlen(s), ret);
}

char *store_layer_dir(const struct store *s, const char *chain_id)
{
        return xasprintf("%s/layers/%s", s->root, store_hex(chain_id));
}

bool store_layer_exists(const struct store *s, const char *chain_id)
{
        struct stat st;

        return digest_valid(chain_id) && fstatat(s->layerfd, store_hex(chain_id), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISDIR(st.st_mode);
}

/* A fresh private directory under layers/ for an unpack in progress,
 * locked (flock on the directory) so that store_gc() leaves it alone. */
static int layer_tmp(struct store *s, const char *hex, char **ret_name, int *ret_fd)
{
        for (int i = 0; i < 100; i++) {
                _cleanup_free_ char *name = xasprintf(".tmp-%.12s-%d-%ld", hex, (int) getpid(), random());
                int fd;

                if (mkdirat(s->layerfd, name, 0755) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return -errno;
                }
                fd = openat(s->layerfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || flock(fd, LOCK_EX) < 0) {
                        int r = -errno;
                        if (fd >= 0)
                                close(fd);
                        (void) unlinkat(s->layerfd, name, AT_REMOVEDIR);
                        return r;
                }
                *ret_name = TAKE_PTR(name);
                *ret_fd = fd;
                return 0;
        }
        return -EEXIST;
}

/* One unpacker per layer at a time, across processes: an exclusive lock
 * on layers/.lock-HEX (store_gc() removes the unlocked ones). */
static int layer_lock(struct store *s, const char *hex)
{
        _cleanup_free_ char *name = xasprintf(".lock-%s", hex);
        int fd = openat(s->layerfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int unpack_into(struct store *s, const char *chain_id, const char *diff_id, const char *blob,
                       struct error *err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int in = -EBADF, dst = -EBADF;
        struct unpack_opts o = { .allow_devices = geteuid() == 0, .keep_owner = geteuid() == 0 };
        struct unpack_result res = {};
        int r;

        in = store_blob_open(s, blob, err);
        if (in < 0)
                return in;
        r = layer_tmp(s, store_hex(chain_id), &tmp, &dst);
        if (r < 0)
                return error_set(err, -r, "create a directory in `%s/layers`", s->root);
        r = layer_unpack(in, dst, &o, &res, err);
        if (r >= 0 && strcmp(res.diff_id, diff_id) != 0)
                r = error_setx(err, EBADMSG, "layer %s: unpacked it is %s, the image config says %s", blob,
                               res.diff_id, diff_id);
        if (r >= 0 && renameat(s->layerfd, tmp, s->layerfd, store_hex(chain_id)) < 0)
                r = error_set(err, errno, "name layer %s", chain_id);
        if (r < 0) {
                (void) rm_rf_at(s->layerfd, tmp);
                return error_prefix(err, "unpack layer %s", blob);
        }
        return 0;
}

int store_layer_unpack(struct store *s, const char *chain_id, const char *diff_id, const char *blob,
                       struct error *err)
{
        _cleanup_close_ int lock = -EBADF;
        int r;

        if (!digest_valid(chain_id) || !digest_valid(diff_id) || !digest_valid(blob))
                return error_setx(err, EINVAL, "layer %s: not a digest", chain_id);
        r = store_lease(s, err);
        if (r < 0)
                return r;
        if (store_layer_exists(s, chain_id))
                return 0;
        lock = layer_lock(s, store_hex(chain_id));
        if (lock < 0)
                return error_set(err, -lock, "lock layer %s", chain_id);
        /* someone else may have made it while we waited */
        if (store_layer_exists(s, chain_id))
                return 0;
        return unpack_into(s, chain_id, diff_id, blob, err);
}
