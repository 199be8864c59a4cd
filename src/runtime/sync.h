/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "basic/error.h"

/* Messages between the runtime and the process it starts (container init
 * or exec'd process), over a SOCK_SEQPACKET pair: one message a packet. */
enum sync_type {
        SYNC_GO = 1,     /* runtime → child: maps written, cgroup joined */
        SYNC_HOOKS,      /* child → runtime: mounts done, run createRuntime */
        SYNC_HOOKS_DONE, /* runtime → child: text is the state JSON */
        SYNC_PTY,        /* child → runtime: the pty master (SCM_RIGHTS) */
        SYNC_CREATED,    /* child → runtime: ready, waiting for start */
        SYNC_RELEASE,    /* runtime → child: the runtime exits, live on */
        SYNC_START,      /* runtime → child: exec now */
        SYNC_ERROR,      /* child → runtime: code + message, child exits */
        SYNC_MOUNT_FD,   /* runtime → init, before GO: code is a mounts[] index,
                          * the fd a detached tree prepared for it (idmap) */
        SYNC_SECCOMP,    /* child → runtime: the seccomp listener fd (SCM_RIGHTS) for listenerPath */
        SYNC_CHILD,      /* exec's joining child → runtime: code is the pid of the process it cloned */
};

#define SYNC_MAX 8192

struct sync_msg {
        int type;
        int code;
        char text[SYNC_MAX];
        int fd; /* received with SCM_RIGHTS, else -1 (not sent) */
};

int sync_send(int fd, int type, int code, const char *text);
/* Send a TYPE message carrying PASSFD. */
int sync_send_fd(int fd, int type, int passfd);
/* The same with a CODE (e.g. the mount index of SYNC_MOUNT_FD). */
int sync_send_fd_code(int fd, int type, int code, int passfd);
/* Receive one message; -EPIPE when the peer closed. */
int sync_recv(int fd, struct sync_msg *m);
/* Receive and require TYPE; turns SYNC_ERROR into *err. */
int sync_expect(int fd, int type, struct sync_msg *m, struct error *err);
/* Report ERR to the runtime (child side). */
void sync_send_error(int fd, const struct error *err);
