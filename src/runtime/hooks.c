/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/fileio.h"
#include "runtime/hooks.h"

static const char *const hook_names[_SPEC_HOOK_MAX] = {
        [SPEC_HOOK_PRESTART] = "prestart",
        [SPEC_HOOK_CREATE_RUNTIME] = "createRuntime",
        [SPEC_HOOK_CREATE_CONTAINER] = "createContainer",
        [SPEC_HOOK_START_CONTAINER] = "startContainer",
        [SPEC_HOOK_POSTSTART] = "poststart",
        [SPEC_HOOK_POSTSTOP] = "poststop",
};

const char *hook_kind_to_string(enum spec_hook_kind kind)
{
        return hook_names[kind];
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for PID through its pidfd, at most TIMEOUT seconds (0: forever). */
static int wait_hook(pid_t pid, int timeout, int *ret_status)
{
        _cleanup_close_ int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
        int64_t deadline = timeout > 0 ? now_ms() + (int64_t) timeout * 1000 : -1;

        for (;;) {
                int left = deadline < 0 ? -1 : (int) (deadline - now_ms());
                struct pollfd p = { .fd = pfd, .events = POLLIN };
                int r;

                if (pfd < 0)
                        break;
                if (deadline >= 0 && left <= 0) {
                        (void) kill(-pid, SIGKILL); /* the hook's whole process group */
                        (void) waitpid(pid, ret_status, 0);
                        return -ETIMEDOUT;
                }
                r = poll(&p, 1, left);
                if ((r < 0 && errno == EINTR) || r == 0)
                        continue; /* the deadline is checked above */
                break;
        }
        if (RETRY_EINTR(waitpid(pid, ret_status, 0)) < 0)
                return -errno;
        return 0;
}

static int run_one(const struct spec_hook *h, const char *what, const char *state_json, struct error *err)
{
        int in[2], status = 0, r;
        pid_t pid;

        if (pipe2(in, O_CLOEXEC) < 0)
                return error_set(err, errno, "%s: pipe", what);
        pid = fork();
        if (pid < 0) {
                close(in[0]);
                close(in[1]);
                return error_set(err, errno, "%s: fork", what);
        }
        if (pid == 0) {
                char *const noargs[] = { h->path, NULL };
                char *const noenv[] = { NULL };
                /* its own process group, so a timeout kills what it started */
                (void) setpgid(0, 0);
                (void) dup2(in[0], STDIN_FILENO);
                /* hooks must not write into the container's stdout */
                (void) dup2(STDERR_FILENO, STDOUT_FILENO);
                signal(SIGPIPE, SIG_DFL);
                execve(h->path, h->args ? h->args : noargs, h->env ? h->env : noenv);
                _exit(127);
        }
        close(in[0]);
        {
                void (*old)(int) = signal(SIGPIPE, SIG_IGN);
                (void) write_all(in[1], state_json, strlen(state_json));
                signal(SIGPIPE, old);
        }
        close(in[1]);
        r = wait_hook(pid, h->has_timeout ? h->timeout : 0, &status);
        if (r == -ETIMEDOUT)
                return error_setx(err, ETIMEDOUT, "%s: `%s` timed out after %d s", what, h->path, h->timeout);
        if (r < 0)
                return error_set(err, -r, "%s: wait for `%s`", what, h->path);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return error_setx(err, EIO, "%s: `%s` exited with status %d", what, h->path, WEXITSTATUS(status));
        return error_setx(err, EIO, "%s: `%s` killed by signal %d", what, h->path, WTERMSIG(status));
}

int hooks_run(const struct spec *s, enum spec_hook_kind kind, const char *state_json, struct error *err)
{
        /* poststart and poststop failures are warnings: the rest still run */
        bool keep_going = kind == SPEC_HOOK_POSTSTART || kind == SPEC_HOOK_POSTSTOP;
        int ret = 0;

        for (size_t i = 0; i < s->hooks.n[kind]; i++) {
                _cleanup_free_ char *what = xasprintf("hooks.%s[%zu]", hook_names[kind], i);
                int r = run_one(&s->hooks.list[kind][i], what, state_json, err);
                if (r < 0 && !keep_going)
                        return r;
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}
