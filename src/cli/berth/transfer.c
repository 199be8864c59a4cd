/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "image/image.h"
#include "image/reference.h"
#include "image/regconf.h"
#include "image/registry.h"

/* ---- progress ----
 *
 * On a terminal: a line per layer ("a3ed95caeb02: Downloading [===>  ]
 * 1.2MB/3.4MB 1.1MB/s") and a total line, the whole area redrawn in place
 * (cursor up, erase line) on every event and at most ten times a second
 * on byte counts.  Otherwise: plain event lines, nothing else.  Events
 * come from the download threads of a pull: everything is under LOCK. */

struct row {
        char *id;      /* a digest, or the image's name */
        char *status;  /* the last event */
        uint64_t done, total, base; /* base: where the transfer started (resumed) */
        double t0;     /* when it started */
        bool fresh;    /* no byte count yet since it started */
};

struct progress {
        pthread_mutex_t lock;
        bool tty, quiet;
        struct row *rows;
        size_t n_rows;
        size_t drawn;  /* lines of the area on screen, the cursor below them */
        double start, last;
        size_t width;  /* of the terminal */
        const char *unit; /* what the total counts: "layer", "blob" */
};

#define BAR_WIDTH 20

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static char *short_name(const char *id)
{
        return strncmp(id, "sha256:", 7) == 0 ? cli_short_id(id) : xstrdup(id);
}

static struct row *row_get(struct progress *p, const char *id)
{
        for (size_t i = 0; i < p->n_rows; i++)
                if (strcmp(p->rows[i].id, id) == 0)
                        return &p->rows[i];
        p->rows = xrealloc(p->rows, (p->n_rows + 1) * sizeof(*p->rows));
        p->rows[p->n_rows] = (struct row) { .id = xstrdup(id), .status = xstrdup("") };
        return &p->rows[p->n_rows++];
}

static bool row_moving(const struct row *w)
{
        return strcmp(w->status, "Downloading") == 0 || strcmp(w->status, "Pushing") == 0;
}

static void bar(char out[BAR_WIDTH + 3], uint64_t done, uint64_t total)
{
        size_t fill = total ? (size_t) ((double) BAR_WIDTH * (double) done / (double) total) : 0;

        if (fill > BAR_WIDTH)
                fill = BAR_WIDTH;
        out[0] = '[';
        memset(out + 1, '=', fill);
        memset(out + 1 + fill, ' ', BAR_WIDTH - fill);
        if (fill > 0 && fill < BAR_WIDTH)
                out[fill] = '>';
        out[BAR_WIDTH + 1] = ']';
        out[BAR_WIDTH + 2] = 0;
}

/* One line of the area, cut to the terminal's width (a line that wraps
 * would break the cursor arithmetic). */
static void row_line(const struct progress *p, const struct row *w, double now, char *buf, size_t size)
{
        _cleanup_free_ char *sid = short_name(w->id), *d = NULL, *t = NULL, *rate = NULL;
        char b[BAR_WIDTH + 3];
        double secs = now - w->t0;

        if (!row_moving(w) || !w->t0)
                (void) snprintf(buf, size, "%s: %s", sid, w->status);
        else {
                bar(b, w->done, w->total);
                d = cli_size((int64_t) w->done);
                t = w->total ? cli_size((int64_t) w->total) : xstrdup("?");
                rate = cli_size(secs > 0 ? (int64_t) ((double) (w->done - w->base) / secs) : 0);
                (void) snprintf(buf, size, "%s: %-11s %s %s/%s %s/s", sid, w->status, b, d, t, rate);
        }
        if (p->width > 1 && strlen(buf) >= p->width)
                buf[p->width - 1] = 0;
}

