# SPDX-License-Identifier: GPL-2.0-or-later
"""Hardening against known container escapes, each checked with an attack.

Every test plays the hostile side: a container process scanning /proc for the
runtime's binary, an image with symlinks where /dev/null, /dev/console or /proc
should be, a host racer swapping a mount destination, leaked fds and
/proc/self/fd cwds, paths and ids that climb out of their roots.  The runtime
must refuse or keep everything inside the container; the host is checked
afterwards (file hashes, mount tables, cgroup trees).
"""

import array
import errno
import hashlib
import json
import os
import random
import select
import shutil
import signal
import socket
import string
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import (DEFAULT_TIMEOUT, SENTINEL, Result, Runtime, cgroups_named, skip_host_limit, spawn,
                      wait_for)

pytestmark = pytest.mark.berth_only

CAP_BITS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_KILL": 5, "CAP_SETGID": 6,
            "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13,
            "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_ADMIN": 21, "CAP_SYS_RESOURCE": 24,
            "CAP_AUDIT_WRITE": 29}


def mask(*names):
    return sum(1 << CAP_BITS[n] for n in names)


def status_fields(text):
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.split()
    return out


def out_dir(testenv, b, name="out"):
    """A host directory bind-mounted at /out, writable by anyone."""
    d = testenv.mkdir("host", name, mode=0o777)
    b.bind(d, "/out")
    return d


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def file_id(path):
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


HOST_DIRS = ["/", "/etc", "/root", "/proc", "/tmp", "/usr", "/var", "/sys", "/boot", "/home"]


def invoke_fds(runtime, root, testenv, args, nfds=0, env=None, timeout=DEFAULT_TIMEOUT):
    """Like conftest.invoke, with the runtime started holding NFDS host
    directories open at fds 3, 4, ... (what a careless caller leaks, the
    CVE-2024-21626 kind): bash opens them and execs the runtime."""
    n = testenv.seq()
    io = testenv.mkdir("io")
    out, err = io / f"{n:03d}.out", io / f"{n:03d}.err"
    full_env = dict(os.environ)
    k, v = SENTINEL.split("=", 1)
    full_env[k] = v
    full_env.update(env or {})
    opens = " ".join(f"{3 + i}<{HOST_DIRS[i % len(HOST_DIRS)]}" for i in range(nfds))
    argv = [runtime, "--root", str(root)] + [str(a) for a in args]
    shell = ["/bin/bash", "-c", f"exec {opens}; exec \"$@\"" if opens else 'exec "$@"', "bash"] + argv
    with open(out, "wb") as fo, open(err, "wb") as fe:
        p = subprocess.run(shell, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, env=full_env,
                           cwd=testenv.dir, timeout=timeout)
    return Result(argv, p.returncode, out, err)


# The fds the process has, by a shell loop that opens nothing itself; then
# `ls -l` for the failure message.
FDS = ('i=0; while [ $i -lt 64 ]; do '
       '{ [ -e /proc/self/fd/$i ] || [ -L /proc/self/fd/$i ]; } && echo "fd $i"; i=$((i+1)); done; '
       'ls -l /proc/self/fd')


def fds_listed(text):
    return {int(line.split()[1]) for line in text.splitlines() if line.startswith("fd ")}


def running(rt, bundle, cid, *cmd, caps=()):
    b = bundle(*(cmd or ("sleep", "1000")))
    if caps:
        b.add_caps(*caps)
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    rt.wait_status(cid, "running")
    return b


# --------------------------------------------------------------------------
# CVE-2019-5736: /proc/PID/exe of the runtime's own processes

SCANNER = r"""
# Open /proc/PID/exe of every process we can see that is not busybox, and
# write down what we got; then try to open it for writing, and to write.
me=$$
out=/out/$1
rootid=$(stat -L -c %d:%i /)
: > $out.log
n=0
while [ ! -e /out/stop ]; do
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = "$me" ] && continue
    [ /proc/$p/exe -ef /bin/busybox ] && continue
    if { echo "open $p $(stat -L -c %d:%i /proc/self/fd/3)" >> $out.log
         if { :; } 4<>/proc/self/fd/3; then
           echo "rdwr $p" >> $out.log
           { printf X >&4; } 4<>/proc/self/fd/3 && echo "wrote $p" >> $out.log
         fi
         true
       } 3</proc/$p/exe; then :; else
      [ -e /proc/$p/stat ] && echo "denied $p" >> $out.log
    fi
    # the root of a process of ours must be the container's already
    if [ -e /proc/$p/root/. ] && ! [ /proc/$p/root/. -ef / ]; then
      id=$(stat -L -c %d:%i /proc/$p/root/.)
      [ -n "$id" ] && [ "$id" != "$rootid" ] && echo "root $p $id" >> $out.log
    fi
  done 2>/dev/null
  n=$((n+1))
  echo $n > $out.sweeps
done
"""


@pytest.fixture
def runtime_copy(runtime, root, testenv):
    """A private copy of the runtime binary, the one the attacks aim at."""
    d = testenv.mkdir("bin")
    path = d / "berth-runtime"
    shutil.copy2(runtime, path)
    return Runtime(str(path), root, testenv), path


