/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "runtime/security.h"

enum caps_set {
        CAPS_BOUNDING,
        CAPS_EFFECTIVE,
        CAPS_INHERITABLE,
        CAPS_PERMITTED,
        CAPS_AMBIENT,
        _CAPS_SET_MAX,
};

static const char *const caps_set_field[_CAPS_SET_MAX] = {
        [CAPS_BOUNDING] = "bounding",
        [CAPS_EFFECTIVE] = "effective",
        [CAPS_INHERITABLE] = "inheritable",
        [CAPS_PERMITTED] = "permitted",
        [CAPS_AMBIENT] = "ambient",
};

static char *const *caps_set_list(const struct spec_caps *caps, enum caps_set s)
{
        switch (s) {
        case CAPS_BOUNDING:
                return caps->bounding;
        case CAPS_EFFECTIVE:
                return caps->effective;
        case CAPS_INHERITABLE:
                return caps->inheritable;
        case CAPS_PERMITTED:
                return caps->permitted;
        case CAPS_AMBIENT:
                return caps->ambient;
        default:
                return NULL;
        }
}

/* The number of an OCI capability name, or -EINVAL.  Names are "CAP_" plus
 * upper case letters and '_', as in the spec.  The spelling is checked here
 * because cap_from_name() alone also takes "cap_chown", "12" and even
 * "CAP_CHOWN1" (libcap stops reading at the first character that is not a
 * letter or '_'). */
static int cap_lookup(const char *name)
{
        cap_value_t v;

        if (strncmp(name, "CAP_", 4) != 0 || name[4] == 0)
                return -EINVAL;
        for (const char *p = name + 4; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || *p == '_'))
                        return -EINVAL;
        if (cap_from_name(name, &v) < 0 || v < 0 || v > 63)
                return -EINVAL;
        return v;
}

/* Highest capability the running kernel knows; libcap probes it once at
 * load time (PR_CAPBSET_READ). */
static int cap_last(void)
{
        cap_value_t n = cap_max_bits();

        return n > 0 && n <= 64 ? n - 1 : CAP_LAST_CAP;
}

/* Turn the name lists into masks.  Names libcap knows but the running
 * kernel does not are left out, as runc does (it warns; we stay quiet). */
static int caps_to_masks(const struct spec_caps *caps, uint64_t ret_masks[static _CAPS_SET_MAX],
                         struct error *err)
{
        uint64_t masks[_CAPS_SET_MAX] = {};
        int last = cap_last();

        for (int s = 0; s < _CAPS_SET_MAX; s++) {
                char *const *l = caps_set_list(caps, s);

                for (size_t i = 0; l && l[i]; i++) {
                        int v = cap_lookup(l[i]);

                        if (v < 0)
                                return error_setx(err, EINVAL,
                                                  "process.capabilities.%s: unknown capability \"%s\"",
                                                  caps_set_field[s], l[i]);
                        if (v <= last)
                                masks[s] |= UINT64_C(1) << v;
                }
        }
        memcpy(ret_masks, masks, sizeof(masks));
        return 0;
}

int caps_validate(const struct spec_caps *caps, struct error *err)
{
        uint64_t masks[_CAPS_SET_MAX];

        if (!caps)
                return 0;
        return caps_to_masks(caps, masks, err);
}

/* Drop every capability outside KEEP from the bounding set.  Needs
 * CAP_SETPCAP, except for caps that are already gone (so that a process
 * with a reduced set can still apply a config that drops nothing new). */
static int caps_drop_bounding(uint64_t keep, int last, struct error *err)
{
        for (int c = 0; c <= last; c++) {
                if (keep & (UINT64_C(1) << c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) >= 0)
                        continue;
                if (errno == EPERM && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0)
                        continue;
                if (errno == EINVAL) /* unknown to this kernel */
                        continue;
                return error_set(err, errno, "process.capabilities.bounding: drop capability %d", c);
        }
        return 0;
}

static void caps_fill(struct __user_cap_data_struct data[static 2], uint64_t eff, uint64_t prm,
                      uint64_t inh)
{
        data[0].effective = (uint32_t) eff;
        data[1].effective = (uint32_t) (eff >> 32);
        data[0].permitted = (uint32_t) prm;
        data[1].permitted = (uint32_t) (prm >> 32);
        data[0].inheritable = (uint32_t) inh;
        data[1].inheritable = (uint32_t) (inh >> 32);
}

/* Ambient caps need to be in both permitted and inheritable; a raise that
 * fails is ignored, like runc does (and kernels before 4.3 lack the
 * prctl altogether). */
static void caps_set_ambient(uint64_t amb, int last)
{
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return;
        for (int c = 0; c <= last; c++)
                if (amb & (UINT64_C(1) << c))
                        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
}

/* Contract: runs in the container process after its setuid()/setgid()
 * (with PR_SET_KEEPCAPS when the uid is not 0) and before seccomp.  The
 * process needs CAP_SETPCAP in its permitted set to shrink the bounding
 * set; the effective set is raised to the permitted one first, since a
 * setuid() away from root cleared it.  On failure the sets may be half
 * applied: the caller must not go on to run the workload. */
int caps_apply(const struct spec_caps *caps, struct error *err)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = {};
        uint64_t masks[_CAPS_SET_MAX];
        int last = cap_last(), r;

        if (!caps)
                return 0;
        r = caps_to_masks(caps, masks, err);
        if (r < 0)
                return r;

        if (capget(&hdr, data) < 0)
                return error_set(err, errno, "get capabilities");
        if (data[0].effective != data[0].permitted || data[1].effective != data[1].permitted) {
                data[0].effective = data[0].permitted;
                data[1].effective = data[1].permitted;
                if (capset(&hdr, data) < 0)
                        return error_set(err, errno, "raise effective capabilities");
        }

        r = caps_drop_bounding(masks[CAPS_BOUNDING], last, err);
        if (r < 0)
                return r;

        caps_fill(data, masks[CAPS_EFFECTIVE], masks[CAPS_PERMITTED], masks[CAPS_INHERITABLE]);
        if (capset(&hdr, data) < 0)
                return error_set(err, errno, "process.capabilities: set effective, permitted and inheritable");

        caps_set_ambient(masks[CAPS_AMBIENT], last);
        return 0;
}

int caps_keep_across_setuid(bool keep, struct error *err)
{
        if (prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0)
                return error_set(err, errno, "%s keepcaps", keep ? "set" : "clear");
        return 0;
}
