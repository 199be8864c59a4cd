# SPDX-License-Identifier: GPL-2.0-or-later
"""berth run and friends: containers from images, end to end.

Each test gets a private engine (engine_env.py): a data root with a busybox
image, everything removed and checked at teardown.
"""

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import run_in_pty
from engine_env import busybox_tar, engine, mounts_under, pid_alive  # noqa: F401 (fixtures)


# ---- run: output, exit codes -------------------------------------------


def test_run_prints_output_and_exit_code(engine):
    r = engine.run("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7", ok=False)
    assert r.returncode == 7
    assert r.stdout == "out\n"
    assert r.stderr == "err\n"
    assert engine.ids() == []


def test_run_default_cmd_from_image(engine):
    r = engine.run("run", "--rm", "-i", "busybox", input=b"echo from-stdin\n")
    assert r.stdout == "from-stdin\n"


def test_exit_codes_like_docker(engine):
    assert engine.run("run", "--rm", "busybox", "/no/such/prog", ok=False).returncode == 127
    r = engine.run("run", "--rm", "busybox", "/etc/passwd", ok=False)
    assert r.returncode == 126, r
    r = engine.run("run", "--rm", "--pull", "never", "no-such-image:1", "true", ok=False)
    assert r.returncode == 125 and "no-such-image" in r.stderr
    # a missing image is pulled first, as Docker does: from a registry that is not there here
    r = engine.run("run", "--rm", "127.0.0.1:1/no-such-image:1", "true", ok=False)
    assert r.returncode == 125 and "Unable to find image '127.0.0.1:1/no-such-image:1' locally" in r.stderr, r
    assert r.stdout == ""
    assert engine.ids() == []
    # a process killed by a signal: 128 + its number
    engine.run("run", "-d", "--name", "victim", "busybox", "sleep", "1000")
    engine.run("kill", "victim")
    assert engine.out("wait", "victim").strip() == "137"


def test_what_the_container_sees(engine):
    out = engine.out("run", "--rm", "--hostname", "boat", "busybox", "sh", "-c",
                     "hostname; echo pid=$$; id -u; cat /proc/self/status | grep -E '^(CapEff|Seccomp):'; "
                     "ip -o link show lo; cat /etc/hosts; ls /")
    lines = out.splitlines()
    assert lines[0] == "boat"
    assert lines[1] == "pid=1"
    assert lines[2] == "0"
    # Docker's default capabilities: 14 of them
    capeff = int([l for l in lines if l.startswith("CapEff")][0].split()[1], 16)
    assert bin(capeff).count("1") == 14
    assert [l for l in lines if l.startswith("Seccomp")][0].split()[1] == "2"
    assert any("lo:" in l and "UP" in l for l in lines)
    assert any("boat" in l for l in lines)


def test_env_workdir_user(engine, tmp_path):
    envf = tmp_path / "env"
    envf.write_text("# comment\nFROM_FILE=yes\n\n")
    out = engine.out("run", "--rm", "-e", "A=1", "--env-file", envf, "-w", "/tmp", "-u", "app", "busybox",
                     "sh", "-c", "echo $A $FROM_FILE $HOME; pwd; id")
    a, pwd, ident = out.splitlines()
    assert a == "1 yes /home/app"
    assert pwd == "/tmp"
    assert "uid=1000(app)" in ident and "gid=1000(app)" in ident
    assert "staff" in ident and "audio" in ident


def test_missing_workdir_is_made(engine):
    assert engine.out("run", "--rm", "-w", "/new/work/dir", "busybox", "pwd") == "/new/work/dir\n"


def test_entrypoint_and_cmd(engine):
    assert engine.out("run", "--rm", "--entrypoint", "echo", "busybox", "a", "b") == "a b\n"
    # the image's Cmd ("sh") is kept without an entrypoint: it reads stdin
    assert engine.out("run", "--rm", "-i", "--entrypoint", "", "busybox", input=b"echo kept-cmd\n") == "kept-cmd\n"


# ---- detached lifecycle -----------------------------------------------------


