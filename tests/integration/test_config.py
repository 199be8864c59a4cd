# SPDX-License-Identifier: GPL-2.0-or-later
"""config.json `process`, hostname/domainname and `linux.namespaces`,
observed from inside the container with busybox."""

import os
import resource
import signal
import subprocess

import pytest

from conftest import NOT_BERTH, SENTINEL, host_ns, is_runc, require_feature

CAP_BITS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_KILL": 5, "CAP_SETGID": 6,
            "CAP_SETUID": 7, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13,
            "CAP_SYS_ADMIN": 21, "CAP_AUDIT_WRITE": 29}


def run_ok(rt, b, cid):
    r = rt.run(b, cid)
    assert r.returncode == 0, r
    return r.stdout


def status_fields(text):
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.split()
    return out


# --------------------------------------------------------------------------
# process


def test_args_are_passed_verbatim(rt, bundle, cid):
    out = run_ok(rt, bundle("printf", "[%s]\n", "a b", "", "*", "$HOME", "'q'"), cid)
    assert out == "[a b]\n[]\n[*]\n[$HOME]\n['q']\n"


def test_env(rt, bundle, cid):
    b = bundle("env").env("PATH=/bin", "A=1", "B=two words", "EMPTY=", replace=True)
    lines = run_ok(rt, b, cid).splitlines()
    given = set(b.process["env"])
    assert given <= set(lines), lines
    extra = [line for line in lines if line not in given]
    # runc adds HOME when the config has none; nothing else may appear.
    assert all(line.startswith("HOME=") for line in extra), extra
    assert SENTINEL not in lines


def test_cwd(rt, bundle, cid):
    b = bundle("pwd")
    b.process["cwd"] = "/home/user"
    assert run_ok(rt, b, cid) == "/home/user\n"


def test_user_uid_gid_additional_gids(rt, bundle, cid):
    b = bundle("cat", "/proc/self/status")
    b.process["user"] = {"uid": 1000, "gid": 100, "additionalGids": [10, 1000]}
    st = status_fields(run_ok(rt, b, cid))
    assert st["Uid"] == ["1000"] * 4
    assert st["Gid"] == ["100"] * 4
    assert sorted(st["Groups"], key=int) == ["10", "1000"]


def test_user_root_has_no_stray_groups(rt, bundle, cid):
    b = bundle("cat", "/proc/self/status")
    b.process["user"] = {"uid": 0, "gid": 0}
    st = status_fields(run_ok(rt, b, cid))
    assert st["Uid"] == ["0"] * 4 and st["Gid"] == ["0"] * 4
    assert set(st.get("Groups", [])) <= {"0"}, st.get("Groups")


def test_umask(rt, bundle, cid):
    b = bundle("sh", "-c", "umask; touch /tmp/f; stat -c %a /tmp/f")
    b.process["user"]["umask"] = 0o027
    assert run_ok(rt, b, cid).split() == ["0027", "640"]


