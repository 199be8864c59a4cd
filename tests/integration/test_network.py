# SPDX-License-Identifier: GPL-2.0-or-later
"""berth's networks (issue #8), end to end with real traffic: names and
aliases on user networks, isolation, published TCP and UDP ports reached
from the host's addresses and from other containers, NAT to an "internet"
that the test builds in a network namespace, --internal and the egress
policy, IPv6, the host/none/container: modes, connect and disconnect, 20
parallel starts, and the cleanup after rm, a killed monitor and bad input.

No internet is needed: "the internet" is a namespace behind a veth with
198.51.100.0/24 (TEST-NET-2). Every link, namespace and socket a test makes
is removed by it; the engine fixture checks what berth leaves."""

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from engine_env import busybox_tar, engine, pid_alive  # noqa: F401 (fixtures)

IMAGE = "busybox:latest"
# a busybox httpd serving "hello from NAME" on port 80
HTTPD = ("sh", "-c", 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www')


def links():
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def berth_links():
    return {n for n in links() if re.fullmatch(r"vb[0-9a-f]{12}[0-9a-f]|berth[0-9a-f]{10}", n)}


def wait_links_gone(want=frozenset(), timeout=5.0):
    """berth's links once the kernel has deleted the veths of namespaces that
    went (just after rm returns) and `berth network gc` the bridges of
    networks nobody uses (half a second later): until they are WANT or
    TIMEOUT."""
    end = time.monotonic() + timeout
    while berth_links() != set(want) and time.monotonic() < end:
        time.sleep(0.05)
    return berth_links()


def wait_tables_gone(timeout=5.0):
    end = time.monotonic() + timeout
    while berth_tables() and time.monotonic() < end:
        time.sleep(0.05)
    return berth_tables()


def berth_tables():
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout
    return [l for l in out.splitlines() if "berth" in l]


def host_ipv4():
    """A non-loopback IPv4 address of the host."""
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        dev, addr = line.split()[1], line.split()[3].split("/")[0]
        if dev != "lo" and not dev.startswith(("berth", "vb")) and not addr.startswith("127."):
            return addr
    pytest.fail("the host has no non-loopback IPv4 address")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def http_get(host, port, timeout=5.0):
    """The body of GET / from HOST:PORT, retried while the server starts."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
            return data.decode().split("\r\n\r\n", 1)[-1]
        except OSError as e:
            last = e
            time.sleep(0.1)
    raise AssertionError(f"GET http://{host}:{port}/ failed: {last}")


def fetch_in(e, where, host, port=80, tries=15):
    """GET / from HOST:PORT inside a new container (WHERE: run flags); the
    body, or "" when it cannot connect."""
    script = (f'for i in $(seq {tries}); do out=$(printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 {host} {port} '
              f'2>/tmp/err) && [ -n "$out" ] && break; sleep 0.2; done; echo "$out" | tail -1; cat /tmp/err >&2')
    return e.run("run", "--rm", *where, IMAGE, "sh", "-c", script, ok=False, timeout=60)


def reaches(e, where, host, port, timeout=2):
    """Can a new container (WHERE) open a TCP connection to HOST:PORT?"""
    r = e.run("run", "--rm", *where, IMAGE, "sh", "-c",
              f"nc -w {timeout} {host} {port} </dev/null && echo CONNECTED", ok=False, timeout=60)
    return "CONNECTED" in r.stdout


def ip_of(e, name, network):
    return e.inspect(name)["NetworkSettings"]["Networks"][network]["IPAddress"]


def wait_http_inside(e, name):
    """Until NAME's httpd answers on its own loopback."""
    e.sh(name, 'for i in $(seq 50); do printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 1 127.0.0.1 80 | grep -q hello '
               '&& exit 0; sleep 0.1; done; exit 1')


# ---- names, isolation --------------------------------------------------------


def test_names_and_aliases_follow_containers(engine):
    e = engine
    e.run("network", "create", "appnet")
    e.run("run", "-d", "--name", "web", "--network", "appnet", "--network-alias", "www", IMAGE, *HTTPD)
    wait_http_inside(e, "web")
    for target in ("web", "www", e.id("web")[:12]):
        r = fetch_in(e, ["--network", "appnet"], target)
        assert r.stdout.strip() == f"hello from {e.id('web')[:12]}", (target, r)
    # a container on the default bridge does not see the names of a user network
    r = e.run("run", "--rm", IMAGE, "sh", "-c", "grep -c www /etc/hosts", ok=False)
    assert r.stdout.strip() == "0"
    # a client that runs on sees the server go: its /etc/hosts follows
    e.run("run", "-d", "--name", "client", "--network", "appnet", IMAGE, "sleep", "300")
    assert "www" in e.sh("client", "cat /etc/hosts")
    e.run("rm", "-f", "web")
    hosts = e.sh("client", "cat /etc/hosts")
    assert "www" not in hosts and "\tweb " not in hosts, hosts
    r = e.run("exec", "client", "sh", "-c", "nc -w 2 web 80 </dev/null", ok=False)
    assert r.returncode != 0 and "bad address" in r.stderr, r
    # and a new one with the name appears in it, with its own address
    e.run("run", "-d", "--name", "web", "--network", "appnet", IMAGE, *HTTPD)
    assert re.search(rf"^{re.escape(ip_of(e, 'web', 'appnet'))}\tweb ", e.sh("client", "cat /etc/hosts"), re.M)


def test_networks_are_isolated(engine):
    e = engine
    e.run("network", "create", "neta")
    e.run("network", "create", "netb")
    e.run("run", "-d", "--name", "srv", "--network", "neta", IMAGE, *HTTPD)
    wait_http_inside(e, "srv")
    ip = ip_of(e, "srv", "neta")
    assert reaches(e, ["--network", "neta"], ip, 80)
    assert not reaches(e, ["--network", "netb"], ip, 80)
    assert not reaches(e, [], ip, 80)  # the default bridge is a network of its own
    # a container on both reaches it
    assert reaches(e, ["--network", "netb", "--network", "neta"], ip, 80)


# ---- published ports ----------------------------------------------------------


def test_published_tcp_port_from_the_host_and_containers(engine):
    e = engine
    port = free_port()
    e.run("run", "-d", "--name", "site", "-p", f"{port}:80", IMAGE, *HTTPD)
    want = f"hello from {e.id('site')[:12]}\n"
    assert http_get("127.0.0.1", port) == want
    assert http_get(host_ipv4(), port) == want
    # from another container, through the host's address
    r = fetch_in(e, [], host_ipv4(), port)
    assert r.stdout.strip() == want.strip(), r
    assert e.out("port", "site", "80").strip() == f"0.0.0.0:{port}"
    ns = e.inspect("site")["NetworkSettings"]
    assert ns["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}]}
    assert f"0.0.0.0:{port}->80/tcp" in e.out("ps")


def test_published_port_on_one_address_and_a_chosen_one(engine):
    e = engine
    e.run("run", "-d", "--name", "site", "-p", "127.0.0.1::80", IMAGE, *HTTPD)
    line = e.out("port", "site", "80").strip()
    host, port = line.rsplit(":", 1)
    assert host == "127.0.0.1" and 1024 <= int(port) <= 65535, line
    assert http_get("127.0.0.1", int(port)).startswith("hello from")
    # only that address: the host's other one is not forwarded
    with pytest.raises(OSError):
        socket.create_connection((host_ipv4(), int(port)), timeout=1).close()


UDP_ECHO = r"""
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
int main(int argc, char **argv)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) }, from;
        socklen_t len = sizeof(from);
        char buf[512];
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0)
                return 1;
        for (;;) {
                ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *) &from, &len);
                if (n > 0)
                        sendto(fd, buf, (size_t) n, 0, (struct sockaddr *) &from, len);
        }
}
"""


@pytest.fixture(scope="module")
def udp_echo():
    """A static UDP echo server (busybox has none), built once."""
    d = tempfile.mkdtemp(prefix="berth-eng-udp-")
    try:
        (Path(d) / "echo.c").write_text(UDP_ECHO)
        subprocess.run(["gcc", "-static", "-O2", "-o", f"{d}/udpecho", f"{d}/echo.c"], check=True)
        yield f"{d}/udpecho"
    finally:
        assert d.startswith("/tmp/berth-eng-udp-")
        subprocess.run(["rm", "-rf", "--", d], check=True)


def test_published_udp_port(engine, udp_echo):
    e = engine
    port = free_port(socket.SOCK_DGRAM)
    e.run("run", "-d", "--name", "dns", "-p", f"{port}:53/udp", "-v", f"{udp_echo}:/udpecho:ro", IMAGE,
          "/udpecho", "53")
    for host in ("127.0.0.1", host_ipv4()):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.5)
            got = None
            for _ in range(20):
                s.sendto(b"ping " + host.encode(), (host, port))
                try:
                    got = s.recvfrom(512)[0]
                    break
                except socket.timeout:
                    continue
            assert got == b"ping " + host.encode(), host
    assert e.out("port", "dns").strip() == f"53/udp -> 0.0.0.0:{port}"


def test_port_in_use_is_refused_and_nothing_is_left(engine):
    e = engine
    before_links, before_tables = berth_links(), berth_tables()
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        r = e.run("run", "-d", "--name", "late", "-p", f"{port}:80", IMAGE, "sleep", "300", ok=False)
        assert r.returncode == 125, r
        assert str(port) in r.stderr and "already in use" in r.stderr, r
        assert len(r.stderr.strip().splitlines()) == 1, r
    assert e.status("late") != "running"
    assert wait_links_gone(before_links) == before_links
    assert berth_tables() == before_tables
    assert list((e.root / "run" / "netns").glob("*")) == []
    cid = e.id("late")
    assert not (e.root / "containers" / cid / "network.json").exists()
    db = sqlite3.connect(e.root / "berth.db")
    try:
        assert db.execute("SELECT count(*) FROM ports WHERE container_id = ?", (cid,)).fetchone()[0] == 0
    finally:
        db.close()
    # once the port is free the same container starts with it
    e.run("start", "late")
    assert e.out("port", "late", "80").strip() == f"0.0.0.0:{port}"
    # and a second container cannot take it from the first
    r = e.run("run", "--rm", "-p", f"{port}:80", IMAGE, "true", ok=False)
    assert r.returncode == 125 and "already in use" in r.stderr, r


def test_publish_all_exposed(engine):
    e = engine
    e.run("run", "-d", "--name", "pa", "-P", "--expose", "80", "--expose", "81", IMAGE, *HTTPD)
    ports = e.inspect("pa")["NetworkSettings"]["Ports"]
    assert set(ports) == {"80/tcp", "81/tcp"}, ports
    p80 = int(ports["80/tcp"][0]["HostPort"])
    assert p80 != int(ports["81/tcp"][0]["HostPort"])
    assert http_get("127.0.0.1", p80).startswith("hello from")


# ---- the outside: NAT, internal networks, egress policy ------------------------


@pytest.fixture
def internet():
    """A network namespace playing the internet at 198.51.100.2, behind a
    veth from the host (198.51.100.1), with a TCP listener on port 7777 and
    7778 that writes each peer's address to a file."""
    tag = f"{os.getpid() % 100000}"
    ns, host_if, ns_if = f"berthtest-inet-{tag}", f"bti{tag}", f"btn{tag}"
    out = tempfile.NamedTemporaryFile(prefix="berth-eng-inet-", delete=False)
    out.close()
    server = None
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if, "netns", ns], check=True)
        subprocess.run(["ip", "addr", "add", "198.51.100.1/24", "dev", host_if], check=True)
        subprocess.run(["ip", "link", "set", host_if, "up"], check=True)
        for cmd in (["addr", "add", "198.51.100.2/24", "dev", ns_if], ["link", "set", ns_if, "up"],
                    ["link", "set", "lo", "up"]):
            subprocess.run(["ip", "-n", ns, *cmd], check=True)
        code = ("import socket, select, sys\n"
                "ls = []\n"
                "for p in (7777, 7778):\n"
                "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                "    s.bind(('0.0.0.0', p)); s.listen(); ls.append(s)\n"
                "print('ready', flush=True)\n"
                "while True:\n"
                "    for s in select.select(ls, [], [])[0]:\n"
                "        c, a = s.accept()\n"
                f"        open({out.name!r}, 'a').write(f'{{s.getsockname()[1]}} {{a[0]}}\\n')\n"
                "        c.sendall(b'hello from the internet\\n'); c.close()\n")
        server = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", code],
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "ready"
        yield Path(out.name)
    finally:
        if server:
            server.kill()
            server.wait()
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        os.unlink(out.name)


