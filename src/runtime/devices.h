/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "runtime/spec.h"

/* Is /dev the container's own (not a bind of a host directory)?  Then
 * the runtime populates it. */
bool devices_need_setup(const struct spec *s);

/* Populate /dev inside ROOTFD (before pivot_root): the default devices
 * (null, zero, full, random, urandom, tty) and linux.devices, mknod'ed
 * or, with BIND (a user namespace), bind-mounted from the host; the
 * /dev/fd, stdin, stdout, stderr and core symlinks; /dev/ptmx when a
 * devpts is mounted at /dev/pts; an empty /dev/console with CONSOLE. */
int devices_setup(int rootfd, const struct spec *s, bool bind, bool console, struct error *err);
