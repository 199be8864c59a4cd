# SPDX-License-Identifier: GPL-2.0-or-later
"""berth stats, top and cp, end to end, against the cgroup and /proc.

Every test gets a private data root under /tmp/berth-ops-* with a busybox
image imported from a directory.  The image carries hostile symlinks that
point at a sentinel directory on the host (HOST below): absolute,
"../../..", to a directory, to a file, and "/evil -> /".  The cp tests
prove that nothing in HOST is read or written whatever the container's
symlinks say: only sentinel files are ever at risk, never a real host file.

At teardown every container is removed (`rm -f`), then the test fails if a
mount is left under its data root.
"""

import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

from engine_env import BERTH, make_busybox_rootfs, managed_engine, mounts_under

PREFIX = "berth-ops-"
CGROUP = Path("/sys/fs/cgroup")
CGROUP2 = (CGROUP / "cgroup.controllers").exists()

SECRET = b"host secret: must never be read\n"
VICTIM = b"host victim: must never be written\n"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="host limit: needs root")


# ---- fixtures ---------------------------------------------------------------


def snapshot(path):
    """Content, mode, owner, inode and times of everything under PATH (the host sentinel),
    read with O_NOATIME: a read or a listing by berth would change an atime, ours does not."""
    out = {}

    def visit(p):
        st = os.lstat(p)
        data = None
        if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
            fd = os.open(p, os.O_RDONLY | os.O_NOATIME)
            try:
                if stat.S_ISDIR(st.st_mode):
                    data = sorted(os.listdir(fd))
                else:
                    data = os.read(fd, 1 << 20)
            finally:
                os.close(fd)
        out[p] = (data, st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_ino, st.st_atime_ns)
        if stat.S_ISDIR(st.st_mode):
            for n in data:
                visit(os.path.join(p, n))

    visit(str(path))
    return out


@pytest.fixture(scope="session")
def host():
    """The host's sentinel directory: a secret to be read, a victim to be written."""
    d = Path(tempfile.mkdtemp(prefix=PREFIX + "host-"))
    os.chmod(d, 0o755)
    (d / "secret").write_bytes(SECRET)
    (d / "victim").write_bytes(VICTIM)
    (d / "sub").mkdir()
    (d / "sub" / "victim").write_bytes(VICTIM)
    # nothing may be read or listed: atime == mtime, so that relatime would record any access
    old = time.time() - 3600
    for p in (d / "secret", d / "victim", d / "sub" / "victim", d / "sub", d):
        os.utime(p, (old, old))
    yield d
    assert str(d).startswith("/tmp/" + PREFIX)
    shutil.rmtree(d)


def make_rootfs(path, host_dir):
    path = Path(path)
    make_busybox_rootfs(path)
    os.chown(path / "var/data/seed.txt", 1000, 1000)
    # the hostile symlinks
    up = "../" * 8
    os.symlink("/", path / "evil")
    os.symlink(f"{up}{str(host_dir).lstrip('/')}/secret", path / "etc/link")
    os.symlink(f"{host_dir}/secret", path / "abs")
    os.symlink(f"{host_dir}/victim", path / "victimlink")
    os.symlink(str(host_dir), path / "dirlink")
    os.symlink(f"{up}{str(host_dir).lstrip('/')}", path / "reldirlink")


@pytest.fixture(scope="session")
def image_dir(host):
    d = Path(tempfile.mkdtemp(prefix=PREFIX + "img-"))
    make_rootfs(d / "rootfs", host)
    yield d / "rootfs"
    assert str(d).startswith("/tmp/" + PREFIX)
    shutil.rmtree(d)


@pytest.fixture
def engine(image_dir):
    with managed_engine(image_dir, prefix=PREFIX) as e:
        yield e


