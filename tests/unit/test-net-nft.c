/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth's nftables rules (src/net/nft.c), checked with real TCP
 * connections.  Everything happens in network namespaces of the test's
 * own, so the host's ruleset and links are never touched:
 *
 *   this process ("host", unshared)            outside (192.0.2.2)
 *     vout 192.0.2.1 ------------------------- eth0, listens on 7000, 7001
 *     br-a 10.50.0.1/24 -- c1 10.50.0.2        listens on 80, 81
 *     br-b 10.60.0.1/24 -- c2 10.60.0.2        listens on 80
 *     br-i 10.70.0.1/24 -- c3 10.70.0.2        (internal network)
 *
 * Listeners answer with the peer address they saw, which shows whether a
 * connection was masqueraded. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "basic/error.h"
#include "net/nft.h"
#include "netns.h"
#include "tap.h"

static pid_t pids[32];
static size_t n_pids;

static void track(pid_t pid)
{
        if (n_pids < ELEMENTSOF(pids))
                pids[n_pids++] = pid;
}

/* A process sitting in a new network namespace: a "container". */
static pid_t ns_new(void)
{
        pid_t pid = netns_child();

        if (pid > 0)
                track(pid);
        return pid;
}

static int ns_enter(pid_t pid)
{
        char path[64];
        int fd, r;

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        r = setns(fd, CLONE_NEWNET);
        close(fd);
        return r;
}

/* Run the shell command CMD in PID's namespace (0: ours). */
_printf_(2, 3) static int ns_sh(pid_t pid, const char *fmt, ...)
{
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        pid_t child;
        int status;

        va_start(ap, fmt);
        cmd = xvasprintf(fmt, ap);
        va_end(ap);
        child = fork();
        if (child == 0) {
                if (pid && ns_enter(pid) < 0)
                        _exit(127);
                execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
                _exit(127);
        }
        if (child < 0 || waitpid(child, &status, 0) < 0)
                return -1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                printf("# failed: %s\n", cmd);
                return -1;
        }
        return 0;
}

/* A TCP listener on PORT in PID's namespace, answering each connection
 * with the peer's address. */
static int serve(pid_t pid, unsigned port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        int p[2];
        pid_t child;
        char c;

        if (pipe(p) < 0)
                return -1;
        child = fork();
        if (child == 0) {
                int s, one = 1;

                close(p[0]);
                if (ns_enter(pid) < 0)
                        _exit(1);
                s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                (void) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                if (s < 0 || bind(s, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(s, 16) < 0)
                        _exit(1);
                (void) !write(p[1], "x", 1);
                close(p[1]);
                for (;;) {
                        struct sockaddr_in peer;
                        socklen_t len = sizeof(peer);
                        char buf[INET_ADDRSTRLEN] = "?";
                        int a = accept(s, (struct sockaddr *) &peer, &len);

                        if (a < 0)
                                continue;
                        inet_ntop(AF_INET, &peer.sin_addr, buf, sizeof(buf));
                        (void) !write(a, buf, strlen(buf));
                        close(a);
                }
        }
        close(p[1]);
        if (child < 0 || read(p[0], &c, 1) != 1) {
                close(p[0]);
                return -1;
        }
        close(p[0]);
        track(child);
        return 0;
}

/* Connect from PID's namespace (0: ours) to ADDR:PORT within a second;
 * the listener's answer (the source it saw) into BUF, "" on failure. */
static const char *probe(pid_t pid, const char *addr, unsigned port, char buf[64])
{
        int p[2], status;
        pid_t child;
        ssize_t n;

        buf[0] = 0;
        if (pipe(p) < 0)
                return buf;
        child = fork();
        if (child == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
                struct pollfd pfd;
                char out[64];
                int s, e = 0;
                socklen_t el = sizeof(e);

                close(p[0]);
                if (pid && ns_enter(pid) < 0)
                        _exit(1);
                inet_pton(AF_INET, addr, &sa.sin_addr);
                s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (s < 0 || (connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0 && errno != EINPROGRESS))
                        _exit(1);
                pfd = (struct pollfd) { .fd = s, .events = POLLOUT };
                if (poll(&pfd, 1, 1000) != 1 || getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e)
                        _exit(1);
                pfd.events = POLLIN;
                if (poll(&pfd, 1, 1000) != 1)
                        _exit(1);
                n = read(s, out, sizeof(out) - 1);
                if (n <= 0)
                        _exit(1);
                (void) !write(p[1], out, (size_t) n);
                _exit(0);
        }
        close(p[1]);
        n = child > 0 ? read(p[0], buf, 63) : -1;
        buf[n > 0 ? n : 0] = 0;
        close(p[0]);
        if (child > 0)
                (void) waitpid(child, &status, 0);
        return buf;
}

static char *capture(const char *cmd)
{
        _cleanup_free_ char *out = NULL;
        size_t len = 0, n;
        char chunk[4096];
        FILE *f = popen(cmd, "r");

        if (!f)
                return xstrdup("");
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                out = xrealloc(out, len + n + 1);
                memcpy(out + len, chunk, n);
                len += n;
                out[len] = 0;
        }
        pclose(f);
        return out ? TAKE_PTR(out) : xstrdup("");
}

