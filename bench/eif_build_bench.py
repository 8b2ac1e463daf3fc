#!/usr/bin/env python3
"""EIF build from a 512 MiB rootfs against the named baseline `sha384sum`
over the same bytes (the hashing floor), in the same run; then describe-eif
on the result. Prints wall times, the ratio and each command's peak RSS.

    bench/eif_build_bench.py BUILD_DIR [SIZE_MIB]
"""
import os
import shutil
import subprocess
import sys
import tempfile


def run(argv, **kw):
    """Runs argv under GNU time; returns (seconds, peak RSS in MiB) of that
    process alone. (os.wait4 would not do: ru_maxrss survives exec, so a
    child forked from this Python process starts at Python's own RSS.)"""
    with tempfile.NamedTemporaryFile("r") as report:
        proc = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%e %M"] + argv, **kw)
        if proc.returncode != 0:
            raise SystemExit(f"{argv[0]} failed with {proc.returncode}")
        seconds, kib = report.read().split()[-2:]
    return float(seconds), int(kib) / 1024


def best_of(n, argv, **kw):
    runs = [run(argv, **kw) for _ in range(n)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def main():
    build = sys.argv[1]
    size_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 512
    enclaver = os.path.join(build, "enclaver")
    work = tempfile.mkdtemp(prefix="enclaver-eif-bench-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
    try:
        blobs = os.path.join(work, "blobs")
        os.makedirs(blobs)
        with open(os.path.join(blobs, "bzImage"), "wb") as f:
            f.write(os.urandom(8 << 20))  # a kernel-sized blob
        with open(os.path.join(blobs, "cmdline"), "w") as f:
            f.write("reboot=k panic=30 pci=off nomodules console=ttyS0")
        shutil.copy(os.path.join(build, "odyn"), os.path.join(blobs, "init"))
        rootfs = os.path.join(work, "rootfs")
        files = []
        for i in range(size_mib // 4):  # 4 MiB files in 16 directories
            d = os.path.join(rootfs, f"d{i % 16:02d}")
            os.makedirs(d, exist_ok=True)
            path = os.path.join(d, f"f{i:04d}")
            with open(path, "wb") as f:
                f.write(os.urandom(4 << 20))
            files.append(path)
        inputs = [os.path.join(blobs, "bzImage"), os.path.join(blobs, "init")] + files
        out = os.path.join(work, "app.eif")
        subprocess.run(["sync"], check=True)
        # Warm the page cache for both contenders alike.
        run(["cat"] + inputs, stdout=subprocess.DEVNULL)

        base_t, base_rss = best_of(3, ["sha384sum"] + inputs, stdout=subprocess.DEVNULL)
        build_argv = [enclaver, "eif", "build", "--blobs", blobs, "--rootfs", rootfs, "-o", out, "--", "/sbin/odyn"]
        ours_t, ours_rss = best_of(3, build_argv, stdout=subprocess.DEVNULL)
        desc_t, desc_rss = best_of(3, [enclaver, "describe-eif", out], stdout=subprocess.DEVNULL)
        eif_mib = os.path.getsize(out) / (1 << 20)
        print(f"  eif_build ({size_mib} MiB rootfs, {eif_mib:.0f} MiB EIF, best of 3)")
        print(f"    baseline_sha384sum               {base_t:8.2f} s   peak RSS {base_rss:6.1f} MiB")
        print(f"    ours (enclaver eif build)        {ours_t:8.2f} s   peak RSS {ours_rss:6.1f} MiB   (incl. fsync)")
        print(f"    ratio ours/baseline_sha384sum: {ours_t / base_t:.2f}x (goal <= 1.3x); RSS goal < 64 MiB")
        print(f"  describe_eif")
        print(f"    ours (enclaver describe-eif)     {desc_t:8.2f} s   peak RSS {desc_rss:6.1f} MiB")
        print(f"    ratio ours/baseline_sha384sum: {desc_t / base_t:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
