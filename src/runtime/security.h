/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "runtime/spec.h"

/* Capabilities (libcap). */

/* Check every name in CAPS is a known capability ("CAP_X"); error names
 * the field (e.g. process.capabilities.bounding) and the bad name. */
int caps_validate(const struct spec_caps *caps, struct error *err);
/* Set bounding, inheritable, permitted, effective and ambient sets exactly
 * as CAPS says (NULL: drop nothing, as runc does when the field is absent).
 * Call after setuid (with PR_SET_KEEPCAPS on) and before seccomp. */
int caps_apply(const struct spec_caps *caps, struct error *err);
/* Keep permitted caps across the setuid() of the process' user switch. */
int caps_keep_across_setuid(bool keep, struct error *err);

/* Seccomp (libseccomp). */

/* Validate the seccomp section: known actions, syscall names known to at
 * least one of the given architectures, known flags, operators. */
int seccomp_validate(const struct spec_seccomp *sc, struct error *err);
/* Build and load the filter into the calling thread.  When the config
 * asks for SCMP_ACT_NOTIFY, *ret_notify_fd gets the listener fd (else -1). */
int seccomp_apply(const struct spec_seccomp *sc, int *ret_notify_fd, struct error *err);
/* Send the notify fd and the container state JSON to listenerPath, as the
 * spec describes (SCM_RIGHTS, state with "fds":["seccompFd"]). */
int seccomp_send_notify_fd(const struct spec_seccomp *sc, int notify_fd, const char *state_json, struct error *err);
