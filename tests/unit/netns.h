/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* For the network tests: a child process sitting in a network namespace of
 * its own (a "container"), its pid or -1.  The caller kills and reaps it. */

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static inline pid_t netns_child(void)
{
        int p[2];
        pid_t pid;
        char c;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                close(p[0]);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                (void) !write(p[1], "x", 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (pid > 0 && read(p[0], &c, 1) != 1) {
                (void) waitpid(pid, NULL, 0);
                pid = -1;
        }
        close(p[0]);
        return pid;
}
