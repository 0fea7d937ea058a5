#!/usr/bin/env python3
"""Checks that CMake keeps the modules apart (docs/architecture.md): base <- content <- sync <-
server <- cli, and server/src/http/ on base alone.

For one source file of each library it takes the compile command CMake wrote in
compile_commands.json and compiles the file with one extra header forced in (-include): a header
of a module the library may use must compile, and a public header of a module it must not use
must fail with "No such file or directory", because that module's include folder is not on the
library's path. A library that gains a link it must not have makes this test fail.

Usage: check_layers.py BUILD_DIR
"""
import json
import shlex
import subprocess
import sys

# library object folder -> (headers it may include, headers it must not find)
RULES = {
    "outpost_base.dir": (["outpost/base/status.h"],
                         ["outpost/content/catalog.h", "outpost/sync/node.h",
                          "outpost/server/http_server.h"]),
    "outpost_content.dir": (["outpost/base/db.h"],
                            ["outpost/sync/node.h", "outpost/server/http_server.h", "cli.h"]),
    "outpost_sync.dir": (["outpost/content/catalog.h", "outpost/base/file.h"],
                         ["outpost/server/http_server.h", "outpost/server/config.h", "cli.h"]),
    "outpost_http.dir": (["outpost/base/status.h"],
                         ["outpost/content/catalog.h", "outpost/server/config.h",
                          "outpost/sync/node.h"]),
    "outpost_server.dir": (["outpost/content/catalog.h", "http/byte_range.h",
                            "outpost/sync/school_materials.h"],
                           ["cli.h"]),
}


def syntax_only(entry, header):
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT"):
            skip = True
            continue
        if a == "-MD":
            continue
        out.append(a)
    out[1:1] = ["-fsyntax-only", "-include", header]
    return subprocess.run(out, cwd=entry["directory"], capture_output=True, text=True)


def main():
    build = sys.argv[1]
    with open(f"{build}/compile_commands.json") as f:
        entries = json.load(f)
    failures = 0
    for obj_dir, (allowed, forbidden) in RULES.items():
        entry = next((e for e in entries if f"/{obj_dir}/" in e.get("output", e["command"])), None)
        if entry is None:
            print(f"FAIL {obj_dir}: no compile command found")
            failures += 1
            continue
        for h in allowed:
            r = syntax_only(entry, h)
            ok = r.returncode == 0
            print(f"{'ok  ' if ok else 'FAIL'} {obj_dir} may include {h}")
            if not ok:
                print(r.stderr[:2000])
                failures += 1
        for h in forbidden:
            r = syntax_only(entry, h)
            ok = r.returncode != 0 and f"{h}: No such file or directory" in r.stderr
            print(f"{'ok  ' if ok else 'FAIL'} {obj_dir} cannot include {h}")
            if not ok:
                print(r.stderr[:2000] or "(it compiled)")
                failures += 1
    print("layering: " + ("broken" if failures else "every module sees only what it may use"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
