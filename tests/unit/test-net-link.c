/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Links, addresses and routes through netlink (src/net/link.c).  The test
 * unshares a network namespace first, so the host's links are never
 * touched, and plays both sides:
 *
 *   this process ("host", unshared)         child ("container", unshared)
 *     berth-t0 10.88.0.1/16 fd00:88::1/64
 *       veth-t0 ------------------------------ eth0 10.88.0.2/16 fd00:88::2/64
 *     lo 192.0.2.77/32 fd00:99::77/128         default via 10.88.0.1, fd00:88::1
 *
 * The kernel state is read back with ip(8), not with the code under test,
 * and UDP datagrams (and busybox ping, when there is one) go over the veth
 * both ways; the addresses on lo are off the container's subnet, so
 * reaching them shows the default routes work. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "basic/error.h"
#include "net/net.h"
#include "netns.h"
#include "tap.h"

#define BR "berth-t0"
#define VETH "veth-t0"

static const uint8_t peer_mac[6] = { 0x02, 0x42, 0x0a, 0x58, 0x00, 0x02 };

static struct net_prefix P(const char *s, unsigned len)
{
        struct net_prefix p = { .family = strchr(s, ':') ? AF_INET6 : AF_INET, .len = len };

        if (inet_pton(p.family, s, &p.addr) != 1)
                printf("# bad fixture `%s`\n", s);
        return p;
}

/* stdout of the shell command, "" on failure. */
_printf_(1, 2) static char *capture(const char *fmt, ...)
{
        _cleanup_free_ char *cmd = NULL;
        char *out = xzalloc(1), chunk[4096];
        size_t len = 0, n;
        va_list ap;
        FILE *f;

        va_start(ap, fmt);
        cmd = xvasprintf(fmt, ap);
        va_end(ap);
        f = popen(cmd, "re");
        if (!f)
                return out;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                out = xrealloc(out, len + n + 1);
                memcpy(out + len, chunk, n);
                len += n;
                out[len] = '\0';
        }
        (void) pclose(f);
        return out;
}

/* ip(8) in the container's namespace (PID 0: ours). */
static char *ip(pid_t pid, const char *args)
{
        if (pid == 0)
                return capture("ip %s 2>&1", args);
        return capture("nsenter --net=/proc/%d/ns/net ip %s 2>&1", (int) pid, args);
}

static bool flag_up(const char *ip_link)
{
        return strstr(ip_link, "<UP") || strstr(ip_link, ",UP");
}

/* Show what a check saw when it fails. */
static void show(bool good, const char *what, const char *s)
{
        if (!good)
                printf("# %s: %s\n", what, s);
}

static bool run(int r, struct error *err, const char *what)
{
        bool good = ok(r >= 0, "%s", what);

        if (!good)
                printf("# %d: %s\n", r, err->msg ? err->msg : "no message");
        error_clear(err);
        return good;
}

/* Fails with R < 0 and exactly the message WANT. */
static void fails(int r, int code, struct error *err, const char *want, const char *what)
{
        bool good = r == -code && err->msg && strcmp(err->msg, want) == 0;

        ok(good, "%s", what);
        if (!good)
                printf("# got %d `%s`, want %d `%s`\n", r, err->msg ? err->msg : "", -code, want);
        error_clear(err);
}

static ino_t netns_ino(const char *path)
{
        struct stat st;

        return stat(path, &st) < 0 ? 0 : st.st_ino;
}

/* A socket in the network namespace NSFD (-1: ours), bound to ADDR:PORT. */
static int udp_socket(int nsfd, const struct net_prefix *addr, uint16_t port)
{
        _cleanup_close_ int orig = -EBADF, fd = -EBADF;
        struct sockaddr_storage ss = {};
        socklen_t sl;

        if (nsfd >= 0) {
                orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (orig < 0 || setns(nsfd, CLONE_NEWNET) < 0)
                        return -1;
        }
        fd = socket(addr->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (orig >= 0 && setns(orig, CLONE_NEWNET) < 0)
                abort(); /* the rest of the test would run in the wrong place */
        if (fd < 0)
                return -1;
        if (addr->family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;

                *in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = addr->addr.v4 };
                sl = sizeof(*in);
        } else {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

                *in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(port),
                                               .sin6_addr = addr->addr.v6 };
                sl = sizeof(*in6);
        }
        if (bind(fd, (struct sockaddr *) &ss, sl) < 0)
                return -1;
        return TAKE_FD(fd);
}

