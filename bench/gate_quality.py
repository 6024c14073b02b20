#!/usr/bin/env python3
"""How good is the gate on this machine? False alarms and detection, on two kinds of target.

For each target, records a baseline of `--baseline-runs` separate runs (3, as the README
recommends: the gate then measures the noise between runs) against the unchanged service, then
runs `perfgate check` against it `--runs` times per condition, each with a fresh service started
by perfgate:

  aa          the unchanged service                      -> every FAIL is a false alarm
  aa-pause    unchanged, but the service process is paused (SIGSTOP) for --pause-ms at a random
              moment of one trial: a disturbed trial    -> every FAIL is a false alarm
  1.10 …      every request's work slower by the factor -> every FAIL is a detection

Targets:
  demo   the repository's profile and thresholds against the demo ticketing service (closed
         model, 100 users, 8 endpoints, tokio); knob PERFGATE_DEMO_SLOWDOWN
  bench  bench/target.toml with perfgate's default rules against perfgate-bench-target (open
         model, 100 iterations/s, a CPU-bound ≈8 ms and an I/O-bound ≈10 ms endpoint behind 4
         worker slots, blocking threads); knob PERFGATE_BENCH_SLOWDOWN (exact: the work units)

With `--design ab`, no baseline is stored: each check is `perfgate ab`, the unchanged service
(the profile's target.start) as the base and the condition's service as the head, their trials
interleaved in pairs on this machine (twice the load per check).

Prints, per target and condition: runs, FAIL, WARN, INCONCLUSIVE, PASS (and other verdicts), the
trials the current side needed (adaptive trials), the seconds of load per check, and the share
of CPU time the host stole from this (virtual) machine during the checks (/proc/stat): a
condition measured while a neighbour took the CPU says so.

    python3 bench/gate_quality.py --runs 20                                  # both targets
    python3 bench/gate_quality.py --targets bench --runs 5 --conditions aa,1.10
    python3 bench/gate_quality.py --design ab --targets bench --runs 10 --conditions aa,1.10
"""

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERFGATE = ROOT / "target" / "release" / "perfgate"

TARGETS = {
    "demo": {
        "profile": "perfgate.toml",
        "thresholds": "thresholds.toml",
        "knob": "PERFGATE_DEMO_SLOWDOWN",
        "pid": lambda work: pgrep("perfgate-demo --addr 127.0.0.1:18480"),
    },
    "bench": {
        "profile": "bench/target.toml",
        "thresholds": None,
        "knob": "PERFGATE_BENCH_SLOWDOWN",
        "pid": lambda work: read_pid(work / "target.pid"),
    },
}


def pgrep(pattern):
    p = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    pids = [int(x) for x in p.stdout.split()]
    return pids[0] if pids else None


def read_pid(path):
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def trial_plan(profile):
    """(seconds per trial, planned trials) from the profile, read the simple way."""
    import tomllib
    load = tomllib.loads((ROOT / profile).read_text())["load"]
    secs = lambda s: float(s.rstrip("ms")) / (1000 if s.endswith("ms") else 1)
    return secs(load.get("warmup", "0s")) + secs(load["duration"]), int(load.get("trials", 1))


def pauser(target, work, proc, pause_ms, span, rng):
    """Pauses the target once, at a random moment within the planned trials, for pause_ms."""
    deadline = time.time() + 60
    pid = None
    while time.time() < deadline and proc.poll() is None:
        pid = target["pid"](work)
        if pid:
            break
        time.sleep(0.05)
    if not pid:
        return
    time.sleep(1.0 + rng.uniform(0, span))
    if proc.poll() is not None:
        return
    # The whole process group perfgate started the service in: a shell and the service alike.
    try:
        group = os.getpgid(pid)
        os.killpg(group, signal.SIGSTOP)
    except ProcessLookupError:
        return
    try:
        time.sleep(pause_ms / 1000)
    finally:
        try:
            os.killpg(group, signal.SIGCONT)
        except ProcessLookupError:
            pass


def start_command(profile):
    import tomllib
    return tomllib.loads((ROOT / profile).read_text())["target"]["start"]


