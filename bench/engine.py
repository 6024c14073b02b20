#!/usr/bin/env python3
"""Engine speed: perfgate against wrk and oha on the same loopback target, side by side.

nginx (1 worker, `return 200 'ok'`) runs pinned to CPU 0; each client runs pinned to CPU 1 with
50 keep-alive connections for --duration seconds, the tools alternating within each repetition.
Prints medians (min–max) of requests per second, client CPU µs per request (user + sys of the
client process, from wait4) and peak RSS, and the ratios issue #5 asks for.

    python3 bench/engine.py                 # 3 repetitions x 10 s x 3 tools (~2 min)
    python3 bench/engine.py --reps 1 --duration 5 --tools perfgate,wrk
    python3 bench/engine.py --tools perfgate,perfgate@/tmp/perfgate-old,wrk   # two builds, one run

Installs what is missing: nginx and wrk from Debian's packages, oha with `cargo install` into
bench/.tools (a few minutes, once). Everything runs on 127.0.0.1 and stops by itself.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "bench" / ".tools"
PORT = 18080
URL = f"http://127.0.0.1:{PORT}/ok"

NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid {dir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 8192; use epoll; }}
http {{
    access_log off;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 75s;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        default_type text/plain;
        location = /ok {{ return 200 'ok'; }}
    }}
}}
"""

PROFILE = """name = "engine-bench"
[target]
base_url = "http://127.0.0.1:{port}"
request_timeout = "5s"
[load]
model = "closed"
users = {conns}
duration = "{duration}s"
[[scenario]]
name = "ok"
[[scenario.step]]
request = "GET /ok"
"""


def ensure_tools(want):
    missing = [p for p in ("nginx", "wrk") if p in want | {"nginx"} and not shutil.which(p)]
    if not Path("/usr/bin/time").exists():
        missing.append("time")
    if missing:
        print(f"installing {' '.join(missing)} from Debian's packages ...", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    oha = shutil.which("oha") or (TOOLS / "bin" / "oha")
    if "oha" in want and not Path(oha).exists():
        print("installing oha with cargo install (once) ...", file=sys.stderr)
        subprocess.run(["cargo", "install", "--locked", "--root", str(TOOLS), "oha"], check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "perfgate"], cwd=ROOT, check=True)
    return str(oha)


def run_tool(tool, args, oha, work):
    pin = ["taskset", "-c", "1"] if shutil.which("taskset") else []
    if tool.startswith("perfgate"):
        # `perfgate@PATH`: another build of perfgate, measured beside this one.
        binary = tool.partition("@")[2] or str(ROOT / "target" / "release" / "perfgate")
        prof = work / "engine.toml"
        prof.write_text(PROFILE.format(port=PORT, conns=args.conns, duration=args.duration))
        out = work / "result.json"
        cmd = pin + [binary, "run", "-q", "--workers", "1", "-p", str(prof), "-o", str(out)]
    elif tool == "wrk":
        cmd = pin + ["wrk", "-t1", f"-c{args.conns}", f"-d{args.duration}s", URL]
    elif tool == "oha":
        cmd = pin + [oha, "-z", f"{args.duration}s", "-c", str(args.conns), "--no-tui", "--output-format", "json", URL]
    else:
        raise SystemExit(f"unknown tool {tool}")
    # GNU time measures the tool alone (a Python parent's rusage would count the fork's copy).
    timing = work / "time.txt"
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(timing)] + cmd,
                       capture_output=True, text=True, timeout=args.duration + 30)
    stdout, stderr, status = p.stdout, p.stderr, p.returncode
    user, system, max_kb = timing.read_text().split()[-3:]
    cpu = float(user) + float(system)
    rss = int(max_kb) / 1024
    if tool.startswith("perfgate"):
        r = json.loads((work / "result.json").read_text())
        t = r["trials"][0]
        n = sum(e["requests"] for e in t["endpoints"])
        rps = n / t["measured_s"]
    elif tool == "wrk":
        line = next(l for l in stdout.splitlines() if l.startswith("Requests/sec:"))
        rps = float(line.split()[1])
        n = rps * args.duration
    else:
        s = json.loads(stdout)["summary"]
        rps = s["requestsPerSec"]
        n = rps * args.duration
    if status != 0:
        print(f"{tool} exited with {status}: {stderr[-300:]}", file=sys.stderr)
    return {"rps": rps, "cpu_us": cpu / n * 1e6 if n else float("nan"), "rss": rss}


def fmt(values, spec):
    m = statistics.median(values)
    return f"{m:{spec}} ({min(values):{spec}}–{max(values):{spec}})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--tools", default="perfgate,wrk,oha")
    args = ap.parse_args()
    tools = args.tools.split(",")
    oha = ensure_tools(set(tools))
    work = Path(tempfile.mkdtemp(prefix="perfgate-engine-bench-"))
    (work / "nginx.conf").write_text(NGINX_CONF.format(dir=work, port=PORT))
    pin0 = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    nginx = subprocess.Popen(pin0 + ["nginx", "-p", str(work), "-c", str(work / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    results = {t: [] for t in tools}
    try:
        for rep in range(args.reps):
            for tool in tools:
                r = run_tool(tool, args, oha, work)
                results[tool].append(r)
                print(f"  rep {rep + 1} {tool}: {r['rps']:.0f} req/s, {r['cpu_us']:.1f} CPU µs/req, {r['rss']:.1f} MB",
                      file=sys.stderr)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    print(f"\nclosed loop, {args.conns} keep-alive connections, {args.duration} s, GET {URL}; "
          f"server on CPU 0, client on CPU 1; median (min–max) of {args.reps}")
    print(f"{'tool':<28} {'req/s':>26} {'CPU µs/req':>22} {'peak RSS MB':>22}")
    med = {}
    for tool, rs in results.items():
        med[tool] = {k: statistics.median([r[k] for r in rs]) for k in ("rps", "cpu_us", "rss")}
        print(f"{tool:<28} {fmt([r['rps'] for r in rs], '.0f'):>26} {fmt([r['cpu_us'] for r in rs], '.1f'):>22} "
              f"{fmt([r['rss'] for r in rs], '.1f'):>22}")
    if "perfgate" in med:
        p = med["perfgate"]
        for peer in [t for t in med if t != "perfgate"]:
            if peer in med:
                q = med[peer]
                print(f"perfgate / {peer}: throughput {p['rps'] / q['rps']:.2f}x, CPU per request {p['cpu_us'] / q['cpu_us']:.2f}x, "
                      f"RSS {p['rss'] / q['rss']:.2f}x")
        print("goals (#5): throughput >= 0.85x wrk and >= 1.1x oha; CPU/request <= 1.2x wrk; RSS <= 40 MB")


if __name__ == "__main__":
    main()
