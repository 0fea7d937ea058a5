#!/usr/bin/env python3
"""Check the water-cycle demo channel. Python 3.11+ standard library only.

Usage:
  python3 demo/tools/check_demo.py                  check the sources in demo/water-cycle/
  python3 demo/tools/check_demo.py --built DIR      check a built channel (e.g.
                                                    build/demo/water-cycle), narration included

What it checks:
  - every relative href/src in every HTML page, and every url() in every style sheet, points to
    an existing file inside the channel; no page uses an external URL, a script or a web font;
  - each page has <html lang>, dir="rtl" when Arabic, a <title>, a UTF-8 <meta charset>, and
    balanced tags;
  - every outpost.toml parses, uses only the keys and types of docs/channel-format.md, and
    names files that exist (order lists, [files."…"] tables, thumbnails);
  - every *.exercise.json has the structure of docs/channel-format.md;
  - every SVG is well-formed XML with a <title>; every PDF has a consistent xref table;
  - (built) each language folder has a narration.wav that is a RIFF/WAVE file under 500 KB,
    and water-cycle-animation.mp4 (an MP4 under 500 KB) with a WebVTT subtitle file per language;
  - (sources) the whole demo/ folder stays under 1 MB.
Exits 1 and lists every problem if anything is wrong.
"""

import argparse
import html.parser
import json
import pathlib
import re
import sys
import tomllib
import urllib.parse
import xml.etree.ElementTree as ET

DEMO = pathlib.Path(__file__).resolve().parent.parent
LANGUAGES = ["en", "fr", "ar"]
# Made by the build, absent from the sources.
GENERATED = {"narration.wav", "water-cycle-animation.mp4"}
MAX_WAV = 500 * 1024
VIDEO = "water-cycle-animation"
MAX_MP4 = 500 * 1024
MAX_DEMO = 1024 * 1024

problems: list[str] = []


def problem(path: pathlib.Path, message: str) -> None:
    problems.append(f"{path}: {message}")


