#!/usr/bin/env python3
"""Idle connections against the hub's sync port (issue #12, finding 4).

Makes a hub with a small channel (`hub init`, `publish`), enrols a school (`hub enrol`, `join`),
starts `outpost hub serve` with its sync port on 127.0.0.1, then opens N connections to that port
from 127.0.0.2 that never send a byte (a stranger holding slots), and runs the school's
`outpost sync` from 127.0.0.1. Prints how many of the stranger's connections the hub still holds
(ss) before and after, and whether the school's sync completed and how long it took. With the
per-address cap (max_sessions_per_address, 4) the hub closes all but 4 of them at accept, and
the handshake deadline (handshake_timeout, 10 s) closes those; the school finds a slot at once.
Before the cap, 32 idle connections (max_sessions) locked every school out for 60 s a read.
A report, not a test: exits 0 whenever it could run.

Usage: bench/sync_flood.py [--connections 40] [--port 17100]
Environment: OUTPOST_BUILD (default build/release under the repository root).
"""
import argparse
import json
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
STRANGER = "127.0.0.2"


def run(*args):
    out = subprocess.run([OUTPOST, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"outpost {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout


def held_from(address, port):
    # The hub's ends: from its sync port to `address`.
    out = subprocess.run(["ss", "-Htn", "state", "established", "sport", "=", f":{port}", "dst",
                          address], capture_output=True, text=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def make_channel(folder):
    os.makedirs(folder)
    with open(os.path.join(folder, "outpost.toml"), "w") as f:
        f.write('[channel]\nid = "flood-demo"\ntitle = "Flood demo"\nlanguage = "en"\n')
    for i in range(20):
        with open(os.path.join(folder, f"lesson-{i}.html"), "w") as f:
            f.write(f"<!DOCTYPE html><title>Lesson {i}</title>" +
                    f"<p>Lesson {i}: water evaporates, condenses and falls.</p>\n" * 200)


def wait_listening(port, server):
    for _ in range(100):
        if server.poll() is not None:
            sys.exit("outpost hub serve exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)  # waiting for the hub to listen, with a bound
    sys.exit(f"outpost hub serve did not listen on 127.0.0.1:{port}")


def open_idle(port, n):
    conns = []
    for _ in range(n):
        s = socket.socket()
        s.bind((STRANGER, 0))
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            conns.append(s)
        except OSError:
            s.close()
    return conns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=40)
    ap.add_argument("--port", type=int, default=17100)
    args = ap.parse_args()
    if not os.path.exists(OUTPOST):
        sys.exit(f"missing {OUTPOST}: build first (bench/README.md)")
    work = tempfile.mkdtemp(prefix="outpost-flood-")
    hub, site = os.path.join(work, "hub"), os.path.join(work, "site")
    server = None
    try:
        make_channel(os.path.join(work, "channel"))
        run("hub", "init", "--data", hub)
        run("publish", "--data", hub, os.path.join(work, "channel"))
        code = json.loads(run("hub", "enrol", "--data", hub, "--name", "school", "--json"))["code"]
        server = subprocess.Popen([OUTPOST, "hub", "serve", "--data", hub, "--listen",
                                   f"127.0.0.1:{args.port + 1}", "--sync-listen",
                                   f"127.0.0.1:{args.port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(args.port, server)
        run("join", "--data", site, f"127.0.0.1:{args.port}", code)
        conns = open_idle(args.port, args.connections)
        time.sleep(0.5)  # lets the hub's accept loop reach the last of them before counting
        print(f"{len(conns)} idle connections opened from {STRANGER} to the sync port; "
              f"the hub holds {held_from(STRANGER, args.port)} of them")
        start = time.time()
        out = subprocess.run([OUTPOST, "sync", "--data", site, "--json"], capture_output=True,
                             text=True)
        took = time.time() - start
        result = json.loads(out.stdout) if out.stdout.strip() else {"error": out.stderr.strip()}
        if result.get("complete"):
            print(f"the school's `outpost sync` from 127.0.0.1 completed in {took:.2f} s "
                  f"({result.get('round_trips')} round trips, "
                  f"{result.get('bytes_received')} bytes received)")
        else:
            print(f"the school's `outpost sync` from 127.0.0.1 did NOT complete after {took:.2f} s:"
                  f" {result.get('error', out.stderr.strip())}")
        print(f"the hub holds {held_from(STRANGER, args.port)} of the idle connections now")
        time.sleep(11)  # past the handshake deadline (10 s)
        print(f"the hub holds {held_from(STRANGER, args.port)} of them 11 s later")
        for s in conns:
            s.close()
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
