/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/reference.h"

static char *familiar(const char *full)
{
        struct image_ref ref = {};
        struct error ignored = ERROR_INIT;
        char *f = image_ref_parse(full, &ref, &ignored) >= 0 ? image_ref_familiar(&ref) : xstrdup(full);

        image_ref_clear(&ref);
        error_clear(&ignored);
        return f;
}

/* ---- images ---- */

static void split_name(const char *full, char **repo, char **tag)
{
        _cleanup_free_ char *f = familiar(full);
        char *colon = strrchr(f, ':');

        if (colon && !strchr(colon, '/')) {
                *repo = xstrndup(f, (size_t) (colon - f));
                *tag = xstrdup(colon + 1);
        } else {
                *repo = xstrdup(f);
                *tag = xstrdup("<none>");
        }
}

/* The digest recorded for REPO (familiar), "<none>" without. */
static const char *digest_for(const struct store_image *img, const char *repo)
{
        for (char **d = img->digests; d && *d; d++) {
                _cleanup_free_ char *f = familiar(*d);
                const char *at = strrchr(f, '@');
                if (at && (size_t) (at - f) == strlen(repo) && strncmp(f, repo, strlen(repo)) == 0)
                        return strrchr(*d, '@') + 1;
        }
        return "<none>";
}

static void print_row(const struct store_image *img, const char *full, bool digests, bool json)
{
        _cleanup_free_ char *repo = NULL, *tag = NULL, *id = cli_short_id(img->id), *ago = cli_ago(img->created),
                            *size = cli_size(img->size);
        const char *dg;

        if (full)
                split_name(full, &repo, &tag);
        else {
                repo = xstrdup("<none>");
                tag = xstrdup("<none>");
        }
        dg = digest_for(img, repo);
        if (json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "Repository", json_object_new_string(repo));
                json_object_object_add(o, "Tag", json_object_new_string(tag));
                json_object_object_add(o, "ID", json_object_new_string(id));
                json_object_object_add(o, "Digest", json_object_new_string(dg));
                json_object_object_add(o, "CreatedAt", json_object_new_string(img->created ? img->created : ""));
                json_object_object_add(o, "CreatedSince", json_object_new_string(ago));
                json_object_object_add(o, "Size", json_object_new_string(size));
                json_object_object_add(o, "VirtualSize", json_object_new_int64(img->size));
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else if (digests)
                printf("%-40s %-16s %-72s %-14s %-16s %s\n", repo, tag, dg, id, ago, size);
        else
                printf("%-40s %-16s %-14s %-16s %s\n", repo, tag, id, ago, size);
}

int cmd_images(int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },   { "quiet", no_argument, NULL, 'q' },
                { "digests", no_argument, NULL, 'D' }, { "format", required_argument, NULL, 'f' },
                { "no-trunc", no_argument, NULL, 'T' }, {},
        };
        bool quiet = false, digests = false, json = false;
        struct error err = ERROR_INIT;
        struct store_image *imgs = NULL;
        struct store *s = NULL;
        size_t n = 0;
        int c;

        while ((c = getopt_long(argc, argv, "aq", opts, NULL)) >= 0) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'D')
                        digests = true;
                else if (c == 'f') {
                        if (strcmp(optarg, "json") != 0 && strcmp(optarg, "{{json .}}") != 0)
                                return cli_usage("images: --format: only `json` is supported, not `%s`", optarg);
                        json = true;
                } else if (c != 'a' && c != 'T')
                        return 2;
        }
        if (cli_store(&s))
                return 1;
        if (store_image_list(s, &imgs, &n, &err) < 0) {
                store_close(s);
                return cli_fail(&err);
        }
        if (!quiet && !json)
                printf(digests ? "%-40s %-16s %-72s %-14s %-16s %s\n" : "%-40s %-16s %-14s %-16s %s\n", "REPOSITORY",
                       "TAG", digests ? "DIGEST" : "IMAGE ID", digests ? "IMAGE ID" : "CREATED",
                       digests ? "CREATED" : "SIZE", digests ? "SIZE" : "");
        for (size_t i = 0; i < n; i++) {
                if (quiet) {
                        _cleanup_free_ char *id = cli_short_id(imgs[i].id);
                        printf("%s\n", id);
                        continue;
                }
                if (!imgs[i].names[0])
                        print_row(&imgs[i], NULL, digests, json);
                for (char **nm = imgs[i].names; *nm; nm++)
                        print_row(&imgs[i], *nm, digests, json);
        }
        store_images_free(imgs, n);
        store_close(s);
        return 0;
}