static struct net_prefix P(const char *s)
{
        struct net_prefix p = {};

        if (strchr(s, '/'))
                (void) net_prefix_parse(s, false, &p, NULL);
        else
                (void) net_addr_parse(s, &p, NULL);
        return p;
}

static bool run(int r, struct error *err, const char *what)
{
        bool good = ok(r == 0, "%s%s%s", what, r < 0 ? ": " : "", r < 0 && err->msg ? err->msg : "");

        error_clear(err);
        return good;
}

static int topology(pid_t *c1, pid_t *c2, pid_t *c3, pid_t *out)
{
        *c1 = ns_new();
        *c2 = ns_new();
        *c3 = ns_new();
        *out = ns_new();
        if (*c1 < 0 || *c2 < 0 || *c3 < 0 || *out < 0)
                return -1;
        if (ns_sh(0, "ip link set lo up && echo 1 > /proc/sys/net/ipv4/ip_forward && "
                     "ip link add vout type veth peer name eth0 netns %d && "
                     "ip addr add 192.0.2.1/24 dev vout && ip link set vout up", (int) *out) < 0 ||
            ns_sh(*out, "ip link set lo up && ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up && "
                        "ip route add default via 192.0.2.1") < 0)
                return -1;
        struct {
                const char *br;
                const char *net;
                pid_t pid;
        } n[] = { { "br-a", "10.50.0", *c1 }, { "br-b", "10.60.0", *c2 }, { "br-i", "10.70.0", *c3 } };
        for (size_t i = 0; i < ELEMENTSOF(n); i++) {
                if (ns_sh(0, "ip link add %s type bridge && ip addr add %s.1/24 dev %s && ip link set %s up && "
                             "ip link add v%s type veth peer name eth0 netns %d && "
                             "ip link set v%s master %s up",
                          n[i].br, n[i].net, n[i].br, n[i].br, n[i].br, (int) n[i].pid, n[i].br, n[i].br) < 0 ||
                    ns_sh(n[i].pid, "ip link set lo up && ip addr add %s.2/24 dev eth0 && ip link set eth0 up && "
                                    "ip route add default via %s.1",
                          n[i].net, n[i].net) < 0)
                        return -1;
        }
        if (serve(*out, 7000) < 0 || serve(*out, 7001) < 0 || serve(*c1, 80) < 0 || serve(*c1, 81) < 0 ||
            serve(*c2, 80) < 0 || serve(*c3, 80) < 0)
                return -1;
        return 0;
}

static const char hostfw[] =
        "nft add table inet hostfw && "
        "nft add chain inet hostfw hfwd '{ type filter hook forward priority filter; policy accept; }' && "
        "nft add rule inet hostfw hfwd ip daddr 10.50.0.2 tcp dport 81 counter drop && "
        "nft add chain inet hostfw input '{ type filter hook input priority filter; policy accept; }' && "
        "nft add rule inet hostfw input tcp dport 9999 accept";

