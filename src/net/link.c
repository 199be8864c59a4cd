/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Links, addresses and routes through rtnetlink (libmnl): bridges, veth
 * pairs whose peer is born in the container's network namespace, and the
 * addresses and default route the engine gives them.  One request at a
 * time on a socket; every request asks for an ACK and waits for it, so an
 * error is reported by the call that caused it.  The kernel's extended ACK
 * message ("Nexthop has invalid gateway"), when it sends one, goes into the
 * error after strerror. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "net/net.h"

/* Requests are a header, one ifinfomsg/ifaddrmsg/rtmsg and a few short
 * attributes (names are checked to fit IFNAMSIZ first): the largest, a
 * veth pair, is under 200 bytes. */
#define NL_REQ_SIZE 1024
/* Replies: one link's attributes (without stats) or an ACK. */
#define NL_REPLY_SIZE 32768

struct net_nl {
        struct mnl_socket *sock;
        unsigned portid;
        unsigned seq;
        char extack[256]; /* the last error ACK's message, "" when none */
        char buf[NL_REPLY_SIZE];
};

void net_nl_close(struct net_nl *nl)
{
        if (!nl)
                return;
        if (nl->sock)
                (void) mnl_socket_close(nl->sock);
        free(nl);
}

static void net_nl_closep(struct net_nl **nl)
{
        int saved = errno;

        net_nl_close(*nl);
        errno = saved;
}

/* Contract: NETNS_FD is a network namespace fd (nsfs, /proc/PID/ns/net) or
 * -1.  With an fd the calling thread (only it: setns() is per thread) is
 * moved into that namespace for the socket() call and back; a netlink
 * socket belongs for good to the namespace it was created in.  Needs
 * CAP_SYS_ADMIN over the namespace.  Fails without changing the thread's
 * namespace, except when returning to it fails, which the error says. */
int net_nl_open(int netns_fd, struct net_nl **ret, struct error *err)
{
        _cleanup_(net_nl_closep) struct net_nl *nl = xzalloc(sizeof(*nl));
        _cleanup_close_ int orig = -EBADF;
        int one = 1, saved;

        if (netns_fd >= 0) {
                orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (orig < 0)
                        return error_set(err, errno, "open `/proc/thread-self/ns/net`");
                if (setns(netns_fd, CLONE_NEWNET) < 0)
                        return error_set(err, errno, "enter network namespace (fd %d)", netns_fd);
        }
        nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        saved = errno;
        if (orig >= 0 && setns(orig, CLONE_NEWNET) < 0)
                return error_set(err, errno, "return to the original network namespace");
        if (!nl->sock)
                return error_set(err, saved, "open a netlink route socket");
        if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
                return error_set(err, errno, "bind a netlink route socket");
        nl->portid = mnl_socket_get_portid(nl->sock);
        /* Messages with errors (Linux 4.12), ACKs without a copy of the
         * request (4.3); both optional. */
        (void) mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
        (void) mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
        *ret = TAKE_PTR(nl);
        return 0;
}

/* ---- one request, one ACK ---- */

struct nl_call {
        struct net_nl *nl;
        mnl_cb_t cb;
        void *data;
};

static int nl_data_cb(const struct nlmsghdr *nlh, void *data)
{
        struct nl_call *c = data;

        /* Callbacks never fail: a failure would leave the ACK queued and
         * the next request would read it as a sequence error. */
        if (c->cb)
                (void) c->cb(nlh, c->data);
        return MNL_CB_OK;
}

/* A string attribute of TYPE copied into BUF (SIZE bytes) when met. */
struct str_attr {
        uint16_t type;
        char *buf;
        size_t size;
};

