/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "image/image.h"
#include "image/reference.h"
#include "image/registry.h"

/* ---- progress: a bar per blob on a terminal, plain lines otherwise ---- */

struct progress {
        bool tty, quiet, open_line;
        struct timespec start;
        uint64_t total_bytes;
};

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void on_event(const char *id, const char *what, void *userdata)
{
        struct progress *p = userdata;
        _cleanup_free_ char *sid = strncmp(id, "sha256:", 7) == 0 ? cli_short_id(id) : xstrdup(id);

        if (p->quiet)
                return;
        if (p->open_line)
                fputs("\n", stdout);
        p->open_line = false;
        printf("%s: %s\n", sid, what);
        fflush(stdout);
}

static void on_bytes(const char *id, uint64_t done, uint64_t total, void *userdata)
{
        static double t0, last;
        struct progress *p = userdata;
        _cleanup_free_ char *sid = NULL, *d = NULL, *t = NULL, *rate = NULL;
        char bar[31];
        double now = now_s();
        size_t fill;

        if (p->quiet || !p->tty)
                return;
        if (done == 0 || t0 == 0)
                t0 = now;
        if (now - last < 0.1 && done != total)
                return;
        last = now;
        p->total_bytes = done;
        fill = total ? (size_t) (30.0 * (double) done / (double) total) : 0;
        memset(bar, '=', fill > 30 ? 30 : fill);
        memset(bar + (fill > 30 ? 30 : fill), ' ', 30 - (fill > 30 ? 30 : fill));
        bar[30] = 0;
        sid = cli_short_id(id);
        d = cli_size((int64_t) done);
        t = cli_size((int64_t) total);
        rate = cli_size(now > t0 ? (int64_t) ((double) done / (now - t0)) : 0);
        printf("\r%s: [%s] %s/%s %s/s\033[K", sid, bar, d, t, rate);
        p->open_line = true;
        fflush(stdout);
}

static struct image_progress make_progress(struct progress *p, bool quiet)
{
        *p = (struct progress) { .tty = isatty(STDOUT_FILENO), .quiet = quiet };
        clock_gettime(CLOCK_MONOTONIC, &p->start);
        return (struct image_progress) { .event = on_event, .bytes = on_bytes, .userdata = p };
}

static void progress_done(struct progress *p)
{
        if (p->open_line)
                fputs("\n", stdout);
        p->open_line = false;
}

/* ---- pull / push ---- */

int cmd_pull(int argc, char **argv)
{
        static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' },
                                              { "platform", required_argument, NULL, 'P' }, {} };
        _cleanup_free_ char *os = NULL, *arch = NULL, *variant = NULL, *id = NULL, *name = NULL;
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct progress pr;
        struct image_progress ip;
        struct pull_opts o = { .auth_file = arg.auth_file };
        bool quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "q", opts, NULL)) >= 0) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'P') {
                        char *a = strchr(optarg, '/'), *v = a ? strchr(a + 1, '/') : NULL;
                        if (!a || a == optarg || !a[1])
                                return cli_usage("pull: --platform `%s`: expected OS/ARCH[/VARIANT]", optarg);
                        os = xstrndup(optarg, (size_t) (a - optarg));
                        arch = v ? xstrndup(a + 1, (size_t) (v - a - 1)) : xstrdup(a + 1);
                        variant = v ? xstrdup(v + 1) : NULL;
                } else
                        return 2;
        }
        if (argc - optind != 1)
                return cli_usage("pull: expected one image name");
        ip = make_progress(&pr, quiet);
        o.os = os;
        o.arch = arch;
        o.variant = variant;
        o.registries = (const char *const *) arg.registries;
        o.insecure = (const char *const *) arg.insecure;
        o.progress = &ip;
        if (cli_store(&s))
                return 1;
        r = image_pull(s, argv[optind], &o, &id, &name, &err);
        progress_done(&pr);
        store_close(s);
        if (r < 0)
                return cli_fail(&err);
        if (quiet)
                printf("%s\n", name);
        else
                printf("Status: downloaded %s\nImage: %s\n", name, id);
        return 0;
}

int cmd_push(int argc, char **argv)
{
        static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' }, {} };
        _cleanup_free_ char *digest = NULL;
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
        ip = make_progress(&pr, quiet);
        o.insecure = (const char *const *) arg.insecure;
        o.progress = &ip;
        if (cli_store(&s))
                return 1;
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
                                            .insecure = image_insecure((const char *const *) arg.insecure, domain) };
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
