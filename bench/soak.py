#!/usr/bin/env python3
"""Soak: perfgate's own memory over a long open-model run at a steady rate.

perfgate starts the demo service itself (port 18481) and runs an open-model load of --rate
iterations per second (scenarios: show list, show detail, login) for --minutes minutes in one
trial. This script samples perfgate's resident memory (VmRSS from /proc) every 5 s and prints it
at minute 1 and at the end, its peak, and the achieved request rate from the result. Memory that
grows with the run's length (per-request samples kept, leaking connections or tasks) shows as a
difference between minute 1 and the end.

    python3 bench/soak.py                 # 10 minutes at 1,000 iterations/s
    python3 bench/soak.py --minutes 2     # a shorter look

Bounded: the load stops by itself after --minutes (+ warmup and request timeout).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROFILE = """name = "soak"
[target]
base_url = "http://127.0.0.1:18481"
start = "{demo} --addr 127.0.0.1:18481"
ready = "/health"
request_timeout = "2s"

[load]
model = "open"
rate = {rate}
max_in_flight = 2000
warmup = "0s"
duration = "{seconds}s"
trials = 1
seed = 7

[[scenario]]
name = "browse"
weight = 80
[[scenario.step]]
request = "GET /api/v1/shows/?page={{{{random_int(1,10)}}}}"
name = "GET /api/v1/shows/"
capture = {{ show_id = "json:$.results[0].id" }}
[[scenario.step]]
request = "GET /api/v1/shows/{{{{show_id}}}}/"
name = "GET /api/v1/shows/[id]/"

[[scenario]]
name = "login"
weight = 20
[[scenario.step]]
request = "POST /auth/login"
json = {{ username = "user{{{{random_int(1000,1999)}}}}", password = "wrong" }}
expect = {{ status = [401] }}
"""


def rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--workspace", "-q"], cwd=ROOT, check=True)
    perfgate = ROOT / "target" / "release" / "perfgate"
    demo = ROOT / "target" / "release" / "perfgate-demo"
    seconds = int(args.minutes * 60)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "perfgate.toml").write_text(PROFILE.format(demo=demo, rate=args.rate, seconds=seconds))
        proc = subprocess.Popen(
            [str(perfgate), "run", "--quiet", "-p", "perfgate.toml", "-o", "result.json"],
            cwd=d,
            stdout=subprocess.DEVNULL,
        )
        started = time.monotonic()
        samples = []  # (seconds since start, KiB)
        while proc.poll() is None:
            time.sleep(5)
            r = rss_kib(proc.pid)
            if r is not None:
                samples.append((time.monotonic() - started, r))
        if proc.returncode != 0:
            sys.exit(f"perfgate exited {proc.returncode}")
        result = json.loads((d / "result.json").read_text())

    def at(t):
        return min(samples, key=lambda s: abs(s[0] - t))

    first = at(60)
    last = samples[-1]
    requests = sum(e["requests"] for e in result["trials"][0]["endpoints"])
    errors = sum(e["errors"]["total"] for e in result["trials"][0]["endpoints"])
    measured = result["trials"][0]["measured_s"]
    peak = result.get("client", {}).get("peak_rss_bytes", 0) / 1048576
    print(f"soak: open model, {args.rate} iterations/s for {seconds} s against the demo service")
    print(f"  requests {requests:,} ({requests / measured:,.0f}/s), errors {errors}, "
          f"dropped {result['trials'][0]['dropped_iterations']}")
    print(f"  perfgate RSS at {first[0]:5.0f} s: {first[1] / 1024:6.1f} MiB")
    print(f"  perfgate RSS at {last[0]:5.0f} s: {last[1] / 1024:6.1f} MiB")
    print(f"  perfgate peak RSS (getrusage): {peak:.1f} MiB")
    print("  samples (s, MiB): " + ", ".join(
        f"{t:.0f}:{k / 1024:.1f}" for t, k in samples[:: max(1, len(samples) // 12)]))


if __name__ == "__main__":
    main()
