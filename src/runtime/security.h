/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <seccomp.h>
#include <stdbool.h>

#include "basic/error.h"
#include "runtime/spec.h"

/* Capabilities (libcap). */

/* Check every name in CAPS is a known capability ("CAP_X", upper case);
 * error names the field (e.g. process.capabilities.bounding) and the bad
 * name.  Names libcap knows but the running kernel does not are accepted
 * and left out by caps_apply(), as runc does.  NULL CAPS is valid. */
int caps_validate(const struct spec_caps *caps, struct error *err);
/* Set bounding, inheritable, permitted, effective and ambient sets exactly
 * as CAPS says (NULL: drop nothing, as runc does when the field is absent;
 * an absent list inside CAPS means the empty set).  Call after setuid
 * (with PR_SET_KEEPCAPS on) and before seccomp; needs CAP_SETPCAP in the
 * permitted set.  Ambient caps that cannot be raised (not in permitted
 * and inheritable) are ignored, as runc does. */
int caps_apply(const struct spec_caps *caps, struct error *err);
/* Keep permitted caps across the setuid() of the process' user switch. */
int caps_keep_across_setuid(bool keep, struct error *err);

/* Seccomp (libseccomp). */

/* Validate the seccomp section: known actions, architectures, flags,
 * operators, argument indexes, errnoRet range, listenerPath for NOTIFY.
 * Syscall names are not checked: unknown ones are skipped at apply time
 * (as runc and crun do).  With libseccomp < 2.6,
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is applied by loading the compiled
 * program with seccomp(2) directly (it only matters with NOTIFY rules). */
int seccomp_validate(const struct spec_seccomp *sc, struct error *err);
/* Build the filter without loading it (the fuzz target's way in); the
 * caller releases *ret_ctx with seccomp_release(). */
int seccomp_build(const struct spec_seccomp *sc, scmp_filter_ctx *ret_ctx, bool *ret_notify, struct error *err);
/* Build and load the filter into the calling thread.  When the config
 * asks for SCMP_ACT_NOTIFY, *ret_notify_fd gets the listener fd (else -1),
 * O_CLOEXEC and owned by the caller.  The filter does not set
 * no_new_privs: load it while CAP_SYS_ADMIN is still effective, or after
 * PR_SET_NO_NEW_PRIVS.  Argument conditions on distinct indexes are
 * ANDed; if an index repeats, every condition becomes a rule of its own
 * (ORed), as in runc.  Validates as it goes (same errors as
 * seccomp_validate()).  NULL SC loads nothing. */
int seccomp_apply(const struct spec_seccomp *sc, int *ret_notify_fd, struct error *err);
/* Send the notify fd and the container state JSON to listenerPath, as the
 * spec describes (SCM_RIGHTS, state with "fds":["seccompFd"]).  STATE_JSON
 * is the container state object (as `state` prints it; it is wrapped as
 * {"ociVersion","fds","pid","metadata","state"} with pid taken from it)
 * or a whole ContainerProcessState (has a "state" member; "fds" is set,
 * "metadata" added from listenerMetadata when missing).  Connects, sends
 * in one sendmsg (the rest follows if the socket takes less) and closes. */
int seccomp_send_notify_fd(const struct spec_seccomp *sc, int notify_fd, const char *state_json, struct error *err);
