/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth-init [--] PROG [ARGS...]: PID 1 of a container run with --init,
 * like tini (Docker's docker-init).
 *
 * A process that did not expect to be PID 1 neither reaps the orphans the
 * kernel hands it nor dies of SIGTERM (PID 1 gets no default actions).  So
 * we run PROG as our child, in its own process group (the terminal's
 * foreground group when stdin is one) and in our session, forward it every
 * signal we get, reap every zombie, and exit with PROG's status: its exit
 * code, or 128 + the signal that killed it.  If PROG cannot be executed:
 * 127 when it is not there, 126 otherwise, as Docker reports. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *a, const char *b, const char *c, const char *d)
{
        const char *parts[] = { "berth-init: ", a, b, c, d, "\n" };

        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
                (void) !write(STDERR_FILENO, parts[i], strlen(parts[i]));
}

static _Noreturn void run_child(char **argv, const sigset_t *mask)
{
        int e;

        (void) setpgid(0, 0);
        /* SIGTTOU is still blocked: a background group may take the tty */
        if (isatty(STDIN_FILENO))
                (void) tcsetpgrp(STDIN_FILENO, getpgrp());
        (void) signal(SIGTTIN, SIG_DFL);
        (void) signal(SIGTTOU, SIG_DFL);
        (void) sigprocmask(SIG_SETMASK, mask, NULL);
        execvp(argv[0], argv);
        e = errno;
        say("exec ", argv[0], ": ", strerror(e));
        _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

/* Reap every zombie; true once CHILD is among them (*ret_code its status). */
static int reap(pid_t child, int *ret_code)
{
        int done = 0;

        for (;;) {
                int st;
                pid_t pid = waitpid(-1, &st, WNOHANG);

                if (pid < 0 && errno == EINTR)
                        continue;
                if (pid <= 0)
                        return done;
                if (pid == child) {
                        *ret_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                        done = 1;
                }
        }
}

int main(int argc, char **argv)
{
        static const int faults[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS };
        sigset_t all, old;
        pid_t child;
        int first = 1, code = 0;

        if (argc > 1 && strcmp(argv[1], "--") == 0)
                first = 2;
        if (first >= argc) {
                say("usage: berth-init [--] PROG [ARGS...]", "", "", "");
                return 2;
        }
        /* every signal waits for sigwaitinfo(), but faults of our own;
         * blocked signals reach PID 1 even without a handler */
        sigfillset(&all);
        for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
                sigdelset(&all, faults[i]);
        (void) sigprocmask(SIG_SETMASK, &all, &old);
        (void) signal(SIGTTIN, SIG_IGN);
        (void) signal(SIGTTOU, SIG_IGN);
        if (getpid() != 1)
                (void) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

        child = fork();
        if (child < 0) {
                say("fork: ", strerror(errno), "", "");
                return 1;
        }
        if (child == 0)
                run_child(argv + first, &old);
        (void) setpgid(child, child);

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);

                if (sig < 0)
                        continue;
                if (sig == SIGCHLD) {
                        if (reap(child, &code))
                                break;
                        continue;
                }
                if (kill(child, sig) < 0 && errno == ESRCH && reap(child, &code))
                        break;
        }
        return code; /* as PID 1, our exit takes the rest of the container along */
}