def test_rlimits(rt, bundle, cid):
    hard_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard_nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nofile = (min(hard_nofile, 4096) // 4, min(hard_nofile, 4096) // 2)
    nproc = (min(hard_nproc, 2000) // 4, min(hard_nproc, 2000) // 2)
    b = bundle("sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -Su; ulimit -Hu; ulimit -Sc; ulimit -Hc")
    b.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": nofile[0], "hard": nofile[1]},
        {"type": "RLIMIT_NPROC", "soft": nproc[0], "hard": nproc[1]},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    assert run_ok(rt, b, cid).split() == [str(v) for v in (*nofile, *nproc, 0, 0)]


def test_oom_score_adj(rt, bundle, cid):
    with open("/proc/self/oom_score_adj") as f:
        mine = int(f.read())
    want = max(mine, 0) + 123  # raising needs no privilege
    b = bundle("cat", "/proc/self/oom_score_adj")
    b.process["oomScoreAdj"] = want
    assert run_ok(rt, b, cid).strip() == str(want)


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(rt, bundle, cid, nnp):
    b = bundle("grep", "NoNewPrivs", "/proc/self/status")
    b.process["noNewPrivileges"] = nnp
    assert run_ok(rt, b, cid).split() == ["NoNewPrivs:", "1" if nnp else "0"]


def test_capabilities(rt, bundle, cid):
    b = bundle("cat", "/proc/self/status")
    b.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN", "CAP_KILL"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": [],
    }
    st = status_fields(run_ok(rt, b, cid))

    def mask(*names):
        return sum(1 << CAP_BITS[n] for n in names)

    assert int(st["CapBnd"][0], 16) == mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW")
    assert int(st["CapEff"][0], 16) == mask("CAP_CHOWN", "CAP_KILL")
    assert int(st["CapPrm"][0], 16) == mask("CAP_CHOWN", "CAP_KILL")
    assert int(st["CapInh"][0], 16) == 0
    assert int(st["CapAmb"][0], 16) == 0


def test_capabilities_for_non_root(rt, bundle, cid):
    b = bundle("grep", "^Cap", "/proc/self/status")
    b.process["user"] = {"uid": 1000, "gid": 1000}
    caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
    b.process["capabilities"] = {k: list(caps) for k in
                                 ("bounding", "effective", "permitted", "ambient", "inheritable")}
    st = status_fields(run_ok(rt, b, cid))
    want = (1 << CAP_BITS["CAP_KILL"]) | (1 << CAP_BITS["CAP_NET_BIND_SERVICE"])
    for k in ("CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"):
        assert int(st[k][0], 16) == want, (k, st)


def test_hostname(rt, bundle, cid):
    b = bundle("hostname")
    b.config["hostname"] = "berth-host"
    assert run_ok(rt, b, cid).split() == ["berth-host"]
    assert os.uname().nodename != "berth-host"


def test_domainname(rt, bundle, cid):
    if is_runc():
        pytest.skip(NOT_BERTH + "runc 1.1 ignores domainname (runc 1.2 sets it)")
    b = bundle("sh", "-c", "hostname; cat /proc/sys/kernel/domainname")
    b.config["hostname"] = "berth-host"
    b.config["domainname"] = "berth.example"
    assert run_ok(rt, b, cid).split() == ["berth-host", "berth.example"]
    with open("/proc/sys/kernel/domainname") as f:
        assert f.read().strip() != "berth.example"


# --------------------------------------------------------------------------
# namespaces

NS_FILES = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts",
            "mount": "mnt", "cgroup": "cgroup", "user": "user"}


def read_ns(rt, b, cid, kinds):
    script = "; ".join(f"readlink /proc/self/ns/{NS_FILES[k]}" for k in kinds)
    if not b.has_namespace("uts"):
        b.config.pop("hostname", None)  # a hostname needs a private uts namespace
    return dict(zip(kinds, run_ok(rt, b.sh(script), cid).split()))


def test_new_namespaces_differ_from_host(rt, bundle, cid):
    kinds = ["pid", "network", "ipc", "uts", "mount", "cgroup"]
    b = bundle()
    for k in kinds:
        b.set_namespace(k)
    got = read_ns(rt, b, cid, kinds)
    for k in kinds:
        assert got[k] != host_ns(NS_FILES[k]), k


def test_omitted_namespaces_are_the_hosts(rt, bundle, cid):
    b = bundle()
    for k in ("network", "ipc", "uts", "cgroup"):
        b.drop_namespace(k)
    got = read_ns(rt, b, cid, ["network", "ipc", "uts", "cgroup", "mount"])
    for k in ("network", "ipc", "uts", "cgroup"):
        assert got[k] == host_ns(NS_FILES[k]), k
    assert got["mount"] != host_ns("mnt")


def test_pid_namespace_init_is_pid1(rt, bundle, cid):
    assert run_ok(rt, bundle("sh", "-c", "echo $$"), cid).strip() == "1"


def test_join_network_namespace_by_path(rt, bundle, cid, testenv):
    name = testenv.add_netns()
    path = f"/run/netns/{name}"
    b = bundle("readlink", "/proc/self/ns/net").set_namespace("network", path)
    assert run_ok(rt, b, cid).strip() == f"net:[{os.stat(path).st_ino}]"


def test_join_namespaces_of_another_container(rt, bundle, new_id):
    # What a pod member does: share net, ipc and uts with the infra container.
    infra, member = new_id("infra"), new_id("member")
    bi = bundle("sleep", "1000")
    bi.config["hostname"] = "pod-host"
    rt.create(bi, infra).ok()
    rt.start(infra).ok()
    pid = rt.state(infra)["pid"]
    bm = bundle("sh", "-c", "hostname; for n in net ipc uts pid; do "
                "readlink /proc/self/ns/$n; done")
    bm.config.pop("hostname", None)
    for k in ("network", "ipc", "uts"):
        bm.set_namespace(k, f"/proc/{pid}/ns/{NS_FILES[k]}")
    out = run_ok(rt, bm, member).split()
    assert out[0] == "pod-host"
    for i, f in enumerate(("net", "ipc", "uts"), start=1):
        assert out[i] == os.readlink(f"/proc/{pid}/ns/{f}"), f
    assert out[4] != os.readlink(f"/proc/{pid}/ns/pid")
    rt.delete(infra, "--force").ok()


