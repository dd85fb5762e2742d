#!/usr/bin/env python3
"""Starts a server and prints the milliseconds from its exec to the first 200 of GET URL
(/readyz), polling every POLL_MS (default 5) with a fresh connection; then stops it (SIGTERM)
and waits for it to exit. Used by scripts/bench-startup.sh.

  scripts/time-to-ready.py [--timeout 60] [--log FILE] URL -- CMD ARGS...
"""
import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.parse


def main(argv):
    timeout, log = 60.0, None
    poll = float(os.environ.get("POLL_MS", "5")) / 1000
    while argv and argv[0].startswith("--") and argv[0] != "--":
        flag, argv = argv[0], argv[1:]
        if flag == "--timeout":
            timeout, argv = float(argv[0]), argv[1:]
        elif flag == "--log":
            log, argv = argv[0], argv[1:]
        else:
            sys.exit(f"unknown flag {flag}")
    if len(argv) < 3 or argv[1] != "--":
        sys.exit(__doc__)
    url = urllib.parse.urlsplit(argv[0])
    cmd = argv[2:]
    stderr = open(log, "w") if log else subprocess.DEVNULL
    started = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr)
    ready = None
    while time.monotonic() - started < timeout:
        if child.poll() is not None:
            sys.exit(f"the server exited with {child.returncode} before it was ready (log: {log})")
        try:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=1)
            conn.request("GET", url.path or "/")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                ready = time.monotonic()
                break
        except OSError:
            pass
        time.sleep(poll)
    if ready is None:
        child.send_signal(signal.SIGTERM)
        child.wait()
        sys.exit(f"not ready after {timeout} s (log: {log})")
    print(f"{(ready - started) * 1000:.1f}")
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


if __name__ == "__main__":
    main(sys.argv[1:])