def test_detached_lifecycle(engine):
    cid = engine.out("run", "-d", "--name", "web", "busybox", "sleep", "1000").strip()
    assert len(cid) == 64
    assert engine.status("web") == "running"
    ps = engine.out("ps")
    assert "web" in ps and cid[:12] in ps and "Up " in ps
    info = engine.inspect(cid[:8])
    assert info["Name"] == "/web" and info["State"]["Pid"] > 0
    pid = info["State"]["Pid"]
    assert pid_alive(pid)
    engine.run("stop", "-t", "2", "web")
    assert engine.status("web") == "exited"
    assert not pid_alive(pid)
    assert "Exited (" in engine.out("ps", "-a")
    assert engine.out("ps", "-q") == ""
    engine.run("start", "web")
    assert engine.status("web") == "running"
    engine.run("restart", "-t", "1", "web")
    assert engine.status("web") == "running"
    engine.run("rm", "-f", "web")
    assert engine.ids() == []
    assert mounts_under(str(engine.root)) == []


def test_stop_escalates_to_sigkill(engine):
    engine.run("run", "-d", "--name", "stubborn", "busybox", "sh", "-c",
               "trap '' TERM; while true; do sleep 0.1; done")
    t = time.monotonic()
    engine.run("stop", "-t", "1", "stubborn")
    took = time.monotonic() - t
    assert 0.9 < took < 8, took
    assert engine.inspect("stubborn")["State"]["ExitCode"] == 137


def test_signals_reach_pid1(engine):
    engine.run("run", "-d", "--name", "sig", "busybox", "sh", "-c",
               "trap 'echo got-usr1' USR1; trap 'echo got-term; exit 3' TERM; "
               "while true; do sleep 0.1; done")
    time.sleep(0.3)
    engine.run("kill", "-s", "USR1", "sig")
    end = time.monotonic() + 5
    while "got-usr1" not in engine.out("logs", "sig") and time.monotonic() < end:
        time.sleep(0.05)
    assert "got-usr1" in engine.out("logs", "sig")
    engine.run("stop", "sig")
    assert engine.inspect("sig")["State"]["ExitCode"] == 3
    assert "got-term" in engine.out("logs", "sig")


def test_wait_prints_exit_code(engine):
    engine.run("run", "-d", "--name", "w", "busybox", "sh", "-c", "sleep 0.5; exit 5")
    assert engine.out("wait", "w").strip() == "5"


def test_pause_unpause(engine):
    engine.run("run", "-d", "--name", "p", "busybox", "sleep", "1000")
    engine.run("pause", "p")
    assert engine.status("p") == "paused"
    assert "(Paused)" in engine.out("ps")
    engine.run("unpause", "p")
    assert engine.status("p") == "running"


def test_rename_and_name_in_use(engine):
    engine.run("create", "--name", "one", "busybox", "true")
    r = engine.run("create", "--name", "one", "busybox", "true", ok=False)
    assert r.returncode == 125 and "already in use" in r.stderr
    engine.run("rename", "one", "two")
    assert engine.inspect("two")["Name"] == "/two"
    assert engine.run("inspect", "one", ok=False).returncode != 0


def test_generated_names_and_prefixes(engine):
    a = engine.out("create", "busybox", "true").strip()
    b = engine.out("create", "busybox", "true").strip()
    names = {engine.inspect(a)["Name"], engine.inspect(b)["Name"]}
    assert len(names) == 2 and all("_" in n for n in names)
    assert engine.inspect(a[:10])["Id"] == a


def test_rm_running_refused(engine):
    engine.run("run", "-d", "--name", "busy", "busybox", "sleep", "1000")
    r = engine.run("rm", "busy", ok=False)
    assert r.returncode != 0 and "running" in r.stderr
    engine.run("rm", "-f", "busy")
    assert engine.ids() == []


