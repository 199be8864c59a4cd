/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* berth-monitor: one small process per running container, started by the
 * engine (the `berth` CLI) and outliving it.  It is the container's parent
 * (a child subreaper), holds its stdio or pty, writes its logs, records
 * its exits, runs its health checks and applies its restart policy.  No
 * daemon: every `berth` command talks to it through files and a socket in
 * the container's directory DIR (<root>/containers/<id>/).
 *
 * Started as `berth-monitor DIR` with fd 3 a pipe to the engine, stdio
 * /dev/null, in a new session.  It reads DIR/monitor.json (written by the
 * engine; see below), takes DIR/monitor.lock (flock LOCK_EX, held for its
 * whole life: the lock free means no monitor), chdirs to DIR, binds
 * DIR/attach.sock, then creates the container with the OCI runtime:
 *
 *     RUNTIME [GLOBAL_ARGS...] create --bundle DIR/bundle --pid-file DIR/pid
 *             [--console-socket DIR/console.sock] ID
 *
 * with the container's stdio the monitor's pipes (or the pty the runtime
 * hands over the console socket when tty).  On fd 3 it writes one line:
 *     "created\n"          the container exists (WAIT_ATTACH: not started)
 *     "started PID\n"      created and started (not WAIT_ATTACH)
 *     "error MESSAGE\n"    failed: MESSAGE is the runtime's last stderr
 *                          line (or the monitor's own error); the monitor
 *                          has cleaned up (runtime delete) and exits 1
 * and closes fd 3.  With WAIT_ATTACH it starts the container
 * (`RUNTIME start ID`) when the first client sends MON_ATTACH, answering
 * MON_STARTED or MON_ERROR on that connection.
 *
 * monitor.json:
 *   { "id": "ID",
 *     "runtime": "/path/to/berth-runtime",          the OCI runtime CLI
 *     "runtime_args": ["--root", "DIR"],             its global options
 *     "tty": false, "stdin": false,                  -t, -i
 *     "wait_attach": false,
 *     "log_path": "DIR/ctr.log", "log_max_size": 10485760, "log_max_files": 3,
 *     "restart": "no" | "always" | "unless-stopped" | "on-failure",
 *     "restart_max": 0,                              on-failure:N (0: no limit)
 *     "stop_signal": 15, "stop_timeout": 10,
 *     "health": null | { "test": ["CMD-SHELL", "curl ..."] or ["CMD", "prog", "arg"],
 *                        "interval": NS, "timeout": NS, "start_period": NS, "retries": N },
 *     "oom": [ { "path": "/sys/fs/cgroup/…/memory.events", "key": "oom_kill" } ],
 *     "exit_command": ["/usr/bin/berth", "--root", "R", "container", "cleanup", "ID"] }
 *
 * Logs: Docker's json-file format, one JSON object per line:
 *     {"log":"text\n","stream":"stdout","time":"2026-11-23T21:00:00.123456789Z"}
 * Output is split at newlines; a line longer than 16 KiB is written in
 * pieces whose "log" has no final newline.  With a tty everything is
 * "stdout".  When LOG_PATH would grow past LOG_MAX_SIZE it is renamed to
 * LOG_PATH.1 (LOG_PATH.1 to .2, …, keeping LOG_MAX_FILES files in all)
 * and a new LOG_PATH is started.  Restarts append to the same log.
 *
 * DIR/status.json (written atomically, rename of a temporary file, on
 * every change; the engine writes it only when no monitor holds the lock):
 *   { "state": "created" | "running" | "paused" | "restarting" | "exited",
 *     "pid": N (0 when not running), "monitor_pid": N,
 *     "started_at": "RFC3339 with nanoseconds, UTC" | "",
 *     "finished_at": "…" | "", "exit_code": N, "oom_killed": false,
 *     "restart_count": N, "error": "…",
 *     "stopped_by_user": false,
 *     "health": null | { "status": "starting" | "healthy" | "unhealthy",
 *                        "failing_streak": N,
 *                        "log": [ { "start": "…", "end": "…", "exit_code": N,
 *                                   "output": "…" } ] }   (the last 5) }
 * exit_code is the process's exit status, or 128 + the signal that killed
 * it.
 *
 * An exit: the monitor reaps the container's process, reads the OOM
 * counters listed in "oom" (an increase since the start means oom_killed),
 * runs `RUNTIME delete --force ID`, sends MON_EXIT to every client, and
 * applies the restart policy: "always" and "unless-stopped" restart unless
 * the user stopped the container (MON_STOP); "on-failure" restarts on a
 * non-zero exit code, at most RESTART_MAX times when that is not 0.  A
 * restart waits 100 ms, doubling each time up to 60 s; the delay falls
 * back to 100 ms after a run of 10 s or more.  State is "restarting"
 * while it waits.  With no restart: status "exited", MON_EXIT sent, the
 * sockets and the lock closed, and the monitor execs EXIT_COMMAND (the
 * engine's cleanup: unmounts, --rm).
 *
 * Health checks: every INTERVAL (first one INTERVAL after the start) the
 * monitor runs `RUNTIME exec ID /bin/sh -c CMD` (CMD-SHELL) or
 * `RUNTIME exec ID PROG ARGS` (CMD), output captured (at most 4 KiB kept),
 * killed after TIMEOUT (a failure).  Status "starting" until the first
 * success ("healthy"); RETRIES failures in a row make it "unhealthy"
 * (failures inside START_PERIOD do not count, unless one succeeded).
 *
 * Signals: SIGTERM and SIGINT to the monitor are forwarded to the
 * container as a MON_STOP with the configured signal and timeout would be.
 *
 * The socket DIR/attach.sock: SOCK_SEQPACKET, one message per packet, its
 * first byte the type, the rest the payload (at most MON_MAX_PAYLOAD).
 * Clients reach it through fchdir() or /proc/self/fd/N/attach.sock (the
 * path may exceed sun_path). */

#define MON_MAX_PAYLOAD 65536

/* client → monitor */
#define MON_ATTACH    'A' /* payload: flags "o" stdout, "e" stderr, "i" stdin ("oei"); stream output until exit */
#define MON_STDIN     'i' /* payload: bytes for the container's stdin (needs "i" in the attach) */
#define MON_CLOSE_IN  'c' /* close the container's stdin (the client's stdin ended) */
#define MON_RESIZE    'w' /* payload: "ROWS COLS" (tty) */
#define MON_STOP      'K' /* payload: "SIGNAL TIMEOUT": stop by the user (no restart), SIGKILL after
                           * TIMEOUT seconds (-1: the configured one); SIGNAL 0: the configured one */
#define MON_KILL      'k' /* payload: "SIGNAL": send it to the container (restart policy still applies) */
#define MON_PAUSE     'P' /* runtime pause; answered MON_OK or MON_ERROR */
#define MON_RESUME    'U' /* runtime resume; answered MON_OK or MON_ERROR */
#define MON_LOGS      'L' /* follow the log: answered MON_LOG_POS, then MON_LOG_LINE for every line written */

/* monitor → client */
#define MON_STARTED   's' /* payload: "PID" (answer to the first MON_ATTACH under WAIT_ATTACH) */
#define MON_STDOUT    'o' /* payload: bytes the container wrote to stdout (or its tty) */
#define MON_STDERR    'e' /* payload: bytes written to stderr */
#define MON_EXIT      'x' /* payload: "CODE RESTARTING" (RESTARTING 1: the policy restarts it); sent after
                           * all output of that run */
#define MON_LOG_POS   'p' /* payload: "INODE OFFSET": the log file now being written and its length;
                           * what follows is sent as MON_LOG_LINE */
#define MON_LOG_LINE  'l' /* payload: one log line as written to the file (JSON, with its newline) */
#define MON_OK        '+'
#define MON_ERROR     '!' /* payload: the error message */