static int str_attr_cb(const struct nlattr *a, void *data)
{
        struct str_attr *want = data;

        if (mnl_attr_get_type(a) == want->type && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
                (void) snprintf(want->buf, want->size, "%s", mnl_attr_get_str(a));
        return MNL_CB_OK;
}

static int nl_error_cb(const struct nlmsghdr *nlh, void *data)
{
        struct nl_call *c = data;
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        size_t off = sizeof(*e);

        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
                errno = EBADMSG;
                return MNL_CB_ERROR;
        }
        if (e->error == 0)
                return MNL_CB_STOP; /* the ACK */
        if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
                if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof(struct nlmsghdr))
                        off += MNL_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
                if (off < mnl_nlmsg_get_payload_len(nlh))
                        (void) mnl_attr_parse(nlh, off, str_attr_cb,
                                              &(struct str_attr) { NLMSGERR_ATTR_MSG, c->nl->extack,
                                                                   sizeof(c->nl->extack) });
        }
        errno = e->error < 0 ? -e->error : e->error;
        return MNL_CB_ERROR;
}

/* Send NLH (flags: the request's own, REQUEST and ACK are added) and feed
 * the replies to CB until the ACK: 0, or -errno (from the error ACK, whose
 * message if any is in nl->extack). */
static int nl_call(struct net_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
        mnl_cb_t ctl[NLMSG_ERROR + 1] = { [NLMSG_ERROR] = nl_error_cb }; /* DONE, OVERRUN: libmnl's defaults */
        struct nl_call c = { nl, cb, data };
        ssize_t n;
        int r;

        nl->extack[0] = '\0';
        nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = ++nl->seq ? nl->seq : ++nl->seq; /* 0 would match anything */
        if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        do {
                n = RETRY_EINTR(mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf)));
                if (n < 0)
                        return -errno;
                r = mnl_cb_run2(nl->buf, n, nlh->nlmsg_seq, nl->portid, nl_data_cb, &c, ctl, ELEMENTSOF(ctl));
        } while (r > MNL_CB_STOP);
        if (r < 0)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

/* Fill ERR for the failed request R: "WHAT: strerror (kernel's message)". */
_printf_(4, 5) static int nl_fail(struct net_nl *nl, struct error *err, int r, const char *fmt, ...)
{
        _cleanup_free_ char *what = NULL;
        va_list ap;

        va_start(ap, fmt);
        what = xvasprintf(fmt, ap);
        va_end(ap);
        if (nl->extack[0])
                return error_setx(err, -r, "%s: %s (%s)", what, strerror(-r), nl->extack);
        return error_set(err, -r, "%s", what);
}

static struct nlmsghdr *nl_msg(char buf[static NL_REQ_SIZE], uint16_t type, uint16_t flags)
{
        struct nlmsghdr *nlh;

        /* libmnl leaves some attribute padding as it was */
        memset(buf, 0, NL_REQ_SIZE);
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        return nlh;
}

/* The kernel's dev_valid_name(), so a bad name fails here with a message
 * naming it rather than with a bare EINVAL. */
static int check_name(const char *what, const char *name, struct error *err)
{
        if (!name || !name[0])
                return error_setx(err, EINVAL, "%s name is empty", what);
        if (strlen(name) >= IFNAMSIZ)
                return error_setx(err, EINVAL, "%s name `%s` is too long (at most %d characters)", what, name,
                                  IFNAMSIZ - 1);
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strpbrk(name, "/: \t\n\v\f\r"))
                return error_setx(err, EINVAL, "%s name `%s` is not a valid interface name", what, name);
        return 0;
}

/* ---- links ---- */

struct link_info {
        int index;
        unsigned flags;
        char kind[32]; /* IFLA_INFO_KIND: "bridge", "veth"; "" for none */
};