def start_scanner(rt, cid, out, name, *extra):
    rt("exec", "-d", *extra, cid, "sh", "/scan.sh", name).ok()
    assert wait_for(lambda: (out / f"{name}.sweeps").exists(), timeout=10), "the scanner did not start"


def stop_scanner(out, name, min_sweeps=1):
    sweeps = lambda: int((out / f"{name}.sweeps").read_text().strip() or 0)  # noqa: E731
    assert wait_for(lambda: sweeps() >= min_sweeps, timeout=20)
    (out / "stop").write_text("")
    return (out / f"{name}.log").read_text().splitlines()


def exe_bundle(bundle, testenv):
    b = bundle("sleep", "1000")
    b.write("/scan.sh", SCANNER, 0o755)
    out = out_dir(testenv, b)
    return b, out


def check_not_host_binary(lines, binary, digest):
    bad = file_id(binary)
    opened = [ln for ln in lines if ln.startswith("open ") and ln.split()[2:] == [bad]]
    assert not opened, f"the container opened the runtime binary {bad}: {opened}"
    assert not [ln for ln in lines if ln.startswith("wrote ")], lines
    assert not [ln for ln in lines if ln.startswith("root ")], f"a root outside the container: {lines}"
    assert sha256(binary) == digest, "the runtime binary changed"


def test_exe_of_waiting_init_unreachable(runtime_copy, bundle, testenv, cid):
    """The init waiting for start is the runtime binary in the container's
    pid namespace: a process exec'd into it must not open /proc/1/exe."""
    rt, binary = runtime_copy
    digest = sha256(binary)
    b, out = exe_bundle(bundle, testenv)
    rt.create(b, cid).ok()
    start_scanner(rt, cid, out, "scan")
    lines = stop_scanner(out, "scan", min_sweeps=20)
    check_not_host_binary(lines, binary, digest)
    assert "denied 1" in lines, f"the scanner never tried the waiting init: {lines[:20]}"
    rt.delete(cid, "--force").ok()


def test_exe_unreachable_during_exec(runtime_copy, bundle, testenv, cid):
    """`exec` repeatedly while a container process scans /proc/*/exe."""
    rt, binary = runtime_copy
    digest = sha256(binary)
    b, out = exe_bundle(bundle, testenv)
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    start_scanner(rt, cid, out, "scan")
    log = out / "scan.log"
    # until the scanner met our processes in their window a few times
    for i in range(400):
        rt("exec", cid, "true").ok()
        if i >= 40 and log.read_text().count("denied ") >= 3:
            break
    lines = stop_scanner(out, "scan")
    check_not_host_binary(lines, binary, digest)
    assert len([ln for ln in lines if ln.startswith("denied ")]) >= 3, "the scanner never met an exec"
    rt.delete(cid, "--force").ok()


def test_exe_sealed_for_ptrace_capable_container(runtime_copy, bundle, testenv, cid):
    """CAP_SYS_PTRACE and no user namespace: non-dumpable is not enough, the
    runtime runs from a sealed copy, which the container may open but
    neither is the binary nor can be written."""
    rt, binary = runtime_copy
    digest = sha256(binary)
    b, out = exe_bundle(bundle, testenv)
    b.add_caps("CAP_SYS_PTRACE")
    rt.create(b, cid).ok()
    start_scanner(rt, cid, out, "scan")
    for _ in range(10):
        rt("exec", cid, "true").ok()
    lines = stop_scanner(out, "scan", min_sweeps=5)
    check_not_host_binary(lines, binary, digest)
    # the waiting init was in reach, and what it showed was the sealed copy
    assert [ln for ln in lines if ln.startswith("open 1 ")], lines[:20]
    rt.delete(cid, "--force").ok()


def test_exec_granting_ptrace_seals_later_execs(runtime_copy, bundle, testenv, cid):
    """A config without CAP_SYS_PTRACE, an `exec --cap CAP_SYS_PTRACE` left
    running: every later exec must run from the sealed copy."""
    rt, binary = runtime_copy
    digest = sha256(binary)
    b, out = exe_bundle(bundle, testenv)
    rt.create(b, cid).ok()
    # granting it while the init still waits as the plain binary: refused
    r = rt("exec", "--cap", "CAP_SYS_PTRACE", cid, "true").failed()
    assert "CVE-2019-5736" in r.stderr
    rt.start(cid).ok()
    start_scanner(rt, cid, out, "scan", "--cap", "CAP_SYS_PTRACE")
    for _ in range(40):
        rt("exec", cid, "true").ok()
    lines = stop_scanner(out, "scan")
    check_not_host_binary(lines, binary, digest)
    rt.delete(cid, "--force").ok()


def test_sealed_exec_with_process_from_stdin(runtime_copy, bundle, cid):
    """Starting over from the sealed copy must not lose a --process read
    from stdin."""
    rt, binary = runtime_copy
    b = bundle("sleep", "1000")
    b.add_caps("CAP_SYS_PTRACE")
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    proc = {"terminal": False, "user": {"uid": 0, "gid": 0}, "cwd": "/",
            "args": ["sh", "-c", "echo from-stdin; readlink /proc/self/exe"], "env": ["PATH=/bin"]}
    r = rt("exec", "--process", "-", cid, input=json.dumps(proc)).ok()
    assert r.stdout.splitlines()[0] == "from-stdin", r
    rt.delete(cid, "--force").ok()


