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

/* rlimits, oomScoreAdj, scheduler, ioPriority, execCPUAffinity.initial, umask. */
int process_setup_limits(const struct spec_process *p, struct error *err);
/* Find args[0] in the process' PATH (from its env) inside the current root.
 * Errors use the wording clients match on: "executable file not found in
 * $PATH", "no such file or directory", "permission denied". */
int process_resolve_exec(const struct spec_process *p, char **ret_path, struct error *err);
/* chdir into cwd; verify it lies inside the current root (CVE-2024-21626). */
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
