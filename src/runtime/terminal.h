/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

#include "basic/error.h"
#include "runtime/spec.h"

/* Open a new pty from the current mount namespace's /dev/ptmx; the slave is
 * sized to SIZE when given. */
int terminal_open_pty(const struct spec_console_size *size, int *ret_master, int *ret_slave, struct error *err);
/* Make SLAVE the controlling terminal and stdio of the calling process. */
int terminal_make_controlling(int slave, struct error *err);
/* Connect to the --console-socket PATH. */
int terminal_connect(const char *path, struct error *err);
/* Send FD over the unix socket SOCK with SCM_RIGHTS (one byte of payload
 * or the given name). */
int send_fd(int sock, int fd, const char *name);
/* Receive one fd (and up to len bytes of payload). -errno on failure. */
int recv_fd(int sock, char *buf, size_t len);
/* Copy between our stdin/stdout and MASTER until the process exits and the
 * master reports EOF; puts our terminal in raw mode meanwhile. */
void terminal_proxy(int master);