# --------------------------------------------------------------------------
# fds: only stdio, --preserve-fds and LISTEN_FDS reach the container


def test_no_fd_leak_run(runtime, root, testenv, bundle, cid):
    b = bundle("sh", "-c", FDS).save()
    r = invoke_fds(runtime, root, testenv, ["run", "--bundle", b.path, cid], nfds=6).ok()
    assert fds_listed(r.stdout) == {0, 1, 2}, r.stdout


def test_no_fd_leak_create_start(runtime, root, testenv, bundle, cid, rt):
    b = bundle("sh", "-c", FDS).save()
    # the container writes to create's stdout, a file: read once it ran
    r = invoke_fds(runtime, root, testenv, ["create", "--bundle", b.path, cid], nfds=6).ok()
    rt.start(cid).ok()
    rt.wait_status(cid, "stopped")
    assert fds_listed(r.stdout) == {0, 1, 2}, r.stdout
    rt.delete(cid).ok()


def test_no_fd_leak_exec(runtime, root, testenv, bundle, cid, rt):
    running(rt, bundle, cid)
    r = invoke_fds(runtime, root, testenv, ["exec", cid, "sh", "-c", FDS], nfds=6).ok()
    assert fds_listed(r.stdout) == {0, 1, 2}, r.stdout
    rt.delete(cid, "--force").ok()


@pytest.mark.parametrize("how", ["run", "exec"])
def test_preserve_fds_exactly(runtime, root, testenv, bundle, cid, rt, how):
    """--preserve-fds 8 with only 2 fds passed: the 2 arrive, and none of the
    runtime's own fds that land in the rest of the range."""
    if how == "run":
        b = bundle("sh", "-c", FDS).save()
        args = ["run", "--preserve-fds", "8", "--bundle", b.path, cid]
    else:
        running(rt, bundle, cid)
        args = ["exec", "--preserve-fds", "8", cid, "sh", "-c", FDS]
    r = invoke_fds(runtime, root, testenv, args, nfds=2).ok()
    assert fds_listed(r.stdout) == {0, 1, 2, 3, 4}, r.stdout
    if how == "exec":
        rt.delete(cid, "--force").ok()


def test_listen_fds(runtime, root, testenv, bundle, cid):
    b = bundle("sh", "-c", FDS).save()
    r = invoke_fds(runtime, root, testenv, ["run", "--bundle", b.path, cid], nfds=4,
                   env={"LISTEN_FDS": "2", "LISTEN_PID": str(os.getpid())}).ok()
    assert fds_listed(r.stdout) == {0, 1, 2, 3, 4}, r.stdout


# --------------------------------------------------------------------------
# CVE-2024-21626: cwd through a leaked fd


@pytest.mark.parametrize("n", range(3, 21))
def test_cwd_proc_self_fd_refused(runtime, root, testenv, bundle, cid, n):
    b = bundle("sh", "-c", "pwd; ls")
    b.process["cwd"] = f"/proc/self/fd/{n}"
    b.save()
    r = invoke_fds(runtime, root, testenv, ["run", "--bundle", b.path, cid], nfds=10)
    assert r.returncode != 0, f"cwd {b.process['cwd']} was accepted: {r}"
    assert "process.cwd" in r.stderr, r


@pytest.mark.parametrize("cwd", ["/proc/self/cwd", "/proc/1/root", "/proc/self/root/etc", "/proc/thread-self/fd/3"])
def test_cwd_magic_links_refused(rt, bundle, cid, cwd):
    b = bundle("pwd")
    b.process["cwd"] = cwd
    r = rt.run(b, cid).failed()
    assert "process.cwd" in r.stderr


def test_cwd_symlinks_stay_inside(rt, bundle, cid):
    b = bundle("pwd")
    os.symlink("/../../../../tmp", b.rootfs / "up")
    b.process["cwd"] = "/up"
    assert rt.run(b, cid).ok().stdout == "/tmp\n"


def test_exec_cwd_proc_self_fd_refused(runtime, root, testenv, bundle, cid, rt):
    running(rt, bundle, cid)
    for n in range(3, 21):
        r = invoke_fds(runtime, root, testenv, ["exec", "--cwd", f"/proc/self/fd/{n}", cid, "pwd"], nfds=10)
        assert r.returncode != 0, f"exec --cwd /proc/self/fd/{n} was accepted: {r}"
        assert "process.cwd" in r.stderr, r
    rt.delete(cid, "--force").ok()


# --------------------------------------------------------------------------
# CVE-2021-30465: a mount destination swapped with a symlink to /