def escaping_tar(host, hardlink=False):
    """A tar whose symlink "esc" points at the host directory, then a file
    "esc/victim" through it (and with HARDLINK a link "hl" out of the root)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        ti = tarfile.TarInfo("esc")
        ti.type, ti.linkname = tarfile.SYMTYPE, str(host)
        t.addfile(ti)
        ti = tarfile.TarInfo("esc/victim")
        ti.size = 4
        t.addfile(ti, io.BytesIO(b"tar\n"))
        if hardlink:
            ti = tarfile.TarInfo("hl")
            ti.type, ti.linkname = tarfile.LNKTYPE, "../../../.." + str(host) + "/victim"
            t.addfile(ti)
    return buf.getvalue()


def run_sleep(engine, name="x", *flags, cmd=("sleep", "1000")):
    engine.run("run", "-d", "--name", name, *flags, "busybox:latest", *cmd)
    return engine.id(name)


# ---- Docker's units ------------------------------------------------------------


def go_size(n, base, units, precision):
    v, i = float(n), 0
    while v >= base and i < len(units) - 1:
        v /= base
        i += 1
    return f"{v:.{precision}g}{units[i]}"


def bytes_binary(n):
    return go_size(n, 1024.0, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], 4)


def parse_size(s):
    m = re.fullmatch(r"([0-9.e+]+)([A-Za-z]*)", s)
    assert m, s
    mult = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "TiB": 1024 ** 4,
            "kB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3, "TB": 1000 ** 4}[m.group(2)]
    return float(m.group(1)) * mult


def host_memory():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


# ---- the cgroup, read directly ---------------------------------------------------


def cg(controller, cid):
    return CGROUP / f"berth-{cid}" if CGROUP2 else CGROUP / controller / f"berth-{cid}"


def cg_read(controller, cid, name):
    return (cg(controller, cid) / name).read_text()


def cg_key(controller, cid, name, key):
    for line in cg_read(controller, cid, name).splitlines():
        k, _, v = line.partition(" ")
        if k == key:
            return int(v)
    return 0


def cg_memory_usage(cid):
    if CGROUP2:
        return int(cg_read("memory", cid, "memory.current")) - cg_key("memory", cid, "memory.stat", "inactive_file")
    return int(cg_read("memory", cid, "memory.usage_in_bytes")) - \
        cg_key("memory", cid, "memory.stat", "total_inactive_file")


def cg_procs(cid):
    return sorted(int(p) for p in cg_read("pids", cid, "cgroup.procs").split())


# ---- stats ------------------------------------------------------------------


HEADER = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]


def stats_json(engine, *args):
    out = engine.out("stats", "--no-stream", "--format", "json", *args)
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def test_stats_numbers_come_from_the_cgroup(engine):
    cid = run_sleep(engine, "x", "--memory", "64m", "--network", "none",
                    cmd=("sh", "-c", "sleep 1000 & sleep 1000 & wait"))
    deadline = time.monotonic() + 5
    while len(cg_procs(cid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    [s] = stats_json(engine, "x")
    assert set(s) == {"BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"}
    assert s["Container"] == "x" and s["Name"] == "x" and s["ID"] == cid[:12]
    # the limit as given, in Docker's binary units
    usage_s, limit_s = s["MemUsage"].split(" / ")
    assert limit_s == "64MiB", s
    usage = parse_size(usage_s)
    want = cg_memory_usage(cid)
    assert abs(usage - want) <= max(want * 0.10, 256 * 1024), (s, want)
    assert abs(float(s["MemPerc"].rstrip("%")) - want / (64 << 20) * 100) < 0.5, s
    # pids: what the cgroup holds (single-threaded: tasks = processes)
    assert int(s["PIDs"]) == len(cg_procs(cid)) == 3, s
    # --network none: its own namespace holds only lo, which stats leaves out
    assert s["NetIO"] == "0B / 0B"
    assert re.fullmatch(r"\d+(\.\d+)?%", s["CPUPerc"]) and float(s["CPUPerc"][:-1]) < 50
    assert re.fullmatch(r"[0-9.]+[kMGT]?B / [0-9.]+[kMGT]?B", s["BlockIO"])


def test_stats_limit_is_host_memory_when_unlimited(engine):
    run_sleep(engine, "x")
    [s] = stats_json(engine, "x")
    assert s["MemUsage"].split(" / ")[1] == bytes_binary(host_memory()), s


def test_stats_cpu_percent(engine):
    run_sleep(engine, "busy", cmd=("sh", "-c", "while :; do :; done"))
    [s] = stats_json(engine, "busy")
    cpu = float(s["CPUPerc"].rstrip("%"))
    assert 20 < cpu < 150, s


def test_stats_table_running_only_and_all(engine):
    cid = run_sleep(engine, "up")
    engine.run("create", "--name", "down", "busybox:latest", "true")
    out = engine.out("stats", "--no-stream")
    lines = out.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == HEADER, out
    assert len(lines) == 2 and lines[1].startswith(cid[:12] + " ") and " up " in lines[1], out
    # Docker's tabwriter: columns padded by 3, at least 10 wide
    assert lines[0].startswith("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT"), out
    out = engine.out("stats", "--no-stream", "--all")
    rows = {re.split(r"\s{2,}", l.strip())[1]: re.split(r"\s{2,}", l.strip()) for l in out.splitlines()[1:]}
    assert set(rows) == {"up", "down"}, out
    assert rows["down"][2:] == ["0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0"], out
    js = {s["Name"]: s for s in stats_json(engine, "--all")}
    assert js["down"]["PIDs"] == "0" and js["down"]["MemUsage"] == "0B / 0B"
    # a named container is shown even when stopped
    [d] = stats_json(engine, "down")
    assert d["CPUPerc"] == "0.00%"


def test_stats_unknown_container(engine):
    r = engine.run("stats", "--no-stream", "nope", ok=False)
    assert r.returncode == 1 and "no such container" in r.stderr.lower(), r


def test_stats_live_until_sigint(engine):
    run_sleep(engine, "x")
    p = subprocess.Popen([BERTH, "--root", str(engine.root), "stats", "x"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(2.8)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, (out, err)
    out = out.decode()
    # not a terminal: plain successive tables, no escape sequences
    assert "\033" not in out
    assert out.count("CONTAINER ID") >= 2, out
    assert out.count(" x ") == out.count("CONTAINER ID")


# ---- top --------------------------------------------------------------------


def test_top_lists_the_processes_with_host_pids(engine):
    cid = run_sleep(engine, "x", cmd=("sh", "-c", "sleep 1001 & exec sleep 1000"))
    deadline = time.monotonic() + 5
    while len(cg_procs(cid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    out = engine.out("top", "x")
    lines = out.splitlines()
    assert lines[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert lines[0].startswith("UID" + " " * 17 + "PID"), out  # tabwriter: 20 wide
    rows = [l.split(None, 7) for l in lines[1:]]
    pids = sorted(int(r[1]) for r in rows)
    assert pids == cg_procs(cid), out
    pid1 = engine.pid("x")
    by_pid = {int(r[1]): r for r in rows}
    assert by_pid[pid1][7] == "sleep 1000" and by_pid[pid1][0] == "root"
    assert by_pid[pid1][5] == "?" and re.fullmatch(r"\d\d:\d\d:\d\d", by_pid[pid1][6])
    assert open(f"/proc/{pid1}/cmdline", "rb").read() == b"sleep\x001000\x00"
    other = [r for p, r in by_pid.items() if p != pid1]
    assert other[0][7] == "sleep 1001" and int(other[0][2]) == pid1
    # ps options are accepted (and ignored)
    assert engine.out("top", "x", "-o", "pid").splitlines()[0] == lines[0]


def test_top_not_running(engine):
    engine.run("create", "--name", "idle", "busybox:latest", "true")
    r = engine.run("top", "idle", ok=False)
    assert r.returncode == 1 and "container idle is not running" in r.stderr, r
    r = engine.run("top", "nope", ok=False)
    assert r.returncode == 1 and "no such container" in r.stderr.lower(), r


# ---- cp: Docker's rules ----------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    """A host tree: d/{a (4755), sub/b (uid 1000), l -> /etc/passwd, empty/}."""
    d = tmp_path / "src" / "d"
    (d / "sub").mkdir(parents=True)
    (d / "empty").mkdir()
    (d / "a").write_text("aaa\n")
    os.chmod(d / "a", 0o4755)
    (d / "sub" / "b").write_text("bbb\n")
    os.chown(d / "sub" / "b", 1000, 1000)
    os.chmod(d / "sub", 0o750)
    os.symlink("/etc/passwd", d / "l")
    return d


def ls(engine, name, path):
    """{relative path: (type+mode, uid, gid, size, link)} inside the container, via stat in it."""
    out = engine.sh(name, f"cd {path} && find . | while read f; do "
                          "stat -c '%n|%f|%u|%g|%s|%N' \"$f\"; done")
    res = {}
    for line in out.splitlines():
        n, mode, uid, gid, size, nn = line.split("|", 5)
        link = nn.split(" -> ", 1)[1].strip("'") if " -> " in nn else None
        res[n] = (int(mode, 16), int(uid), int(gid), int(size), link)
    return res


def test_cp_into_running_container(engine, tree, tmp_path):
    run_sleep(engine, "x")
    # a directory into an existing directory: inside it, owned by root, modes kept
    engine.run("cp", tree, "x:/tmp")
    t = ls(engine, "x", "/tmp/d")
    assert stat.S_ISDIR(t["./sub"][0]) and t["./sub"][0] & 0o7777 == 0o750
    assert t["./a"][0] & 0o7777 == 0o755 or t["./a"][0] & 0o7777 == 0o4755
    assert t["./a"][1:3] == (0, 0) and t["./sub/b"][1:3] == (0, 0)
    assert t["./l"][4] == "/etc/passwd" and stat.S_ISLNK(t["./l"][0])
    assert stat.S_ISDIR(t["./empty"][0])
    assert engine.sh("x", "cat /tmp/d/a /tmp/d/sub/b") == "aaa\nbbb\n"
    # -a keeps the owner
    engine.run("cp", "-a", tree, "x:/tmp/kept")
    t = ls(engine, "x", "/tmp/kept")
    assert t["./sub/b"][1:3] == (1000, 1000) and t["./a"][0] & 0o7777 == 0o4755
    # a directory to a new name: that name, with its contents
    engine.run("cp", tree, "x:/tmp/renamed")
    assert engine.sh("x", "cat /tmp/renamed/sub/b") == "bbb\n"
    # "dir/." copies the contents into an existing directory
    engine.sh("x", "mkdir /tmp/into")
    engine.run("cp", f"{tree}/.", "x:/tmp/into")
    assert engine.sh("x", "cat /tmp/into/a; ls /tmp/into") == "aaa\na\nempty\nl\nsub\n"
    # a file: to a new name, into a directory, over a file
    engine.run("cp", tree / "a", "x:/tmp/file1")
    engine.run("cp", tree / "a", "x:/tmp/into/sub/")
    engine.sh("x", "echo old > /tmp/over")
    engine.run("cp", tree / "sub" / "b", "x:/tmp/over")
    assert engine.sh("x", "cat /tmp/file1 /tmp/into/sub/a /tmp/over") == "aaa\naaa\nbbb\n"


def test_cp_rules_errors(engine, tree, tmp_path):
    run_sleep(engine, "x")
    engine.sh("x", "echo f > /tmp/file")
    cases = [
        ((tree, "x:/tmp/file"), "cannot copy a directory to a file"),
        ((tree / "a", "x:/tmp/nodir/"), "no such directory"),
        ((tree / "a", "x:/no/such/parent"), "Could not find the file /no/such/parent in container x"),
        ((tree / "a", "x:/tmp/file/"), "not a directory"),
        ((f"{tree}/a/", "x:/tmp"), "Not a directory"),
        ((tmp_path / "missing", "x:/tmp"), "No such file or directory"),
        (("x:/no/such", tmp_path), "Could not find the file /no/such in container x"),
        (("x:/tmp/file/", tmp_path), "not a directory"),
        ((tree / "a", "x:/tmp/file/x"), "Could not find the file /tmp/file/x in container x"),
        (("x:/tmp", tmp_path / "nonexistent" / "dir"), "No such file or directory"),
        (("nope:/tmp", tmp_path), "no such container"),
        ((tree, tmp_path / "elsewhere"), "must specify at least one container source"),
        (("x:/tmp", "x:/var"), "copying between containers is not supported"),
    ]
    for args, needle in cases:
        r = engine.run("cp", *args, ok=False)
        assert r.returncode == 1 and needle.lower() in r.stderr.lower(), (args, r)
    assert not (tmp_path / "nonexistent").exists()
    # nothing was half-written
    assert engine.sh("x", "cat /tmp/file; ls /tmp") == "f\nfile\n"


def test_cp_out_of_running_container(engine, tmp_path):
    run_sleep(engine, "x")
    engine.sh("x", "mkdir -p /srv/d/sub && echo one > /srv/d/sub/f && chmod 640 /srv/d/sub/f && "
                   "chown 1000:1000 /srv/d/sub/f && ln -s /etc/passwd /srv/d/l && mkfifo /srv/d/fifo")
    out = tmp_path / "out"
    out.mkdir()
    engine.run("cp", "x:/srv/d", out)
    f = out / "d" / "sub" / "f"
    assert f.read_text() == "one\n" and stat.S_IMODE(f.stat().st_mode) == 0o640
    assert (f.stat().st_uid, f.stat().st_gid) == (0, 0)  # the caller's, without -a
    assert os.readlink(out / "d" / "l") == "/etc/passwd"
    assert stat.S_ISFIFO((out / "d" / "fifo").lstat().st_mode)
    engine.run("cp", "-a", "x:/srv/d", out / "kept")
    assert (out / "kept" / "sub" / "f").stat().st_uid == 1000
    # a file to a new name, over a file, into a directory with a trailing /
    engine.run("cp", "x:/srv/d/sub/f", out / "g")
    (out / "h").write_text("old\n")
    engine.run("cp", "x:/etc/passwd", out / "h")
    engine.run("cp", "x:/srv/d/sub/f", f"{out}/d/")
    assert (out / "g").read_text() == "one\n" and (out / "d" / "f").read_text() == "one\n"
    assert (out / "h").read_text().startswith("root:x:0:0")
    # "/." : the contents
    (out / "c").mkdir()
    engine.run("cp", "x:/srv/d/.", out / "c")
    assert sorted(os.listdir(out / "c")) == ["fifo", "l", "sub"]
    # the container's volumes and /proc are not read through (/proc is a kernel fs)
    r = engine.run("cp", "x:/proc/1/status", out / "status", ok=False)
    assert r.returncode == 1 and not (out / "status").exists(), r


def test_cp_tar_streams(engine, tmp_path):
    run_sleep(engine, "x")
    engine.sh("x", "mkdir -p /srv/d && echo one > /srv/d/f && ln /srv/d/f /srv/d/hard && ln -s f /srv/d/s")
    r = engine.run("cp", "x:/srv/d", "-")
    with tarfile.open(fileobj=io.BytesIO(r.raw)) as t:
        members = {m.name.rstrip("/"): m for m in t.getmembers()}
        assert set(members) == {"d", "d/f", "d/hard", "d/s"}, members
        assert members["d"].isdir() and members["d/s"].issym() and members["d/s"].linkname == "f"
        file, link = sorted([members["d/f"], members["d/hard"]], key=lambda m: m.islnk())
        assert file.isfile() and link.islnk() and link.linkname == file.name
        assert t.extractfile(file).read() == b"one\n"
    r = engine.run("cp", "x:/srv/d/f", "-")
    with tarfile.open(fileobj=io.BytesIO(r.raw)) as t:
        assert [m.name for m in t.getmembers()] == ["f"]
    # a tar into the container: dirs, files (modes, owners: root without -a), symlinks, hard links
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        def add(name, data=None, **kw):
            ti = tarfile.TarInfo(name)
            for k, v in kw.items():
                setattr(ti, k, v)
            if data is not None:
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
        add("./", type=tarfile.DIRTYPE, mode=0o700)
        add("top", type=tarfile.DIRTYPE, mode=0o711, uid=1000, gid=1000)
        add("top/file", b"payload\n", mode=0o604, uid=1000, gid=1000)
        add("top/link", type=tarfile.SYMTYPE, linkname="file")
        add("top/hard", type=tarfile.LNKTYPE, linkname="top/file")
        add("deep/er/file", b"parents made\n")
    engine.run("cp", "-", "x:/tmp", input=buf.getvalue())
    t = ls(engine, "x", "/tmp")
    assert t["./top"][0] & 0o7777 == 0o711 and t["./top"][1:3] == (0, 0)
    assert t["./top/file"][0] & 0o7777 == 0o604 and t["./top/link"][4] == "file"
    assert engine.sh("x", "cat /tmp/top/hard /tmp/deep/er/file; stat -c %h /tmp/top/file") == \
        "payload\nparents made\n2\n"
    # "./" is the destination itself: left as it is
    assert engine.sh("x", "stat -c %a /tmp") == "1777\n"
    engine.run("cp", "-a", "-", "x:/var", input=buf.getvalue())
    assert ls(engine, "x", "/var")["./top/file"][1:3] == (1000, 1000)
    # the destination of a tar must be an existing directory
    r = engine.run("cp", "-", "x:/tmp/top/file", input=buf.getvalue(), ok=False)
    assert r.returncode == 1 and "must be a directory" in r.stderr, r
    r = engine.run("cp", "-", "x:/no/where", input=buf.getvalue(), ok=False)
    assert r.returncode == 1 and "Could not find the file /no/where in container x" in r.stderr, r


def test_cp_stopped_container(engine, tree, tmp_path):
    engine.run("create", "--name", "c", "busybox:latest", "true")
    rootfs = engine.rootfs("c")
    assert mounts_under(rootfs) == []
    engine.run("cp", tree, "c:/tmp")
    assert mounts_under(rootfs) == []  # mounted for the copy, unmounted after
    out = tmp_path / "out"
    engine.run("cp", "c:/tmp/d", out)
    assert (out / "sub" / "b").read_text() == "bbb\n"
    r = engine.run("cp", "c:/var/data/seed.txt", "-")
    with tarfile.open(fileobj=io.BytesIO(r.raw)) as t:
        [m] = t.getmembers()
        assert m.uid == 1000 and t.extractfile(m).read() == b"from the image\n"
    assert mounts_under(rootfs) == []
    # what was copied in is in the container when it runs
    engine.run("start", "c")
    engine.run("wait", "c")
    engine.run("run", "-d", "--name", "later", "busybox:latest", "sleep", "1000")
    engine.run("stop", "-t", "0", "later")
    deadline = time.monotonic() + 10  # the monitor's cleanup unmounts it
    while mounts_under(engine.rootfs("later")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mounts_under(engine.rootfs("later")) == []
    engine.run("cp", tree / "a", "later:/tmp/")
    assert mounts_under(engine.rootfs("later")) == []
    engine.run("start", "later")
    assert engine.sh("later", "cat /tmp/a") == "aaa\n"
    # a running container's own rootfs mount is left alone by cp
    engine.run("cp", "later:/tmp/a", tmp_path / "a2")
    assert mounts_under(engine.rootfs("later")) != []


# ---- cp: symlinks that point out of the container ---------------------------------


@pytest.fixture(params=["running", "stopped"])
def hostile(request, engine, host):
    """A container of the hostile image, running or stopped, and the host sentinel's state."""
    if request.param == "running":
        run_sleep(engine, "x")
    else:
        engine.run("create", "--name", "x", "busybox:latest", "true")
    before = snapshot(host)
    yield engine
    assert snapshot(host) == before, "the host's sentinel files were touched"
    if request.param == "stopped":
        assert mounts_under(engine.rootfs("x")) == []


