#!/usr/bin/env python3
"""Slow clients against the learner server (issue #12, finding 5).

Starts `outpost serve` on the demo curriculum, then opens N connections from 127.0.0.1 that
each send a POST head announcing a 1 MB body and trickle it one byte per round (a phone, or an
attacker, holding connections open), while "another phone" on 127.0.0.2 asks for the home page
every 2 s. Prints, each round, how many connections the server holds (ss) and what the other
phone got and how fast. With the per-address caps and the request deadline, the server holds
at most max_body_bytes_per_address / 1 MB of them, drops those at read_timeout_seconds, and the
other phone is answered at once throughout. A report, not a test: exits 0 whenever it could run.

Usage: bench/slow_clients.py [--connections 300] [--rounds 8] [--port 18080]
Environment: OUTPOST_BUILD (default build/release under the repository root).
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("OUTPOST_BUILD", "build/release"))
OUTPOST = os.path.join(BUILD, "cli", "outpost")
DEMO = os.path.join(BUILD, "demo", "water-cycle")


def held_connections(port):
    out = subprocess.run(["sh", "-c", f"ss -Htn state established sport = :{port} | wc -l"],
                         capture_output=True, text=True).stdout.strip()
    return int(out or 0)


def other_phone(port):
    return subprocess.run(["curl", "-s", "--interface", "127.0.0.2", "-o", "/dev/null", "-w",
                           "%{http_code} in %{time_total} s", f"http://127.0.0.1:{port}/"],
                          capture_output=True, text=True).stdout


def open_tricklers(port, n):
    conns = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"POST /api/v1/search HTTP/1.1\r\nHost: box\r\n"
                      b"Content-Length: 1000000\r\n\r\n")
            conns.append(s)
        except OSError:
            s.close()
    return conns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--port", type=int, default=18080)
    args = ap.parse_args()
    for path in (OUTPOST, DEMO):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: build first (bench/README.md)")
    data = tempfile.mkdtemp(prefix="outpost-slow-")
    server = None
    try:
        subprocess.run([OUTPOST, "import", "--data", data, DEMO], check=True,
                       stdout=subprocess.DEVNULL)
        server = subprocess.Popen([OUTPOST, "serve", "--data", data, "--listen",
                                   f"127.0.0.1:{args.port}"], stderr=subprocess.DEVNULL)
        for _ in range(100):
            if other_phone(args.port).startswith("200"):
                break
            time.sleep(0.1)  # waiting for the server to listen, with a bound
        conns = open_tricklers(args.port, args.connections)
        print(f"{len(conns)} connections opened from 127.0.0.1, each trickling a 1 MB body")
        start = time.time()
        for _ in range(args.rounds):
            for s in conns:
                try:
                    s.send(b"x")
                except OSError:
                    pass
            print(f"t={time.time() - start:5.1f} s  server holds {held_connections(args.port):4d}"
                  f"  another phone (127.0.0.2) GET /: {other_phone(args.port)}")
            time.sleep(2)
        for s in conns:
            s.close()
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