RACER = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile sig_atomic_t stop;
static void on_term(int s) { (void) s; stop = 1; }
int main(int argc, char **argv)
{
        signal(SIGTERM, on_term);
        while (!stop)
                renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE);
        return 0;
}
"""


def host_mounts_with_source(source):
    with open("/proc/self/mountinfo") as f:
        return [ln for ln in f if f" {source} " in ln.split(" - ", 1)[-1] + " "]


def test_symlink_exchange_race_on_mount_destination(rt, bundle, testenv, new_id):
    exe = racer_binary(testenv)
    b = bundle("true")
    (b.rootfs / "race").mkdir()
    (b.rootfs / "race" / "sub").mkdir()
    os.symlink("/", b.rootfs / "racelink")
    source = "berthrace" + "".join(random.choices(string.ascii_lowercase, k=8))
    b.mount("/race/sub", "tmpfs", source, ["size=64k"])
    b.save()
    racer = spawn([str(exe), str(b.rootfs / "race"), str(b.rootfs / "racelink")])
    landed = {"inside": 0, "refused": 0}
    try:
        for _ in range(50):
            cid = new_id()
            r = rt("create", "--bundle", b.path, cid)
            assert not host_mounts_with_source(source), "the tmpfs landed in the host's mount table"
            if r.returncode == 0:
                pid = rt.state(cid)["pid"]
                with open(f"/proc/{pid}/mountinfo") as f:
                    mine = [ln.split()[4] for ln in f if f" {source} " in ln]
                # wherever the rename left it, inside the container's root
                # (mountinfo only lists what the init's root reaches)
                assert len(mine) == 1 and mine[0] in ("/race/sub", "/racelink/sub", "/sub"), mine
                landed["inside"] += 1
                rt.delete(cid, "--force").ok()
            else:
                landed["refused"] += 1
            assert not host_mounts_with_source(source)
    finally:
        racer.send_signal(signal.SIGTERM)
        racer.wait(timeout=10)
    assert not host_mounts_with_source(source)
    assert os.path.isdir("/") and not os.path.exists(f"/sub/{source}")
    print(f"race outcome: {landed}")


# --------------------------------------------------------------------------
# CVE-2019-16884, CVE-2025-52881, CVE-2019-19921: a /proc that is not procfs


def test_sysctl_into_fake_proc_refused(rt, bundle, cid):
    """No proc mount and an image whose /proc holds a plain file at the
    sysctl's path: the write must not land there."""
    b = bundle("true")
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/proc"]
    b.linux["maskedPaths"] = []
    b.linux["readonlyPaths"] = []
    fake = b.write("/proc/sys/net/ipv4/ip_forward", "fake\n")
    b.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    r = rt.run(b, cid).failed()
    assert "linux.sysctl" in r.stderr and "procfs" in r.stderr, r
    assert fake.read_text() == "fake\n"


def test_sysctl_into_tmpfs_over_proc_refused(rt, bundle, cid):
    """A tmpfs (or a bind of a host directory) at /proc instead of procfs."""
    b = bundle("true")
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/proc"]
    b.mount("/proc", "tmpfs", "tmpfs")
    b.linux["maskedPaths"] = []
    b.linux["readonlyPaths"] = []
    b.linux["sysctl"] = {"kernel.domainname": "x"}
    r = rt.run(b, cid).failed()
    assert "linux.sysctl" in r.stderr or "/proc" in r.stderr, r


def test_bind_over_proc_sys_refused(rt, bundle, cid, testenv):
    fake = testenv.mkdir("host", "fakesys")
    (fake / "kernel").mkdir()
    (fake / "kernel" / "domainname").write_text("fake\n")
    b = bundle("true")
    b.bind(fake, "/proc/sys")
    b.linux["sysctl"] = {"kernel.domainname": "x"}
    r = rt.run(b, cid).failed()
    assert "/proc" in r.stderr, r
    assert (fake / "kernel" / "domainname").read_text() == "fake\n"


def test_proc_symlink_in_image(rt, bundle, cid):
    """/proc -> /tmp in the image: create keeps everything inside the rootfs
    or fails clearly."""
    b = bundle("sh", "-c", "grep -c ' /proc proc ' /proc/self/mountinfo; readlink /proc")
    (b.rootfs / "proc").rmdir()
    os.symlink("/tmp", b.rootfs / "proc")
    b.linux["sysctl"] = {"kernel.domainname": "berth"}
    r = rt.run(b, cid)
    if r.returncode != 0:
        assert "/proc" in r.stderr, r
    else:
        pytest.fail(f"procfs mounted through a symlink: {r}")
    assert os.readlink(b.rootfs / "proc") == "/tmp"


def test_proc_symlink_to_host_path_in_image(rt, bundle, cid, testenv):
    host = testenv.mkdir("host", "victim")
    b = bundle("true")
    (b.rootfs / "proc").rmdir()
    os.symlink(f"../../../../../../../..{host}", b.rootfs / "proc")
    r = rt.run(b, cid).failed()
    assert "/proc" in r.stderr, r
    assert os.listdir(host) == []


# --------------------------------------------------------------------------
# CVE-2025-31133 (/dev/null for maskedPaths) and CVE-2025-52565 (/dev/console)


def image_dev(b):
    """Use the image's /dev: no /dev tmpfs in the config."""
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/dev"]
    (b.rootfs / "dev").mkdir(exist_ok=True)
    return b


MASK_PROBE = ("cat /proc/timer_list | wc -c; echo '|/tmp/pwn' > /proc/timer_list; "
              "cat /proc/sys/kernel/core_pattern")


