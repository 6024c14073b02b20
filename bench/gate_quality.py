#!/usr/bin/env python3
"""How good is the gate on this machine? False alarms and detection against the demo service.

Records one baseline of the repository's profile against the unchanged demo service, then runs
`perfgate check` against it N times for each condition:

  A/A     the unchanged service          -> every FAIL is a false alarm
  +15%    PERFGATE_DEMO_SLOWDOWN=1.15    -> every FAIL is a detection
  +30%    PERFGATE_DEMO_SLOWDOWN=1.30

and prints how many runs ended in each verdict. Each check is bounded by the profile (5 trials
of 2 s warmup + 8 s, about 50 s); the whole script takes about N x 3 x 50 s.

    python3 bench/gate_quality.py --runs 20          # the issue's protocol (~50 min)
    python3 bench/gate_quality.py --runs 3 --conditions aa,1.30
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERFGATE = ROOT / "target" / "release" / "perfgate"


def sh(cmd, env=None, **kw):
    return subprocess.run(cmd, cwd=ROOT, env=env, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--conditions", default="aa,1.15,1.30", help="comma-separated: aa and slowdown factors")
    ap.add_argument("--profile", default="perfgate.toml")
    ap.add_argument("--thresholds", default="thresholds.toml")
    args = ap.parse_args()

    sh(["cargo", "build", "--release", "--workspace", "--quiet"], check=True)
    work = Path(tempfile.mkdtemp(prefix="perfgate-gate-quality-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFGATE_")}

    print(f"recording the baseline ({args.profile}) ...", file=sys.stderr)
    base = work / "base.json"
    sh([str(PERFGATE), "run", "-q", "-p", args.profile, "-o", str(base)], env=env, check=True, stdout=subprocess.DEVNULL)
    sh([str(PERFGATE), "baseline", "save", "aa", str(base), "--dir", str(work / "baselines")], env=env, check=True,
       stdout=subprocess.DEVNULL)

    rows = []
    for cond in args.conditions.split(","):
        cenv = dict(env)
        if cond != "aa":
            cenv["PERFGATE_DEMO_SLOWDOWN"] = cond
        verdicts = collections.Counter()
        failing = collections.Counter()
        codes = collections.Counter()
        started = time.time()
        for i in range(args.runs):
            rep = work / f"{cond}-{i}"
            p = sh([str(PERFGATE), "check", "-q", "-p", args.profile, "-t", args.thresholds,
                    "--baselines-dir", str(work / "baselines"), "--baseline", "aa",
                    "-o", str(rep / "current.json"), "--report-dir", str(rep)],
                   env=cenv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            codes[p.returncode] += 1
            try:
                c = json.loads((rep / "report.json").read_text())
            except (OSError, ValueError):
                verdicts["error"] += 1
                print(f"  {cond} run {i}: exit {p.returncode}: {p.stderr.strip()[-300:]}", file=sys.stderr)
                continue
            verdicts[c["verdict"]] += 1
            for r in c["rows"]:
                if r["verdict"] == "fail":
                    failing[f'{r["endpoint"]} {r["metric"]}'] += 1
            print(f"  {cond} run {i + 1}/{args.runs}: {c['verdict']} (exit {p.returncode})", file=sys.stderr)
        rows.append((cond, verdicts, failing, codes, time.time() - started))

    print()
    print(f"gate quality: {args.runs} checks per condition, profile {args.profile}, thresholds {args.thresholds}")
    print(f"{'condition':<10} {'fail':>5} {'warn':>5} {'inconcl.':>8} {'improved':>8} {'pass':>5} {'other':>5}  exit codes      s/check")
    for cond, v, failing, codes, secs in rows:
        other = sum(n for k, n in v.items() if k not in ("fail", "warn", "inconclusive", "improved", "pass"))
        name = "A/A" if cond == "aa" else f"x{cond}"
        print(f"{name:<10} {v['fail']:>5} {v['warn']:>5} {v['inconclusive']:>8} {v['improved']:>8} {v['pass']:>5} {other:>5}  "
              f"{dict(sorted(codes.items()))!s:<15} {secs / max(1, args.runs):.0f}")
    for cond, v, failing, codes, secs in rows:
        if failing:
            top = ", ".join(f"{k} ({n})" for k, n in failing.most_common(6))
            print(f"  {'A/A' if cond == 'aa' else 'x' + cond} failing checks: {top}")
    aa = next((r for r in rows if r[0] == "aa"), None)
    if aa:
        print(f"false FAILs in A/A: {aa[1]['fail']} of {args.runs}")
    for cond, v, *_ in rows:
        if cond != "aa":
            print(f"detected at x{cond}: {v['fail']} of {args.runs} ({100 * v['fail'] / max(1, args.runs):.0f}%)")
    print(f"(work files in {work})")


if __name__ == "__main__":
    main()