static int link_info_attr_cb(const struct nlattr *a, void *data)
{
        if (mnl_attr_get_type(a) == IFLA_LINKINFO && mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
                (void) mnl_attr_parse_nested(a, str_attr_cb,
                                             &(struct str_attr) { IFLA_INFO_KIND, ((struct link_info *) data)->kind,
                                                                  sizeof(((struct link_info *) data)->kind) });
        return MNL_CB_OK;
}

static int link_info_cb(const struct nlmsghdr *nlh, void *data)
{
        struct link_info *li = data;
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

        if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
                return MNL_CB_OK;
        li->index = ifi->ifi_index;
        li->flags = ifi->ifi_flags;
        (void) mnl_attr_parse(nlh, sizeof(*ifi), link_info_attr_cb, li);
        return MNL_CB_OK;
}

/* Link NAME (checked): its index, or -errno (-ENODEV: none). */
static int link_get(struct net_nl *nl, const char *name, struct link_info *ret)
{
        char buf[NL_REQ_SIZE];
        struct nlmsghdr *nlh = nl_msg(buf, RTM_GETLINK, 0);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        struct link_info li = {};
        int r;

        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        r = nl_call(nl, nlh, link_info_cb, &li);
        if (r < 0)
                return r;
        if (li.index <= 0)
                return -ENODEV;
        *ret = li;
        return li.index;
}

int net_link_index(struct net_nl *nl, const char *name, struct error *err)
{
        struct link_info li;
        int r;

        r = check_name("interface", name, err);
        if (r < 0)
                return r;
        r = link_get(nl, name, &li);
        if (r < 0)
                return nl_fail(nl, err, r, "look up link `%s`", name);
        return r;
}

bool net_link_exists(struct net_nl *nl, const char *name)
{
        struct link_info li;

        return check_name("interface", name, NULL) >= 0 && link_get(nl, name, &li) > 0;
}

static int link_set_up(struct net_nl *nl, const char *name, bool up)
{
        char buf[NL_REQ_SIZE];
        struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWLINK, 0);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = up ? IFF_UP : 0;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        return nl_call(nl, nlh, NULL, NULL);
}

int net_link_up(struct net_nl *nl, const char *name, struct error *err)
{
        int r;

        r = check_name("interface", name, err);
        if (r < 0)
                return r;
        r = link_set_up(nl, name, true);
        if (r < 0)
                return nl_fail(nl, err, r, "bring up `%s`", name);
        return 0;
}

int net_link_down(struct net_nl *nl, const char *name, struct error *err)
{
        int r = check_name("interface", name, err);

        if (r < 0)
                return r;
        r = link_set_up(nl, name, false);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return nl_fail(nl, err, r, "take down `%s`", name);
        return 0;
}

/* A request of TYPE about the link NAME (checked first): *RET_NLH. */
static int link_req(char buf[NL_REQ_SIZE], uint16_t type, const char *name, struct nlmsghdr **ret_nlh,
                    struct error *err)
{
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;
        int r = check_name("interface", name, err);

        if (r < 0)
                return r;
        nlh = nl_msg(buf, type, 0);
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        *ret_nlh = nlh;
        return 0;
}

int net_link_set_mtu(struct net_nl *nl, const char *name, unsigned mtu, struct error *err)
{
        char buf[NL_REQ_SIZE];
        struct nlmsghdr *nlh;
        int r = link_req(buf, RTM_NEWLINK, name, &nlh, err);

        if (r < 0)
                return r;
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        r = nl_call(nl, nlh, NULL, NULL);
        if (r < 0)
                return nl_fail(nl, err, r, "set the MTU of `%s` to %u", name, mtu);
        return 0;
}

int net_link_delete(struct net_nl *nl, const char *name, struct error *err)
{
        char buf[NL_REQ_SIZE];
        struct nlmsghdr *nlh;
        int r = link_req(buf, RTM_DELLINK, name, &nlh, err);

        if (r < 0)
                return r;
        r = nl_call(nl, nlh, NULL, NULL);
        if (r == -ENODEV || r == -ENOENT)
                return 0;
        if (r < 0)
                return nl_fail(nl, err, r, "delete link `%s`", name);
        return 0;
}

