#!/usr/bin/env python3
"""Open-model accuracy, user scale and fixed-rate cost: the rest of issue #5's goals.

Four parts (choose with --parts, default all):

  rate      Achieved rate against nginx (`return 200`, CPU 0) at 1,000, 10,000 and 50,000
            iterations/s for --duration s (perfgate on CPU 1): achieved / target, drops, errors.
  delay     A server answering after a fixed 20 ms (this script's own asyncio server, which
            records its own service time per request) at 200 req/s: perfgate's p50/p99 against
            the server's p50/p99. Then the same server stalling its whole process for 500 ms
            every 5 s: perfgate's p99 must show the stall (latency from the scheduled start),
            with the closed-loop figure beside it (50 users, no think time) to show what a closed
            loop misses.
  users     10,000 closed-model users with 1–5 s think time against the demo service (one GET
            per iteration): perfgate's peak RSS, and the achieved iteration rate against users /
            mean think time (3 s).
  fixed     A fixed 20,000 req/s against nginx, perfgate (open model) and oha (-q 20000, 50
            connections) alternating, both on CPU 1: client CPU µs per request (GNU time).

    python3 bench/open_model.py                     # everything, about 3 minutes
    python3 bench/open_model.py --parts rate,delay --duration 5

Installs what is missing like bench/engine.py (nginx, GNU time, oha into bench/.tools). Every
load is on 127.0.0.1, bounded in time, and stops by itself.
"""

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine  # noqa: E402  (nginx config, tool installation)

ROOT = engine.ROOT
PERFGATE = ROOT / "target" / "release" / "perfgate"
DEMO = ROOT / "target" / "release" / "perfgate-demo"
PIN1 = ["taskset", "-c", "1"] if shutil.which("taskset") else []
PIN0 = ["taskset", "-c", "0"] if shutil.which("taskset") else []


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


# ------------------------------------------------------------------------------------------
# A delay server with its own clock: answers every request `delay` s after reading it; can
# freeze its whole event loop for `stall` s every `every` s (like a GC pause).
# ------------------------------------------------------------------------------------------

RESP = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


class DelayServer:
    def __init__(self, delay, stall=0.0, every=0.0):
        self.delay, self.stall, self.every = delay, stall, every
        self.service_us = []
        self.loop = asyncio.new_event_loop()
        self.port = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._conn, "127.0.0.1", 0, backlog=4096))
        self.port = server.sockets[0].getsockname()[1]
        if self.stall > 0:
            self.loop.call_later(self.every, self._freeze)
        self.ready.set()
        self.loop.run_forever()

    def _freeze(self):
        time.sleep(self.stall)  # blocks the loop: nothing is read or written meanwhile
        self.loop.call_later(self.every, self._freeze)

    async def _conn(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                t0 = time.perf_counter()
                if b"content-length:" in head.lower():
                    n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    await reader.readexactly(n)
                await asyncio.sleep(self.delay)
                writer.write(RESP)
                await writer.drain()
                self.service_us.append((time.perf_counter() - t0) * 1e6)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# ------------------------------------------------------------------------------------------
# Running perfgate
# ------------------------------------------------------------------------------------------

def profile(port, load, path="/ok", start=None, think=None, timeout="5s"):
    p = f'name = "bench"\n[target]\nbase_url = "http://127.0.0.1:{port}"\nrequest_timeout = "{timeout}"\n'
    if start:
        p += f'start = "{start}"\nready = "/health"\n'
    p += f"\n[load]\n{load}\ntrials = 1\n\n[[scenario]]\nname = \"s\"\n"
    if think:
        p += f'think_time = "{think}"\n'
    p += f'[[scenario.step]]\nrequest = "GET {path}"\nname = "GET {path}"\n'
    return p


def perfgate(work, text, pin=True, workers=None):
    """Runs perfgate on `text`; returns (result, cpu seconds, peak RSS MB)."""
    (work / "p.toml").write_text(text)
    out = work / "r.json"
    if out.exists():
        out.unlink()
    cmd = (PIN1 if pin else []) + [str(PERFGATE), "run", "-q", "-p", "p.toml", "-o", str(out)]
    if workers:
        cmd += ["--workers", str(workers)]
    timing = work / "time.txt"
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(timing)] + cmd, cwd=work,
                       capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        sys.exit(f"perfgate exited {p.returncode}: {p.stderr[-800:]}")
    user, system, max_kb = timing.read_text().split()[-3:]
    return json.loads(out.read_text()), float(user) + float(system), int(max_kb) / 1024