def test_egress_nat_internal_and_policy(engine, internet):
    e = engine
    forward_before = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    # the default bridge reaches out, masqueraded to the host's address
    r = e.run("run", "--rm", IMAGE, "nc", "-w", "3", "198.51.100.2", "7777", ok=False)
    assert "hello from the internet" in r.stdout, r
    assert internet.read_text().splitlines() == ["7777 198.51.100.1"]
    # an --internal network does not get out
    e.run("network", "create", "--internal", "closed")
    assert not reaches(e, ["--network", "closed"], "198.51.100.2", 7777)
    # --egress deny: nothing; an allowed destination: exactly that port
    assert not reaches(e, ["--egress", "deny"], "198.51.100.2", 7777)
    allow = ["--egress", "deny", "--egress-allow", "198.51.100.2/32:7777/tcp"]
    assert reaches(e, allow, "198.51.100.2", 7777)
    assert not reaches(e, allow, "198.51.100.2", 7778)
    # --egress-deny: everything but that
    assert not reaches(e, ["--egress-deny", "198.51.100.2:7778"], "198.51.100.2", 7778)
    assert reaches(e, ["--egress-deny", "198.51.100.2:7778"], "198.51.100.2", 7777)
    # inspect shows the rules in force
    e.run("run", "-d", "--name", "jail", *allow, IMAGE, "sleep", "300")
    eg = e.inspect("jail")["NetworkSettings"]["Egress"]
    assert eg["Policy"] == "deny" and eg["Exceptions"] == ["198.51.100.2/32:7777/tcp"]
    ip = ip_of(e, "jail", "bridge")
    assert any(f"saddr {ip}" in r and "7777" in r and r.endswith("accept") for r in eg["Rules"]), eg
    assert any(f"saddr {ip}" in r and "reject" in r for r in eg["Rules"]), eg
    e.run("rm", "-f", "jail")
    out = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    assert f"berth:egress:{ip}" not in out
    # forwarding as it was once nothing runs (and the network's gc came)
    end = time.monotonic() + 5
    while Path("/proc/sys/net/ipv4/ip_forward").read_text() != forward_before and time.monotonic() < end:
        time.sleep(0.05)
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == forward_before