/* Receive one datagram on FD within 5 s: its length, the sender in FROM. */
static ssize_t udp_recv(int fd, char *buf, size_t size, struct sockaddr_storage *from, socklen_t *from_len)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        if (poll(&pfd, 1, 5000) != 1)
                return -1;
        *from_len = sizeof(*from);
        return recvfrom(fd, buf, size - 1, 0, (struct sockaddr *) from, from_len);
}

static const char *sockaddr_str(const struct sockaddr_storage *ss, char buf[static INET6_ADDRSTRLEN])
{
        const void *a = ss->ss_family == AF_INET ? (const void *) &((const struct sockaddr_in *) ss)->sin_addr
                                                 : (const void *) &((const struct sockaddr_in6 *) ss)->sin6_addr;

        if (!inet_ntop(ss->ss_family, a, buf, INET6_ADDRSTRLEN))
                (void) snprintf(buf, INET6_ADDRSTRLEN, "?");
        return buf;
}

/* A datagram from the container's address C to the host address H and the
 * answer back: both must arrive, from the right addresses. */
static void udp_exchange(int nsfd, const char *c, const char *h, const char *what)
{
        struct net_prefix ca = P(c, 0), ha = P(h, 0);
        _cleanup_close_ int cfd = udp_socket(nsfd, &ca, 0), hfd = udp_socket(-1, &ha, 4242);
        struct sockaddr_storage to = {}, from;
        socklen_t to_len, from_len;
        char buf[64] = "", a[INET6_ADDRSTRLEN] = "";
        ssize_t n;
        bool there, back = false;

        if (cfd < 0 || hfd < 0) {
                ok(false, "%s: sockets (%m)", what);
                return;
        }
        if (ha.family == AF_INET) {
                *(struct sockaddr_in *) &to = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(4242),
                                                                     .sin_addr = ha.addr.v4 };
                to_len = sizeof(struct sockaddr_in);
        } else {
                *(struct sockaddr_in6 *) &to = (struct sockaddr_in6) { .sin6_family = AF_INET6,
                                                                       .sin6_port = htons(4242),
                                                                       .sin6_addr = ha.addr.v6 };
                to_len = sizeof(struct sockaddr_in6);
        }
        if (sendto(cfd, "ping", 4, 0, (struct sockaddr *) &to, to_len) != 4) {
                ok(false, "%s: send (%m)", what);
                return;
        }
        n = udp_recv(hfd, buf, sizeof(buf), &from, &from_len);
        there = n == 4 && memcmp(buf, "ping", 4) == 0 && strcmp(sockaddr_str(&from, a), c) == 0;
        if (there && sendto(hfd, "pong", 4, 0, (struct sockaddr *) &from, from_len) == 4) {
                n = udp_recv(cfd, buf, sizeof(buf), &from, &from_len);
                back = n == 4 && memcmp(buf, "pong", 4) == 0 && strcmp(sockaddr_str(&from, a), h) == 0;
        }
        ok(there && back, "%s: %s -> %s and back (%s)", what, c, h, there ? (back ? "both ways" : "no answer") : "lost");
}

static void test_errors(struct net_nl *nl)
{
        struct error err = ERROR_INIT;
        struct net_prefix a = P("10.88.0.9", 16);

        fails(net_bridge_ensure(nl, "berth-too-long-name", 0, &err), EINVAL, &err,
              "bridge name `berth-too-long-name` is too long (at most 15 characters)",
              "bridge: a name longer than IFNAMSIZ is refused, named");
        fails(net_bridge_ensure(nl, "a/b", 0, &err), EINVAL, &err, "bridge name `a/b` is not a valid interface name",
              "bridge: a name with `/` is refused");
        ok(net_bridge_ensure(nl, "", 0, &err) == -EINVAL, "bridge: an empty name is refused");
        error_clear(&err);
        run(net_link_delete(nl, "nosuch0", &err), &err, "delete: a missing link is success");
        fails(net_addr_add(nl, "nosuch0", &a, &err), ENODEV, &err, "add address 10.88.0.9/16 to `nosuch0`: No such device",
              "address: a missing link is named");
        fails(net_link_up(nl, "nosuch0", &err), ENODEV, &err, "bring up `nosuch0`: No such device",
              "up: a missing link is named");
        fails(net_link_index(nl, "nosuch0", &err), ENODEV, &err, "look up link `nosuch0`: No such device",
              "index: a missing link is named");
        ok(!net_link_exists(nl, "nosuch0"), "exists: a missing link does not");
        ok(!net_link_exists(nl, "much-too-long-to-be-a-name"), "exists: an impossible name does not");
        fails(net_veth_create(nl, "veth-x", "nosuch-br", "veth-xp", -1, NULL, 0, NULL, &err), ENODEV, &err,
              "create veth pair `veth-x` / `veth-xp`: look up bridge `nosuch-br`: No such device",
              "veth: a missing bridge is named");
        ok(!net_link_exists(nl, "veth-x"), "veth: nothing left after a failure");
        {
                struct net_prefix bad = { .family = AF_INET, .len = 33 };

                ok(net_addr_add(nl, "lo", &bad, &err) == -EINVAL && err.msg && strstr(err.msg, "33"),
                   "address: a /33 is refused");
                error_clear(&err);
        }
}

