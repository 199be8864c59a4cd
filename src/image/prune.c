/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/store-internal.h"

int image_prune(struct store *s, bool all, char ***ret_ids, int64_t *ret_freed, struct error *err)
{
        struct store_image *imgs = NULL;
        char **ids = xzalloc(sizeof(char *));
        size_t n = 0, k = 0;
        int64_t freed;
        int r;

        r = store_image_list(s, &imgs, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct error busy = ERROR_INIT;

                if (!all && imgs[i].names && imgs[i].names[0])
                        continue;
                /* in use by a container: kept (not an error for prune) */
                r = store_image_remove(s, imgs[i].id, false, &busy);
                if (r == -EBUSY) {
                        error_clear(&busy);
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        *err = busy;
                        break;
                }
                ids = xrealloc(ids, (k + 2) * sizeof(char *));
                ids[k++] = xstrdup(imgs[i].id);
                ids[k] = NULL;
        }
        store_images_free(imgs, n);
        freed = r >= 0 ? store_gc(s, 0, err) : 0;
        if (r < 0 || freed < 0) {
                strv_free(ids);
                return r < 0 ? r : (int) freed;
        }
        *ret_ids = ids;
        if (ret_freed)
                *ret_freed = freed;
        return 0;
}