/* False while no layer is known. */
static bool total_line(const struct progress *p, double now, char *buf, size_t size)
{
        _cleanup_free_ char *d = NULL, *t = NULL, *rate = NULL;
        uint64_t done = 0, total = 0, moved = 0;
        size_t layers = 0;

        for (size_t i = 0; i < p->n_rows; i++) {
                const struct row *w = &p->rows[i];
                if (strncmp(w->id, "sha256:", 7) != 0)
                        continue;
                layers++;
                done += w->done;
                total += w->total;
                moved += w->done - w->base;
        }
        if (!layers)
                return false;
        d = cli_size((int64_t) done);
        t = cli_size((int64_t) total);
        rate = cli_size(now > p->start ? (int64_t) ((double) moved / (now - p->start)) : 0);
        (void) snprintf(buf, size, "Total: %zu %s%s, %s/%s, %s/s", layers, p->unit, layers == 1 ? "" : "s", d, t,
                        rate);
        if (p->width > 1 && strlen(buf) >= p->width)
                buf[p->width - 1] = 0;
        return true;
}

static void redraw(struct progress *p)
{
        double now = now_s();
        char line[512];

        p->last = now;
        if (p->drawn)
                printf("\033[%zuA", p->drawn);
        for (size_t i = 0; i < p->n_rows; i++) {
                row_line(p, &p->rows[i], now, line, sizeof(line));
                printf("\r\033[K%s\n", line);
        }
        p->drawn = p->n_rows;
        if (total_line(p, now, line, sizeof(line))) {
                printf("\r\033[K%s\n", line);
                p->drawn++;
        }
        fflush(stdout);
}

static void on_event(const char *id, const char *what, void *userdata)
{
        struct progress *p = userdata;

        pthread_mutex_lock(&p->lock);
        if (p->quiet) {
                /* nothing */
        } else if (!p->tty) {
                _cleanup_free_ char *sid = short_name(id);
                printf("%s: %s\n", sid, what);
                fflush(stdout);
        } else {
                struct row *w = row_get(p, id);
                free(w->status);
                w->status = xstrdup(what);
                if (row_moving(w)) {
                        w->t0 = now_s();
                        w->fresh = true;
                }
                if (strcmp(what, "Download complete") == 0 || strcmp(what, "Pushed") == 0)
                        w->done = w->total;
                redraw(p);
        }
        pthread_mutex_unlock(&p->lock);
}

static void on_bytes(const char *id, uint64_t done, uint64_t total, void *userdata)
{
        struct progress *p = userdata;
        struct row *w;
        double now;

        pthread_mutex_lock(&p->lock);
        if (!p->quiet && p->tty) {
                now = now_s();
                w = row_get(p, id);
                /* a resumed download starts where the file was: the
                 * speed counts from there (a first report that is
                 * already the whole blob is a fast download, not a
                 * resumed one) */
                if (!w->t0)
                        w->t0 = now;
                if (w->fresh || done < w->base)
                        w->base = total && done >= total ? 0 : done;
                w->fresh = false;
                w->done = done;
                w->total = total;
                if (now - p->last >= 0.1 || (total && done == total))
                        redraw(p);
        }
        pthread_mutex_unlock(&p->lock);
}

static size_t term_width(void)
{
        struct winsize ws;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}

static struct image_progress progress_init(struct progress *p, bool quiet, const char *unit)
{
        *p = (struct progress) { .tty = isatty(STDOUT_FILENO), .quiet = quiet, .start = now_s(), .unit = unit };
        pthread_mutex_init(&p->lock, NULL);
        if (p->tty)
                p->width = term_width();
        return (struct image_progress) { .event = on_event, .bytes = on_bytes, .userdata = p };
}

/* The last state on screen (byte counts may have been held back), the
 * cursor below it for what follows. */
static void progress_done(struct progress *p)
{
        pthread_mutex_lock(&p->lock);
        if (p->tty && !p->quiet && p->n_rows)
                redraw(p);
        p->drawn = 0;
        pthread_mutex_unlock(&p->lock);
        for (size_t i = 0; i < p->n_rows; i++) {
                free(p->rows[i].id);
                free(p->rows[i].status);
        }
        free(p->rows);
        p->rows = NULL;
        p->n_rows = 0;
        pthread_mutex_destroy(&p->lock);
}

/* ---- the registries configuration ---- */

/* $BERTH_REGISTRIES_CONF or /etc/berth/registries.conf; *RET_INSECURE:
 * its insecure registries and $BERTH_INSECURE_REGISTRIES. */
