#!/usr/bin/env python3
"""linksim.py: how closely the link simulator (tests/linksim) keeps to its model, on this machine.

The simulator's tests (tests/linksim/link_sim_test.cc) check only what a loaded machine cannot
break: a delay is at least the latency, a capped transfer takes at least size / rate, reading goes
on while bytes are in flight. How much longer than the model things take is a figure of the
machine, and lives here. Three measurements, each through its own `outpost-linksim` process in
front of a server on 127.0.0.1:

  1. round trip: 4-byte pings through an echo server behind a 200 ms link (model: 400 ms);
  2. delay queue: ten 10-byte messages 50 ms apart into a 300 ms link; each should arrive 300 ms
     after it was sent (a link that slept per message would make the delays grow);
  3. rate cap: 200 kB into a sink behind an 800 kbit/s link (model: 2.0 s, 100 kB/s).

Prints one line per figure with the model, the measurement and the overhead, and a verdict
(overhead under 50 ms, 100 ms for the transfer). A report, not a test: exits 0 whenever it ran.

Usage: bench/linksim.py            (after `ninja -C build/release outpost-linksim`)
Environment: OUTPOST_BUILD (default build/release under the repository root), OUTPOST_LINKSIM
(default $OUTPOST_BUILD/tests/linksim/outpost-linksim).
"""
import os
import socket
import socketserver
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("OUTPOST_BUILD", "build/release"))
LINKSIM = os.environ.get("OUTPOST_LINKSIM", os.path.join(BUILD, "tests/linksim/outpost-linksim"))


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while data := self.request.recv(65536):
                self.request.sendall(data)
        except ConnectionResetError:  # the link is stopped (reset) once a figure is taken
            pass


class Sink(socketserver.BaseRequestHandler):
    arrivals = []  # (time, bytes) of every read, for the last connection

    def handle(self):
        Sink.arrivals = []
        try:
            while data := self.request.recv(65536):
                Sink.arrivals.append((time.monotonic(), len(data)))
        except ConnectionResetError:
            pass


def serve(handler):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Link:
    """An outpost-linksim process in front of `target_port`."""

    def __init__(self, target_port, *options):
        self.proc = subprocess.Popen(
            [LINKSIM, "--listen", "127.0.0.1:0", "--target", f"127.0.0.1:{target_port}", *options],
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()  # "listening 127.0.0.1:PORT"
        self.port = int(line.rsplit(":", 1)[1])

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def wait_for(condition, safety=60):
    deadline = time.monotonic() + safety
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the link never delivered")
        time.sleep(0.001)


def round_trip():
    echo = serve(Echo)
    link = Link(echo.server_address[1], "--latency-ms", "200")
    s = link.connect()
    rtts = []
    for _ in range(10):
        start = time.monotonic()
        s.sendall(b"ping")
        got = b""
        while len(got) < 4:
            got += s.recv(4 - len(got))
        rtts.append(time.monotonic() - start)
    s.close()
    link.close()
    echo.shutdown()
    return statistics.median(rtts), max(rtts)


def delay_queue():
    sink = serve(Sink)
    link = Link(sink.server_address[1], "--latency-ms", "300")
    s = link.connect()
    sent = []
    for _ in range(10):
        sent.append(time.monotonic())
        s.sendall(b"0123456789")
        time.sleep(0.05)
    wait_for(lambda: sum(n for _, n in Sink.arrivals) >= 100)
    # The arrival of message i is the first read that completes its 10 bytes.
    delays, total = [], 0
    for at, n in Sink.arrivals:
        before = total // 10
        total += n
        delays += [at - sent[i] for i in range(before, total // 10)]
    s.close()
    link.close()
    sink.shutdown()
    return delays


def rate_cap():
    sink = serve(Sink)
    link = Link(sink.server_address[1], "--rate-kbps", "800")
    s = link.connect()
    start = time.monotonic()
    s.sendall(os.urandom(200_000))
    wait_for(lambda: sum(n for _, n in Sink.arrivals) >= 200_000)
    seconds = Sink.arrivals[-1][0] - start
    s.close()
    link.close()
    sink.shutdown()
    return seconds


def report(name, model, measured, unit, allowed):
    over = measured - model
    verdict = "PASS" if 0 <= over <= allowed else "FAIL"
    print(f"{name:<34} {model:>10.1f} {measured:>10.1f} {over:>+9.1f} {unit:<3} {verdict}")


def main():
    if not os.access(LINKSIM, os.X_OK):
        sys.exit(f"no link simulator at {LINKSIM} (build outpost-linksim, or set OUTPOST_LINKSIM)")
    print(f"{'figure':<34} {'model':>10} {'measured':>10} {'overhead':>9}")
    median, worst = round_trip()
    report("round trip, median of 10", 400, median * 1000, "ms", 50)
    report("round trip, slowest of 10", 400, worst * 1000, "ms", 50)
    delays = delay_queue()
    report("delay queue, first message", 300, delays[0] * 1000, "ms", 50)
    report("delay queue, last message", 300, delays[-1] * 1000, "ms", 50)
    seconds = rate_cap()
    report("200 kB at 800 kbit/s", 2000, seconds * 1000, "ms", 100)
    print(f"effective rate: {200_000 * 8 / seconds / 1000:.0f} kbit/s of 800")


if __name__ == "__main__":
    main()
