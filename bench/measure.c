/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/measure: run a command (or many) and report what it cost.
 *
 *   measure [-n N] [-P P] [-r] [-e ERRFILE] -- CMD ARG...
 *
 * Runs CMD N times (default 1), at most P at a time (default 1), each
 * argument's "%d" replaced by the instance number (0..N-1).  Prints one
 * line:
 *
 *   failures wall_us cpu_us tree_maxrss_kb self_hwm_kb
 *
 *   failures        instances that did not exit 0
 *   wall_us         from the first fork to the last exit (CLOCK_MONOTONIC)
 *   cpu_us          user+sys of every process reaped meanwhile: the
 *                   commands and, since we are a child subreaper, every
 *                   descendant they orphaned and that exited before them
 *                   (RUSAGE_CHILDREN delta)
 *   tree_maxrss_kb  largest ru_maxrss that wait4 reported for a command:
 *                   the command's own peak RSS or that of any descendant
 *                   it reaped, whichever is larger
 *   self_hwm_kb     with -r (N = P = 1 only): VmHWM of the command's own
 *                   process read at its exit (ptrace PTRACE_O_TRACEEXIT
 *                   stop), i.e. the peak RSS of that process alone (of its
 *                   last image if it re-executed itself); else 0
 *
 * stdin and stdout of the commands are /dev/null, stderr is ERRFILE
 * (appended; default /dev/null), so a detached container never holds a
 * pipe of ours open.
 *
 *   measure reaper -- CMD ARG...
 *
 * Becomes a child subreaper, runs CMD and reaps every orphan until CMD
 * exited; then kills nothing, reaps what is left for a short while and
 * exits with CMD's status.  The benchmark runs under it so that container
 * processes whose runtime exited are reaped promptly, as a shim would.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t tv_us(struct timeval tv)
{
        return (int64_t) tv.tv_sec * 1000000 + tv.tv_usec;
}

static int64_t children_cpu_us(void)
{
        struct rusage ru;
        getrusage(RUSAGE_CHILDREN, &ru);
        return tv_us(ru.ru_utime) + tv_us(ru.ru_stime);
}

static void die(const char *what)
{
        perror(what);
        exit(125);
}

/* argv with every "%d" replaced by i (at most one per argument). */
static char **expand(char **argv, int argc, long i)
{
        char **r = calloc(argc + 1, sizeof(char *));
        if (!r)
                die("calloc");
        for (int k = 0; k < argc; k++) {
                const char *p = strstr(argv[k], "%d");
                if (!p) {
                        r[k] = argv[k];
                        continue;
                }
                size_t n = strlen(argv[k]) + 24;
                r[k] = malloc(n);
                if (!r[k])
                        die("malloc");
                snprintf(r[k], n, "%.*s%ld%s", (int) (p - argv[k]), argv[k], i, p + 2);
        }
        return r;
}

static const char *errfile = "/dev/null";