def test_bad_egress_flags(engine):
    e = engine
    for flags, want in ((["--egress", "maybe"], "--egress"),
                        (["--egress-allow", "10.0.0.0/33"], "--egress-allow"),
                        (["--egress", "allow", "--egress-allow", "10.0.0.1"], "--egress-allow"),
                        (["--egress-allow", "10.0.0.1", "--egress-deny", "10.0.0.2"], "cannot be combined"),
                        (["--network", "none", "--egress", "deny"], "--egress")):
        r = e.run("run", "--rm", *flags, IMAGE, "true", ok=False)
        assert r.returncode == 125 and want in r.stderr, (flags, r)
    assert e.ids() == []


# ---- IPv6, modes, connect --------------------------------------------------------


def test_ipv6_dual_stack(engine):
    e = engine
    e.run("network", "create", "--ipv6", "--subnet", "10.77.7.0/24", "--subnet", "fd42:b3:7::/64", "dual")
    net = json.loads(e.out("network", "inspect", "dual"))[0]
    assert net["EnableIPv6"] is True
    assert [c["Subnet"] for c in net["IPAM"]["Config"]] == ["10.77.7.0/24", "fd42:b3:7::/64"]
    e.run("run", "-d", "--name", "six", "--network", "dual", IMAGE, *HTTPD)
    wait_http_inside(e, "six")
    n = e.inspect("six")["NetworkSettings"]["Networks"]["dual"]
    assert n["GlobalIPv6Address"].startswith("fd42:b3:7::") and n["GlobalIPv6PrefixLen"] == 64
    assert n["IPAddress"].startswith("10.77.7.")
    assert n["GlobalIPv6Address"] + "/64" in e.sh("six", "ip -6 addr show eth0")
    r = fetch_in(e, ["--network", "dual"], n["GlobalIPv6Address"])
    assert r.stdout.strip() == f"hello from {e.id('six')[:12]}", r
    inspect_ct = json.loads(e.out("network", "inspect", "dual"))[0]["Containers"][e.id("six")]
    assert inspect_ct["IPv6Address"] == n["GlobalIPv6Address"] + "/64"


