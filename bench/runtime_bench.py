#!/usr/bin/env python3
"""The runtime end to end in the simulator: enclave-test-app
(tests/integration/enclave/test_app.cpp) behind odyn in a real EIF, run by
`enclaver-run --simulate`.

  ingress_http   wrk (2 threads, 32 connections, 3 s) GET /hello through
                 host TCP -> sleeve -> vsock -> odyn -> app, against the
                 named baseline `baseline_direct`: the same app on the host,
                 reached directly. Requests/s, p99, and the ratio (goal >= 0.7x).
  idle_ingress   10 000 concurrent idle connections through ingress: errors,
                 odyn's RSS and descriptor count.
  odyn           start to app exec (odyn's own launch line; goal <= 20 ms)
                 and idle RSS (goal <= 8 MiB).

    bench/runtime_bench.py BUILD_DIR
Skips (exit 0, saying why) without root, wrk or the test app.
"""
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from simbench import Sleeve, build_app_eif, free_port, run_wrk, status_field, stop_all, wait_for

IDLE_CONNECTIONS = 10_000
# An idle relayed connection holds 2 descriptors in odyn and in the sleeve
# (its two sockets; the relay's pipes come with the first bytes): the hard
# RLIMIT_NOFILE of a process without CAP_SYS_RESOURCE caps how many can be
# held at once.
FDS_PER_CONNECTION = 2


def wrk(port):
    return run_wrk(f"http://127.0.0.1:{port}/hello", connections=32, seconds=3)


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def main():
    build = sys.argv[1]
    app = os.path.join(build, "tests/integration/enclave-test-app")
    if os.geteuid() != 0 or not shutil.which("wrk") or not os.path.exists(app):
        print("  skipped: needs root, wrk and a non-sanitized build (enclave-test-app)")
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    idle = min(IDLE_CONNECTIONS, (hard - 500) // FDS_PER_CONNECTION)
    work = tempfile.mkdtemp(prefix="enclaver-runtime-bench-")
    procs = []
    try:
        port, direct_port = free_port(), free_port()
        eif, manifest_path = build_app_eif(build, work, app, port, 1024)

        sleeve = Sleeve(build, work, eif, manifest_path)
        procs.append(sleeve.process)
        odyn_pid = sleeve.odyn_pid
        launch = wait_for("odyn's launch line", lambda: re.search(r"([\d.]+) ms after odyn started", sleeve.stdout()))
        procs.append(subprocess.Popen([app, str(direct_port)], stdout=subprocess.DEVNULL, start_new_session=True))
        for p in (port, direct_port):
            wait_for(f"port {p}", lambda p=p: subprocess.run(["curl", "-sf", f"http://127.0.0.1:{p}/hello"],
                                                             capture_output=True).returncode == 0)
        time.sleep(0.5)
        idle_rss = status_field(odyn_pid, "VmRSS")

        direct = wrk(direct_port)
        ours = wrk(port)
        print("  ingress_http (wrk -t2 -c32 -d3s GET /hello)")
        print(f"    {'':32}{'req/s':>10}{'p99 us':>10}  socket errors")
        print(f"    {'baseline_direct':32}{direct[0]:>10.0f}{direct[1]:>10.0f}  {direct[2]}")
        print(f"    {'ours (host->sleeve->vsock->odyn)':32}{ours[0]:>10.0f}{ours[1]:>10.0f}  {ours[2]}")
        print(f"    ratio ours/baseline_direct req/s: {ours[0] / direct[0]:.2f}x (goal >= 0.7x)")

        fds_before = fd_count(odyn_pid)
        sockets, errors = [], 0
        for _ in range(idle):
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", port))
                sockets.append(s)
            except OSError:
                errors += 1
                s.close()
        try:
            wait_for("odyn to hold the connections", lambda: fd_count(odyn_pid) >= fds_before + 2 * len(sockets), 60)
        except SystemExit:
            pass
        time.sleep(1)
        alive = subprocess.run(["curl", "-sf", "--max-time", "10", f"http://127.0.0.1:{port}/hello"], capture_output=True).returncode == 0
        capped = f"; capped by RLIMIT_NOFILE {hard} at {FDS_PER_CONNECTION} per connection" if idle < IDLE_CONNECTIONS else ""
        print(f"  idle_ingress ({idle} concurrent idle connections{capped})")
        print(f"    connect errors {errors}; odyn: {fd_count(odyn_pid)} descriptors, RSS {status_field(odyn_pid, 'VmRSS') / 1024:.1f} MiB"
              f" (idle before: {idle_rss / 1024:.1f} MiB); a new request still answered: {alive}")
        for s in sockets:
            s.close()
        print("  odyn")
        print(f"    start to app exec: {float(launch.group(1)):.1f} ms (goal <= 20 ms)")
        print(f"    idle RSS: {idle_rss / 1024:.1f} MiB (goal <= 8 MiB)")
        return 0
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