@pytest.mark.parametrize("plant", ["symlink-core-pattern", "symlink-passwd", "regular-file", "fifo"])
def test_masked_paths_with_hostile_dev_null(rt, bundle, cid, plant):
    """maskedPaths binds /dev/null over files: an image whose /dev/null is
    something else must not get that something mounted (and writable) at
    the masked path (CVE-2025-31133)."""
    with open("/proc/sys/kernel/core_pattern") as f:
        core = f.read()
    b = image_dev(bundle("sh", "-c", MASK_PROBE))
    b.linux["maskedPaths"] = ["/proc/timer_list", "/proc/keys"]
    dev_null = b.rootfs / "dev" / "null"
    if plant == "symlink-core-pattern":
        os.symlink("/proc/sys/kernel/core_pattern", dev_null)
    elif plant == "symlink-passwd":
        os.symlink("../etc/passwd", dev_null)
    elif plant == "regular-file":
        dev_null.write_text("planted\n")
    else:
        os.mkfifo(dev_null)
    passwd = (b.rootfs / "etc" / "passwd").read_text()
    r = rt.run(b, cid)
    with open("/proc/sys/kernel/core_pattern") as f:
        assert f.read() == core, "core_pattern changed"
    assert (b.rootfs / "etc" / "passwd").read_text() == passwd
    if r.returncode != 0:
        assert "/dev/null" in r.stderr, r
        return
    lines = r.stdout.splitlines()
    assert lines[0].strip() == "0", f"/proc/timer_list not masked: {r}"
    assert "|/tmp/pwn" not in lines, r


def racer_binary(testenv):
    if not shutil.which("cc"):
        skip_host_limit("no C compiler for the racer")
    exe = testenv.dir / "racer"
    if not exe.exists():
        src = testenv.dir / "racer.c"
        src.write_text(RACER)
        subprocess.run(["cc", "-O2", "-o", str(exe), str(src)], check=True)
    return exe


def test_masked_paths_dev_null_swap_race(rt, bundle, testenv, new_id):
    """A host racer swaps the rootfs's /dev/null (made by the runtime) with
    a symlink to /proc/sys/kernel/core_pattern while containers are created:
    every masked file must be the null device, never core_pattern."""
    b = image_dev(bundle("sleep", "1000"))
    b.linux["maskedPaths"] = ["/proc/timer_list"]
    os.symlink("/proc/sys/kernel/core_pattern", b.rootfs / "dev" / "nullsym")
    b.save()
    # a first run makes the real /dev/null in the image
    cid = new_id()
    rt("create", "--bundle", b.path, cid).ok()
    rt.delete(cid, "--force").ok()
    assert (b.rootfs / "dev" / "null").is_char_device()
    racer = spawn([str(racer_binary(testenv)), str(b.rootfs / "dev" / "null"), str(b.rootfs / "dev" / "nullsym")])
    outcome = {"masked": 0, "refused": 0}
    try:
        for _ in range(50):
            cid = new_id()
            r = rt("create", "--bundle", b.path, cid)
            if r.returncode != 0:
                assert "/dev/null" in r.stderr, r
                outcome["refused"] += 1
                continue
            pid = rt.state(cid)["pid"]
            st = os.stat(f"/proc/{pid}/root/proc/timer_list")
            assert st.st_rdev == os.makedev(1, 3), "the mask is not the null device"
            outcome["masked"] += 1
            rt.delete(cid, "--force").ok()
    finally:
        racer.send_signal(signal.SIGTERM)
        racer.wait(timeout=10)
    print(f"race outcome: {outcome}")


def test_dev_console_symlink(rt, bundle, cid, testenv):
    victim = testenv.mkdir("host", "victim") / "secret"
    victim.write_text("secret\n")
    os.chmod(victim, 0o600)
    b = image_dev(bundle("sh", "-c", "echo pwned > /dev/console; ls -l /dev/console; tty"))
    b.process["terminal"] = True
    os.symlink(f"../../../../../../../..{victim}", b.rootfs / "dev" / "console")
    r = rt.run(b, cid, timeout=20)
    assert victim.read_text() == "secret\n"
    assert oct(victim.stat().st_mode & 0o777) == "0o600"
    if r.returncode != 0:
        assert "/dev/console" in r.stderr, r
    else:
        assert "/dev/pts/" in r.stdout, r


def test_dev_console_symlink_to_proc(rt, bundle, cid):
    with open("/proc/sys/kernel/core_pattern") as f:
        core = f.read()
    b = image_dev(bundle("sh", "-c", "echo '|/tmp/pwn' > /dev/console"))
    b.process["terminal"] = True
    os.symlink("/proc/sys/kernel/core_pattern", b.rootfs / "dev" / "console")
    rt.run(b, cid, timeout=20)
    with open("/proc/sys/kernel/core_pattern") as f:
        assert f.read() == core


# --------------------------------------------------------------------------
# cgroupsPath and container ids stay inside their roots


def escape_name():
    return "berth-sec-escape-" + "".join(random.choices(string.ascii_lowercase, k=8))


def cgroup_dirs_named(name):
    return [str(p) for p in Path("/sys/fs/cgroup").glob(f"**/{name}")]