def cpu_times():
    """(steal, total) jiffies of all CPUs from /proc/stat, or None where there is none: the
    time a virtual machine's host gave to others while this machine wanted to run."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is inside user already)
    return (fields[7], sum(fields[:8])) if len(fields) >= 8 else None


def steal_share(before, after):
    if before is None or after is None or after[1] <= before[1]:
        return None
    return 100.0 * (after[0] - before[0]) / (after[1] - before[1])


def check(target, name, work, env, cond_dir, pause_ms, rng, ab=None):
    """`perfgate check` against the stored baseline; with `ab` (the condition's knob setting, or
    None for A/A), `perfgate ab` of the unchanged service against the condition's."""
    if ab is None:
        args = [str(PERFGATE), "check", "-q", "-p", target["profile"],
                "--baselines-dir", str(work / "baselines"), "--baseline", name]
        sides = 1
    else:
        start = start_command(target["profile"])
        head = f"env {ab[0]}={ab[1]} {start}" if ab[1] else start
        args = [str(PERFGATE), "ab", "-q", "-p", target["profile"], "--base", start, "--head", head,
                "--base-output", str(cond_dir / "base.json")]
        sides = 2
    args += ["-o", str(cond_dir / "current.json"), "--report-dir", str(cond_dir)]
    # No thresholds file: perfgate's built-in default rules (an empty file is read as them; the
    # repository's thresholds.toml would otherwise be picked up from the working directory).
    defaults = work / "defaults.toml"
    defaults.touch()
    args += ["-t", target["thresholds"] or str(defaults)]
    # A pid file left by the last check names a process that is gone.
    (work / "target.pid").unlink(missing_ok=True)
    started, cpu = time.time(), cpu_times()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t = None
    if pause_ms:
        trial_s, trials = trial_plan(target["profile"])
        t = threading.Thread(target=pauser, args=(target, work, proc, pause_ms, trial_s * trials * sides - 1.5, rng))
        t.start()
    _, stderr = proc.communicate(timeout=900)
    if t:
        t.join()
    return proc.returncode, stderr, time.time() - started, steal_share(cpu, cpu_times())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--targets", default="demo,bench")
    ap.add_argument("--conditions", default="aa,aa-pause,1.10,1.15,1.30",
                    help="comma-separated: aa, aa-pause and slowdown factors")
    ap.add_argument("--pause-ms", type=int, default=1000, help="how long aa-pause stops the service")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--baseline-runs", type=int, default=3,
                    help="separate runs the baseline is saved from (1: the old one-run baseline)")
    ap.add_argument("--design", choices=["baseline", "ab"], default="baseline",
                    help="baseline: `check` against a stored baseline; ab: `perfgate ab`, base and head interleaved")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    sh = lambda cmd, **kw: subprocess.run(cmd, cwd=ROOT, **kw)
    sh(["cargo", "build", "--release", "--workspace", "--quiet"], check=True)
    work = Path(tempfile.mkdtemp(prefix="perfgate-gate-quality-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFGATE_", "GITHUB_"))}
    base_env["PERFGATE_BENCH_PID_FILE"] = str(work / "target.pid")

    table = []
    for tname in args.targets.split(","):
        target = TARGETS[tname]
        ab = args.design == "ab"
        if not ab:
            print(f"[{tname}] recording the baseline ({target['profile']}, {args.baseline_runs} runs) ...",
                  file=sys.stderr)
        bases = []
        for k in range(0 if ab else args.baseline_runs):
            base = work / f"{tname}-base-{k}.json"
            sh([str(PERFGATE), "run", "-q", "-p", target["profile"], "-o", str(base)], env=base_env,
               check=True, stdout=subprocess.DEVNULL)
            bases.append(str(base))
        if not ab:
            sh([str(PERFGATE), "baseline", "save", tname, *bases, "--dir", str(work / "baselines")],
               env=base_env, check=True, stdout=subprocess.DEVNULL)
        for cond in args.conditions.split(","):
            env = dict(base_env)
            pause = 0
            knob = None
            if cond == "aa-pause":
                pause = args.pause_ms
            elif cond != "aa":
                knob = cond
                if not ab:
                    env[target["knob"]] = cond
            verdicts, failing, trials, secs, steal = collections.Counter(), collections.Counter(), [], [], []
            for i in range(args.runs):
                d = work / f"{tname}-{cond}-{i}"
                code, stderr, took, stolen = check(target, tname, work, env, d, pause, rng,
                                           (target["knob"], knob) if ab else None)
                secs.append(took)
                if stolen is not None:
                    steal.append(stolen)
                try:
                    c = json.loads((d / "report.json").read_text())
                except (OSError, ValueError):
                    verdicts["error"] += 1
                    print(f"  {tname} {cond} run {i + 1}: exit {code}: {stderr.strip()[-300:]}", file=sys.stderr)
                    continue
                verdicts[c["verdict"]] += 1
                trials.append(c["current"]["trials"])
                for r in c["rows"]:
                    if r["verdict"] == "fail":
                        failing[f'{r["endpoint"]} {r["metric"]}'] += 1
                print(f"  {tname} {cond} run {i + 1}/{args.runs}: {c['verdict']} (exit {code}, "
                      f"{c['current']['trials']} trials, {took:.0f} s"
                      + (f", steal {stolen:.0f}%" if stolen is not None else "") + ")", file=sys.stderr)
            table.append((tname, cond, verdicts, failing, trials, secs, steal))

    print()
    against = ("perfgate ab: base and head interleaved in pairs" if args.design == "ab"
               else f"against a baseline of {args.baseline_runs} run(s)")
    print(f"gate quality: {args.runs} checks per target and condition, {against} "
          f"(aa-pause: the service stopped for {args.pause_ms} ms once per check)")
    print(f"{'target':<7} {'condition':<10} {'runs':>4} {'FAIL':>5} {'WARN':>5} {'INCONCL':>7} {'PASS':>5} "
          f"{'other':>5}  {'trials (mean/max)':>17}  {'s/check (mean/max)':>18}  {'steal % (mean/max)':>18}")
    for tname, cond, v, failing, trials, secs, steal in table:
        other = sum(n for k, n in v.items() if k not in ("fail", "warn", "inconclusive", "pass"))
        name = cond if cond.startswith("aa") else f"x{cond}"
        tr = f"{sum(trials) / max(1, len(trials)):.1f}/{max(trials, default=0)}"
        sc = f"{sum(secs) / max(1, len(secs)):.0f}/{max(secs, default=0):.0f}"
        st = f"{sum(steal) / len(steal):.1f}/{max(steal):.0f}" if steal else "-"
        print(f"{tname:<7} {name:<10} {sum(v.values()):>4} {v['fail']:>5} {v['warn']:>5} {v['inconclusive']:>7} "
              f"{v['pass']:>5} {other:>5}  {tr:>17}  {sc:>18}  {st:>18}")
    for tname, cond, v, failing, trials, secs, steal in table:
        if failing:
            top = ", ".join(f"{k} ({n})" for k, n in failing.most_common(5))
            print(f"  {tname} {cond} failing checks: {top}")
    print(f"(work files in {work})")


if __name__ == "__main__":
    main()
