"""A target with known resource use, for the tests of perfgate's target sampling.

    python3 resource_target.py PORT [--burn-ms MS] [--leak-mb-per-s MB] [--pid-file PATH]

Serves HTTP on 127.0.0.1:PORT. Every request burns MS milliseconds of CPU time (measured with
the thread's own CPU clock, so it is CPU used, whatever the machine's load). With --leak-mb-per-s,
a *child* process allocates and keeps that many MiB a second (written to, so resident), so the
leak shows only when the whole process tree is sampled. Stops by itself after 120 s.
"""

import argparse
import http.server
import os
import subprocess
import sys
import threading
import time

LEAK = """
import sys, time
rate = float(sys.argv[1])
kept = []
deadline = time.time() + 120
while time.time() < deadline:
    kept.append(bytearray(b"x" * int(rate * (1 << 20))))
    time.sleep(1)
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--burn-ms", type=float, default=0.0)
    ap.add_argument("--leak-mb-per-s", type=float, default=0.0)
    ap.add_argument("--pid-file")
    args = ap.parse_args()
    burn = args.burn_ms / 1000.0

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if burn > 0:
                start = time.thread_time()
                x = 0
                while time.thread_time() - start < burn:
                    x += 1
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    child = None
    if args.leak_mb_per_s > 0:
        child = subprocess.Popen([sys.executable, "-c", LEAK, str(args.leak_mb_per_s)])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.pid_file:
        tmp = args.pid_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, args.pid_file)
    threading.Timer(120, server.shutdown).start()
    try:
        server.serve_forever()
    finally:
        if child:
            child.kill()


if __name__ == "__main__":
    main()