/* ---- rmi ---- */

/* Untag WHAT when it is a name of an image with other names; otherwise
 * remove the image. */
static int rmi_one(struct store *s, const char *what, bool force, struct error *err)
{
        _cleanup_free_ char *full = NULL;
        struct store_image img = {};
        bool by_name;
        int r;

        r = image_lookup(s, what, &img, &full, err);
        if (r < 0)
                return r;
        by_name = full != NULL;
        if (by_name && img.names[1]) {
                r = store_untag(s, full, NULL, err);
                if (r >= 0) {
                        _cleanup_free_ char *f = familiar(full);
                        printf("Untagged: %s\n", f);
                }
        } else if (!by_name && img.names[0] && img.names[1] && !force) {
                _cleanup_free_ char *id = cli_short_id(img.id);
                r = error_setx(err, EBUSY, "image %s is referenced in multiple repositories: remove them by name, or -f",
                               id);
        } else {
                r = store_image_remove(s, img.id, force, err);
                for (char **n = img.names; r >= 0 && *n; n++) {
                        _cleanup_free_ char *f = familiar(*n);
                        printf("Untagged: %s\n", f);
                }
                if (r >= 0)
                        printf("Deleted: %s\n", img.id);
        }
        store_image_clear(&img);
        return r;
}

int cmd_rmi(int argc, char **argv)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, {} };
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        bool force = false;
        int c, failed = 0;

        while ((c = getopt_long(argc, argv, "f", opts, NULL)) >= 0) {
                if (c != 'f')
                        return 2;
                force = true;
        }
        if (optind >= argc)
                return cli_usage("rmi: missing image name or id");
        if (cli_store(&s))
                return 1;
        for (int i = optind; i < argc; i++)
                if (rmi_one(s, argv[i], force, &err) < 0)
                        failed = cli_fail(&err);
        if (store_gc(s, 0, &err) < 0)
                failed = cli_fail(&err);
        store_close(s);
        return failed;
}

/* ---- tag ---- */

int cmd_tag(int argc, char **argv)
{
        _cleanup_free_ char *target = NULL;
        struct error err = ERROR_INIT;
        struct store_image img = {};
        struct store *s = NULL;
        int r;

        if (argc != 3)
                return cli_usage("tag: expected SOURCE and TARGET, got %d arguments", argc - 1);
        target = image_ref_normalize(argv[2]);
        if (!target || strchr(argv[2], '@'))
                return cli_usage("tag: `%s` is not a valid name (REPOSITORY[:TAG])", argv[2]);
        if (cli_store(&s))
                return 1;
        r = image_lookup(s, argv[1], &img, NULL, &err);
        if (r >= 0)
                r = store_tag(s, img.id, target, &err);
        store_image_clear(&img);
        store_close(s);
        return r < 0 ? cli_fail(&err) : 0;
}

/* ---- inspect and history ---- */

static json_object *strv_json(char **v, bool fam)
{
        json_object *a = json_object_new_array();

        for (; v && *v; v++) {
                _cleanup_free_ char *f = fam ? familiar(*v) : xstrdup(*v);
                json_object_array_add(a, json_object_new_string(f));
        }
        return a;
}

static json_object *inspect_one(struct store *s, const struct store_image *img, struct error *err)
{
        _cleanup_free_ char *raw = NULL;
        json_object *cfg, *o, *layers, *rootfs;
        size_t len = 0;

        if (store_blob_read(s, img->id, 16u << 20, &raw, &len, err) < 0)
                return NULL;
        cfg = json_tokener_parse(raw);
        if (!cfg) {
                error_setx(err, EINVAL, "image %s: its config is not JSON", img->id);
                return NULL;
        }
        o = json_object_new_object();
        json_object_object_add(o, "Id", json_object_new_string(img->id));
        json_object_object_add(o, "RepoTags", strv_json(img->names, true));
        json_object_object_add(o, "RepoDigests", strv_json(img->digests, true));
        for (const char *const *k = (const char *const[]) { "created", "author", "architecture", "variant", "os",
                                                            "config", NULL };
             *k; k++) {
                json_object *v;
                if (json_object_object_get_ex(cfg, *k, &v)) {
                        _cleanup_free_ char *key = xstrdup(*k);
                        key[0] = (char) (key[0] - 'a' + 'A');
                        json_object_object_add(o, key, json_object_get(v));
                }
        }
        json_object_object_add(o, "Size", json_object_new_int64(img->size));
        json_object_object_add(o, "Manifest", json_object_new_string(img->manifest));
        rootfs = json_object_new_object();
        layers = json_object_new_array();
        for (size_t i = 0; i < img->n_layers; i++)
                json_object_array_add(layers, json_object_new_string(img->layers[i].diff_id));
        json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "Layers", layers);
        json_object_object_add(o, "RootFS", rootfs);
        json_object_put(cfg);
        return o;
}