def test_ps_filters_and_json(engine):
    engine.run("run", "-d", "--name", "up", "--label", "tier=web", "busybox", "sleep", "1000")
    engine.run("create", "--name", "made", "busybox", "true")
    assert engine.out("ps", "-a", "--filter", "status=created", "--format", "json").count("\n") == 1
    rows = [json.loads(l) for l in engine.out("ps", "-a", "--format", "json").splitlines()]
    assert {r["Names"] for r in rows} == {"up", "made"}
    assert engine.out("ps", "-q", "--filter", "label=tier=web").strip() == engine.inspect("up")["Id"][:12]
    assert engine.out("ps", "-a", "-q", "--filter", "name=mad").strip() == engine.inspect("made")["Id"][:12]
    assert engine.out("inspect", "-f", "{{.State.Status}} {{.Config.Labels.tier}}", "up") == "running web\n"


# ---- logs -------------------------------------------------------------------


def test_logs_tail_timestamps_follow(engine):
    engine.run("run", "-d", "--name", "talk", "busybox", "sh", "-c",
               "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; sleep 1; echo late")
    engine.run("wait", "talk")
    r = engine.run("logs", "talk")
    assert r.stdout == "line1\nline2\nline3\nline4\nline5\nlate\n"
    assert r.stderr == "oops\n"
    # the last two lines of both streams: stderr's "oops", then "late"
    r = engine.run("logs", "--tail", "2", "talk")
    assert (r.stdout, r.stderr) == ("late\n", "oops\n"), r
    ts = engine.out("logs", "-t", "talk").splitlines()[0]
    assert ts.split(" ", 1)[1] == "line1" and ts[:4].isdigit() and ts.split(" ")[0].endswith("Z")
    # -f on a running container gets what comes later, and ends with it
    engine.run("run", "-d", "--name", "slow", "busybox", "sh", "-c",
               "echo first; sleep 1; echo second; sleep 0.5")
    t = time.monotonic()
    out = engine.out("logs", "-f", "slow", timeout=20)
    assert out == "first\nsecond\n"
    assert time.monotonic() - t > 0.5


def test_logs_rotate(engine):
    engine.run("run", "-d", "--name", "chatty", "--log-opt", "max-size=2k,max-file=2",
               "busybox", "sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done")
    engine.run("wait", "chatty")
    cid = engine.inspect("chatty")["Id"]
    files = sorted(p.name for p in (engine.root / "containers" / cid).glob("ctr.log*"))
    assert files == ["ctr.log", "ctr.log.1"], files
    total = sum(p.stat().st_size for p in (engine.root / "containers" / cid).glob("ctr.log*"))
    assert total <= 2 * 2048 + 200
    lines = engine.out("logs", "chatty").splitlines()
    assert lines[-1] == "line-399"
    # what is kept is the newest, in order
    nums = [int(l.split("-")[1]) for l in lines]
    assert nums == list(range(nums[0], 400))


def test_logs_survive_restart(engine):
    engine.run("run", "-d", "--name", "again", "busybox", "echo", "hello")
    engine.run("wait", "again")
    engine.run("start", "again")
    engine.run("wait", "again")
    assert engine.out("logs", "again") == "hello\nhello\n"


# ---- restart policies, health ---------------------------------------------


def test_restart_on_failure_counts(engine):
    engine.run("run", "-d", "--name", "flaky", "--restart", "on-failure:3", "busybox", "sh", "-c",
               "echo run; exit 2")
    end = time.monotonic() + 20
    while time.monotonic() < end:
        st = engine.inspect("flaky")
        if st["State"]["Status"] == "exited":
            break
        time.sleep(0.1)
    st = engine.inspect("flaky")
    assert st["State"]["Status"] == "exited"
    assert st["RestartCount"] == 3
    assert st["State"]["ExitCode"] == 2
    assert engine.out("logs", "flaky").count("run\n") == 4


