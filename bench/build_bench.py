#!/usr/bin/env python3
"""`enclaver build` of a 300 MiB Debian-based image, end to end (the engine
saves the image, the layers are flattened and streamed into the EIF, the
release image is streamed into the engine), against the named baseline
`docker_save_sha384`: `docker save IMAGE | sha384sum` in the same run, the
floor of any build that must read the whole image and hash it (PCR2).
Reports both times, the ratio (goal <= 1.5x) and enclaver's peak RSS (goal
<= 128 MiB). The best of 3 runs each: the machine is noisy.

The image: Debian bookworm minbase (scripts/debian-rootfs) plus 180 MiB of
incompressible files in a second layer, about 300 MiB in all. The blobs are
a stand-in kernel of 8 MiB (a real one adds its size to both the EIF and the
hashing, not to what is measured here: the image's way through).

    bench/build_bench.py BUILD_DIR
Skips (exit 0, saying why) without root or a Docker engine.
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = "unix:///run/enclaver-docker/docker.sock"
PAD_MIB = 180
RUNS = 3


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def timed(argv, env):
    """Wall time and peak RSS (KiB) of a child, from wait4."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv[0]} failed: {err[-2000:]}")
    return elapsed, usage.ru_maxrss


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    build = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("build_bench: skipped (needs root for the engine and debootstrap)")
        return 0
    env = dict(os.environ, DOCKER_HOST=ENGINE)
    try:
        subprocess.run([os.path.join(REPO, "scripts/docker-engine"), "start"], check=True, stdout=subprocess.DEVNULL, env=env)
    except subprocess.CalledProcessError:
        print("build_bench: skipped (no Docker engine)")
        return 0
    tag = f"enclaver-bench/debian-300:{os.getpid()}"
    target = f"enclaver-bench/debian-300-enclave:{os.getpid()}"
    base = f"enclaver-bench/debian-base:{os.getpid()}"
    with tempfile.TemporaryDirectory() as work:
        try:
            sh(os.path.join(REPO, "scripts/debian-rootfs"), os.path.join(work, "debian.tar"))
            sh("docker", "import", os.path.join(work, "debian.tar"), base, env=env)
            ctx = os.path.join(work, "ctx")
            os.makedirs(os.path.join(ctx, "pad"))
            for i in range(PAD_MIB // 20):
                with open(os.path.join(ctx, "pad", f"blob{i}"), "wb") as f:
                    f.write(os.urandom(20 << 20))
            with open(os.path.join(ctx, "Dockerfile"), "w") as f:
                f.write(f"FROM {base}\nCOPY pad /opt/pad\nCMD [\"/bin/true\"]\n")
            sh("docker", "build", "-q", "-t", tag, ctx, env=dict(env, DOCKER_BUILDKIT="0"))
            size = int(sh("docker", "image", "inspect", "-f", "{{.Size}}", tag, env=env).stdout)
            blobs = os.path.join(work, "blobs")
            os.makedirs(blobs)
            with open(os.path.join(blobs, "bzImage"), "wb") as f:
                f.write(os.urandom(8 << 20))
            with open(os.path.join(blobs, "cmdline"), "w") as f:
                f.write("console=ttyS0")
            with open(os.path.join(blobs, "init"), "wb") as f:
                f.write(b"\x7fELF" + os.urandom(1 << 20))
            manifest = os.path.join(work, "enclaver.yaml")
            with open(manifest, "w") as f:
                f.write(f"version: v1\nname: bench\ntarget: {target}\nsources:\n  app: {tag}\n")

            floor = [timed(["sh", "-c", f"docker save {tag} | sha384sum"], env) for _ in range(RUNS)]
            ours = [timed([os.path.join(build, "enclaver"), "build", "-f", manifest, "--blobs", blobs, "--no-progress"], env)
                    for _ in range(RUNS)]
        finally:
            for image in (target, tag, base):
                subprocess.run(["docker", "rmi", "-f", image], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run([os.path.join(REPO, "scripts/docker-engine"), "stop"], env=env, stdout=subprocess.DEVNULL)
    floor_s = min(t for t, _ in floor)
    ours_s = min(t for t, _ in ours)
    peak_mib = max(rss for _, rss in ours) / 1024
    print(f"build_bench: image {size / (1 << 20):.0f} MiB (Debian bookworm minbase + {PAD_MIB} MiB), best of {RUNS}")
    print(f"  docker_save_sha384 (baseline)  {floor_s:6.2f} s")
    print(f"  enclaver build                 {ours_s:6.2f} s   ratio {ours_s / floor_s:.2f}x (goal <= 1.5x)")
    print(f"  enclaver build peak RSS        {peak_mib:6.1f} MiB (goal <= 128 MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
