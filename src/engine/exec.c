/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "engine/engine-internal.h"
#include "engine/ocispec.h"

/* Is PROG something the container can run: a path, or a name in PATH
 * (the container's), resolved inside its root file system? */
static bool command_exists(int rootfd, const char *prog, const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path && *path ? path : DEFAULT_PATH);
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
        char *save = NULL;

        if (strchr(prog, '/')) {
                _cleanup_close_ int fd = (int) syscall(SYS_openat2, rootfd, prog, &how, sizeof(how));
                return fd >= 0;
        }
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = xasprintf("%s/%s", d, prog);
                _cleanup_close_ int fd = (int) syscall(SYS_openat2, rootfd, p, &how, sizeof(how));
                struct stat st;
                if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
                        return true;
        }
        return false;
}

/* PATH as the container's process has it (its config.json). */
static char *container_path(const struct container *c)
{
        _cleanup_free_ char *p = xasprintf("%s/bundle/config.json", c->dir), *data = NULL;
        json_object *spec = NULL, *proc, *env;
        char *out = NULL;

        if (read_full_file_at(AT_FDCWD, p, 4 << 20, &data, NULL) < 0 || !(spec = json_tokener_parse(data)))
                return NULL;
        if (json_object_object_get_ex(spec, "process", &proc) && json_object_object_get_ex(proc, "env", &env))
                for (size_t i = 0; i < json_object_array_length(env); i++) {
                        const char *kv = json_object_get_string(json_object_array_get_idx(env, i));
                        if (kv && strncmp(kv, "PATH=", 5) == 0)
                                out = xstrdup(kv + 5);
                }
        json_object_put(spec);
        return out;
}

int engine_exec(struct engine *e, struct container *c, const struct exec_opts *o, struct error *err)
{
        _cleanup_strv_free_ char **argv = engine_runtime_argv(e, c);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", c->dir), *path = container_path(c);
        _cleanup_close_ int rootfd = -EBADF;
        int status;
        pid_t pid;

        if (!o->argv || !o->argv[0])
                return error_setx(err, EINVAL, "exec: no command given");
        if (strcmp(container_state(c), "running") != 0 || !container_monitor_alive(c))
                return error_setx(err, EINVAL, "container %s is %s", c->name,
                                  strcmp(container_state(c), "paused") == 0 ? "paused, unpause the container before exec"
                                                                          : "not running");
        rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd >= 0 && !command_exists(rootfd, o->argv[0], path)) {
                return error_setx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
                                  o->argv[0]);
        }
        strv_push(&argv, xstrdup("exec"));
        if (o->tty)
                strv_push(&argv, xstrdup("--tty"));
        if (o->detach)
                strv_push(&argv, xstrdup("--detach"));
        if (o->workdir && *o->workdir) {
                strv_push(&argv, xstrdup("--cwd"));
                strv_push(&argv, xstrdup(o->workdir));
        }
        for (char **v = o->env; v && *v; v++) {
                strv_push(&argv, xstrdup("--env"));
                strv_push(&argv, xstrdup(*v));
        }
        if (o->user && *o->user) {
                uint32_t uid, gid;
                int r = ocispec_resolve_user(rootfd, o->user, &uid, &gid, err);
                if (r < 0)
                        return r;
                strv_push(&argv, xstrdup("--user"));
                strv_push(&argv, xasprintf("%u:%u", uid, gid));
        }
        if (o->privileged) {
                static const char *const all[] = {
                        "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
                        "CAP_SYS_TIME", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_IPC_LOCK", "CAP_DAC_READ_SEARCH",
                        "CAP_LINUX_IMMUTABLE", "CAP_SYS_BOOT", "CAP_SYS_TTY_CONFIG", "CAP_SYSLOG", "CAP_BPF",
                        "CAP_PERFMON", "CAP_NET_BROADCAST", "CAP_IPC_OWNER", "CAP_LEASE", "CAP_WAKE_ALARM",
                        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_CONTROL", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE",
                        "CAP_CHECKPOINT_RESTORE", "CAP_SYS_PACCT",
                };
                for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                        strv_push(&argv, xstrdup("--cap"));
                        strv_push(&argv, xstrdup(all[i]));
                }
        }
        strv_push(&argv, xstrdup(c->id));
        for (char **a = o->argv; *a; a++)
                strv_push(&argv, xstrdup(*a));
        pid = fork();
        if (pid < 0)
                return error_set(err, errno, "fork");
        if (pid == 0) {
                if (!o->interactive) {
                        int null = open("/dev/null", O_RDONLY);
                        if (null >= 0)
                                dup2(null, 0);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        if (RETRY_EINTR(waitpid(pid, &status, 0)) < 0)
                return error_set(err, errno, "wait for %s", argv[0]);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
