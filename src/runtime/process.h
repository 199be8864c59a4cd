/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "basic/error.h"
#include "runtime/spec.h"

/* Process setup, run in the container's init (create) or in the process
 * joining a container (exec), after its namespaces and root are in place.
 * Order: process_setup_limits → process_resolve_exec → process_set_user →
 * caps/no_new_privs (process_drop_privileges) → [wait for start] →
 * seccomp → execve. */

/* rlimits, scheduler, ioPriority, umask. */
int process_setup_limits(const struct spec_process *p, struct error *err);
/* oomScoreAdj of PID (0: ourselves), written through the host's /proc by
 * the runtime or by a process not yet in the container's namespaces: a
 * non-dumpable process inside a user namespace cannot open its own
 * /proc/self/oom_score_adj, and the container's /proc is not trusted. */
int process_set_oom_score_adj(const struct spec_process *p, pid_t pid, struct error *err);
/* Find args[0] in the process' PATH (from its env) inside the current root.
 * Errors use the wording clients match on: "executable file not found in
 * $PATH", "no such file or directory", "permission denied". */
int process_resolve_exec(const struct spec_process *p, char **ret_path, struct error *err);
/* chdir into cwd, resolved inside the current root with magic links
 * (/proc/self/fd/N) refused; verify the result (CVE-2024-21626). */
int process_chdir(const struct spec_process *p, struct error *err);
/* setgroups, setresgid, setresuid keeping permitted capabilities. */
int process_set_user(const struct spec_process *p, bool setgroups_allowed, struct error *err);
/* Capabilities as configured and no_new_privs. */
int process_drop_privileges(const struct spec_process *p, struct error *err);
/* Close every fd >= first except those listed (-1 terminated). */
void process_close_fds(int first, const int *keep);
/* The env to exec with: the configured env, plus HOME when missing. */
char **process_build_env(const struct spec_process *p);
/* Must seccomp load before the user switch (no NNP, CAP_SYS_ADMIN dropped)? */
bool process_seccomp_early(const struct spec_process *p);
int process_set_cpu_affinity(const struct spec_process *p, bool final, struct error *err);
/* Does the filter have SCMP_ACT_NOTIFY rules?  Such a filter is loaded
 * before the wait for start, so that its listener fd can be handed to
 * linux.seccomp.listenerPath by the runtime. */
bool process_seccomp_notify(const struct spec_seccomp *sc);
/* Could a process with CAPS hold capability NAME ("CAP_SYS_PTRACE")?
 * NULL CAPS drops nothing: yes. */
bool process_caps_may_hold(const struct spec_caps *caps, const char *name);

/* LSMs.  In the runtime: refuse an apparmorProfile, selinuxLabel or
 * mountLabel the host cannot honour (its LSM is not enabled) instead of
 * running the container unconfined; the error names the field. */
int process_check_lsm(const struct spec_process *p, const char *mount_label, struct error *err);
/* In the container, last before execve: AppArmor "exec PROFILE" and the
 * SELinux exec label, written to this thread's attr files after
 * checking they are on procfs (CVE-2019-16884). */
int process_apply_lsm(const struct spec_process *p, struct error *err);
/* The SELinux label of keyrings made from now on (before the session
 * keyring is created). */
int process_set_keyring_label(const struct spec_process *p, struct error *err);

/* CVE-2019-5736: our forks sit in the container's pid namespace as the
 * runtime binary until they execve.  They are non-dumpable, which keeps
 * /proc/PID/exe closed to anyone without CAP_SYS_PTRACE in our user
 * namespace; a container that may hold that capability in it (no user
 * namespace of its own) needs more: this re-executes the whole command
 * from a sealed memfd copy of the binary, so that /proc/PID/exe of our
 * processes is that copy and cannot be written.  Returns 0 at once when
 * already running from such a copy; otherwise only returns on failure.
 * Call before any side effect: the command starts over. */
int process_ensure_sealed_exe(struct error *err);
/* Does PID (0: ourselves) run from such a sealed copy? */
bool process_exe_is_sealed(pid_t pid);

/* Wait for PID (our child), forwarding the usual terminal and job signals
 * to it and proxying PTY_MASTER (when >= 0) to our stdio meanwhile;
 * *ret_status is the shell-style status (128+signal when killed). */
int process_wait_foreground(pid_t pid, int pty_master, int *ret_status);
