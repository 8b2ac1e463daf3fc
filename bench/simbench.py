"""What the benchmarks that run the simulator share: free ports, waiting
for a condition, and the stand-in blobs an EIF needs there (the simulator
never boots the kernel). A module, not a benchmark: scripts/bench runs only
*_bench.py files."""
import os
import socket
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
