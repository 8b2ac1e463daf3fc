"""What the benchmarks that run the simulator share: free ports, waiting
for a condition, and the stand-in blobs an EIF needs there (the simulator
never boots the kernel). A module, not a benchmark: scripts/bench runs only
*_bench.py files."""
import os
import re
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def write_tiny_blobs(directory):
    os.makedirs(directory, exist_ok=True)
    for name, content in (("bzImage", b"K" * 4096), ("cmdline", b"console=ttyS0"), ("init", b"#!init")):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(content)


def build_app_eif(build, work, app, port, memory_mb, extra_manifest="", add_to_rootfs=None):
    """An EIF running `app PORT` behind odyn, with ingress on PORT, in `work`:
    returns (eif path, manifest path). `add_to_rootfs(rootfs)` may put more in."""
    import shutil
    import subprocess
    blobs, rootfs = os.path.join(work, "blobs"), os.path.join(work, "rootfs")
    write_tiny_blobs(blobs)
    os.makedirs(os.path.join(rootfs, "sbin"))
    os.makedirs(os.path.join(rootfs, "etc/enclaver"))
    shutil.copy(os.path.join(build, "odyn"), os.path.join(rootfs, "sbin/odyn"))
    shutil.copy(app, os.path.join(rootfs, "app"))
    if add_to_rootfs:
        add_to_rootfs(rootfs)
    manifest = (f"version: v1\nname: bench\ntarget: bench:latest\nsources:\n  app: bench:latest\n"
                f"defaults:\n  memory_mb: {memory_mb}\ningress:\n  - listen_port: {port}\n" + extra_manifest)
    manifest_path = os.path.join(work, "enclaver.yaml")
    for path in (os.path.join(rootfs, "etc/enclaver/enclaver.yaml"), manifest_path):
        with open(path, "w") as f:
            f.write(manifest)
    eif = os.path.join(work, "app.eif")
    subprocess.run([os.path.join(build, "enclaver"), "eif", "build", "--blobs", blobs, "--rootfs", rootfs, "-o", eif,
                    "--", "/sbin/odyn", "--", "/app", str(port)], check=True, capture_output=True)
    return eif, manifest_path


def run_wrk(url, connections, seconds, threads=2, script=None, prefix=()):
    """wrk's requests/s, p99 latency (us) and socket errors ("none"), run
    under `prefix` (e.g. nsenter into an enclave's network namespace)."""
    argv = [*prefix, "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        argv += ["-s", script]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1, "ms": 1000, "s": 1_000_000}[p99.group(2)]
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"wrk {url}: {non2xx.group(1)} answers were not 2xx")
    return rps, float(p99.group(1)) * scale, errors.group(1) if errors else "none"


def status_field(pid, key):
    """A /proc/PID/status field in kB (VmRSS, VmHWM, ...)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Sleeve:
    """`enclaver-run --simulate` on an EIF, in its own process group, its
    output in `work`; started once the app runs, with odyn's host PID."""

    def __init__(self, build, work, eif, manifest_path):
        self.out_path, self.err_path = os.path.join(work, "out.txt"), os.path.join(work, "err.txt")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.process = subprocess.Popen(
                [os.path.join(build, "enclaver-run"), "--simulate", "--eif", eif, "--manifest", manifest_path,
                 "--sim-root", os.path.join(work, "sim-root.pem"), "--ingress-address", "127.0.0.1", "--grace-period", "2"],
                stdout=out, stderr=err, start_new_session=True)
        wait_for("the app", lambda: "the app is running" in self.stderr())
        self.odyn_pid = int(re.search(r"\(PID (\d+) on the host\)", self.stderr()).group(1))

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()


def stop_all(processes):
    """SIGTERM to each process group, then SIGKILL to those still there after 15 s."""
    for p in processes:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in processes:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