static void test_all(pid_t c1, pid_t c2, pid_t c3, pid_t out)
{
        struct error err = ERROR_INIT;
        struct net_prefix a = P("10.50.0.0/24"), b = P("10.60.0.0/24"), in = P("10.70.0.0/24");
        struct net_nft_port pub = { .bridge = "br-a", .proto = "tcp", .host_port = 8080,
                                    .container_addr = P("10.50.0.2"), .container_port = 80 };
        struct net_nft_port pub81 = pub;
        struct net_prefix c1a = P("10.50.0.2");
        const char *allow[] = { "192.0.2.2/32:7000/tcp" };
        _cleanup_free_ char *fw_before = NULL, *rs1 = NULL, *rs2 = NULL, *fw_after = NULL, *rs_end = NULL;
        char buf[64];

        pub81.host_port = 8081;
        pub81.container_port = 81;

        ok(ns_sh(0, "%s", hostfw) == 0, "foreign table inet hostfw made");
        fw_before = capture("nft -s list table inet hostfw");

        /* Without berth's rules: routed, not masqueraded, not isolated. */
        ok(strcmp(probe(c1, "192.0.2.2", 7000, buf), "10.50.0.2") == 0, "before: outside sees c1 itself (%s)", buf);
        ok(strcmp(probe(c1, "10.60.0.2", 80, buf), "10.50.0.2") == 0, "before: c1 reaches c2 (%s)", buf);

        run(net_nft_network_ensure("br-a", &a, 1, false, &err), &err, "ensure network br-a");
        run(net_nft_network_ensure("br-b", &b, 1, false, &err), &err, "ensure network br-b");
        run(net_nft_network_ensure("br-i", &in, 1, true, &err), &err, "ensure internal network br-i");
        rs1 = capture("nft -s list ruleset | sort");
        run(net_nft_network_ensure("br-a", &a, 1, false, &err), &err, "ensure network br-a again");
        rs2 = capture("nft -s list ruleset | sort");
        ok(strcmp(rs1, rs2) == 0, "ensure is idempotent (the same rules, reordered at most)");
        ok(net_nft_network_ensure("br;x", &a, 1, false, &err) < 0 && strstr(err.msg, "br;x"), "bad bridge name rejected");
        printf("# %s\n", err.msg);
        error_clear(&err);

        ok(strcmp(probe(c1, "192.0.2.2", 7000, buf), "192.0.2.1") == 0, "masquerade: outside sees 192.0.2.1 (%s)",
           buf);
        ok(strcmp(probe(c1, "10.60.0.2", 80, buf), "") == 0, "isolation: c1 cannot reach c2 (%s)", buf);
        ok(strcmp(probe(c2, "10.50.0.2", 80, buf), "") == 0, "isolation: c2 cannot reach c1 (%s)", buf);
        ok(strcmp(probe(c3, "192.0.2.2", 7000, buf), "") == 0, "internal: c3 cannot reach outside (%s)", buf);
        ok(strcmp(probe(c1, "10.70.0.2", 80, buf), "") == 0, "internal: c1 cannot reach c3 (%s)", buf);
        ok(strcmp(probe(0, "10.70.0.2", 80, buf), "10.70.0.1") == 0, "internal: the host reaches c3 (%s)", buf);

        run(net_nft_publish(&pub, &err), &err, "publish 8080 -> c1:80");
        run(net_nft_publish(&pub, &err), &err, "publish 8080 again");
        run(net_nft_publish(&pub81, &err), &err, "publish 8081 -> c1:81");
        ok(strcmp(probe(out, "192.0.2.1", 8080, buf), "192.0.2.2") == 0, "dnat from outside (%s)", buf);
        ok(strcmp(probe(0, "192.0.2.1", 8080, buf), "192.0.2.1") == 0, "dnat from the host's address (%s)", buf);
        ok(strcmp(probe(0, "127.0.0.1", 8080, buf), "10.50.0.1") == 0, "dnat from 127.0.0.1, masqueraded (%s)",
           buf);
        ok(strcmp(probe(c2, "192.0.2.1", 8080, buf), "") == 0, "isolation holds for published ports (%s)", buf);
        ok(strcmp(probe(0, "10.50.0.2", 81, buf), "10.50.0.1") == 0, "c1:81 listens (%s)", buf);
        ok(strcmp(probe(out, "192.0.2.1", 8081, buf), "") == 0, "the host's drop wins over berth's accept (%s)",
           buf);

        run(net_nft_egress(&c1a, allow, 1, NET_NFT_DENY, &err), &err, "egress deny for c1 but 192.0.2.2:7000");
        ok(strcmp(probe(c1, "192.0.2.2", 7000, buf), "192.0.2.1") == 0, "egress: allowed destination (%s)", buf);
        ok(strcmp(probe(c1, "192.0.2.2", 7001, buf), "") == 0, "egress: other port denied (%s)", buf);
        ok(strcmp(probe(out, "192.0.2.1", 8080, buf), "192.0.2.2") == 0, "egress: published port still served (%s)",
           buf);
        {
                const char *bad[] = { "192.0.2.2/33" };
                ok(net_nft_egress(&c1a, bad, 1, NET_NFT_DENY, &err) < 0 && strstr(err.msg, "192.0.2.2/33"),
                   "bad egress rule rejected");
                printf("# %s\n", err.msg);
                error_clear(&err);
        }
        run(net_nft_egress_remove(&c1a, &err), &err, "egress removed");
        ok(strcmp(probe(c1, "192.0.2.2", 7001, buf), "192.0.2.1") == 0, "egress removed: 7001 again (%s)", buf);

        run(net_nft_unpublish(&pub, &err), &err, "unpublish 8080");
        ok(strcmp(probe(out, "192.0.2.1", 8080, buf), "") == 0, "unpublished: 8080 gone (%s)", buf);
        run(net_nft_unpublish(&pub, &err), &err, "unpublish 8080 again");

        run(net_nft_network_remove("br-b", &err), &err, "remove network br-b");
        run(net_nft_network_remove("br-b", &err), &err, "remove network br-b again");
        ok(strcmp(probe(c1, "10.60.0.2", 80, buf), "192.0.2.1") != 0 && buf[0],
           "br-b's rules gone: c1 reaches c2 (%s)", buf);
        ok(strcmp(probe(c1, "192.0.2.2", 7000, buf), "192.0.2.1") == 0, "br-a still masqueraded (%s)", buf);
        {
                _cleanup_free_ char *rs = capture("nft list ruleset");
                ok(!strstr(rs, "berth:net:br-b") && strstr(rs, "berth:net:br-a"), "only br-b's rules deleted");
        }

        run(net_nft_remove_all(&err), &err, "remove all");
        run(net_nft_remove_all(&err), &err, "remove all again");
        rs_end = capture("nft list ruleset");
        ok(!strstr(rs_end, "berth"), "no berth table or rule left");
        fw_after = capture("nft -s list table inet hostfw");
        ok(fw_before[0] && strcmp(fw_before, fw_after) == 0, "foreign table untouched");
        if (strcmp(fw_before, fw_after) != 0)
                printf("# before:\n%s# after:\n%s", fw_before, fw_after);
}

int main(void)
{
        pid_t c1, c2, c3, out;

        if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
                skip_named("host limit: no unshare(CLONE_NEWNET) (root needed)", "nftables rules");
                return tap_done();
        }
        if (ns_sh(0, "nft list ruleset >/dev/null") < 0) {
                skip_named("host limit: nft(8) does not work here", "nftables rules");
                return tap_done();
        }
        if (topology(&c1, &c2, &c3, &out) < 0)
                skip_named("host limit: could not build the test topology (veth, bridge)", "nftables rules");
        else
                test_all(c1, c2, c3, out);
        for (size_t i = 0; i < n_pids; i++) {
                (void) kill(pids[i], SIGKILL);
                (void) waitpid(pids[i], NULL, 0);
        }
        return tap_done();
}