/* A new link request: RTM_NEWLINK, create only, up. */
static struct nlmsghdr *link_new_msg(char buf[static NL_REQ_SIZE], const char *name, unsigned mtu)
{
        struct nlmsghdr *nlh = nl_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = IFF_UP;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        if (mtu > 0)
                mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        return nlh;
}

int net_bridge_ensure(struct net_nl *nl, const char *name, unsigned mtu, struct error *err)
{
        char buf[NL_REQ_SIZE];
        struct nlmsghdr *nlh;
        struct nlattr *linkinfo;
        struct link_info li;
        int r;

        r = check_name("bridge", name, err);
        if (r < 0)
                return r;
        nlh = link_new_msg(buf, name, mtu);
        linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(nlh, linkinfo);
        r = nl_call(nl, nlh, NULL, NULL);
        if (r >= 0)
                return 0;
        if (r != -EEXIST)
                return nl_fail(nl, err, r, "create bridge `%s`", name);

        /* There already, perhaps made by a concurrent call: it must be a
         * bridge, and it must be up. */
        r = link_get(nl, name, &li);
        if (r < 0)
                return nl_fail(nl, err, r, "look up bridge `%s`", name);
        if (strcmp(li.kind, "bridge") != 0)
                return error_setx(err, EEXIST, "create bridge `%s`: a link of that name exists and is not a bridge%s%s%s",
                                  name, li.kind[0] ? " (" : "", li.kind, li.kind[0] ? ")" : "");
        if (li.flags & IFF_UP)
                return 0;
        r = link_set_up(nl, name, true);
        if (r < 0)
                return nl_fail(nl, err, r, "bring up bridge `%s`", name);
        return 0;
}

/* The pair is made in one request, the peer born in PEER_NETNS_FD (when
 * given) under its final name: so "eth0" is only ever a name in the
 * container's namespace and cannot clash with the host's, there is no
 * window where the peer sits in the host namespace, and a failure leaves
 * nothing behind (the kernel unregisters both ends, also when attaching to
 * the bridge fails).  PEER_NAME is thus only the peer's name when it stays
 * in NL's namespace (PEER_NETNS_FD < 0 and no PEER_NEW_NAME). */
int net_veth_create(struct net_nl *nl, const char *host_name, const char *master, const char *peer_name,
                    int peer_netns_fd, const char *peer_new_name, unsigned mtu, const uint8_t *peer_mac,
                    struct error *err)
{
        const char *peer = peer_new_name ? peer_new_name : peer_name;
        char buf[NL_REQ_SIZE];
        struct nlmsghdr *nlh;
        struct nlattr *linkinfo, *data, *peerinfo;
        struct ifinfomsg *pifi;
        struct link_info li;
        int r, master_index = 0;

        r = check_name("veth", host_name, err);
        if (r < 0)
                return r;
        r = check_name("veth peer", peer, err);
        if (r < 0)
                return r;
        if (master) {
                r = check_name("bridge", master, err);
                if (r < 0)
                        return r;
                r = link_get(nl, master, &li);
                if (r < 0)
                        return nl_fail(nl, err, r, "create veth pair `%s` / `%s`: look up bridge `%s`", host_name,
                                       peer, master);
                master_index = r;
        }

        nlh = link_new_msg(buf, host_name, mtu);
        if (master_index > 0)
                mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) master_index);
        linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* The peer's attributes follow an ifinfomsg of its own; its flags
         * stay 0: the peer is brought up by whoever configures it. */
        pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
        pifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
        if (peer_netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) peer_netns_fd);
        if (mtu > 0)
                mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        if (peer_mac)
                mnl_attr_put(nlh, IFLA_ADDRESS, 6, peer_mac);
        mnl_attr_nest_end(nlh, peerinfo);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, linkinfo);

        r = nl_call(nl, nlh, NULL, NULL);
        if (r < 0)
                return nl_fail(nl, err, r, "create veth pair `%s` / `%s`", host_name, peer);
        return 0;
}

/* ---- addresses and routes ---- */