def test_user_namespace_mappings(rt, bundle, cid):
    b = bundle("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; "
               "readlink /proc/self/ns/user")
    b.set_namespace("user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    # sysfs cannot be mounted in a user namespace without its own netns owner;
    # the default config has one, keep it.
    lines = run_ok(rt, b, cid).splitlines()
    assert lines[0].split() == ["0", "200000", "65536"]
    assert lines[1].split() == ["0", "200000", "65536"]
    assert lines[2] == "0"
    assert lines[3] != host_ns("user")


def test_user_namespace_process_uid_maps_to_host(rt, bundle, cid, testenv):
    b = bundle()
    b.set_namespace("user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 300000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 300000, "size": 65536}]
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.args("sleep", "1000")
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    pid = rt.state(cid)["pid"]
    with open(f"/proc/{pid}/status") as f:
        st = status_fields(f.read())
    assert st["Uid"][0] == "301000" and st["Gid"][0] == "301000", st
    rt.delete(cid, "--force").ok()


def test_cgroup_namespace_root(rt, bundle, cid):
    b = bundle("cat", "/proc/self/cgroup").set_namespace("cgroup")
    lines = run_ok(rt, b, cid).splitlines()
    assert lines
    for line in lines:
        assert line.split(":", 2)[2] == "/", lines


def test_time_namespace_offsets(rt, bundle, cid):
    require_feature(lambda f: "time" in f.get("linux", {}).get("namespaces", []),
                    "no time namespace support (runc gained it in 1.2)")
    offset = 10 * 365 * 86400
    b = bundle("sh", "-c", "readlink /proc/self/ns/time; cat /proc/uptime")
    b.set_namespace("time")
    b.linux["timeOffsets"] = {"boottime": {"secs": offset, "nanosecs": 0},
                              "monotonic": {"secs": offset, "nanosecs": 0}}
    ns, uptime = run_ok(rt, b, cid).splitlines()[:2]
    assert ns != host_ns("time")
    with open("/proc/uptime") as f:
        host_uptime = float(f.read().split()[0])
    assert float(uptime.split()[0]) >= offset + host_uptime - 5


def test_sysctl_in_new_netns(rt, bundle, cid):
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        host_before = f.read()
    want = "0" if host_before.strip() == "1" else "1"
    b = bundle("cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmni")
    b.linux["sysctl"] = {"net.ipv4.ip_forward": want, "kernel.shmmni": "1234"}
    assert run_ok(rt, b, cid).split() == [want, "1234"]
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read() == host_before, "a container sysctl leaked to the host"


def test_annotations_reach_state(rt, bundle, cid):
    b = bundle("sleep", "1000")
    b.config["annotations"] = {"io.example/a": "1", "b": ""}
    rt.create(b, cid).ok()
    assert rt.state(cid)["annotations"] == {"io.example/a": "1", "b": ""}
    rt.delete(cid, "--force").ok()


def _ignoring_hup_int():
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})


def test_ignored_signals_of_the_caller_do_not_reach_the_container(rt, bundle, cid):
    # nohup, or a shell's background job, starts the runtime with SIGHUP
    # and SIGINT ignored (and a mask may be set): the container's process
    # must start with default dispositions and nothing blocked, or its
    # traps silently never run
    b = bundle("cat", "/proc/self/status")
    b.save()
    p = subprocess.run([rt.path, "--root", str(rt.root), "run", "--bundle", str(b.path), cid],
                       capture_output=True, preexec_fn=_ignoring_hup_int, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    st = status_fields(p.stdout.decode())
    assert st["SigIgn"] == ["0000000000000000"], st["SigIgn"]
    assert st["SigBlk"] == ["0000000000000000"], st["SigBlk"]
    # and the same for a process started by exec
    b2 = bundle("sleep", "30")
    rt.create(b2, cid + "-x").ok()
    rt.start(cid + "-x").ok()
    p = subprocess.run([rt.path, "--root", str(rt.root), "exec", cid + "-x", "cat", "/proc/self/status"],
                       capture_output=True, preexec_fn=_ignoring_hup_int, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    st = status_fields(p.stdout.decode())
    assert st["SigIgn"] == ["0000000000000000"] and st["SigBlk"] == ["0000000000000000"], st
    rt.kill(cid + "-x", "KILL").ok()
    rt.wait_status(cid + "-x", "stopped")
    rt.delete(cid + "-x").ok()
