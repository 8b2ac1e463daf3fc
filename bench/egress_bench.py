#!/usr/bin/env python3
"""Egress through the real path in the simulator: app -> odyn's proxy
(CONNECT) -> vsock tunnel -> the sleeve's host side -> a server on the host,
against the named baseline `socat_hops`: socat -b262144 on the same hops (a
relay in the enclave from TCP to the vsock socket, a relay on the host from
the vsock socket to the server), the same client and server.

  connect_throughput  1 GiB from the host server to a socat client in the
                      enclave (socat PROXY: speaks CONNECT), MB/s, best of
                      3; ratio (goal >= 1.5x)
  new_connections     connections per second, each a CONNECT through the
                      proxy (or a plain connection through the socat hops)
                      fetching 1 byte, one after the other, from the test
                      app in the enclave (no process per connection); ratio
                      (goal >= 2x)
  idle_tunnels        memory per idle tunnelled connection: odyn's and the
                      sleeve's RSS growth with 200 idle CONNECT tunnels

    bench/egress_bench.py BUILD_DIR
Skips (exit 0, saying why) without root, socat or the test app.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from simbench import build_app_eif, free_port, wait_for
import urllib.request

GIB = 1 << 30
ONE_BYTE_SERVER = """
import asyncio, sys
async def serve(reader, writer):
    writer.write(b"x")
    await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    await server.serve_forever()