@pytest.mark.parametrize("tmpl", ["../../{}", "/../../{}", "a/../../../{}", "/a/../{}/..", "../{}"])
def test_cgroups_path_cannot_climb(rt, bundle, cid, root, tmpl):
    name = escape_name()
    b = bundle("true")
    b.linux["cgroupsPath"] = tmpl.format(name)
    r = rt.create(b, cid).failed()
    assert "linux.cgroupsPath" in r.stderr, r
    assert not cgroup_dirs_named(name)
    assert cid not in os.listdir(root)


@pytest.mark.parametrize("tmpl", ["..", ".", "../{}", "{}/..", "/tmp/{}", "{}/y", "{}/../..", "a\n{}", "../../{}"])
def test_container_id_cannot_climb(rt, bundle, root, testenv, tmpl):
    u = escape_name()
    b = bundle("true")
    r = rt.create(b, tmpl.format(u))
    assert r.returncode != 0, r
    assert "container id" in r.stderr, r
    assert os.listdir(root) == []
    for d in (root.parent, root.parent.parent, Path("/tmp"), Path("/")):
        assert not (d / u).exists()
    assert not cgroups_named([u])


# --------------------------------------------------------------------------
# capabilities exactly as configured


CAPS_CFG = {
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"],
    "effective": ["CAP_CHOWN", "CAP_KILL"],
    "permitted": ["CAP_CHOWN", "CAP_KILL"],
    "inheritable": ["CAP_KILL"],
    "ambient": ["CAP_KILL"],
}
CAPS_WANT = {"CapBnd": mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"),
             "CapEff": mask("CAP_CHOWN", "CAP_KILL"), "CapPrm": mask("CAP_CHOWN", "CAP_KILL"),
             "CapInh": mask("CAP_KILL"), "CapAmb": mask("CAP_KILL")}


def caps_of(text):
    st = status_fields(text)
    return {k: int(st[k][0], 16) for k in CAPS_WANT}, st


def seccomp_errno_config(names, errno_ret=1):
    return {"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": errno_ret}]}


def test_caps_run_and_exec(rt, bundle, cid):
    b = bundle("sleep", "1000")
    b.process["capabilities"] = CAPS_CFG
    b.process["noNewPrivileges"] = True
    b.linux["seccomp"] = seccomp_errno_config(["mkdirat", "mkdir"])
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    pid = rt.state(cid)["pid"]
    got, st = caps_of(Path(f"/proc/{pid}/status").read_text())
    assert got == CAPS_WANT, st
    assert st["NoNewPrivs"] == ["1"] and st["Seccomp"] == ["2"], st
    # exec without --process: the config's caps, no_new_privs and seccomp
    got, st = caps_of(rt("exec", cid, "cat", "/proc/self/status").ok().stdout)
    assert got == CAPS_WANT, st
    assert st["NoNewPrivs"] == ["1"] and st["Seccomp"] == ["2"], st
    r = rt("exec", cid, "mkdir", "/tmp/x")
    assert r.returncode != 0 and "Operation not permitted" in r.stderr, r
    # --cap adds to bounding, effective, permitted; never inheritable
    # (CVE-2022-29162); ambient only where inheritable has it
    got, st = caps_of(rt("exec", "--cap", "CAP_NET_BIND_SERVICE", "--cap", "CAP_KILL", cid,
                         "cat", "/proc/self/status").ok().stdout)
    assert got == {"CapBnd": CAPS_WANT["CapBnd"] | mask("CAP_NET_BIND_SERVICE"),
                   "CapEff": CAPS_WANT["CapEff"] | mask("CAP_NET_BIND_SERVICE"),
                   "CapPrm": CAPS_WANT["CapPrm"] | mask("CAP_NET_BIND_SERVICE"),
                   "CapInh": CAPS_WANT["CapInh"], "CapAmb": CAPS_WANT["CapAmb"]}, st
    rt.delete(cid, "--force").ok()


def test_exec_cap_for_non_root(rt, bundle, cid):
    b = running(rt, bundle, cid)
    got, st = caps_of(rt("exec", "-u", "1000", "--cap", "CAP_NET_RAW", cid, "cat", "/proc/self/status").ok().stdout)
    assert got["CapInh"] == 0, st
    assert got["CapBnd"] & mask("CAP_NET_RAW"), st
    rt.delete(cid, "--force").ok()
    assert b


@pytest.mark.parametrize("where", ["bounding", "effective", "permitted", "inheritable", "ambient"])
def test_unknown_capability_fails_cleanly(rt, bundle, cid, root, where):
    b = bundle("true")
    b.process["capabilities"][where] = ["CAP_CHOWN", "CAP_NOT_A_THING"]
    r = rt.create(b, cid).failed()
    assert f"process.capabilities.{where}" in r.stderr and "CAP_NOT_A_THING" in r.stderr, r
    assert cid not in os.listdir(root)
    assert not cgroups_named([cid])


def test_exec_unknown_capability(rt, bundle, cid):
    running(rt, bundle, cid)
    r = rt("exec", "--cap", "CAP_BOGUS", cid, "true").failed()
    assert "CAP_BOGUS" in r.stderr, r
    rt.delete(cid, "--force").ok()


# --------------------------------------------------------------------------
# seccomp from the config, in a real container


