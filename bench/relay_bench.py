#!/usr/bin/env python3
"""The relay (src/transport/relay.hpp) as the two hops of an ingress proxy,
host TCP -> vsock (simulated: a Unix socket) -> TCP inside the enclave's own
network namespace, against named baselines in the same run:

    baseline_raw_loopback    iperf3 straight to its server, no hop
    baseline_socat           the same two hops with socat (8 KiB buffers)
    baseline_socat_b262144   ... with socat -b 262144
    ours                     build/<preset>/bench/relay_hop (splice; 256 KiB
                             socket buffers on the legs that stay on the
                             machine, as the proxies set them)
    ours_kernel_buffers      ... with the kernel's autotuned TCP buffers (forward.hpp
                             still sizes the vsock legs, as it always does)
    ours_copy                ... --no-splice (the buffered path)

Throughput: iperf3 with 1 stream and with 8 (-P 8). Connections: relay_hop
echo-client (connect, 64-byte echo, server closes) against relay_hop
echo-server, directly (baseline_direct) and through socat and ours: 8 at a
time for connections per second, then one at a time for the latency each
path adds to a request (p50, p99).

    bench/relay_bench.py BUILD_DIR

BENCH_SECONDS sets the length of each measurement (default 2; the best of 2
iperf3 runs, after 1 s of warm-up each). Needs root
(network namespaces), iperf3, socat, unshare, nsenter and ss; skips
otherwise. Every process it starts is killed and its files removed on every
exit path.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
RUNS = 2  # throughput: the best of this many iperf3 runs, each after 1 s of warm-up (-O 1)
IPERF_PORT = 5201  # inside the enclave namespace
ECHO_PORT = 7000  # inside the enclave namespace
CID, VSOCK_PORT = 16, 5000


class Processes:
    """Every process started, each in its own process group (socat forks a
    child per connection), killed by stop_all()."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.running = []

    def start(self, argv):
        log = open(os.path.join(self.log_dir, f"{len(self.running):02d}-{os.path.basename(argv[0])}.log"), "w")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.running.append(proc)
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=3)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self):
        for proc in reversed(list(self.running)):
            self.stop(proc)


def wait_until(what, check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    def __init__(self, build, work):
        self.hop = os.path.join(build, "bench", "relay_hop")
        self.work = work
        self.procs = Processes(work)
        self.enclave_ns = None

    # -- the enclave's network namespace ------------------------------------

    def in_enclave(self, argv):
        return ["nsenter", "-t", str(self.enclave_ns.pid), "-n", "--"] + argv

    def start_enclave_namespace(self):
        self.enclave_ns = self.procs.start(["unshare", "--net", "sh", "-c", "ip link set lo up && exec sleep infinity"])
        wait_until("the enclave namespace", lambda: "UP" in subprocess.run(
            self.in_enclave(["ip", "-o", "link", "show", "lo"]), capture_output=True, text=True).stdout)

    def listening(self, port, enclave=False):
        argv = ["ss", "-Hltn", f"sport = :{port}"]
        if enclave:
            argv = self.in_enclave(argv)
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip() != ""

    # -- the paths ----------------------------------------------------------

    def start_path(self, path, target_port):
        """Starts the two hops of `path` towards `target_port` in the enclave
        namespace; returns the host port to connect to and the processes."""
        host_port = free_port()
        vsock_dir = tempfile.mkdtemp(prefix="vsock-", dir=self.work)
        if path.startswith("ours"):
            extra = {"ours_copy": ["--no-splice"],
                     "ours_kernel_buffers": ["--tcp-buffer", "0", "--vsock-buffer", "0"]}.get(path, [])
            vsock = ["--vsock-dir", vsock_dir, "--cid", str(CID), "--port", str(VSOCK_PORT)]
            enclave = self.procs.start(self.in_enclave(
                [self.hop, "vsock-to-tcp", "--connect", str(target_port)] + vsock + extra))
            socket_file = os.path.join(vsock_dir, str(CID), f"{VSOCK_PORT}.sock")
            wait_until("relay_hop vsock-to-tcp", lambda: os.path.exists(socket_file))
            host = self.procs.start([self.hop, "tcp-to-vsock", "--listen", str(host_port)] + vsock + extra)
        else:
            buffers = ["-b", "262144"] if path == "baseline_socat_b262144" else []
            socket_file = os.path.join(vsock_dir, "x.sock")
            enclave = self.procs.start(self.in_enclave(
                ["socat"] + buffers + [f"UNIX-LISTEN:{socket_file},fork", f"TCP:127.0.0.1:{target_port}"]))
            wait_until("socat UNIX-LISTEN", lambda: os.path.exists(socket_file))
            host = self.procs.start(["socat"] + buffers + [f"TCP-LISTEN:{host_port},fork,reuseaddr,bind=127.0.0.1",
                                                           f"UNIX-CONNECT:{socket_file}"])
        wait_until(f"{path} listening", lambda: self.listening(host_port))
        return host_port, [host, enclave]

    def stop_path(self, procs):
        for proc in procs:
            self.procs.stop(proc)

    # -- the measurements ---------------------------------------------------

    def iperf(self, port, streams, enclave=False):
        return max(self.iperf_once(port, streams, enclave) for _ in range(RUNS))

    def iperf_once(self, port, streams, enclave):
        argv = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-O", "1", "-t", str(SECONDS), "-P", str(streams), "-J"]
        if enclave:
            argv = self.in_enclave(argv)
        for attempt in range(5):
            out = subprocess.run(argv, capture_output=True, text=True, timeout=SECONDS + 60)
            report = json.loads(out.stdout) if out.stdout.strip() else {"error": out.stderr.strip()}
            if "error" not in report:
                return report["end"]["sum_received"]["bits_per_second"] / 1e9
            if "busy" not in report["error"]:  # the server still finishing the previous test
                break
            time.sleep(0.5)
        raise RuntimeError(f"iperf3 through port {port}: {report['error']}")

    def echo(self, port, concurrency, enclave=False):
        argv = [self.hop, "echo-client", "--connect", str(port), "--seconds", str(SECONDS),
                "--concurrency", str(concurrency), "--size", "64"]
        if enclave:
            argv = self.in_enclave(argv)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=SECONDS + 60)
        if out.returncode != 0:
            raise RuntimeError(f"echo-client through port {port} failed: {out.stdout.strip()} {out.stderr.strip()}")
        return json.loads(out.stdout)

    def run(self):
        self.start_enclave_namespace()
        iperf_enclave = self.procs.start(self.in_enclave(["iperf3", "-s", "-p", str(IPERF_PORT)]))
        echo_enclave = self.procs.start(self.in_enclave(
            [self.hop, "echo-server", "--listen", str(ECHO_PORT), "--size", "64"]))
        wait_until("iperf3 -s", lambda: self.listening(IPERF_PORT, enclave=True))
        wait_until("echo-server", lambda: self.listening(ECHO_PORT, enclave=True))

        paths = ["baseline_socat", "baseline_socat_b262144", "ours", "ours_kernel_buffers", "ours_copy"]
        gbps = {"baseline_raw_loopback": [self.iperf(IPERF_PORT, n, enclave=True) for n in (1, 8)]}
        for path in paths:
            port, procs = self.start_path(path, IPERF_PORT)
            try:
                gbps[path] = [self.iperf(port, n) for n in (1, 8)]
            finally:
                self.stop_path(procs)

        echo = {"baseline_direct": [self.echo(ECHO_PORT, c, enclave=True) for c in (8, 1)]}
        for path in ["baseline_socat", "ours"]:
            port, procs = self.start_path(path, ECHO_PORT)
            try:
                echo[path] = [self.echo(port, c) for c in (8, 1)]
            finally:
                self.stop_path(procs)
        self.procs.stop(echo_enclave)
        self.procs.stop(iperf_enclave)
        report(gbps, echo)