json_object *cli_image_json(struct store *s, const char *what, struct error *err)
{
        struct store_image img = {};
        json_object *o = NULL;

        if (image_lookup(s, what, &img, NULL, err) >= 0)
                o = inspect_one(s, &img, err);
        store_image_clear(&img);
        return o;
}

int cmd_inspect(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        json_object *all = json_object_new_array();
        int failed = 0;

        if (argc < 2)
                return cli_usage("inspect: missing image name or id");
        if (cli_store(&s))
                return 1;
        for (int i = 1; i < argc; i++) {
                struct store_image img = {};
                json_object *o = NULL;

                if (image_lookup(s, argv[i], &img, NULL, &err) >= 0)
                        o = inspect_one(s, &img, &err);
                if (o)
                        json_object_array_add(all, o);
                else
                        failed = cli_fail(&err);
                store_image_clear(&img);
        }
        printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(all);
        store_close(s);
        return failed;
}

int cmd_history(int argc, char **argv)
{
        _cleanup_free_ char *raw = NULL;
        struct error err = ERROR_INIT;
        struct store_image img = {};
        struct image_config cfg = {};
        struct store *s = NULL;
        size_t len = 0, layer;
        int r;

        if (argc != 2)
                return cli_usage("history: expected one image");
        if (cli_store(&s))
                return 1;
        r = image_lookup(s, argv[1], &img, NULL, &err);
        if (r >= 0)
                r = store_blob_read(s, img.id, 16u << 20, &raw, &len, &err);
        if (r >= 0)
                r = image_config_parse(raw, len, &cfg, &err);
        if (r >= 0) {
                printf("%-14s %-16s %-50s %-10s %s\n", "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT");
                layer = img.n_layers;
                /* newest first, like Docker */
                for (size_t i = cfg.n_history; i-- > 0;) {
                        const struct image_history *h = &cfg.history[i];
                        _cleanup_free_ char *ago = cli_ago(h->created), *id = NULL, *size = NULL;
                        int64_t sz = 0;

                        if (!h->empty_layer && layer > 0)
                                sz = img.layers[--layer].size;
                        id = i == cfg.n_history - 1 ? cli_short_id(img.id) : xstrdup("<missing>");
                        size = cli_size(sz);
                        printf("%-14s %-16s %-50.50s %-10s %s\n", id, ago, h->created_by ? h->created_by : "", size,
                               h->comment ? h->comment : "");
                }
        }
        image_config_clear(&cfg);
        store_image_clear(&img);
        store_close(s);
        return r < 0 ? cli_fail(&err) : 0;
}

/* ---- prune ---- */

int cmd_prune(int argc, char **argv)
{
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { "force", no_argument, NULL, 'f' },
                                              {} };
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        char **ids = NULL;
        int64_t freed = 0;
        bool all = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "af", opts, NULL)) >= 0) {
                if (c == 'a')
                        all = true;
                else if (c != 'f')
                        return 2;
        }
        if (cli_store(&s))
                return 1;
        r = image_prune(s, all, &ids, &freed, &err);
        store_close(s);
        if (r < 0)
                return cli_fail(&err);
        if (ids[0]) {
                printf("Deleted Images:\n");
                for (char **i = ids; *i; i++)
                        printf("deleted: %s\n", *i);
                printf("\n");
        }
        {
                _cleanup_free_ char *sz = cli_size(freed);
                printf("Total reclaimed space: %s\n", sz);
        }
        strv_free(ids);
        return 0;
}