def test_seccomp_errno_ret(rt, bundle, cid):
    b = bundle("sh", "-c", "mkdir /tmp/x; echo rc=$?")
    b.linux["seccomp"] = seccomp_errno_config(["mkdir", "mkdirat"], errno_ret=1)
    r = rt.run(b, cid)
    assert "rc=1" in r.stdout and "Operation not permitted" in r.stderr, r


def test_seccomp_errno_ret_other(rt, bundle, cid):
    b = bundle("sh", "-c", "mkdir /tmp/x")
    b.linux["seccomp"] = seccomp_errno_config(["mkdir", "mkdirat"], errno_ret=errno.EROFS)
    r = rt.run(b, cid).failed()
    assert "Read-only file system" in r.stderr, r


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS"])
def test_seccomp_kill(rt, bundle, cid, action):
    b = bundle("mkdir", "/tmp/x")
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                          "syscalls": [{"names": ["mkdir", "mkdirat"], "action": action}]}
    r = rt.run(b, cid)
    assert r.returncode == 128 + signal.SIGSYS, r
    assert not (b.rootfs / "tmp" / "x").exists()


def test_seccomp_argument_conditions(rt, bundle, cid):
    """kill(pid, SIGUSR1) denied, kill(pid, 0) allowed: a condition on arg 1."""
    b = bundle("sh", "-c", "kill -0 $$ && echo zero-ok; kill -USR1 $$ 2>&1; echo rc=$?")
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                          "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM,
                                        "args": [{"index": 1, "value": int(signal.SIGUSR1),
                                                  "op": "SCMP_CMP_EQ"}]}]}
    r = rt.run(b, cid).ok()
    assert "zero-ok" in r.stdout and "rc=1" in r.stdout, r


def test_seccomp_loaded_after_start_wait(rt, bundle, cid, testenv):
    """A filter denying what the init uses to wait for start (accept4, read):
    it must only load after the wait, so create and start still work."""
    b = bundle("sh", "-c", "echo started > /out/ok")
    out = out_dir(testenv, b)
    b.linux["seccomp"] = seccomp_errno_config(["accept4", "accept", "recvmsg", "recvfrom"])
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    rt.wait_status(cid, "stopped")
    assert (out / "ok").read_text() == "started\n"
    rt.delete(cid).ok()


