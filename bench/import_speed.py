#!/usr/bin/env python3
"""How fast `perfgate import k6-json` reads k6's NDJSON, and in how much memory, beside the
obvious peer: a Python script reading the same file line by line with json.loads and keeping
the durations per name (what teams' own analysis scripts do). A real k6 run (`k6 run --out
json`, 5 VUs for --seconds against the demo on 127.0.0.1) is repeated --copies times into one
big file; both readers are timed with GNU time. Figures only."""

import argparse, os, re, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = """
import http from 'k6/http';
export const options = { vus: 5, duration: __ENV.DURATION };
export default function () {
  http.get(`${__ENV.BASE}/api/v1/shows/?page=1`, { tags: { name: 'GET /api/v1/shows/' } });
  http.get(`${__ENV.BASE}/api/v1/shows/3/`, { tags: { name: 'GET /api/v1/shows/[id]/' } });
}
"""
PEER = """
import json, sys
d = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "Point" and o.get("metric") == "http_req_duration":
        d.setdefault(o["data"]["tags"].get("name", ""), []).append(o["data"]["value"])
print(sum(len(v) for v in d.values()))
"""


def timed(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M"] + cmd, capture_output=True, text=True)
    m = re.search(r"TIME ([\d.]+) (\d+)", out.stderr)
    if out.returncode != 0 or not m:
        sys.exit(f"{cmd[0]} failed: {out.stderr[-500:]}")
    return float(m.group(1)), int(m.group(2)) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--copies", type=int, default=20)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "--workspace"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp()
    demo = subprocess.Popen([f"{ROOT}/target/release/perfgate-demo", "--addr", "127.0.0.1:18495"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        with open(f"{tmp}/s.js", "w") as f:
            f.write(SCRIPT)
        subprocess.run(["k6", "run", "-q", "--no-usage-report", "-e", "BASE=http://127.0.0.1:18495",
                        "-e", f"DURATION={a.seconds}s", "--out", f"json={tmp}/one.json", f"{tmp}/s.js"],
                       check=True, capture_output=True)
    finally:
        demo.terminate()
        demo.wait()
    one = open(f"{tmp}/one.json", "rb").read()
    with open(f"{tmp}/big.json", "wb") as f:
        for _ in range(a.copies):
            f.write(one)
    mb = os.path.getsize(f"{tmp}/big.json") / 1e6
    pg = timed([f"{ROOT}/target/release/perfgate", "import", "-q", "k6-json", f"{tmp}/big.json", "-o", f"{tmp}/r.json"])
    py = timed([sys.executable, "-c", PEER, f"{tmp}/big.json"])
    print(f"k6 NDJSON: {mb:.0f} MB ({a.copies} copies of a {a.seconds} s run)")
    print(f"{'reader':<28} {'s':>6} {'MB/s':>7} {'peak RSS MB':>12}")
    for name, (s, rss) in [("perfgate import k6-json", pg), ("python json.loads per line", py)]:
        print(f"{name:<28} {s:>6.2f} {mb / max(s, 1e-9):>7.0f} {rss:>12.1f}")
    print(f"perfgate / python: {py[0] / max(pg[0], 1e-9):.1f}x the speed, {pg[1] / py[1]:.2f}x the memory")


if __name__ == "__main__":
    main()