def test_cp_symlinks_never_read_the_host(hostile, host, tmp_path):
    e = hostile
    out = tmp_path / "out"
    # without -L the link itself is copied
    e.run("cp", "x:/etc/link", out)
    assert out.is_symlink() and host.name in os.readlink(out)
    out.unlink()
    e.run("cp", "x:/abs", out)
    assert os.readlink(out) == f"{host}/secret"
    out.unlink()
    # followed (-L, a trailing "/", a path through a link): resolved in the container, where nothing is
    for src in ("x:/etc/link", "x:/abs", f"x:/evil{host}/secret", f"x:/dirlink/secret",
                f"x:/reldirlink/secret", "x:/reldirlink/"):
        r = e.run("cp", "-L", src, out, ok=False)
        assert r.returncode == 1 and "Could not find the file" in r.stderr, (src, r)
        assert not out.exists() and not out.is_symlink(), src
    # /evil -> / is the container's root
    e.run("cp", "x:/evil/var/data/", out)
    assert (out / "seed.txt").read_text() == "from the image\n"
    assert not (out / "secret").exists()
    r = e.run("cp", "x:/evil/", "-")
    with tarfile.open(fileobj=io.BytesIO(r.raw)) as t:
        names = t.getnames()
    assert "evil/var/data/seed.txt" in names and not any(host.name in n for n in names)
    assert not any(SECRET in open(p, "rb").read() for p in Path(tmp_path).rglob("*")
                   if p.is_file() and not p.is_symlink())