class NotifyListener:
    """linux.seccomp.listenerPath: receives (fd, state) pairs."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.got = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                fds = array.array("i")
                data = b""
                while True:
                    msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4 * fds.itemsize))
                    for level, kind, payload in anc:
                        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
                    if not msg:
                        break
                    data += msg
            with self.cond:
                self.got.append((list(fds), data.decode()))
                self.cond.notify_all()

    def wait(self, n, timeout=15):
        with self.cond:
            self.cond.wait_for(lambda: len(self.got) >= n, timeout=timeout)
            return list(self.got)

    def close(self):
        self.sock.close()
        for fds, _ in self.got:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass


@pytest.fixture
def listener(testenv):
    made = []

    def make():
        lst = NotifyListener(testenv.dir / f"seccomp{len(made)}.sock")
        made.append(lst)
        return lst

    yield make
    for lst in made:
        lst.close()


def notify_config(path):
    return {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(path), "listenerMetadata": "berth-test",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}


def check_notification(lst, got, want_pid=None, hold=0.5):
    fds, text = got
    assert len(fds) == 1, got
    msg = json.loads(text)
    assert msg["fds"] == ["seccompFd"], msg
    assert msg["metadata"] == "berth-test", msg
    assert msg["state"]["id"], msg
    if want_pid is not None:
        assert msg["pid"] == want_pid, msg
    # the container's mkdir waits on us: the listener fd turns readable
    r, _, _ = select.select([fds[0]], [], [], 15)
    assert r, "no notification pending on the listener fd"
    time.sleep(hold)
    return msg


def test_seccomp_notify_run(rt, bundle, cid, testenv, listener):
    lst = listener()
    b = bundle("sh", "-c", "mkdir /tmp/x; echo rc=$?")
    b.linux["seccomp"] = notify_config(lst.path)
    b.save()
    p = spawn([rt.path, "--root", str(rt.root), "run", "--bundle", str(b.path), cid],
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        got = lst.wait(1)
        assert got, "the listener got nothing"
        msg = check_notification(lst, got[0])
        assert msg["state"]["id"] == cid
        assert p.poll() is None, "mkdir did not wait for the listener"
        t0 = time.monotonic()
        os.close(got[0][0][0])  # no answer: the syscall fails with ENOSYS
        lst.got[0] = ([], got[0][1])
        out, err = p.communicate(timeout=20)
        assert time.monotonic() - t0 < 10
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, (out, err)
    assert b"Function not implemented" in err and b"rc=1" in out, (out, err)


def test_seccomp_notify_exec(rt, bundle, cid, testenv, listener):
    lst = listener()
    b = bundle("sleep", "1000")
    b.linux["seccomp"] = notify_config(lst.path)
    rt.create(b, cid).ok()
    got = lst.wait(1)
    assert got and len(got[0][0]) == 1
    rt.start(cid).ok()
    pidfile = testenv.dir / "exec.pid"
    p = spawn([rt.path, "--root", str(rt.root), "exec", "--pid-file", str(pidfile), cid, "mkdir", "/tmp/y"],
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        got = lst.wait(2)
        assert len(got) == 2, got
        assert wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=10)
        check_notification(lst, got[1], want_pid=int(pidfile.read_text()))
        assert p.poll() is None
        os.close(got[1][0][0])
        lst.got[1] = ([], got[1][1])
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode != 0 and b"Function not implemented" in err, (out, err)
    rt.delete(cid, "--force").ok()


def test_seccomp_notify_listener_missing(rt, bundle, cid, testenv, root):
    b = bundle("true")
    b.linux["seccomp"] = notify_config(testenv.dir / "nobody-listens.sock")
    r = rt.create(b, cid).failed()
    assert "linux.seccomp.listenerPath" in r.stderr, r
    assert cid not in os.listdir(root)


# --------------------------------------------------------------------------
# noNewPrivileges, rlimits, oomScoreAdj; LSM labels on a host without LSMs


def test_exec_no_new_privs(rt, bundle, cid):
    b = bundle("sleep", "1000")
    b.process["noNewPrivileges"] = False
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    assert rt("exec", cid, "grep", "NoNewPrivs", "/proc/self/status").ok().stdout.split() == ["NoNewPrivs:", "0"]
    r = rt("exec", "--no-new-privs", cid, "grep", "NoNewPrivs", "/proc/self/status").ok()
    assert r.stdout.split() == ["NoNewPrivs:", "1"]
    rt.delete(cid, "--force").ok()


def test_rlimits_and_oom_score_adj_run_and_exec(rt, bundle, cid):
    b = bundle("sleep", "1000")
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
                            {"type": "RLIMIT_NPROC", "soft": 111, "hard": 222}]
    b.process["oomScoreAdj"] = 432
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    pid = rt.state(cid)["pid"]
    assert Path(f"/proc/{pid}/oom_score_adj").read_text().strip() == "432"
    script = "cat /proc/self/oom_score_adj; ulimit -n; ulimit -Hn; ulimit -u"
    assert rt("exec", cid, "sh", "-c", script).ok().stdout.split() == ["432", "321", "654", "111"]
    rt.delete(cid, "--force").ok()


def userns_bundle(bundle, *args, host=100000):
    """A user namespace mapping 0 -> HOST on a private copy of the rootfs
    owned by HOST (the fixture's busybox is a hard link to the host's)."""
    b = bundle(*args)
    copy = b.path / "rootfs-userns"
    shutil.copytree(b.rootfs, copy, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(copy):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), host, host)
    os.lchown(copy, host, host)
    b.config["root"]["path"] = "rootfs-userns"
    b.rootfs = copy
    b.set_namespace("user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": host, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": host, "size": 65536}]
    return b


def test_oom_score_adj_with_user_namespace(rt, bundle, cid):
    """Written from outside: a non-dumpable process in a user namespace
    cannot open its own /proc/self/oom_score_adj."""
    if not os.path.exists("/proc/self/ns/user"):
        skip_host_limit("no user namespaces")
    b = userns_bundle(bundle, "sleep", "1000")
    b.process["oomScoreAdj"] = 345
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    pid = rt.state(cid)["pid"]
    assert Path(f"/proc/{pid}/oom_score_adj").read_text().strip() == "345"
    r = rt("exec", cid, "sh", "-c", "cat /proc/self/oom_score_adj; id -u").ok()
    assert r.stdout.split() == ["345", "0"], r
    rt.delete(cid, "--force").ok()


def lsm_enabled(name):
    try:
        return name in Path("/sys/kernel/security/lsm").read_text().split(",")
    except OSError:
        if name == "apparmor":
            try:
                return Path("/sys/module/apparmor/parameters/enabled").read_text().startswith("Y")
            except OSError:
                return False
        return os.path.exists("/sys/fs/selinux/enforce")


@pytest.mark.parametrize("field,lsm", [("process.apparmorProfile", "apparmor"),
                                       ("process.selinuxLabel", "selinux"),
                                       ("linux.mountLabel", "selinux")])
def test_lsm_label_without_lsm_fails(rt, bundle, cid, root, field, lsm):
    if lsm_enabled(lsm):
        skip_host_limit(f"{lsm} is enabled here")
    b = bundle("true")
    if field == "process.apparmorProfile":
        b.process["apparmorProfile"] = "berth-test-profile"
    elif field == "process.selinuxLabel":
        b.process["selinuxLabel"] = "system_u:system_r:container_t:s0:c1,c2"
    else:
        b.linux["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
    r = rt.create(b, cid).failed()
    assert field in r.stderr and "not enabled" in r.stderr, r
    assert cid not in os.listdir(root)
    assert not cgroups_named([cid])


@pytest.mark.parametrize("flag,field,lsm", [("--apparmor", "process.apparmorProfile", "apparmor"),
                                            ("--process-label", "process.selinuxLabel", "selinux")])
def test_exec_lsm_label_without_lsm_fails(rt, bundle, cid, flag, field, lsm):
    if lsm_enabled(lsm):
        skip_host_limit(f"{lsm} is enabled here")
    running(rt, bundle, cid)
    r = rt("exec", flag, "berth-test", cid, "true").failed()
    assert field in r.stderr, r
    rt.delete(cid, "--force").ok()
