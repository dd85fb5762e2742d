#!/usr/bin/env python3
"""Runs a command (a load generator) and meanwhile samples other processes from /proc: their
resident memory every INTERVAL seconds, and the CPU time each spent over the command's run
(utime + stime), beside the PostgreSQL backends of one database and the whole machine's busy
time. Used by scripts/bench-rss.sh and scripts/bench-scale.sh; nothing outside Linux's /proc.

  scripts/proc-sample.py --report R.json [--interval 1] [--watch NAME=PID ...] [--pg-db DB] -- CMD ARGS...
  scripts/proc-sample.py --rss PID          # prints "VmRSS VmHWM" in KiB

CMD's standard output and error are its own (redirect them where the caller wants). The report:
{"seconds", "machine": {"cores", "busy_cores"}, "cmd": {...}, "watch": {NAME: {...}},
 "postgres": {"ours_cores", "aux_cores", "other_cores"}, "exit_code"}, each process with
"cpu_s", "cores" (CPU seconds per second of the run), "rss_kib" (the samples) and "hwm_kib".
"""
import json
import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def status(pid):
    """VmRSS and VmHWM of pid in KiB, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError):
        return None


def cpu(pid):
    """utime + stime of pid in seconds, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
        # The command name may hold spaces and parentheses: the fields start after the last ')'.
        rest = text[text.rindex(")") + 2 :].split()
        return (int(rest[11]) + int(rest[12])) / TICK
    except (OSError, ValueError, IndexError):
        return None


def machine():
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal
    return (total - idle) / TICK, total / TICK


def postgres(db):
    """CPU seconds of each postgres process, by class: ours (a backend of db), aux (walwriter,
    checkpointer, background writer, autovacuum…), other (other databases' backends)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("postgres:"):
            words = cmdline.split()[1:]
            if words and words[0].endswith(":"):  # the cluster's name, "15/main:"
                words = words[1:]
        elif "/bin/postgres " in cmdline:
            words = ["postmaster"]
        else:
            continue
        # A backend: "USER DB HOST(PORT) STATE"; an auxiliary process otherwise.
        if db and len(words) > 2 and words[1] == db:
            kind = "ours"
        elif len(words) > 2 and ("(" in words[2] or words[2] == "[local]"):
            kind = "other"
        else:
            kind = "aux"
        t = cpu(entry)
        if t is not None:
            out[entry] = (kind, t)
    return out


def main(argv):
    if argv[:1] == ["--rss"]:
        s = status(int(argv[1]))
        if s is None:
            sys.exit(f"no process {argv[1]}")
        print(*s)
        return
    report, interval, watch, db = None, 1.0, {}, None
    while argv and argv[0] != "--":
        flag, value, argv = argv[0], argv[1], argv[2:]
        if flag == "--report":
            report = value
        elif flag == "--interval":
            interval = float(value)
        elif flag == "--watch":
            name, pid = value.split("=", 1)
            watch[name] = int(pid)
        elif flag == "--pg-db":
            db = value
        else:
            sys.exit(f"unknown flag {flag}")
    cmd = argv[1:]
    if not report or not cmd:
        sys.exit(__doc__)
    for name, pid in watch.items():
        if status(pid) is None:
            sys.exit(f"{name} (pid {pid}) is not running")

    cpu0 = {name: cpu(pid) for name, pid in watch.items()}
    pg0 = postgres(db)
    m0 = machine()
    t0 = time.monotonic()
    child = subprocess.Popen(cmd)
    rss = {name: [] for name in watch}
    rss["cmd"] = []
    last_pg = dict(pg0)
    cmd_cpu, cmd_hwm, next_sample = None, None, t0
    while True:
        # WNOWAIT: the exited child stays a zombie, so its final CPU time can still be read.
        done = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if done is not None:
            cmd_cpu = cpu(child.pid)
            break
        if time.monotonic() >= next_sample:
            next_sample += interval
            for name, pid in watch.items():
                s = status(pid)
                if s:
                    rss[name].append(s[0])
            s = status(child.pid)
            if s:
                rss["cmd"].append(s[0])
                cmd_hwm = s[1]
            # Backends that end during the run keep the time last seen for them.
            last_pg.update(postgres(db))
        time.sleep(0.02)
    seconds = time.monotonic() - t0
    m1 = machine()
    cpu1 = {name: cpu(pid) for name, pid in watch.items()}
    last_pg.update(postgres(db))
    hwm = {name: (status(pid) or (None, None))[1] for name, pid in watch.items()}
    code = child.wait()

    def proc(cpu_s, samples, peak):
        return {
            "cpu_s": cpu_s,
            "cores": None if cpu_s is None else cpu_s / seconds,
            "rss_kib": samples,
            "hwm_kib": peak,
        }

    classes = {"ours": 0.0, "aux": 0.0, "other": 0.0}
    for pid, (kind, t) in last_pg.items():
        classes[kind] += t - pg0.get(pid, (kind, 0.0))[1]
    out = {
        "seconds": seconds,
        "machine": {"cores": os.cpu_count(), "busy_cores": (m1[0] - m0[0]) / seconds},
        "cmd": proc(cmd_cpu, rss["cmd"], cmd_hwm),
        "watch": {
            name: proc(
                None if cpu1[name] is None or cpu0[name] is None else cpu1[name] - cpu0[name],
                rss[name],
                hwm[name],
            )
            for name in watch
        },
        "postgres": {f"{k}_cores": v / seconds for k, v in classes.items()} if db else None,
        "exit_code": code,
    }
    with open(report, "w") as f:
        json.dump(out, f)
    sys.exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