static pid_t spawn(char **argv, bool trace)
{
        pid_t pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
                int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
                int err = open(errfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                        _exit(126);
                /* we are a subreaper; the command must not inherit that */
                prctl(PR_SET_CHILD_SUBREAPER, 0);
                signal(SIGPIPE, SIG_DFL);
                if (trace && ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
                        _exit(126);
                execvp(argv[0], argv);
                _exit(127);
        }
        return pid;
}

static long read_hwm_kb(pid_t pid)
{
        char path[64], line[256];
        long kb = 0;
        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                        break;
        fclose(f);
        return kb;
}

/* Reap zombies (orphans adopted by us) without blocking. */
static void reap_zombies(void)
{
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

static int usage(void)
{
        fprintf(stderr, "usage: measure [-n N] [-P P] [-r] [-e ERRFILE] -- CMD ARG...\n"
                        "       measure reaper -- CMD ARG...\n");
        return 125;
}

static int reaper(int argc, char **argv)
{
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                die("PR_SET_CHILD_SUBREAPER");
        pid_t pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                prctl(PR_SET_CHILD_SUBREAPER, 0);
                execvp(argv[0], argv);
                perror(argv[0]);
                _exit(127);
        }
        /* forward the usual termination signals to the command */
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        int status = 0;
        for (;;) {
                int st;
                pid_t p = wait(&st);
                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p == pid) {
                        status = st;
                        break;
                }
        }
        /* orphans of the command that are still exiting: give them 2 s */
        for (int i = 0; i < 200; i++) {
                pid_t p = waitpid(-1, NULL, WNOHANG);
                if (p < 0)
                        break;
                if (p == 0)
                        usleep(10000);
        }
        (void) argc;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
        long n = 1, par = 1;
        bool rss = false;
        int opt;

        if (argc > 2 && strcmp(argv[1], "reaper") == 0 && strcmp(argv[2], "--") == 0)
                return argc > 3 ? reaper(argc - 3, argv + 3) : usage();

        while ((opt = getopt(argc, argv, "+n:P:re:")) != -1) {
                switch (opt) {
                case 'n':
                        n = strtol(optarg, NULL, 10);
                        break;
                case 'P':
                        par = strtol(optarg, NULL, 10);
                        break;
                case 'r':
                        rss = true;
                        break;
                case 'e':
                        errfile = optarg;
                        break;
                default:
                        return usage();
                }
        }
        if (optind >= argc || n < 1 || par < 1 || (rss && (n != 1 || par != 1)))
                return usage();
        char **cmd = argv + optind;
        int cmdc = argc - optind;

        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                die("PR_SET_CHILD_SUBREAPER");
        signal(SIGPIPE, SIG_IGN);

        pid_t *running = calloc(par, sizeof(pid_t));
        if (!running)
                die("calloc");
        long started = 0, done = 0, failures = 0, inflight = 0, hwm = 0, maxrss = 0;

        int64_t cpu0 = children_cpu_us();
        int64_t t0 = now_us();

        if (rss) {
                /* one traced instance: stop at exit, read VmHWM */
                char **a = expand(cmd, cmdc, 0);
                pid_t pid = spawn(a, true);
                int st;
                struct rusage ru;
                for (;;) {
                        pid_t p = wait4(pid, &st, __WALL, &ru);
                        if (p < 0) {
                                if (errno == EINTR)
                                        continue;
                                die("wait4");
                        }
                        if (WIFEXITED(st) || WIFSIGNALED(st))
                                break;
                        if (!WIFSTOPPED(st))
                                continue;
                        int sig = WSTOPSIG(st);
                        int event = st >> 16;
                        if (sig == SIGTRAP && event == 0 && !started) {
                                /* the exec stop */
                                started = 1;
                                ptrace(PTRACE_SETOPTIONS, pid, NULL,
                                       (void *) (long) (PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC |
                                                         PTRACE_O_EXITKILL));
                                ptrace(PTRACE_CONT, pid, NULL, NULL);
                        } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
                                /* a re-exec (crun runs itself again from a
                                 * memfd): the previous image's peak is in
                                 * wait4's ru_maxrss, not in VmHWM */
                                ptrace(PTRACE_CONT, pid, NULL, NULL);
                        } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXIT) {
                                hwm = read_hwm_kb(pid);
                                ptrace(PTRACE_CONT, pid, NULL, NULL);
                        } else {
                                ptrace(PTRACE_CONT, pid, NULL, (void *) (long) sig);
                        }
                }
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        failures++;
                maxrss = ru.ru_maxrss;
                done = 1;
        }

        while (done < n) {
                while (started < n && inflight < par) {
                        char **a = expand(cmd, cmdc, started);
                        pid_t pid = spawn(a, false);
                        for (long k = 0; k < par; k++)
                                if (running[k] == 0) {
                                        running[k] = pid;
                                        break;
                                }
                        for (int k = 0; k < cmdc; k++)
                                if (a[k] != cmd[k])
                                        free(a[k]);
                        free(a);
                        started++;
                        inflight++;
                }
                int st;
                struct rusage ru;
                pid_t p = wait4(-1, &st, 0, &ru);
                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        die("wait4");
                }
                for (long k = 0; k < par; k++)
                        if (running[k] == p) {
                                running[k] = 0;
                                inflight--;
                                done++;
                                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                                        failures++;
                                if (ru.ru_maxrss > maxrss)
                                        maxrss = ru.ru_maxrss;
                                break;
                        }
                /* anything else was an orphan we adopted: reaped, counted */
        }
        int64_t t1 = now_us();
        reap_zombies();
        int64_t cpu1 = children_cpu_us();

        printf("%ld %lld %lld %ld %ld\n", failures, (long long) (t1 - t0), (long long) (cpu1 - cpu0), maxrss, hwm);
        return 0;
}