def totals(result):
    t = result["trials"][0]
    eps = t["endpoints"]
    return {
        "requests": sum(e["requests"] for e in eps),
        "errors": sum(e["errors"]["total"] for e in eps),
        "dropped": t["dropped_iterations"],
        "iterations": t["iterations"],
        "measured_s": t["measured_s"],
        "latency": eps[0].get("latency_ms") or {},
    }


def start_nginx(work):
    (work / "nginx.conf").write_text(engine.NGINX_CONF.format(dir=work, port=engine.PORT))
    p = subprocess.Popen(PIN0 + ["nginx", "-p", str(work), "-c", str(work / "nginx.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    return p


# ------------------------------------------------------------------------------------------
# The parts
# ------------------------------------------------------------------------------------------

def part_rate(work, args):
    nginx = start_nginx(work)
    rows = []
    try:
        for rate in (1000, 10000, 50000):
            load = (f'model = "open"\nrate = {rate}\nmax_in_flight = 1000\nwarmup = "1s"\n'
                    f'duration = "{args.duration}s"')
            r, cpu, rss = perfgate(work, profile(engine.PORT, load), workers=1)
            t = totals(r)
            achieved = t["requests"] / t["measured_s"]
            rows.append((rate, achieved, t["dropped"], t["errors"], cpu / max(t["requests"], 1) * 1e6))
    finally:
        nginx.terminate()
        nginx.wait(10)
    print(f"\nrate: open model against nginx, warmup 1 s + {args.duration} s, perfgate on CPU 1 (1 worker)")
    print(f"{'target/s':>9} {'achieved/s':>11} {'ratio':>7} {'dropped':>8} {'errors':>7} {'CPU µs/req':>11}")
    for rate, achieved, dropped, errors, cpu in rows:
        print(f"{rate:>9} {achieved:>11.1f} {achieved / rate:>7.4f} {dropped:>8} {errors:>7} {cpu:>11.1f}")
    print("goal: achieved within ±1% of the target")


def part_delay(work, args):
    # The server (this process) on CPU 0, perfgate on CPU 1, as in the other parts.
    try:
        import os
        os.sched_setaffinity(0, {0})
    except (AttributeError, OSError):
        pass
    print(f"\ndelay: a server answering after 20 ms (CPU 0), open model 200/s for {args.duration} s "
          f"(perfgate on CPU 1); median (min–max) of {args.reps}")
    print(f"{'case':<42} {'p50 ms':>20} {'p99 ms':>20} {'server p50':>10} {'server p99':>10}")
    open_load = f'model = "open"\nrate = 200\nmax_in_flight = 1000\nwarmup = "0s"\nduration = "{args.duration}s"'
    closed_load = f'model = "closed"\nusers = 50\nwarmup = "0s"\nduration = "{args.duration}s"'
    cases = (("open: 20 ms", 0.0, open_load), ("open: 20 ms, 500 ms stall every 5 s", 0.5, open_load),
             ("closed (50 users): 20 ms, stalls", 0.5, closed_load))
    for case, stall, load in cases:
        rows = []
        for _ in range(args.reps):
            srv = DelayServer(0.020, stall=stall, every=5.0)
            try:
                r, _, _ = perfgate(work, profile(srv.port, load))
                lat = totals(r)["latency"]
                s = [v / 1000 for v in srv.service_us]
                rows.append((lat.get("p50", float("nan")), lat.get("p99", float("nan")), pct(s, 50), pct(s, 99)))
            finally:
                srv.stop()
        cols = list(zip(*rows))
        print(f"{case:<42} {engine.fmt(cols[0], '.2f'):>20} {engine.fmt(cols[1], '.2f'):>20} "
              f"{statistics.median(cols[2]):>10.2f} {statistics.median(cols[3]):>10.2f}")
        if stall == 0.0:
            d50 = [a - c for a, c in zip(cols[0], cols[2])]
            d99 = [b - d for b, d in zip(cols[1], cols[3])]
            print(f"{'  perfgate − server':<42} {engine.fmt(d50, '+.2f'):>20} {engine.fmt(d99, '+.2f'):>20}")
    print("goal: open-model p50 and p99 within 1 ms of the server's without a stall; with stalls, "
          "p99 shows the stall (≈ 500 ms for requests scheduled during it), which a closed loop hides")


def part_users(work, args):
    port = 18482
    load = (f'model = "closed"\nusers = {args.users}\nramp_up = "5s"\nwarmup = "5s"\n'
            f'duration = "{max(args.duration, 20)}s"')
    text = profile(port, load, path="/api/v1/active-cities/",
                   start=f"{DEMO} --addr 127.0.0.1:{port}", think="1s..5s", timeout="10s")
    r, cpu, rss = perfgate(work, text, pin=False)
    t = totals(r)
    rate = t["iterations"] / t["measured_s"]
    expected = args.users / 3.0
    print(f"\nusers: {args.users} closed-model users, think 1–5 s, against the demo service "
          f"(ramp 5 s, warmup 5 s, {t['measured_s']:.0f} s measured)")
    print(f"  iterations/s {rate:.1f}, expected users / mean think = {expected:.1f}: ratio {rate / expected:.4f}")
    print(f"  errors {t['errors']}, p50 {t['latency'].get('p50', float('nan')):.2f} ms, "
          f"p99 {t['latency'].get('p99', float('nan')):.2f} ms")
    print(f"  perfgate peak RSS {rss:.1f} MB, CPU {cpu:.1f} s")
    print("goal: RSS <= 150 MB; rate within 2% of users / mean think time")


def part_fixed(work, args, oha):
    nginx = start_nginx(work)
    rows = {"perfgate": [], "oha": []}
    try:
        for _ in range(args.reps):
            load = (f'model = "open"\nrate = 20000\nmax_in_flight = 1000\nwarmup = "0s"\n'
                    f'duration = "{args.duration}s"')
            r, cpu, rss = perfgate(work, profile(engine.PORT, load), workers=1)
            t = totals(r)
            rows["perfgate"].append((t["requests"] / t["measured_s"], cpu / t["requests"] * 1e6, rss))
            timing = work / "time.txt"
            cmd = PIN1 + [oha, "-z", f"{args.duration}s", "-q", "20000", "-c", "50", "--no-tui",
                          "--output-format", "json", engine.URL]
            p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(timing)] + cmd,
                               capture_output=True, text=True, timeout=args.duration + 60)
            user, system, max_kb = timing.read_text().split()[-3:]
            s = json.loads(p.stdout)["summary"]
            n = s["requestsPerSec"] * args.duration
            rows["oha"].append((s["requestsPerSec"], (float(user) + float(system)) / n * 1e6, int(max_kb) / 1024))
    finally:
        nginx.terminate()
        nginx.wait(10)
    print(f"\nfixed: 20,000 req/s against nginx for {args.duration} s, client on CPU 1; median (min–max) of {args.reps}")
    print(f"{'tool':<10} {'req/s':>24} {'CPU µs/req':>20} {'peak RSS MB':>20}")
    med = {}
    for tool, rs in rows.items():
        cols = list(zip(*rs))
        med[tool] = [statistics.median(c) for c in cols]
        print(f"{tool:<10} {engine.fmt(cols[0], '.0f'):>24} {engine.fmt(cols[1], '.2f'):>20} {engine.fmt(cols[2], '.1f'):>20}")
    print(f"perfgate / oha CPU per request: {med['perfgate'][1] / med['oha'][1]:.2f}x (goal <= 0.8x)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="rate,delay,users,fixed")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--users", type=int, default=10000)
    args = ap.parse_args()
    parts = args.parts.split(",")
    oha = engine.ensure_tools({"oha"} if "fixed" in parts else set())
    subprocess.run(["cargo", "build", "--release", "--quiet", "--workspace"], cwd=ROOT, check=True)
    work = Path(tempfile.mkdtemp(prefix="perfgate-open-bench-"))
    if "rate" in parts:
        part_rate(work, args)
    if "delay" in parts:
        part_delay(work, args)
    if "users" in parts:
        part_users(work, args)
    if "fixed" in parts:
        part_fixed(work, args, oha)


if __name__ == "__main__":
    main()