def test_network_modes_host_none_container(engine):
    e = engine
    hostaddr = host_ipv4()
    assert hostaddr in e.out("run", "--rm", "--network", "host", IMAGE, "ip", "-4", "addr")
    out = e.out("run", "--rm", "--network", "none", IMAGE, "ip", "-o", "link")
    assert [l.split(":")[1].strip() for l in out.splitlines()] == ["lo"]
    e.run("run", "-d", "--name", "base", IMAGE, "sleep", "300")
    ip = ip_of(e, "base", "bridge")
    shared = e.out("run", "--rm", "--network", "container:base", IMAGE, "ip", "-4", "-o", "addr", "show", "eth0")
    assert f"inet {ip}/" in shared
    r = e.run("run", "--rm", "--network", "container:nosuch", IMAGE, "true", ok=False)
    assert r.returncode == 125 and "nosuch" in r.stderr, r


def test_connect_and_disconnect_a_running_container(engine):
    e = engine
    e.run("network", "create", "--subnet", "10.66.6.0/24", "side")
    e.run("run", "-d", "--name", "srv", "--network", "side", IMAGE, *HTTPD)
    wait_http_inside(e, "srv")
    e.run("run", "-d", "--name", "c1", IMAGE, "sleep", "300")
    assert "eth1" not in e.sh("c1", "ip -o link")
    e.run("network", "connect", "--alias", "sidekick", "side", "c1")
    addr = e.sh("c1", "ip -4 -o addr show eth1")
    assert re.search(r"inet 10\.66\.6\.\d+/24", addr), addr
    out = e.run("exec", "c1", "sh", "-c", 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 srv 80', ok=False)
    assert f"hello from {e.id('srv')[:12]}" in out.stdout, out
    # the others on it see its alias
    assert "sidekick" in e.sh("srv", "cat /etc/hosts")
    assert "side" in e.inspect("c1")["NetworkSettings"]["Networks"]
    e.run("network", "disconnect", "side", "c1")
    assert "eth1" not in e.sh("c1", "ip -o link")
    assert "sidekick" not in e.sh("srv", "cat /etc/hosts")
    assert "side" not in e.inspect("c1")["NetworkSettings"]["Networks"]
    r = e.run("network", "disconnect", "side", "c1", ok=False)
    assert r.returncode == 1 and "not connected" in r.stderr


def test_parallel_starts_get_distinct_addresses_and_leave_nothing(engine):
    e = engine
    e.run("network", "create", "many")
    procs = [subprocess.Popen(e.argv("run", "-d", "--name", f"p{i}", "--network", "many", IMAGE, "sleep", "300"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(20)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    ips = [ip_of(e, f"p{i}", "many") for i in range(20)]
    assert len(set(ips)) == 20 and all(ip.startswith("10.") for ip in ips), ips
    assert len(berth_links()) == 21  # 20 veths and the bridge
    ids = e.ids()
    e.run("rm", "-f", *ids, timeout=120)
    assert wait_links_gone() == set()
    assert wait_tables_gone() == []
    db = sqlite3.connect(e.root / "berth.db")
    try:
        assert db.execute("SELECT count(*) FROM endpoints").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM ports").fetchone()[0] == 0
    finally:
        db.close()
    assert list((e.root / "run" / "netns").iterdir()) == []
    e.run("network", "rm", "many")


def kill_uncleaned(e, name):
    """SIGKILL NAME's monitor and process (the pids berth recorded), so
    that nothing of berth cleans up after them."""
    mon, pid = e.monitor_pid(e.id(name)), e.pid(name)
    os.kill(mon, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 10
    while (pid_alive(mon) or pid_alive(pid)) and time.monotonic() < end:
        time.sleep(0.05)
    assert not pid_alive(mon) and not pid_alive(pid)


def test_killed_monitor_leaves_no_network_behind(engine):
    e = engine
    port = free_port()
    e.run("run", "-d", "--name", "doomed", "-p", f"{port}:80", IMAGE, *HTTPD)
    cid = e.id("doomed")
    veth = f"vb{cid[:12]}0"
    assert veth in links()
    kill_uncleaned(e, "doomed")
    assert "Exited" in e.out("ps", "-a")
    assert wait_links_gone() == set() and wait_tables_gone() == []
    assert not (e.root / "run" / "netns" / cid).exists()
    # its port is free for the next one
    e.run("run", "-d", "--name", "next", "-p", f"{port}:80", IMAGE, *HTTPD)
    assert http_get("127.0.0.1", port).startswith("hello from")


# ---- /etc files ------------------------------------------------------------------


def test_dns_and_extra_hosts(engine):
    e = engine
    out = e.out("run", "--rm", "--dns", "192.0.2.53", "--dns-search", "example.test", "--dns-option", "ndots:2",
                "--add-host", "db:10.1.2.3", "--add-host", "gw:host-gateway", "--hostname", "h1", IMAGE,
                "sh", "-c", "cat /etc/resolv.conf; echo ---; cat /etc/hosts")
    resolv, hosts = out.split("---\n")
    assert "nameserver 192.0.2.53" in resolv and "search example.test" in resolv and "options ndots:2" in resolv
    assert resolv.count("nameserver") == 1
    assert "10.1.2.3\tdb" in hosts
    gw = re.search(r"^(\S+)\tgw$", hosts, re.M)
    assert gw and gw.group(1).startswith("10."), hosts
    assert re.search(r"^10\.\S+\th1$", hosts, re.M), hosts


# ---- bad input ---------------------------------------------------------------------


def test_bad_network_input(engine):
    e = engine
    e.run("network", "create", "--subnet", "10.55.5.0/24", "first")
    listed = e.out("network", "ls")
    for args, want in ((["--subnet", "10.55.5.128/25", "second"], "overlaps network first"),
                       (["--subnet", "10.0.0.0/33", "second"], "10.0.0.0/33"),
                       (["--subnet", "abc", "second"], "abc"),
                       (["--subnet", "10.56.0.0/24", "--gateway", "10.57.0.1", "second"], "is not in"),
                       (["first"], "already exists"),
                       (["bad name"], "invalid network name")):
        r = e.run("network", "create", *args, ok=False)
        assert r.returncode == 1 and want in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r)
    assert e.out("network", "ls") == listed
    # an address in use, an unknown network, a port out of range: 125, nothing runs
    e.run("run", "-d", "--name", "a", "--network", "first", "--ip", "10.55.5.10", IMAGE, "sleep", "300")
    r = e.run("run", "-d", "--name", "b", "--network", "first", "--ip", "10.55.5.10", IMAGE, "sleep", "300", ok=False)
    assert r.returncode == 125 and "10.55.5.10" in r.stderr and "already in use" in r.stderr, r
    r = e.run("run", "--rm", "--network", "first", "--ip", "10.99.0.5", IMAGE, "true", ok=False)
    assert r.returncode == 125 and "not in the subnet" in r.stderr, r
    r = e.run("run", "--rm", "--network", "nosuch", IMAGE, "true", ok=False)
    assert r.returncode == 125 and "network nosuch not found" in r.stderr, r
    r = e.run("run", "--rm", "-p", "70000:80", IMAGE, "true", ok=False)
    assert r.returncode == 125 and "70000" in r.stderr, r
    r = e.run("run", "--rm", "--ip", "10.88.0.50", IMAGE, "true", ok=False)
    assert r.returncode == 125 and "user defined networks only" in r.stderr, r
    assert [json.loads(l)["Names"] for l in e.out("ps", "-a", "--format", "json").splitlines()] == ["a"]
    # a network in use stays; the pre-defined ones stay
    r = e.run("network", "rm", "first", ok=False)
    assert r.returncode == 1 and "in use by container a" in r.stderr, r
    for name in ("bridge", "host", "none"):
        r = e.run("network", "rm", name, ok=False)
        assert r.returncode == 1 and "pre-defined" in r.stderr, r
    assert e.out("network", "ls") == listed
    e.run("rm", "-f", "a")
    assert e.out("network", "prune").split() == ["Deleted", "Networks:", "first"]


def test_ip_range_mtu_static_ip_and_mac(engine):
    e = engine
    e.run("network", "create", "--subnet", "10.44.4.0/24", "--gateway", "10.44.4.254", "--ip-range",
          "10.44.4.128/25", "-o", "mtu=1400", "--label", "team=blue", "ranged")
    net = json.loads(e.out("network", "inspect", "ranged"))[0]
    assert net["IPAM"]["Config"] == [{"Subnet": "10.44.4.0/24", "Gateway": "10.44.4.254",
                                      "IPRange": "10.44.4.128/25"}]
    assert net["Options"]["com.docker.network.driver.mtu"] == "1400" and net["Labels"] == {"team": "blue"}
    assert e.out("network", "ls", "-q", "--filter", "label=team=blue").strip() == net["Id"][:12]
    e.run("run", "-d", "--name", "r1", "--network", "ranged", IMAGE, "sleep", "300")
    e.run("run", "-d", "--name", "r2", "--network", "ranged", "--ip", "10.44.4.7", "--mac-address",
          "02:00:00:00:44:07", IMAGE, "sleep", "300")
    assert ip_of(e, "r1", "ranged") == "10.44.4.128"  # the range's first address
    out = e.sh("r2", "ip -o addr show eth0; ip -o link show eth0; ip route")
    assert "inet 10.44.4.7/24" in out and "mtu 1400" in out and "link/ether 02:00:00:00:44:07" in out, out
    assert "default via 10.44.4.254 dev eth0" in out, out


def test_after_a_reboot_the_network_is_made_again(engine):
    """A reboot as the engine sees it: the monitor and the container gone
    with no cleanup, the namespace's bind mount, the veth, the bridge and
    berth's tables gone too (an empty file stays at run/netns/ID, the rows
    stay).  The next command reconciles; start makes the network again on
    the same address, and rm leaves nothing."""
    e = engine
    port = free_port()
    e.run("run", "-d", "--name", "boot", "-p", f"{port}:80", IMAGE, *HTTPD)
    cid, ip = e.id("boot"), ip_of(e, "boot", "bridge")
    bridge = json.loads(e.out("network", "inspect", "bridge"))[0]["Options"]["com.docker.network.bridge.name"]
    kill_uncleaned(e, "boot")
    ns = e.root / "run" / "netns" / cid
    subprocess.run(["umount", str(ns)], check=True)
    assert ns.exists()  # the empty file a reboot leaves
    subprocess.run(["ip", "link", "del", bridge], check=True)
    subprocess.run(["nft", "delete", "table", "inet", "berth"], check=True)
    subprocess.run(["nft", "delete", "table", "inet", "berth_nat"], check=True)
    subprocess.run(["sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward; rm -f /run/berth-ip_forward"], check=True)
    assert "Exited" in e.out("ps", "-a")
    assert not ns.exists()
    assert wait_links_gone() == set() and wait_tables_gone() == []
    e.run("start", "boot")
    assert ip_of(e, "boot", "bridge") == ip
    assert http_get("127.0.0.1", port).startswith("hello from")
    e.run("rm", "-f", "boot")
    assert wait_links_gone() == set() and wait_tables_gone() == []
