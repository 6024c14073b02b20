#!/usr/bin/env python3
"""Instructions per request, counted by callgrind: repeatable whatever else the machine is doing.

Runs each perfgate binary given (default: target/release/perfgate) under `valgrind --tool=callgrind`
with one engine worker, a closed loop of 20 keep-alive users against nginx (`return 200`) on
127.0.0.1 for --duration seconds, and divides the instructions the whole process executed (user
space, start-up included) by the requests it completed. Compare two builds in one run:

    python3 bench/instructions.py                                  # the current build
    python3 bench/instructions.py --bins /tmp/perfgate-old,target/release/perfgate

Needs valgrind and nginx (Debian packages). Everything runs on 127.0.0.1 and stops by itself.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 18081
sys.path.insert(0, str(ROOT / "bench"))
from engine import NGINX_CONF  # noqa: E402  (the same server as the engine benchmark)

PROFILE = """name = "instructions"
[target]
base_url = "http://127.0.0.1:{port}"
request_timeout = "20s"
[load]
model = "closed"
users = 20
duration = "{duration}s"
[[scenario]]
name = "ok"
[[scenario.step]]
request = "GET /ok"
"""


def measure(binary, work, duration):
    prof = work / "instructions.toml"
    prof.write_text(PROFILE.format(port=PORT, duration=duration))
    out = work / "result.json"
    cg = work / "callgrind.out"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}", binary, "run", "-q",
                    "--workers", "1", "-p", str(prof), "-o", str(out)],
                   check=True, capture_output=True, timeout=duration * 20 + 60)
    summary = next(l for l in cg.read_text().splitlines() if l.startswith(("summary:", "totals:")))
    ir = int(summary.split()[1])
    t = json.loads(out.read_text())["trials"][0]
    requests = sum(e["requests"] for e in t["endpoints"])
    errors = sum(e["errors"]["total"] for e in t["endpoints"])
    return ir, requests, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bins", default=str(ROOT / "target" / "release" / "perfgate"))
    ap.add_argument("--duration", type=int, default=4)
    ap.add_argument("--reps", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="perfgate-instructions-"))
    (work / "nginx.conf").write_text(NGINX_CONF.format(dir=work, port=PORT))
    nginx = subprocess.Popen(["nginx", "-p", str(work), "-c", str(work / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    rows = []
    try:
        for rep in range(args.reps):
            for b in args.bins.split(","):
                ir, n, errors = measure(b, work, args.duration)
                rows.append((b, ir, n, errors))
                print(f"  {b}: {ir} instructions, {n} requests ({errors} errors): {ir / n:.0f} per request",
                      file=sys.stderr)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    print(f"\ninstructions per request (callgrind, whole process), 20 users, 1 worker, {args.duration} s against nginx")
    for b, ir, n, errors in rows:
        print(f"{b:<50} {ir / n:>10.0f}  ({n} requests, {errors} errors)")


if __name__ == "__main__":
    main()
