/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "cli.h"

/* The default config: a shell in a busybox-like root, the usual pseudo
 * filesystems, no network, the default capability set of runc's spec. */
static const char default_config[] =
        "{\n"
        /* 1.1.0: the newest version runc 1.1 and crun 1.8 accept */
        "  \"ociVersion\": \"1.1.0\",\n"
        "  \"process\": {\n"
        "    \"terminal\": true,\n"
        "    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
        "    \"args\": [ \"sh\" ],\n"
        "    \"env\": [\n"
        "      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
        "      \"TERM=xterm\"\n"
        "    ],\n"
        "    \"cwd\": \"/\",\n"
        "    \"capabilities\": {\n"
        "      \"bounding\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
        "      \"effective\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
        "      \"permitted\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
        "      \"ambient\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ]\n"
        "    },\n"
        "    \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],\n"
        "    \"noNewPrivileges\": true\n"
        "  },\n"
        "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
        "  \"hostname\": \"berth\",\n"
        "  \"mounts\": [\n"
        "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
        "    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
        "      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
        "    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"%s ] },\n"
        "    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
        "    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n"
        "    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] },\n"
        "    { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\" ] }\n"
        "  ],\n"
        "  \"linux\": {\n"
        "%s"
        "    \"resources\": { \"devices\": [ { \"allow\": false, \"access\": \"rwm\" } ] },\n"
        "    \"namespaces\": [\n"
        "      { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" },\n"
        "      { \"type\": \"uts\" }, { \"type\": \"mount\" }, { \"type\": \"cgroup\" }%s\n"
        "    ],\n"
        "    \"maskedPaths\": [\n"
        "      \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\",\n"
        "      \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\",\n"
        "      \"/proc/scsi\"\n"
        "    ],\n"
        "    \"readonlyPaths\": [\n"
        "      \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"\n"
        "    ]\n"
        "  }\n"
        "}\n";

/* --rootless, a config that works as is for the calling user:
 * - a user namespace mapping root to the caller's own uid and gid (one id
 *   each: written without helpers or /etc/subuid entries);
 * - the network namespace stays: it belongs to the new user namespace, so
 *   a fresh sysfs shows the container's own interfaces (berth binds the
 *   host's /sys where a new sysfs is refused, e.g. without a network
 *   namespace, so removing it keeps the config working);
 * - no gid=5 on devpts: gid 5 is not mapped;
 * - no linux.resources: without a delegated cgroup v2 subtree there is no
 *   cgroup to put limits or device rules in. */

int cmd_spec(int argc, char **argv)
{
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' }, { "rootless", no_argument, NULL, 'r' }, {},
        };
        _cleanup_free_ char *maps = NULL, *json = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        const char *bundle = ".";
        bool rootless = false;
        int c;

        while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) >= 0) {
                if (c == 'b')
                        bundle = optarg;
                else if (c == 'r')
                        rootless = true;
                else
                        return 1;
        }
        if (optind < argc)
                return cli_usage("spec: unexpected argument `%s`", argv[optind]);
        if (rootless)
                maps = xasprintf("    \"uidMappings\": [ { \"containerID\": 0, \"hostID\": %u, \"size\": 1 } ],\n"
                                 "    \"gidMappings\": [ { \"containerID\": 0, \"hostID\": %u, \"size\": 1 } ],\n",
                                 (unsigned) geteuid(), (unsigned) getegid());
        json = xasprintf(default_config, rootless ? "" : ", \"gid=5\"", rootless ? maps : "",
                         rootless ? ", { \"type\": \"user\" }" : "");
        if (rootless) {
                char *p = strstr(json, "    \"resources\"");
                if (p) {
                        char *e = strchr(p, '\n');
                        memmove(p, e + 1, strlen(e + 1) + 1);
                }
        }
        dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return cli_usage("--bundle: open `%s`: %s", bundle, strerror(errno));
        fd = openat(dfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
                if (errno == EEXIST)
                        return cli_usage("spec: `%s/config.json` exists; remove it first", bundle);
                return cli_usage("spec: create `%s/config.json`: %s", bundle, strerror(errno));
        }
        if (write_all(fd, json, strlen(json)) < 0)
                return cli_usage("spec: write `%s/config.json`: %s", bundle, strerror(errno));
        return 0;
}