def report(gbps, echo):
    s = f"{SECONDS:g} s each"
    print(f"  relay_throughput (iperf3, host TCP -> vsock over Unix -> TCP in the enclave netns;"
          f" best of {RUNS} x {SECONDS:g} s; Gbit/s)")
    print(f"    {'':40s} {'1 stream':>10s} {'8 streams':>10s}")
    for name, (one, eight) in gbps.items():
        print(f"    {name:40s} {one:10.2f} {eight:10.2f}")
    ours, tuned, raw = gbps["ours"], gbps["baseline_socat_b262144"], gbps["baseline_raw_loopback"]
    print(f"    ratio ours/baseline_socat_b262144: {ours[0] / tuned[0]:.2f}x / {ours[1] / tuned[1]:.2f}x (goal >= 1.5x)")
    print(f"    ratio ours/baseline_raw_loopback: {100 * ours[0] / raw[0]:.0f} % / {100 * ours[1] / raw[1]:.0f} %"
          " (goal >= 60 %)")
    print(f"  relay_connections (connect, 64-byte echo, server closes; 8 at a time, {s})")
    print(f"    {'':40s} {'conn/s':>10s} {'p50 us':>10s} {'p99 us':>10s}")
    for name, (e, _) in echo.items():
        print(f"    {name:40s} {e['conn_per_s']:10.0f} {e['p50_us']:10.1f} {e['p99_us']:10.1f}")
    ratio = echo["ours"][0]["conn_per_s"] / echo["baseline_socat"][0]["conn_per_s"]
    print(f"    ratio ours/baseline_socat conn/s: {ratio:.2f}x (goal >= 2x)")
    print(f"  relay_latency (the same one at a time: what each path adds to a request, {s})")
    print(f"    {'':40s} {'p50 us':>10s} {'p99 us':>10s} {'added p50':>10s} {'added p99':>10s}")
    direct = echo["baseline_direct"][1]
    for name, (_, e) in echo.items():
        added = "" if name == "baseline_direct" else \
            f" {e['p50_us'] - direct['p50_us']:10.1f} {e['p99_us'] - direct['p99_us']:10.1f}"
        print(f"    {name:40s} {e['p50_us']:10.1f} {e['p99_us']:10.1f}{added}")


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    if os.geteuid() != 0:
        print("  relay_bench: skipped (needs root for the enclave's network namespace)")
        return 0
    missing = [tool for tool in ("iperf3", "socat", "unshare", "nsenter", "ss", "ip") if shutil.which(tool) is None]
    if missing:
        print(f"  relay_bench: skipped ({', '.join(missing)} not installed; scripts/setup installs them)")
        return 0
    if not os.access(os.path.join(build, "bench", "relay_hop"), os.X_OK):
        print(f"  relay_bench: {build}/bench/relay_hop is missing (cmake --build {build} --target relay_hop)")
        return 1
    # SIGTERM and Ctrl-C unwind through the finally below like any error.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    work = tempfile.mkdtemp(prefix="enclaver-relay-bench-")
    bench = Bench(build, work)
    try:
        bench.run()
    except Exception as e:  # one line, and the hops' logs, instead of a traceback
        print(f"  relay_bench: failed: {e}")
        for name in sorted(os.listdir(work)):
            if name.endswith(".log") and os.path.getsize(os.path.join(work, name)):
                with open(os.path.join(work, name)) as f:
                    print(f"    {name}: {f.read().strip()[-500:]}")
        return 1
    finally:
        bench.procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
