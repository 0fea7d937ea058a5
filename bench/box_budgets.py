#!/usr/bin/env python3
"""box_budgets.py: start-up time and idle memory of one server process (bench/box_budgets.sh).

    box_budgets.py URL PAGES [FIRST_PAGE] -- COMMAND...

Starts COMMAND, times from the start to the first 200 answer of URL, then opens PAGES pages
the way a few learners would (from FIRST_PAGE, default URL, following the links of each page answered, breadth
first, same server only), waits 10 s for the process to settle, and prints one JSON line:
start_ms, rss_kb (VmRSS), pss_kb (smaps_rollup), pages answered. Stops the process (SIGTERM,
then SIGKILL). Standard library only.
"""
import json
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def fetch(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read()
        return r.status, body, r.geturl()


def browse(start, count):
    """Opens up to `count` pages of start's server, breadth first; returns how many answered."""
    queue, seen, answered = [start], {start}, 0
    host = urllib.parse.urlsplit(start)[:2]
    while queue and answered < count:
        url = queue.pop(0)
        try:
            status, body, url = fetch(url)  # links are relative to where a redirect led
        except OSError:
            continue
        answered += status == 200
        for href in re.findall(rb'href="([^"#]+)"', body):
            link = urllib.parse.urljoin(url, href.decode("utf-8", "replace"))
            if urllib.parse.urlsplit(link)[:2] == host and link not in seen:
                seen.add(link)
                queue.append(link)
    return answered


def memory(pid):
    rss = pss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def main():
    url, pages = sys.argv[1], int(sys.argv[2])
    dashes = sys.argv.index("--")
    first_page = sys.argv[3] if dashes > 3 else url
    command = sys.argv[dashes + 1:]
    start = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = None
        while time.monotonic() - start < 60:
            if proc.poll() is not None:
                print(json.dumps({"error": f"exited with {proc.returncode}"}))
                return 1
            try:
                if fetch(url, timeout=1.0)[0] == 200:
                    started = time.monotonic() - start
                    break
            except OSError:
                time.sleep(0.002)
        if started is None:
            print(json.dumps({"error": "no answer in 60 s"}))
            return 1
        answered = browse(first_page, pages)
        time.sleep(10)
        rss, pss = memory(proc.pid)
        print(json.dumps({"start_ms": round(started * 1000, 1), "rss_kb": rss, "pss_kb": pss,
                          "pages": answered}))
        return 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