static int prefix_check(const struct net_prefix *p, const char *what, struct error *err)
{
        if (!p || (p->family != AF_INET && p->family != AF_INET6))
                return error_setx(err, EAFNOSUPPORT, "%s: not an IPv4 or IPv6 address", what);
        if (p->len > (p->family == AF_INET ? 32u : 128u))
                return error_setx(err, EINVAL, "%s: prefix length %u is too long", what, p->len);
        return 0;
}

/* "10.88.0.2" or, WITH_LEN, "10.88.0.2/16"; P checked. */
static const char *prefix_fmt(const struct net_prefix *p, bool with_len, char buf[static NET_ADDR_STRLEN])
{
        size_t n;

        if (!inet_ntop(p->family, &p->addr, buf, NET_ADDR_STRLEN))
                (void) snprintf(buf, NET_ADDR_STRLEN, "?");
        n = strlen(buf);
        if (with_len)
                (void) snprintf(buf + n, NET_ADDR_STRLEN - n, "/%u", p->len);
        return buf;
}

static size_t prefix_addr_size(const struct net_prefix *p)
{
        return p->family == AF_INET ? sizeof(p->addr.v4) : sizeof(p->addr.v6);
}

int net_addr_add(struct net_nl *nl, const char *name, const struct net_prefix *addr, struct error *err)
{
        char buf[NL_REQ_SIZE], s[NET_ADDR_STRLEN];
        struct nlmsghdr *nlh;
        struct ifaddrmsg *ifa;
        struct link_info li;
        int r;

        r = prefix_check(addr, "add address", err);
        if (r < 0)
                return r;
        (void) prefix_fmt(addr, true, s);
        r = check_name("interface", name, err);
        if (r < 0)
                return error_prefix(err, "add address %s", s);
        r = link_get(nl, name, &li);
        if (r < 0)
                return nl_fail(nl, err, r, "add address %s to `%s`", s, name);

        nlh = nl_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = (uint8_t) addr->family;
        ifa->ifa_prefixlen = (uint8_t) addr->len;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (uint32_t) li.index;
        mnl_attr_put(nlh, IFA_LOCAL, prefix_addr_size(addr), &addr->addr);
        mnl_attr_put(nlh, IFA_ADDRESS, prefix_addr_size(addr), &addr->addr);
        if (addr->family == AF_INET && addr->len < 31) {
                uint32_t mask = addr->len ? htonl(~0u << (32 - addr->len)) : 0;
                struct in_addr brd = { addr->addr.v4.s_addr | ~mask };

                mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), &brd);
        }
        if (addr->family == AF_INET6) {
                /* The engine hands the addresses out, so no duplicate
                 * address detection: the address works at once instead of
                 * after a second or two of "tentative". */
                ifa->ifa_flags = IFA_F_NODAD;
                mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
        }
        r = nl_call(nl, nlh, NULL, NULL);
        if (r == -EEXIST)
                return 0;
        if (r < 0)
                return nl_fail(nl, err, r, "add address %s to `%s`", s, name);
        return 0;
}

/* Replace rather than exclusive create: a second call is a no-op and a
 * call with another gateway moves the default route, which is the state
 * the caller asks for either way. */
int net_route_default(struct net_nl *nl, const struct net_prefix *gw, struct error *err)
{
        char buf[NL_REQ_SIZE], s[NET_ADDR_STRLEN];
        struct nlmsghdr *nlh;
        struct rtmsg *rtm;
        int r;

        r = prefix_check(gw, "add default route", err);
        if (r < 0)
                return r;
        (void) prefix_fmt(gw, false, s);
        nlh = nl_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
        rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = (uint8_t) gw->family;
        rtm->rtm_dst_len = 0;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_GATEWAY, prefix_addr_size(gw), &gw->addr);
        r = nl_call(nl, nlh, NULL, NULL);
        if (r < 0)
                return nl_fail(nl, err, r, "add default route via %s", s);
        return 0;
}