static int load_conf(struct regconf *conf, char ***ret_insecure)
{
        struct error err = ERROR_INIT;
        char **insecure;
        size_t n = 0;

        if (regconf_load(NULL, conf, &err) < 0)
                return cli_fail(&err);
        insecure = regconf_insecure_domains(conf);
        while (insecure[n])
                n++;
        for (char **e = arg.insecure; e && *e; e++) {
                insecure = xrealloc(insecure, (n + 2) * sizeof(char *));
                insecure[n++] = xstrdup(*e);
                insecure[n] = NULL;
        }
        *ret_insecure = insecure;
        return 0;
}

/* Only the insecure registries (push, login). */
static int load_insecure(char ***ret)
{
        struct regconf conf = {};

        if (load_conf(&conf, ret))
                return 1;
        regconf_clear(&conf);
        return 0;
}

/* ---- pull / push ---- */

static int parse_platform(const char *s, struct pull_opts *o, char **os, char **arch, char **variant)
{
        const char *a = strchr(s, '/'), *v = a ? strchr(a + 1, '/') : NULL;

        if (!a || a == s || !a[1] || (v && (v == a + 1 || !v[1])))
                return cli_usage("pull: --platform `%s`: expected OS/ARCH[/VARIANT]", s);
        free(*os);
        free(*arch);
        free(*variant);
        *os = xstrndup(s, (size_t) (a - s));
        *arch = v ? xstrndup(a + 1, (size_t) (v - a - 1)) : xstrdup(a + 1);
        *variant = v ? xstrdup(v + 1) : NULL;
        o->os = *os;
        o->arch = *arch;
        o->variant = *variant;
        return 0;
}

/* Pull WHAT, its progress on stdout unless QUIET, the outcome on OUT. */
static int pull_run(struct pull_opts *o, bool quiet, const char *what, FILE *out)
{
        _cleanup_free_ char *id = NULL, *name = NULL;
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct progress pr;
        struct image_progress ip;
        int r;

        if (cli_store(&s))
                return 1;
        ip = progress_init(&pr, quiet, "layer");
        o->progress = &ip;
        r = image_pull(s, what, o, &id, &name, &err);
        progress_done(&pr);
        store_close(s);
        if (r < 0)
                return cli_fail(&err);
        if (quiet && out == stdout)
                fprintf(out, "%s\n", name);
        else
                fprintf(out, "Status: downloaded %s\nImage: %s\n", name, id);
        return 0;
}

int cli_pull_missing(const char *what)
{
        _cleanup_strv_free_ char **insecure = NULL;
        struct pull_opts o = { .auth_file = arg.auth_file };
        struct regconf conf = {};
        int r;

        /* Docker's words; stdout stays the container's (and run -d's id) */
        fprintf(stderr, "Unable to find image '%s' locally\n", what);
        if (load_conf(&conf, &insecure))
                return 1;
        o.registries = (const char *const *) arg.registries;
        o.insecure = (const char *const *) insecure;
        o.conf = &conf;
        r = pull_run(&o, true, what, stderr);
        regconf_clear(&conf);
        return r;
}

int cmd_pull(int argc, char **argv)
{
        static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' },
                                              { "platform", required_argument, NULL, 'P' }, {} };
        _cleanup_free_ char *os = NULL, *arch = NULL, *variant = NULL;
        _cleanup_strv_free_ char **insecure = NULL;
        struct pull_opts o = { .auth_file = arg.auth_file };
        struct regconf conf = {};
        bool quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "q", opts, NULL)) >= 0) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'P') {
                        if (parse_platform(optarg, &o, &os, &arch, &variant))
                                return 1;
                } else
                        return 2;
        }
        if (argc - optind != 1)
                return cli_usage("pull: expected one image name");
        if (load_conf(&conf, &insecure))
                return 1;
        o.registries = (const char *const *) arg.registries;
        o.insecure = (const char *const *) insecure;
        o.conf = &conf;
        r = pull_run(&o, quiet, argv[optind], stdout);
        regconf_clear(&conf);
        return r;
}