def resolve(root: pathlib.Path, page: pathlib.Path, url: str, built: bool) -> None:
    """Checks one URL found in `page`."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme or parts.netloc:
        problem(page, f"external or absolute URL {url!r}")
        return
    if not parts.path:  # "#fragment" only
        return
    if parts.path.startswith("/"):
        problem(page, f"root-relative URL {url!r} (breaks under /c/CHANNEL/)")
        return
    target = (page.parent / urllib.parse.unquote(parts.path)).resolve()
    if not target.is_relative_to(root.resolve()):
        problem(page, f"link {url!r} leaves the channel folder")
    elif not target.is_file() and not (not built and target.name in GENERATED):
        problem(page, f"broken link {url!r}")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.lang = self.dir = None
        self.title = ""
        self.in_title = False
        self.charset = False
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang, self.dir = a.get("lang"), a.get("dir")
        if tag == "meta" and (a.get("charset") or "").lower() == "utf-8":
            self.charset = True
        if tag == "script":
            self.errors.append("has a <script> (no JavaScript in the demo)")
        if tag == "title":
            self.in_title = True
        for name in ("href", "src", "poster", "data"):
            if a.get(name) is not None:
                self.urls.append(a[name])
        if a.get("srcset"):
            self.urls += [c.split()[0] for c in a["srcset"].split(",") if c.strip()]
        if a.get("style") and "url(" in a["style"]:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", a["style"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {'/'.join(self.stack) or 'none'})")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data


def check_html(root: pathlib.Path, path: pathlib.Path, built: bool) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problem(path, "not UTF-8")
        return
    page = Page()
    page.feed(text)
    page.close()
    for e in page.errors:
        problem(path, e)
    if page.stack:
        problem(path, f"unclosed tags: {'/'.join(page.stack)}")
    if not page.doctype:
        problem(path, "no <!DOCTYPE html>")
    if not page.lang:
        problem(path, "no <html lang>")
    elif page.lang.split("-")[0] == "ar" and page.dir != "rtl":
        problem(path, 'Arabic page without dir="rtl"')
    if not page.title.strip():
        problem(path, "no <title>")
    if not page.charset:
        problem(path, 'no <meta charset="utf-8">')
    for url in page.urls:
        resolve(root, path, url, built)


def check_css(root: pathlib.Path, path: pathlib.Path, built: bool) -> None:
    text = path.read_text(encoding="utf-8")
    if "@font-face" in text:
        problem(path, "uses a web font")
    for m in re.finditer(r"@import\s+['\"]([^'\"]+)", text):
        resolve(root, path, m.group(1), built)
    for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
        resolve(root, path, url, built)


def check_svg(path: pathlib.Path) -> None:
    try:
        tree = ET.parse(path)
    except ET.ParseError as e:
        problem(path, f"not well-formed XML: {e}")
        return
    ns = "{http://www.w3.org/2000/svg}"
    if tree.getroot().tag != ns + "svg":
        problem(path, "root element is not <svg>")
    if tree.getroot().find(ns + "title") is None:
        problem(path, "no <title>")
    if any(True for _ in tree.getroot().iter(ns + "script")):
        problem(path, "has a <script>")
    if re.search(rb"(href|src)\s*=\s*['\"](https?:)?//", path.read_bytes()):
        problem(path, "references an external URL")


def check_pdf(path: pathlib.Path) -> None:
    data = path.read_bytes()
    if not data.startswith(b"%PDF-") or not data.rstrip().endswith(b"%%EOF"):
        problem(path, "not a complete PDF")
        return
    m = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data)
    if not m or not data[int(m.group(1)):].startswith(b"xref"):
        problem(path, "startxref does not point at the xref table")
        return
    xref = data[int(m.group(1)):].split(b"trailer")[0].split(b"\n")
    first, count = map(int, xref[1].split())
    for i, line in enumerate(xref[2:2 + count]):
        offset, _, kind = line.split()[:3]
        number = first + i
        if kind == b"n" and not data[int(offset):].startswith(b"%d 0 obj" % number):
            problem(path, f"xref offset of object {number} is wrong")


# The keys and types of docs/channel-format.md.
STR, BOOL, LIST = str, bool, list
CHANNEL_KEYS = {"id": STR, "title": STR, "description": STR, "language": STR, "license": STR,
                "author": STR, "thumbnail": STR}
TOPIC_KEYS = {"title": STR, "description": STR, "language": STR, "grade": STR, "subject": STR,
              "license": STR, "author": STR, "thumbnail": STR, "order": LIST}
FILE_KEYS = {"title": STR, "description": STR, "language": STR, "grade": STR, "subject": STR,
             "license": STR, "author": STR, "thumbnail": STR, "kind": STR, "hidden": BOOL}
KINDS = {"video", "audio", "document", "image", "html", "app", "exercise", "other"}


def check_keys(path: pathlib.Path, table: dict, allowed: dict, where: str) -> None:
    for key, value in table.items():
        if key not in allowed:
            problem(path, f"unknown key {where}.{key}")
        elif not isinstance(value, allowed[key]):
            problem(path, f"{where}.{key} should be a {allowed[key].__name__}")


def exists(folder: pathlib.Path, name: str, built: bool) -> bool:
    return (folder / name).exists() or (not built and name in GENERATED)


def check_toml(root: pathlib.Path, path: pathlib.Path, built: bool) -> None:
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        problem(path, f"does not parse: {e}")
        return
    folder = path.parent
    for table in meta:
        if table not in ("channel", "topic", "files"):
            problem(path, f"unknown table [{table}]")
    if "channel" in meta:
        if folder != root:
            problem(path, "[channel] outside the root folder is ignored")
        check_keys(path, meta["channel"], CHANNEL_KEYS, "channel")
        cid = meta["channel"].get("id", "")
        if not re.fullmatch(r"[a-z0-9-]{1,64}", cid):
            problem(path, f"bad channel id {cid!r}")
        if "thumbnail" in meta["channel"] and not exists(folder, meta["channel"]["thumbnail"], built):
            problem(path, "channel.thumbnail does not exist")
    topic = meta.get("topic", {})
    check_keys(path, topic, TOPIC_KEYS, "topic")
    for name in topic.get("order", []):
        if not isinstance(name, str) or not exists(folder, name, built):
            problem(path, f"topic.order names {name!r}, which does not exist")
    if "thumbnail" in topic and not exists(folder, topic["thumbnail"], built):
        problem(path, "topic.thumbnail does not exist")
    for name, table in meta.get("files", {}).items():
        if not exists(folder, name, built):
            problem(path, f'[files."{name}"] names a file that does not exist')
        if not isinstance(table, dict):
            problem(path, f'[files."{name}"] is not a table')
            continue
        check_keys(path, table, FILE_KEYS, f'files."{name}"')
        if "kind" in table and table["kind"] not in KINDS:
            problem(path, f'files."{name}".kind {table["kind"]!r} is not a kind')
        if "thumbnail" in table and not exists(folder, table["thumbnail"], built):
            problem(path, f'files."{name}".thumbnail does not exist')


def check_exercise(path: pathlib.Path) -> None:
    try:
        ex = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        problem(path, f"not valid JSON: {e}")
        return
    if not isinstance(ex, dict) or not isinstance(ex.get("title"), str) or not ex["title"]:
        problem(path, "no title")
        return
    questions = ex.get("questions")
    if not isinstance(questions, list) or not questions:
        problem(path, "no questions")
        return
    kinds = set()
    for i, q in enumerate(questions, start=1):
        where = f"question {i}"
        if not isinstance(q, dict) or not isinstance(q.get("prompt"), str) or not q["prompt"]:
            problem(path, f"{where}: no prompt")
            continue
        kinds.add(q.get("type"))
        if "feedback" in q and not isinstance(q["feedback"], str):
            problem(path, f"{where}: feedback is not a string")
        if q.get("type") == "choice":
            ch = q.get("choices")
            if (not isinstance(ch, list) or len(ch) < 2 or not all(isinstance(c, str) for c in ch)
                    or not isinstance(q.get("answer"), int) or isinstance(q.get("answer"), bool)
                    or not 0 <= q["answer"] < len(ch)):
                problem(path, f"{where}: a choice needs choices (2+) and a valid answer index")
        elif q.get("type") == "numeric":
            num = (int, float)
            if not isinstance(q.get("answer"), num) or isinstance(q.get("answer"), bool):
                problem(path, f"{where}: a numeric answer must be a number")
            if "tolerance" in q and (not isinstance(q["tolerance"], num) or q["tolerance"] < 0):
                problem(path, f"{where}: tolerance must be a number >= 0")
        elif q.get("type") == "text":
            ans = q.get("answers")
            if not isinstance(ans, list) or not ans or not all(isinstance(a, str) and a for a in ans):
                problem(path, f"{where}: a text question needs a list of answers")
        else:
            problem(path, f"{where}: unknown type {q.get('type')!r}")
    if not {"choice", "numeric", "text"} <= kinds:
        problem(path, "the demo should have choice, numeric and text questions")
    if not all("feedback" in q for q in questions if isinstance(q, dict)):
        problem(path, "every demo question should have feedback")


def check_wav(path: pathlib.Path) -> None:
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        problem(path, "not a RIFF/WAVE file")
    if len(data) >= MAX_WAV:
        problem(path, f"{len(data)} bytes; keep narration under {MAX_WAV} (shorten the text)")
    if len(data) < 10_000:
        problem(path, "suspiciously short narration")


def check_mp4(path: pathlib.Path) -> None:
    data = path.read_bytes()
    if data[4:8] != b"ftyp":
        problem(path, "not an MP4 file")
    elif data.find(b"moov") > data.find(b"mdat"):
        problem(path, "the moov box is after the media (encode with -movflags +faststart)")
    if len(data) >= MAX_MP4:
        problem(path, f"{len(data)} bytes; keep the demo video under {MAX_MP4}")


def check_vtt(path: pathlib.Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problem(path, "not UTF-8")
        return
    if not text.startswith("WEBVTT"):
        problem(path, "does not start with WEBVTT")
    if not re.search(r"^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$", text, re.M):
        problem(path, "has no cue")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--built", type=pathlib.Path,
                        help="a built channel folder (with narration) instead of the sources")
    args = parser.parse_args()
    built = args.built is not None
    root = args.built if built else DEMO / "water-cycle"
    if not root.is_dir():
        print(f"check_demo: {root} is not a folder (build the demo_curriculum target first)",
              file=sys.stderr)
        return 1

    files = [p for p in sorted(root.rglob("*"))
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    counts: dict[str, int] = {}
    for p in files:
        kind = ".exercise.json" if p.name.endswith(".exercise.json") else p.suffix
        counts[kind] = counts.get(kind, 0) + 1
        if kind in (".html", ".htm"):
            check_html(root, p, built)
        elif kind == ".css":
            check_css(root, p, built)
        elif kind == ".svg":
            check_svg(p)
        elif kind == ".pdf":
            check_pdf(p)
        elif kind == ".wav":
            check_wav(p)
        elif kind == ".mp4":
            check_mp4(p)
        elif kind == ".vtt":
            check_vtt(p)
        elif kind == ".exercise.json":
            check_exercise(p)
        elif p.name == "outpost.toml":
            check_toml(root, p, built)
        elif kind == ".txt":
            problem(p, "a .txt file would become a document resource (narration texts stay out)")

    for lang in LANGUAGES:
        folder = root / lang
        for needed in ("outpost.toml", "quiz.exercise.json"):
            if not (folder / needed).is_file():
                problem(folder, f"no {needed}")
        if built and not (folder / "narration.wav").is_file():
            problem(folder, "no narration.wav")
        for needed in [f"{VIDEO}.mp4"] + [f"{VIDEO}.{sub}.vtt" for sub in LANGUAGES]:
            if built and not (folder / needed).is_file():
                problem(folder, f"no {needed}")
    ar_text = "".join(p.read_text(encoding="utf-8") for p in (root / "ar").glob("*.html"))
    if not re.search("[\u064b-\u0652]", ar_text) or not re.search("[أإآ]", ar_text):
        problem(root / "ar", "the Arabic pages should show harakat and hamza forms (search folding demo)")
    if not built:
        size = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
        if size >= MAX_DEMO:
            problems.append(f"{DEMO}: {size} bytes; keep demo/ under {MAX_DEMO}")

    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"check_demo: {len(problems)} problem(s) in {root} ({summary})", file=sys.stderr)
        return 1
    print(f"check_demo: {root} is fine ({len(files)} files: {summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