static void test_open(void)
{
        struct error err = ERROR_INIT;
        struct net_nl *nl = NULL;
        ino_t before = netns_ino("/proc/thread-self/ns/net");
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        int r = net_nl_open(fd, &nl, &err);

        ok(r < 0 && !nl && err.msg && strstr(err.msg, "enter network namespace"),
           "open: an fd that is no namespace is refused (%s)", err.msg ? err.msg : "");
        error_clear(&err);
        ok(netns_ino("/proc/thread-self/ns/net") == before, "open: the thread stays in its namespace after a failure");
        close(fd);
        net_nl_close(NULL);
}

static void test_bridge(struct net_nl *nl)
{
        struct error err = ERROR_INIT;
        _cleanup_free_ char *l1 = NULL, *l2 = NULL, *l3 = NULL, *l4 = NULL;
        int idx;

        if (!run(net_bridge_ensure(nl, BR, 1400, &err), &err, "bridge: made"))
                return;
        l1 = ip(0, "-d -o link show " BR);
        ok(strstr(l1, "mtu 1400") && strstr(l1, "bridge") && flag_up(l1), "bridge: a bridge, MTU 1400, up");
        show(strstr(l1, "mtu 1400") && flag_up(l1), "ip link", l1);
        run(net_bridge_ensure(nl, BR, 9000, &err), &err, "bridge: ensure again is success");
        l2 = ip(0, "-o link show " BR);
        ok(strstr(l2, "mtu 1400") != NULL, "bridge: an existing bridge's MTU is left alone");

        free(capture("ip link set " BR " down"));
        l3 = ip(0, "-o link show " BR);
        ok(!flag_up(l3), "bridge: set down with ip(8)");
        run(net_bridge_ensure(nl, BR, 0, &err), &err, "bridge: ensure a bridge that is down");
        l4 = ip(0, "-o link show " BR);
        ok(flag_up(l4), "bridge: up again");

        idx = net_link_index(nl, BR, &err);
        error_clear(&err);
        ok(idx > 0 && net_link_exists(nl, BR), "bridge: exists, index %d", idx);

        /* An "eth0" on the host side: the container's eth0 must not mind. */
        run(net_bridge_ensure(nl, "eth0", 0, &err), &err, "bridge: an `eth0` of the host's own");
}