int cmd_push(int argc, char **argv)
{
        static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' }, {} };
        _cleanup_free_ char *digest = NULL;
        _cleanup_strv_free_ char **insecure = NULL;
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct progress pr;
        struct image_progress ip;
        struct push_opts o = { .auth_file = arg.auth_file };
        bool quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "q", opts, NULL)) >= 0) {
                if (c != 'q')
                        return 2;
                quiet = true;
        }
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage("push: expected an image name (and optionally a destination)");
        /* push goes to the registry named, never to a mirror */
        if (load_insecure(&insecure))
                return 1;
        o.insecure = (const char *const *) insecure;
        if (cli_store(&s))
                return 1;
        ip = progress_init(&pr, quiet, "blob");
        o.progress = &ip;
        r = image_push(s, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, &o, &digest, &err);
        progress_done(&pr);
        store_close(s);
        if (r < 0)
                return cli_fail(&err);
        printf(quiet ? "%s\n" : "digest: %s\n", digest);
        return 0;
}

/* ---- login / logout ---- */

static char *read_line(FILE *f, bool echo)
{
        struct termios old, quiet;
        bool tty = !echo && isatty(fileno(f)) && tcgetattr(fileno(f), &old) == 0;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;

        if (tty) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t) ECHO;
                (void) tcsetattr(fileno(f), TCSAFLUSH, &quiet);
        }
        n = getline(&line, &cap, f);
        if (tty) {
                (void) tcsetattr(fileno(f), TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        if (n < 0) {
                free(line);
                return NULL;
        }
        line[strcspn(line, "\r\n")] = 0;
        return line;
}

/* The registry a login names: "localhost:5000", a URL's host, docker.io. */
static char *login_domain(const char *server)
{
        const char *p = server;

        if (!p)
                return xstrdup("docker.io");
        if (strncmp(p, "https://", 8) == 0)
                p += 8;
        else if (strncmp(p, "http://", 7) == 0)
                p += 7;
        return xstrndup(p, strcspn(p, "/"));
}

int cmd_login(int argc, char **argv)
{
        static const struct option opts[] = { { "username", required_argument, NULL, 'u' },
                                              { "password", required_argument, NULL, 'p' },
                                              { "password-stdin", no_argument, NULL, 'S' }, {} };
        _cleanup_free_ char *user = NULL, *pass = NULL, *domain = NULL;
        _cleanup_strv_free_ char **insecure = NULL;
        struct error err = ERROR_INIT;
        struct registry *reg = NULL;
        bool from_stdin = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "u:p:", opts, NULL)) >= 0) {
                if (c == 'u')
                        user = xstrdup(optarg);
                else if (c == 'p')
                        pass = xstrdup(optarg);
                else if (c == 'S')
                        from_stdin = true;
                else
                        return 2;
        }
        if (argc - optind > 1)
                return cli_usage("login: expected at most one server");
        if (from_stdin && (pass || !user))
                return cli_usage("login: --password-stdin needs --username and no --password");
        domain = login_domain(optind < argc ? argv[optind] : NULL);
        if (load_insecure(&insecure))
                return 1;
        if (!user) {
                fprintf(stderr, "Username: ");
                user = read_line(stdin, true);
        }
        if (!pass) {
                if (!from_stdin)
                        fprintf(stderr, "Password: ");
                pass = read_line(stdin, from_stdin);
        }
        if (!user || !*user || !pass || !*pass)
                return cli_usage("login: username and password are both needed");
        {
                struct registry_opts ro = { .domain = domain, .username = user, .password = pass,
                                            .insecure = image_insecure((const char *const *) insecure, domain) };
                r = registry_new(&ro, &reg, &err);
        }
        if (r >= 0)
                r = registry_login_check(reg, &err);
        registry_free(reg);
        if (r >= 0)
                r = registry_auth_store(arg.auth_file, domain, user, pass, &err);
        if (r < 0)
                return cli_fail(&err);
        printf("Login Succeeded\n");
        return 0;
}

int cmd_logout(int argc, char **argv)
{
        _cleanup_free_ char *domain = NULL;
        struct error err = ERROR_INIT;

        if (argc > 2)
                return cli_usage("logout: expected at most one server");
        domain = login_domain(argc == 2 ? argv[1] : NULL);
        if (registry_auth_remove(arg.auth_file, domain, &err) < 0)
                return cli_fail(&err);
        printf("Removing login credentials for %s\n", domain);
        return 0;
}