def test_restart_always_and_stop(engine):
    engine.run("run", "-d", "--name", "forever", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2")
    end = time.monotonic() + 15
    while engine.inspect("forever")["RestartCount"] < 2 and time.monotonic() < end:
        time.sleep(0.1)
    assert engine.inspect("forever")["RestartCount"] >= 2
    engine.run("stop", "-t", "1", "forever")
    assert engine.status("forever") == "exited"
    n = engine.inspect("forever")["RestartCount"]
    time.sleep(1)
    assert engine.status("forever") == "exited"
    assert engine.inspect("forever")["RestartCount"] == n


def test_health_transitions(engine):
    engine.run("run", "-d", "--name", "doc", "--health-cmd", "test -e /tmp/ok", "--health-interval", "200ms",
               "--health-retries", "2", "--health-timeout", "2s", "busybox", "sh", "-c",
               "touch /tmp/ok; sleep 1.5; rm /tmp/ok; sleep 1000")
    def health():
        return engine.inspect("doc")["State"].get("Health", {}).get("Status")
    end = time.monotonic() + 10
    while health() != "healthy" and time.monotonic() < end:
        time.sleep(0.05)
    assert health() == "healthy"
    assert "(healthy)" in engine.out("ps")
    end = time.monotonic() + 10
    while health() != "unhealthy" and time.monotonic() < end:
        time.sleep(0.05)
    assert health() == "unhealthy"
    log = engine.inspect("doc")["State"]["Health"]["Log"]
    assert log and log[-1]["ExitCode"] == 1


# ---- resources, security --------------------------------------------------


def test_resource_flags_reach_the_cgroup(engine):
    cid = engine.out("run", "-d", "--memory", "64m", "--cpus", "0.5", "--pids-limit", "50", "--cpu-shares", "512",
                     "busybox", "sleep", "1000").strip()
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        base = f"/sys/fs/cgroup/berth-{cid}"
        assert open(f"{base}/memory.max").read().strip() == str(64 << 20)
        assert open(f"{base}/cpu.max").read().split() == ["50000", "100000"]
        assert open(f"{base}/pids.max").read().strip() == "50"
    else:
        assert open(f"/sys/fs/cgroup/memory/berth-{cid}/memory.limit_in_bytes").read().strip() == str(64 << 20)
        assert open(f"/sys/fs/cgroup/cpu/berth-{cid}/cpu.cfs_quota_us").read().strip() == "50000"
        assert open(f"/sys/fs/cgroup/cpu/berth-{cid}/cpu.shares").read().strip() == "512"
        assert open(f"/sys/fs/cgroup/pids/berth-{cid}/pids.max").read().strip() == "50"


def test_oom_killed(engine):
    # 48m, not less: a sanitizer build's runtime init must fit before it execs
    engine.run("run", "-d", "--name", "hog", "--memory", "48m", "--memory-swap", "48m", "busybox", "sh", "-c",
               "x=a; while true; do x=$x$x; done")
    engine.run("wait", "hog", timeout=60)
    st = engine.inspect("hog")["State"]
    assert st["OOMKilled"] is True, st
    assert st["ExitCode"] == 137


def test_caps_privileged_readonly(engine):
    out = engine.out("run", "--rm", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "busybox", "grep", "CapEff",
                     "/proc/self/status")
    assert int(out.split()[1], 16) == 1 << 13
    out = engine.out("run", "--rm", "--privileged", "busybox", "grep", "-E", "CapEff|Seccomp", "/proc/self/status")
    assert "Seccomp:\t0" in out
    r = engine.run("run", "--rm", "--read-only", "busybox", "touch", "/x", ok=False)
    assert r.returncode != 0 and "Read-only" in r.stderr
    out = engine.out("run", "--rm", "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs",
                     "/proc/self/status")
    assert out.split()[1] == "1"


def test_init_reaps_and_forwards(engine):
    engine.run("run", "-d", "--init", "--name", "ini", "busybox", "sh", "-c",
               "trap 'exit 9' TERM; (sleep 0.1 &); while true; do sleep 0.1; done")
    time.sleep(0.5)
    top = engine.out("exec", "ini", "ps", "-o", "pid,comm")
    assert "berth-init" in top.splitlines()[1]
    zombies = engine.out("exec", "ini", "sh", "-c", "grep -l '^State:.Z' /proc/[0-9]*/status 2>/dev/null || true")
    assert zombies.strip() == ""
    engine.run("stop", "ini")
    assert engine.inspect("ini")["State"]["ExitCode"] == 9


# ---- exec -------------------------------------------------------------------


def test_exec(engine):
    engine.run("run", "-d", "--name", "x", "-e", "FOO=bar", "busybox", "sleep", "1000")
    assert engine.out("exec", "x", "sh", "-c", "echo $FOO; pwd") == "bar\n/\n"
    assert engine.out("exec", "-e", "FOO=baz", "-w", "/tmp", "-u", "1000", "x", "sh", "-c",
                      "echo $FOO; pwd; id -u") == "baz\n/tmp\n1000\n"
    assert engine.run("exec", "x", "sh", "-c", "exit 4", ok=False).returncode == 4
    assert engine.run("exec", "x", "nonexistent", ok=False).returncode == 126
    assert engine.out("exec", "-i", "x", "cat", input=b"piped\n") == "piped\n"
    engine.run("exec", "-d", "x", "sh", "-c", "echo detached > /tmp/d")
    time.sleep(0.3)
    assert engine.out("exec", "x", "cat", "/tmp/d") == "detached\n"
    engine.run("stop", "-t", "0", "x")
    r = engine.run("exec", "x", "true", ok=False)
    assert r.returncode != 0 and "not running" in r.stderr


# ---- volumes ----------------------------------------------------------------


def test_named_volume_keeps_data_and_is_populated(engine):
    engine.run("run", "--rm", "-v", "data:/var/data", "busybox", "sh", "-c",
               "cat /var/data/seed.txt; echo kept > /var/data/new")
    assert "data" in engine.out("volume", "ls", "-q").split()
    out = engine.out("run", "--rm", "-v", "data:/var/data", "busybox", "cat", "/var/data/new", "/var/data/seed.txt")
    assert out == "kept\nfrom the image\n"
    r = engine.run("run", "-d", "--name", "user", "-v", "data:/var/data", "busybox", "sleep", "100")
    r = engine.run("volume", "rm", "data", ok=False)
    assert r.returncode != 0 and "in use" in r.stderr
    engine.run("rm", "-f", "user")
    engine.run("volume", "rm", "data")
    assert engine.out("volume", "ls", "-q") == ""


def test_bind_mounts_and_tmpfs(engine, tmp_path):
    host = tmp_path / "share"
    host.mkdir()
    (host / "in.txt").write_text("hello host\n")
    out = engine.out("run", "--rm", "-v", f"{host}:/mnt:ro", "--tmpfs", "/scratch", "busybox", "sh", "-c",
                     "cat /mnt/in.txt; touch /mnt/x 2>/dev/null && echo writable || echo readonly; "
                     "grep ' /scratch ' /proc/mounts | cut -d' ' -f3")
    assert out == "hello host\nreadonly\ntmpfs\n"
    engine.run("run", "--rm", "--mount", f"type=bind,source={host},target=/mnt", "busybox", "sh", "-c",
               "echo written > /mnt/out.txt")
    assert (host / "out.txt").read_text() == "written\n"


def test_anonymous_volume_removed_with_rm_v(engine):
    cid = engine.out("create", "-v", "/anon", "busybox", "true").strip()
    vols = engine.out("volume", "ls", "-q").split()
    assert len(vols) == 1
    engine.run("rm", "-v", cid)
    assert engine.out("volume", "ls", "-q") == ""


# ---- bad input -------------------------------------------------------------------


@pytest.mark.parametrize("args,needle", [
    (["--memory", "12x"], "12x"),
    (["--cpus", "-1"], "cpus"),
    (["-v", "./no/such/dir:/x"], "no/such/dir"),
    (["--restart", "sometimes"], "restart"),
    (["--stop-signal", "SIGNOPE"], "SIGNOPE"),
    (["--log-opt", "max-size=lots"], "lots"),
])
def test_bad_flags_create_nothing(engine, args, needle):
    r = engine.run("run", "-d", *args, "busybox", "true", ok=False)
    assert r.returncode == 125, r
    assert needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert engine.ids() == []
    assert engine.out("volume", "ls", "-q") == ""


def test_unknown_container(engine):
    for cmd in (["start"], ["stop"], ["rm"], ["logs"], ["inspect", "--type", "container"], ["kill"], ["wait"]):
        r = engine.run(*cmd, "nope", ok=False)
        assert r.returncode != 0 and "no such container: nope" in r.stderr, (cmd, r)


def test_port_without_ports(engine):
    engine.run("create", "--name", "np", "busybox", "true")
    r = engine.run("port", "np", "80", ok=False)
    assert r.returncode != 0 and "80/tcp" in r.stderr


# ---- robustness -------------------------------------------------------------------


def test_kill_monitor_then_ps_tells_the_truth(engine):
    cid = engine.out("run", "-d", "--name", "orphan", "busybox", "sleep", "1000").strip()
    mon = engine.monitor_pid(cid)
    pid = engine.inspect("orphan")["State"]["Pid"]
    assert mon > 0 and pid_alive(mon)
    os.kill(mon, signal.SIGKILL)
    end = time.monotonic() + 5
    while pid_alive(mon) and time.monotonic() < end:
        time.sleep(0.02)
    st = engine.inspect("orphan")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == -1, st
    assert "Exited (unknown)" in engine.out("ps", "-a")
    # its process went with it, and it starts again
    end = time.monotonic() + 5
    while pid_alive(pid) and time.monotonic() < end:
        time.sleep(0.02)
    assert not pid_alive(pid)
    engine.run("start", "orphan")
    assert engine.status("orphan") == "running"


def test_twenty_in_parallel(engine):
    procs = [subprocess.Popen(engine.argv("run", "-d", "--name", f"p{i}", "busybox", "sleep", "1000"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(20)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    rows = [json.loads(l) for l in engine.out("ps", "--format", "json").splitlines()]
    assert len(rows) == 20 and all(r["State"] == "running" for r in rows)
    pids = {r["Pid"] for r in rows}
    assert len(pids) == 20


def test_monitor_is_small(engine):
    cid = engine.out("run", "-d", "busybox", "sleep", "1000").strip()
    mon = engine.monitor_pid(cid)
    rss = [l for l in open(f"/proc/{mon}/status") if l.startswith("VmRSS")][0].split()[1]
    assert int(rss) < 512, f"monitor RSS {rss} KiB"


# ---- user namespaces --------------------------------------------------------


def test_userns_auto_and_mapping(engine):
    out = engine.out("run", "--rm", "--userns", "auto", "-v", "uvol:/data", "busybox", "sh", "-c",
                     "cat /proc/self/uid_map; id -u; stat -c %u /bin/busybox; touch /newfile /data/f && echo wrote")
    umap, uid, owner, wrote = out.splitlines()
    ctr, host, count = map(int, umap.split())
    assert (ctr, count) == (0, 65536) and host >= 100000
    assert (uid, owner, wrote) == ("0", "0", "wrote")
    # what it wrote belongs to its host ids
    assert os.stat(engine.root / "volumes" / "uvol" / "_data" / "f").st_uid == host
    # two containers at once get ranges that do not overlap
    engine.run("run", "-d", "--name", "u1", "--userns", "auto", "busybox", "sleep", "100")
    engine.run("run", "-d", "--name", "u2", "--userns", "auto", "busybox", "sleep", "100")
    maps = [engine.out("exec", n, "cat", "/proc/self/uid_map").split() for n in ("u1", "u2")]
    assert maps[0][1] != maps[1][1]
    out = engine.out("run", "--rm", "--userns", "0:300000:65536", "busybox", "sh", "-c",
                     "cat /proc/self/uid_map; touch /x && echo ok")
    assert out.split() == ["0", "300000", "65536", "ok"]
    r = engine.run("run", "--rm", "--userns", "bogus", "busybox", "true", ok=False)
    assert r.returncode == 125 and "--userns" in r.stderr


def test_run_it_on_a_terminal(engine):
    rc, text = run_in_pty(engine.argv("run", "--rm", "-it", "busybox", "sh", "-c",
                                      "tty; stty size; echo $TERM; read line; echo got:$line; exit 6"),
                          timeout=20, winsize=(31, 101), respond=(b"xterm", b"hello\r"))
    text = text.replace("\r", "")
    assert rc == 6, text
    assert "/dev/pts/0" in text and "31 101" in text and "xterm" in text and "got:hello" in text, text


# ---- more flags ---------------------------------------------------------------


PROBE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
        long r = syscall(SYS_clone3, NULL, 0);
        printf("clone3 %ld %d\n", r, r < 0 ? errno : 0);
        r = syscall(SYS_keyctl, 0, 0, 0, 0, 0);
        printf("keyctl %ld %d\n", r, r < 0 ? errno : 0);
        return 0;
}
"""


def test_default_seccomp_answers_clone3_with_enosys(engine, tmp_path):
    src = tmp_path / "probe.c"
    src.write_text(PROBE)
    subprocess.run(["gcc", "-static", "-O1", "-o", str(tmp_path / "probe"), str(src)], check=True)
    out = engine.out("run", "--rm", "-v", f"{tmp_path}:/probe:ro", "busybox", "/probe/probe")
    assert "clone3 -1 38" in out, out          # ENOSYS: glibc falls back to clone
    assert "keyctl -1 1" in out, out           # EPERM, as Docker's profile
    out = engine.out("run", "--rm", "--security-opt", "seccomp=unconfined", "-v", f"{tmp_path}:/probe:ro",
                     "busybox", "/probe/probe")
    assert "clone3 -1 38" not in out, out
    # a profile from a file, Docker's format
    prof = tmp_path / "deny-mkdir.json"
    prof.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}))
    r = engine.run("run", "--rm", "--security-opt", f"seccomp={prof}", "busybox", "mkdir", "/x", ok=False)
    assert r.returncode != 0 and "Operation not permitted" in r.stderr


def a_block_device():
    import stat as st
    for name in sorted(os.listdir("/sys/block")):
        path = f"/dev/{name}"
        try:
            if st.S_ISBLK(os.stat(path).st_mode):
                return path
        except OSError:
            pass
    pytest.skip("host limit: no block device node in /dev")


def test_devices_cpuset_blkio_tmpfs_labels(engine, tmp_path):
    blk = a_block_device()
    out = engine.out("run", "--rm", "--device", "/dev/null:/dev/mynull", "--cpuset-cpus", "0",
                     "--device-read-bps", f"{blk}:1mb", "--tmpfs", "/cache:size=1m",
                     "--label", "a=b", "--stop-signal", "SIGUSR1", "--stop-timeout", "3",
                     "busybox", "sh", "-c",
                     "echo x > /dev/mynull && echo dev-ok; grep Cpus_allowed_list /proc/self/status; "
                     "df -k /cache | tail -1")
    lines = out.splitlines()
    assert lines[0] == "dev-ok"
    assert lines[1].split()[1] == "0"
    assert lines[2].split()[1] == "1024"
    cid = engine.out("run", "-d", "--device-read-bps", f"{blk}:1mb", "busybox", "sleep", "100").strip()
    rdev = os.stat(blk).st_rdev
    want = f"{os.major(rdev)}:{os.minor(rdev)} 1048576"
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        assert want.replace(" ", " rbps=") in open(f"/sys/fs/cgroup/berth-{cid}/io.max").read()
    else:
        assert want in open(f"/sys/fs/cgroup/blkio/berth-{cid}/blkio.throttle.read_bps_device").read()
    cid = engine.out("create", "--label", "a=b", "--stop-signal", "SIGUSR1", "--stop-timeout", "3",
                     "busybox", "true").strip()
    cfg = engine.inspect(cid)["Config"]
    assert cfg["Labels"] == {"a": "b"} and cfg["StopSignal"] == "SIGUSR1" and cfg["StopTimeout"] == 3


def test_attach_and_logs_since(engine):
    engine.run("run", "-d", "--name", "talker", "busybox", "sh", "-c",
               "echo early; sleep 1.5; echo late; sleep 0.3; exit 4")
    time.sleep(0.5)
    r = engine.run("attach", "talker", ok=False, timeout=20)
    assert r.returncode == 4 and r.stdout == "late\n", r
    # --since an absolute time: the later line's own timestamp keeps it and drops the earlier
    late_ts = engine.out("logs", "-t", "talker").splitlines()[1].split(" ")[0]
    assert engine.out("logs", "--since", late_ts, "talker") == "late\n"
    assert engine.out("logs", "--until", late_ts, "talker") == "early\nlate\n"
    assert engine.out("logs", "--since", "1h", "talker") == "early\nlate\n"
    assert engine.out("logs", "--since", "1ms", "talker") == ""


def test_container_and_volume_prune(engine):
    engine.run("run", "--name", "done", "-v", "/anon", "busybox", "true")
    engine.run("run", "-d", "--name", "alive", "busybox", "sleep", "100")
    engine.run("volume", "create", "--label", "k=v", "named")
    out = engine.out("container", "prune")
    assert engine.out("ps", "-a", "--format", "json").count("\n") == 1
    assert "alive" in engine.out("ps")
    assert engine.inspect("alive")["State"]["Status"] == "running"
    assert out.startswith("Deleted Containers:")
    info = json.loads(engine.out("volume", "inspect", "named"))[0]
    assert info["Labels"] == {"k": "v"} and info["Mountpoint"].endswith("/volumes/named/_data")
    pruned = engine.out("volume", "prune").split()
    assert "named" not in pruned and len(pruned) == 3   # "Deleted Volumes:" and the anonymous one
    assert engine.out("volume", "ls", "-q").split() == ["named"]
    engine.run("volume", "prune", "-a")
    assert engine.out("volume", "ls", "-q") == ""


def test_detach_keys_and_exec_tty(engine):
    # ctrl-p ctrl-q leaves the container running; a ctrl-p alone reaches it
    rc, text = run_in_pty(engine.argv("run", "-it", "--name", "dk", "busybox", "sh", "-c",
                                      "echo ready; read x; echo never"),
                          timeout=20, respond=(b"ready", b"\x10\x11"))
    assert rc == 0, text
    assert "detached" in text and "never" not in text
    assert engine.status("dk") == "running"
    rc, text = run_in_pty(engine.argv("exec", "-it", "dk", "sh", "-c", "tty; stty size; exit 3"),
                          timeout=20, winsize=(24, 88))
    assert rc == 3, text
    assert "/dev/pts/" in text and "24 88" in text, text


def test_image_config_and_host_network(engine, busybox_tar):
    engine.run("import", "--change", "LABEL from=image", "--change", "LABEL both=image",
               "--change", "ENV IMG=1", "--change", "WORKDIR /tmp", "--change", "USER app",
               "--change", 'ENTRYPOINT ["sh", "-c"]', "--change", 'CMD ["echo default"]',
               busybox_tar, "labelled:1")
    assert engine.out("run", "--rm", "labelled:1") == "default\n"
    assert engine.out("run", "--rm", "labelled:1", "echo $IMG $(pwd) $(id -un)") == "1 /tmp app\n"
    cid = engine.out("create", "--label", "both=ctr", "labelled:1").strip()
    assert engine.inspect(cid)["Config"]["Labels"] == {"from": "image", "both": "ctr"}
    assert engine.out("ps", "-a", "-q", "--filter", "label=from=image").strip() == cid[:12]
    host_links = sorted(os.listdir("/sys/class/net"))
    out = engine.out("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net")
    assert sorted(out.split()) == host_links
    out = engine.out("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net")
    assert out.split() == ["lo"]


def test_start_attach(engine):
    engine.run("create", "--name", "later", "busybox", "sh", "-c", "echo attached-out; echo attached-err >&2; exit 2")
    assert engine.status("later") == "created"
    r = engine.run("start", "-a", "later", ok=False)
    assert (r.returncode, r.stdout, r.stderr) == (2, "attached-out\n", "attached-err\n"), r
    assert engine.status("later") == "exited"
    r = engine.run("start", "-a", "later", ok=False)
    assert r.returncode == 2 and r.stdout == "attached-out\n"
    assert engine.out("logs", "later") == "attached-out\nattached-out\n"