asyncio.run(main())
"""
CONNECTIONS = 1000
RUNS = 3
IDLE = 200  # each held by a socat process in the enclave: its memory, not odyn's, is the bound


def install(rootfs, program):
    """The program and the libraries ldd lists, at their paths."""
    out = subprocess.run(["ldd", program], capture_output=True, text=True).stdout
    for path in [program] + re.findall(r"(/\S+) \(0x", out):
        dest = os.path.join(rootfs, path.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(os.path.realpath(path), dest)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def main():
    build = os.path.abspath(sys.argv[1])
    app = os.path.join(build, "tests/integration/enclave-test-app")
    socat = shutil.which("socat")
    if os.geteuid() != 0 or not socat or not os.path.exists(app):
        print("egress_bench: skipped (needs root, socat and a non-sanitized build)")
        return 0
    work = tempfile.mkdtemp(prefix="enclaver-egress-bench-")
    procs = []
    try:
        app_port, source_port, one_port, idle_port = free_port(), free_port(), free_port(), free_port()
        def add_tools(rootfs):
            for program in (socat, "/bin/sh", shutil.which("sleep")):
                install(rootfs, program)

        eif, manifest_path = build_app_eif(build, work, app, app_port, 2048, "egress:\n  allow:\n    - host\n", add_tools)
        # The host's servers: 1 GiB of zeros per connection, and 1 byte per connection.
        procs.append(subprocess.Popen([socat, "-b262144", f"TCP-LISTEN:{source_port},bind=127.0.0.1,reuseaddr,fork",
                                       f"OPEN:/dev/zero,readbytes={GIB}"], stderr=subprocess.DEVNULL))
        # One byte per connection, from one process that does not fork.
        procs.append(subprocess.Popen([sys.executable, "-c", ONE_BYTE_SERVER, str(one_port)]))
        # An upstream that accepts and stays silent: the idle tunnels' far end.
        procs.append(subprocess.Popen([socat, f"TCP-LISTEN:{idle_port},bind=127.0.0.1,reuseaddr,fork,backlog=1024",
                                       "SYSTEM:sleep 120"], stderr=subprocess.DEVNULL))
        err_path = os.path.join(work, "err.txt")
        with open(err_path, "w") as err:
            procs.append(subprocess.Popen(
                [os.path.join(build, "enclaver-run"), "--simulate", "--eif", eif, "--manifest", manifest_path,
                 "--sim-root", os.path.join(work, "sim-root.pem"), "--ingress-address", "127.0.0.1"],
                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True))
        text = lambda: open(err_path).read()
        wait_for("the app", lambda: "the app is running" in text())
        sleeve_pid = procs[-1].pid
        odyn_pid = int(re.search(r"\(PID (\d+) on the host\)", text()).group(1))
        vsock_dir = re.search(r"vsock directory (\S+) ", text()).group(1)

        def inside(argv):
            body = "\n".join(argv).encode()
            req = urllib.request.Request(f"http://127.0.0.1:{app_port}/exec", data=body)
            try:
                return urllib.request.urlopen(req, timeout=600).read().decode()
            except Exception as e:
                raise SystemExit(f"egress_bench: {argv} in the enclave failed: {e}\n{text()[-2000:]}")

        # The baseline's hops: in the enclave TCP 10001 -> vsock (3, 17005); on the host vsock 17005 -> the server.
        host_sock = os.path.join(vsock_dir, "3", "17005.sock")

        # The relay in the enclave stays up; the host's is made per target.
        inside(["/bin/sh", "-c", "socat -b262144 TCP-LISTEN:10001,bind=127.0.0.1,reuseaddr,fork,backlog=1024 "
                "UNIX-CONNECT:/run/enclaver/vsock/3/17005.sock >/dev/null 2>&1 & sleep 0.3"])

        def baseline_relays(target_port):
            host = subprocess.Popen([socat, "-b262144", f"UNIX-LISTEN:{host_sock},fork,unlink-early",
                                     f"TCP:127.0.0.1:{target_port}"], stderr=subprocess.DEVNULL)
            wait_for("the host relay", lambda: os.path.exists(host_sock))
            return host

        def stop_baseline(host):
            host.terminate()
            host.wait()

        def timed_inside(script):
            start = time.monotonic()
            out = inside(["/bin/sh", "-c", script])
            return time.monotonic() - start, out

        # 1. Throughput: 1 GiB through CONNECT, then through the socat hops;
        # the best of RUNS each (the machine is noisy).
        ours_s = min(timed_inside(f"socat -b262144 -u PROXY:127.0.0.1:host:{source_port},proxyport=10000 OPEN:/dev/null")[0]
                     for _ in range(RUNS))
        host = baseline_relays(source_port)
        base_s = min(timed_inside("socat -b262144 -u TCP:127.0.0.1:10001 OPEN:/dev/null")[0] for _ in range(RUNS))
        stop_baseline(host)
        ours_mbs, base_mbs = GIB / ours_s / 1e6, GIB / base_s / 1e6

        # 2. New connections per second: one client in the enclave that does not
        # fork (the test app), connections one after the other, 1 byte each.
        def connects(port, target=""):
            req = urllib.request.Request(f"http://127.0.0.1:{app_port}/connects",
                                         data=f"{port}\n{CONNECTIONS}\n{target}".encode())
            answer = urllib.request.urlopen(req, timeout=600).read().decode()
            if not answer.startswith("ok "):
                raise SystemExit(f"egress_bench: connections failed: {answer}")
            return int(answer.split()[2]) / 1000

        ours_c = connects(10000, f"host:{one_port}")
        host = baseline_relays(one_port)
        base_c = connects(10001)
        stop_baseline(host)

        # 3. Idle tunnels: held open by socat clients in the enclave.
        before = rss_kib(odyn_pid), rss_kib(sleeve_pid)
        inside(["/bin/sh", "-c", f"i=0; while [ $i -lt {IDLE} ]; do "
                f"(sleep 60 </dev/null 2>/dev/null | socat -u - PROXY:127.0.0.1:host:{idle_port},proxyport=10000 >/dev/null 2>&1 &) "
                f">/dev/null 2>&1; "
                f"i=$((i+1)); done; sleep 5"])
        after = rss_kib(odyn_pid), rss_kib(sleeve_pid)

        print("egress_bench (the same run; socat -b262144 on the same hops as the baseline)")
        print(f"  connect_throughput  ours {ours_mbs:8.0f} MB/s   socat_hops {base_mbs:8.0f} MB/s   ratio {ours_mbs / base_mbs:.2f}x (goal >= 1.5x)")
        print(f"  new_connections     ours {CONNECTIONS / ours_c:8.0f} /s     socat_hops {CONNECTIONS / base_c:8.0f} /s     "
              f"ratio {base_c / ours_c:.2f}x (goal >= 2x)")
        print(f"  idle_tunnels        {IDLE} held: odyn +{(after[0] - before[0]) / IDLE:.1f} KiB each, "
              f"sleeve +{(after[1] - before[1]) / IDLE:.1f} KiB each")
        return 0
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
