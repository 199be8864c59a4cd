/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "basic/error.h"
#include "runtime/spec.h"

/* Run every hook of KIND in order with STATE_JSON on its stdin; the first
 * failure (non-zero exit, signal, timeout) stops and fails, except for
 * poststart and poststop, where every hook runs and the first failure is
 * reported (a warning for the caller). */
int hooks_run(const struct spec *s, enum spec_hook_kind kind, const char *state_json, struct error *err);
const char *hook_kind_to_string(enum spec_hook_kind kind);