int cmd_features(int argc, char **argv)
{
        printf("{\n"
               "  \"ociVersionMin\": \"1.0.0\",\n"
               "  \"ociVersionMax\": \"%s\",\n"
               "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", \"startContainer\", \"poststart\", \"poststop\"],\n"
               "  \"mountOptions\": [\"acl\", \"async\", \"atime\", \"bind\", \"defaults\", \"dev\", \"diratime\", \"dirsync\",\n"
               "    \"exec\", \"idmap\", \"iversion\", \"lazytime\", \"loud\", \"mand\", \"noacl\", \"noatime\", \"nodev\",\n"
               "    \"nodiratime\", \"noexec\", \"noiversion\", \"nolazytime\", \"nomand\", \"norelatime\", \"nostrictatime\",\n"
               "    \"nosuid\", \"nosymfollow\", \"private\", \"ratime\", \"rbind\", \"rdev\", \"rdiratime\", \"relatime\",\n"
               "    \"remount\", \"rexec\", \"rnoatime\", \"rnodev\", \"rnodiratime\", \"rnoexec\", \"rnorelatime\",\n"
               "    \"rnostrictatime\", \"rnosuid\", \"rnosymfollow\", \"ro\", \"rprivate\", \"rrelatime\", \"rro\", \"rrw\",\n"
               "    \"rshared\", \"rslave\", \"rstrictatime\", \"rsuid\", \"rsymfollow\", \"runbindable\", \"rw\", \"shared\",\n"
               "    \"silent\", \"slave\", \"strictatime\", \"suid\", \"symfollow\", \"sync\", \"tmpcopyup\", \"unbindable\"],\n"
               "  \"linux\": {\n"
               "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"time\", \"user\", \"uts\"],\n"
               "    \"capabilities\": [],\n"
               "    \"cgroup\": { \"v1\": true, \"v2\": true, \"systemd\": false, \"systemdUser\": false, \"rdma\": true },\n"
               "    \"seccomp\": {\n"
               "      \"enabled\": true,\n"
               "      \"actions\": [\"SCMP_ACT_ALLOW\", \"SCMP_ACT_ERRNO\", \"SCMP_ACT_KILL\", \"SCMP_ACT_KILL_PROCESS\",\n"
               "        \"SCMP_ACT_KILL_THREAD\", \"SCMP_ACT_LOG\", \"SCMP_ACT_NOTIFY\", \"SCMP_ACT_TRACE\", \"SCMP_ACT_TRAP\"],\n"
               "      \"operators\": [\"SCMP_CMP_EQ\", \"SCMP_CMP_GE\", \"SCMP_CMP_GT\", \"SCMP_CMP_LE\", \"SCMP_CMP_LT\",\n"
               "        \"SCMP_CMP_MASKED_EQ\", \"SCMP_CMP_NE\"],\n"
               "      \"archs\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X32\", \"SCMP_ARCH_AARCH64\", \"SCMP_ARCH_ARM\"]\n"
               "    },\n"
               "    \"apparmor\": { \"enabled\": false },\n"
               "    \"selinux\": { \"enabled\": false },\n"
               "    \"intelRdt\": { \"enabled\": false },\n"
               "    \"mountExtensions\": { \"idmap\": { \"enabled\": true } }\n"
               "  },\n"
               "  \"annotations\": { \"org.opencontainers.runtime-spec.features\": \"berth\" }\n"
               "}\n",
               OCI_SPEC_VERSION);
        return 0;
}