def test_cp_symlinks_never_write_the_host(hostile, host, tmp_path):
    e = hostile
    payload = tmp_path / "payload"
    payload.write_bytes(b"payload\n")
    # a file over a link to a host path: written where the link points inside the container
    e.run("cp", payload, "x:/victimlink", ok=False)
    e.run("cp", payload, "x:/etc/link", ok=False)
    # through links to the host's directory: the container's (missing) directory
    for dst in (f"x:/dirlink/victim", f"x:/reldirlink/victim", f"x:/evil{host}/victim",
                f"x:/evil{host}/sub/", "x:/dirlink/", f"x:/reldirlink/sub/victim"):
        r = e.run("cp", payload, dst, ok=False)
        assert r.returncode == 1, (dst, r)
    # the same through a tar stream: a ".." entry is refused; links and absolute names stay inside
    for entries in ([("../../../../../../../.." + str(host) + "/victim", b"x")],
                    [("evil" + str(host) + "/victim", b"x")],
                    [("dirlink/victim", b"x")],
                    [(str(host) + "/victim", b"x")]):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for name, data in entries:
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
        e.run("cp", "-", "x:/", input=buf.getvalue(), ok=False)
    # a tar whose own symlink points at the host, then a file through it
    r = e.run("cp", "-", "x:/tmp", input=escaping_tar(host, hardlink=True), ok=False)
    assert r.returncode == 1 and "leaves the destination" in r.stderr, r
    # the hostile fixture checks that the sentinel is untouched; what landed is in the container
    e.run("cp", "x:/evil", tmp_path / "evilcopy")
    assert os.readlink(tmp_path / "evilcopy") == "/"


def test_cp_into_links_lands_inside(engine, host, tmp_path):
    """Where writes through links go: the container's own paths."""
    run_sleep(engine, "x")
    before = snapshot(host)
    payload = tmp_path / "payload"
    payload.write_bytes(b"payload\n")
    engine.sh("x", f"mkdir -p {host}/sub")
    engine.run("cp", payload, "x:/etc/link")
    engine.run("cp", payload, "x:/evil/etc/")
    engine.run("cp", payload, "x:/dirlink/sub/")
    assert engine.sh("x", f"cat {host}/secret /etc/payload {host}/sub/payload") == "payload\n" * 3
    engine.run("cp", "-", "x:/tmp", input=escaping_tar(host))
    assert engine.sh("x", f"cat {host}/victim") == "tar\n"
    assert snapshot(host) == before