static void test_veth(struct net_nl *nl, pid_t pid, int nsfd)
{
        struct error err = ERROR_INIT;
        _cleanup_free_ char *h = NULL, *c = NULL, *n = NULL;

        if (!run(net_veth_create(nl, VETH, BR, "veth-t0p", nsfd, "eth0", 1400, peer_mac, &err), &err,
                 "veth: made, peer eth0 in the container"))
                return;
        h = ip(0, "-o link show " VETH);
        ok(strstr(h, "master " BR) && strstr(h, "mtu 1400") && flag_up(h), "veth: host end on " BR ", MTU 1400, up");
        show(strstr(h, "master " BR) && flag_up(h), "ip link", h);
        ok(!net_link_exists(nl, "veth-t0p"), "veth: no peer left in the host namespace");
        c = ip(pid, "-o link show eth0");
        ok(strstr(c, "mtu 1400") && strstr(c, "link/ether 02:42:0a:58:00:02") && !flag_up(c),
           "veth: eth0 in the container, MTU 1400, the MAC asked for, down");
        show(strstr(c, "mtu 1400") && strstr(c, "02:42:0a:58:00:02"), "ip link in the container", c);

        fails(net_veth_create(nl, VETH, BR, "veth-t0p", nsfd, "eth0", 0, NULL, &err), EEXIST, &err,
              "create veth pair `veth-t0` / `eth0`: File exists", "veth: made twice is an error naming it");
        fails(net_bridge_ensure(nl, VETH, 0, &err), EEXIST, &err,
              "create bridge `veth-t0`: a link of that name exists and is not a bridge (veth)",
              "bridge: a veth of the name is not a bridge");

        /* Without a namespace both ends stay here, and go together. */
        run(net_veth_create(nl, "veth-t1", NULL, "veth-t1p", -1, NULL, 0, NULL, &err), &err, "veth: a pair in one namespace");
        ok(net_link_exists(nl, "veth-t1") && net_link_exists(nl, "veth-t1p"), "veth: both ends here");
        run(net_link_set_mtu(nl, "veth-t1p", 1280, &err), &err, "mtu: set");
        n = ip(0, "-o link show veth-t1p");
        ok(strstr(n, "mtu 1280") != NULL, "mtu: 1280 read back");
        run(net_link_delete(nl, "veth-t1", &err), &err, "delete: veth-t1");
        ok(!net_link_exists(nl, "veth-t1") && !net_link_exists(nl, "veth-t1p"), "delete: the peer went with it");
}

static void test_addresses(struct net_nl *nl, struct net_nl *cnl, pid_t pid)
{
        struct error err = ERROR_INIT;
        struct net_prefix h4 = P("10.88.0.1", 16), h6 = P("fd00:88::1", 64), c4 = P("10.88.0.2", 16),
                          c6 = P("fd00:88::2", 64), lo4 = P("192.0.2.77", 32), lo6 = P("fd00:99::77", 128),
                          off = P("192.0.2.1", 0);
        _cleanup_free_ char *ha = NULL, *ca = NULL, *r4 = NULL, *r6 = NULL, *cl = NULL;
        const char *v6;
        int r;

        ok(net_link_exists(cnl, "eth0") && !net_link_exists(cnl, BR), "container socket: sees eth0, not " BR);
        run(net_link_up(cnl, "lo", &err), &err, "container: lo up");
        run(net_link_up(cnl, "eth0", &err), &err, "container: eth0 up");
        cl = ip(pid, "-o link show eth0");
        ok(flag_up(cl), "container: eth0 is up");
        run(net_link_up(nl, "lo", &err), &err, "host: lo up");

        run(net_addr_add(nl, BR, &h4, &err), &err, "host: 10.88.0.1/16 on " BR);
        run(net_addr_add(nl, BR, &h6, &err), &err, "host: fd00:88::1/64 on " BR);
        run(net_addr_add(nl, BR, &h4, &err), &err, "host: the same address again is success");
        run(net_addr_add(nl, "lo", &lo4, &err), &err, "host: 192.0.2.77/32 on lo");
        run(net_addr_add(nl, "lo", &lo6, &err), &err, "host: fd00:99::77/128 on lo");
        run(net_addr_add(cnl, "eth0", &c4, &err), &err, "container: 10.88.0.2/16 on eth0");
        run(net_addr_add(cnl, "eth0", &c6, &err), &err, "container: fd00:88::2/64 on eth0");
        run(net_addr_add(cnl, "eth0", &c6, &err), &err, "container: the same address again is success");

        ha = ip(0, "-o addr show dev " BR);
        ok(strstr(ha, "inet 10.88.0.1/16 brd 10.88.255.255") && strstr(ha, "inet6 fd00:88::1/64"),
           "host: both addresses on " BR ", with the broadcast address");
        show(strstr(ha, "inet 10.88.0.1/16") && strstr(ha, "inet6 fd00:88::1/64"), "ip addr", ha);
        ca = ip(pid, "-o addr show dev eth0");
        v6 = strstr(ca, "inet6 fd00:88::2/64");
        ok(strstr(ca, "inet 10.88.0.2/16") && v6 && !memmem(v6, strcspn(v6, "\n"), "tentative", 9),
           "container: both addresses on eth0, the IPv6 one not tentative");
        show(strstr(ca, "inet 10.88.0.2/16") && v6, "ip addr in the container", ca);

        run(net_route_default(cnl, &h4, &err), &err, "container: default route via 10.88.0.1");
        run(net_route_default(cnl, &h6, &err), &err, "container: default route via fd00:88::1");
        run(net_route_default(cnl, &h4, &err), &err, "container: the same default route again is success");
        r4 = ip(pid, "-4 route show default");
        r6 = ip(pid, "-6 route show default");
        ok(strstr(r4, "default via 10.88.0.1 dev eth0") != NULL, "container: IPv4 default route");
        show(strstr(r4, "default via 10.88.0.1 dev eth0"), "ip -4 route", r4);
        ok(strstr(r6, "default via fd00:88::1 dev eth0") != NULL, "container: IPv6 default route");
        show(strstr(r6, "default via fd00:88::1 dev eth0"), "ip -6 route", r6);

        r = net_route_default(cnl, &off, &err);
        ok(r == -ENETUNREACH && err.msg &&
                   strstr(err.msg, "add default route via 192.0.2.1: Network is unreachable") == err.msg,
           "route: an unreachable gateway is named (%s)", err.msg ? err.msg : "");
        error_clear(&err);
}

