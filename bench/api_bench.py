#!/usr/bin/env python3
"""odyn's internal API under load, in the simulator: enclave-test-app behind
odyn with `api: listen_port 9000`, run by `enclaver-run --simulate`. wrk
runs in the enclave's network namespace (nsenter), where the app's
programs would be, against:

  api_address   GET /v1/eth/address (2 threads, 64 connections), against the
                named baseline `baseline_nginx`: nginx (one worker, like
                odyn's one event loop) answering `return 200` with a body of
                the same size, in the same namespace, in the same run.
                Requests/s, p99 and the ratio (goal >= 0.7x).
  api_sign      POST /v1/eth/sign (EIP-191 digest + secp256k1 signature per
                request), the same way, against the same baseline; and
                signatures/s against libsecp256k1's own signing figure
                (bench_crypto's secp256k1_sign/baseline_libsecp256k1, run here).
  odyn RSS      idle, and its peak under that load (goal <= 16 MiB).

    bench/api_bench.py BUILD_DIR
Skips (exit 0, saying why) without root, wrk, nginx or the test app.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from simbench import Sleeve, build_app_eif, free_port, run_wrk, status_field, stop_all, wait_for

API_PORT = 9000
CONNECTIONS = 64
SECONDS = 5
NGINX = "/usr/sbin/nginx"


def nginx_config(work, port, body):
    path = os.path.join(work, "nginx.conf")
    with open(path, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  fastcgi_temp_path {work}/nginx-fastcgi;
  uwsgi_temp_path {work}/nginx-uwsgi;
  scgi_temp_path {work}/nginx-scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      default_type application/json;
      return 200 '{body}';
    }}
  }}
}}
""")
    return path


def libsecp256k1_signatures_per_second(build):
    bench = os.path.join(build, "bench/bench_crypto")
    if not os.path.exists(bench):
        return None
    out = subprocess.run([bench, "--benchmark_filter=secp256k1_sign/baseline", "--benchmark_format=json",
                          "--benchmark_min_time=1"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["benchmarks"][0]["items_per_second"]


def main():
    build = sys.argv[1]
    app = os.path.join(build, "tests/integration/enclave-test-app")
    if os.geteuid() != 0 or not shutil.which("wrk") or not os.path.exists(NGINX) or not os.path.exists(app):
        print("  skipped: needs root, wrk, nginx and a non-sanitized build (enclave-test-app)")
        return 0
    work = tempfile.mkdtemp(prefix="enclaver-api-bench-")
    procs = []
    try:
        eif, manifest_path = build_app_eif(build, work, app, free_port(), 256, f"api:\n  listen_port: {API_PORT}\n")
        sleeve = Sleeve(build, work, eif, manifest_path)
        procs.append(sleeve.process)
        odyn_pid = sleeve.odyn_pid
        netns = ["nsenter", f"--net=/proc/{odyn_pid}/ns/net", "--"]
        api = f"http://127.0.0.1:{API_PORT}"
        address = wait_for("the API", lambda: subprocess.run([*netns, "curl", "-sf", f"{api}/v1/eth/address"],
                                                             capture_output=True, text=True).stdout)
        signed = subprocess.run([*netns, "curl", "-sf", "-d", '{"message":"bench"}', f"{api}/v1/eth/sign"],
                                capture_output=True, text=True, check=True).stdout

        # nginx in the enclave's network namespace, answering bodies the size of odyn's.
        nginx_port = free_port()
        procs.append(subprocess.Popen([*netns, NGINX, "-c", nginx_config(work, nginx_port, address.strip())],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        baseline_url = f"http://127.0.0.1:{nginx_port}/"
        wait_for("nginx", lambda: subprocess.run([*netns, "curl", "-sf", baseline_url], capture_output=True).returncode == 0)

        post = os.path.join(work, "sign.lua")
        with open(post, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = \'{"message":"hello from wrk"}\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n')
        time.sleep(0.5)
        idle_rss = status_field(odyn_pid, "VmRSS")

        runs = {}
        runs["baseline_nginx"] = run_wrk(baseline_url, CONNECTIONS, SECONDS, prefix=netns)
        runs["address"] = run_wrk(f"{api}/v1/eth/address", CONNECTIONS, SECONDS, prefix=netns)
        runs["sign"] = run_wrk(f"{api}/v1/eth/sign", CONNECTIONS, SECONDS, script=post, prefix=netns)
        peak_rss = status_field(odyn_pid, "VmHWM")
        library = libsecp256k1_signatures_per_second(build)

        print(f"  api (wrk -t2 -c{CONNECTIONS} -d{SECONDS}s, in the enclave's network namespace)")
        print(f"    {'':40}{'req/s':>10}{'p99 us':>10}  socket errors")
        for name, label in (("baseline_nginx", "baseline_nginx (return 200, 1 worker)"),
                            ("address", "ours GET /v1/eth/address"), ("sign", "ours POST /v1/eth/sign")):
            rps, p99, errors = runs[name]
            print(f"    {label:40}{rps:>10.0f}{p99:>10.0f}  {errors}")
        base = runs["baseline_nginx"][0]
        print(f"    ratio address/baseline_nginx: {runs['address'][0] / base:.2f}x (goal >= 0.7x)")
        print(f"    ratio sign/baseline_nginx: {runs['sign'][0] / base:.2f}x")
        if library:
            print(f"    signatures/s: {runs['sign'][0]:.0f} through the API, libsecp256k1 alone {library:.0f} "
                  f"(ratio {runs['sign'][0] / library:.2f}x)")
        print(f"  odyn RSS: idle {idle_rss / 1024:.1f} MiB, peak under load {peak_rss / 1024:.1f} MiB (goal <= 16 MiB)")
        print(f"  (one signed answer: {signed.strip()[:100]}...)")
        return 0
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