static void test_traffic(pid_t pid, int nsfd)
{
        _cleanup_free_ char *p4 = NULL, *p6 = NULL;

        udp_exchange(nsfd, "10.88.0.2", "10.88.0.1", "udp over the veth");
        udp_exchange(nsfd, "fd00:88::2", "fd00:88::1", "udp over the veth, IPv6");
        udp_exchange(nsfd, "10.88.0.2", "192.0.2.77", "udp through the default route");
        udp_exchange(nsfd, "fd00:88::2", "fd00:99::77", "udp through the default route, IPv6");

        if (access("/usr/bin/busybox", X_OK) < 0 && access("/bin/busybox", X_OK) < 0) {
                skip_named("host limit: no busybox for ping", "ping over the veth");
                return;
        }
        p4 = capture("busybox ping -c 1 -W 3 10.88.0.2 2>&1");
        ok(strstr(p4, "1 packets received") != NULL, "ping: host -> container 10.88.0.2");
        show(strstr(p4, "1 packets received"), "ping", p4);
        p6 = capture("nsenter --net=/proc/%d/ns/net busybox ping -c 1 -W 3 fd00:99::77 2>&1", (int) pid);
        ok(strstr(p6, "1 packets received") != NULL, "ping: container -> fd00:99::77 through the default route");
        show(strstr(p6, "1 packets received"), "ping", p6);
}

static void test_delete(struct net_nl *nl, struct net_nl *cnl)
{
        struct error err = ERROR_INIT;

        run(net_link_delete(nl, VETH, &err), &err, "delete: " VETH);
        ok(!net_link_exists(nl, VETH) && !net_link_exists(cnl, "eth0"), "delete: the container's eth0 went with it");
        run(net_link_delete(nl, VETH, &err), &err, "delete: again is success");
        run(net_link_delete(nl, BR, &err), &err, "delete: " BR);
        run(net_link_delete(nl, "eth0", &err), &err, "delete: the host's eth0");
        ok(!net_link_exists(nl, BR) && !net_link_exists(nl, "eth0"), "delete: bridges gone");
}

int main(void)
{
        struct error err = ERROR_INIT;
        struct net_nl *nl = NULL, *cnl = NULL;
        _cleanup_close_ int nsfd = -EBADF;
        char path[64];
        pid_t pid;

        if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
                skip_named("host limit: no unshare(CLONE_NEWNET) (root needed)", "links");
                return tap_done();
        }
        if (!run(net_nl_open(-1, &nl, &err), &err, "open: a socket in our namespace"))
                return tap_done();
        test_open();
        test_errors(nl);
        test_bridge(nl);

        pid = netns_child();
        if (pid < 0) {
                skip_named("host limit: no second network namespace", "veth into a container");
                net_nl_close(nl);
                return tap_done();
        }
        (void) snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd >= 0 && run(net_nl_open(nsfd, &cnl, &err), &err, "open: a socket in the container's namespace")) {
                ok(netns_ino("/proc/thread-self/ns/net") != netns_ino(path), "open: the thread is back in its namespace");
                test_veth(nl, pid, nsfd);
                test_addresses(nl, cnl, pid);
                test_traffic(pid, nsfd);
                test_delete(nl, cnl);
        } else
                ok(false, "open `%s` (%m)", path);

        net_nl_close(cnl);
        net_nl_close(nl);
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        return tap_done();
}
