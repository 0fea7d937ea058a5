#!/usr/bin/env python3
"""Write the one-page summary PDFs of the water-cycle demo channel.

Python 3 standard library only. The PDF (version 1.4) is written by hand: one page, the
standard Helvetica fonts with WinAnsiEncoding (so French accents work without embedding a
font), a small vector drawing, and an exact cross-reference table. The output is
deterministic (no dates, no random ids), so running the script again gives the same bytes.

Usage:
  python3 demo/tools/make_pdf.py            write demo/water-cycle/{en,fr}/water-cycle-summary.pdf
  python3 demo/tools/make_pdf.py --check    exit 1 if a committed PDF differs from what the
                                            script would write now
"""

import argparse
import pathlib
import sys

CHANNEL = pathlib.Path(__file__).resolve().parent.parent / "water-cycle"
OUTPUT_NAME = "water-cycle-summary.pdf"

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 56
TEXT_W = PAGE_W - 2 * MARGIN

# Widths (1/1000 em) of Helvetica for the printable ASCII range 32..126, from Adobe's AFM.
_HELV_ASCII = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  # space ../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  # 0 .. ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  # @ .. O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  # P .. _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  # ` .. o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,  # p .. ~
]
_HELV_OTHER = {"’": 222, "‘": 222, "“": 333, "”": 333, "–": 556, "—": 1000, "·": 278,
               "«": 556, "»": 556, "•": 350, "\u00a0": 278, "œ": 944, "Œ": 1000}
# Accented letters are as wide as their base letter in Helvetica.
_BASE = {"àâä": "a", "ç": "c", "éèêë": "e", "îï": "i", "ôö": "o", "ùûü": "u",
         "ÀÂÄ": "A", "Ç": "C", "ÉÈÊË": "E", "ÎÏ": "I", "ÔÖ": "O", "ÙÛÜ": "U"}


def char_width(ch: str, bold: bool) -> float:
    """Width of one character in 1/1000 em. Bold is estimated as 10% wider than regular."""
    for group, base in _BASE.items():
        if ch in group:
            ch = base
            break
    code = ord(ch)
    if 32 <= code <= 126:
        w = _HELV_ASCII[code - 32]
    else:
        w = _HELV_OTHER.get(ch, 556)
    return w * (1.1 if bold else 1.0)


def text_width(text: str, size: float, bold: bool = False) -> float:
    return sum(char_width(c, bold) for c in text) * size / 1000


def wrap(text: str, size: float, width: float, bold: bool = False) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = word if not line else line + " " + word
        if text_width(candidate, size, bold) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding (cp1252), with the special characters escaped."""
    raw = text.encode("cp1252")  # raises on characters the standard fonts cannot show
    out = bytearray(b"(")
    for b in raw:
        if b in b"\\()":
            out += b"\\" + bytes([b])
        elif b < 32 or b > 126:
            out += b"\\%03o" % b
        else:
            out.append(b)
    out += b")"
    return bytes(out)


def info_string(text: str) -> bytes:
    """A text string for the document information dictionary: UTF-16BE with a byte order mark."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


# --- the drawing ------------------------------------------------------------------------

def circle(cx: float, cy: float, r: float) -> str:
    k = 0.5523 * r  # control point distance for a Bezier quarter circle
    return (f"{cx + r:.1f} {cy:.1f} m "
            f"{cx + r:.1f} {cy + k:.1f} {cx + k:.1f} {cy + r:.1f} {cx:.1f} {cy + r:.1f} c "
            f"{cx - k:.1f} {cy + r:.1f} {cx - r:.1f} {cy + k:.1f} {cx - r:.1f} {cy:.1f} c "
            f"{cx - r:.1f} {cy - k:.1f} {cx - k:.1f} {cy - r:.1f} {cx:.1f} {cy - r:.1f} c "
            f"{cx + k:.1f} {cy - r:.1f} {cx + r:.1f} {cy - k:.1f} {cx + r:.1f} {cy:.1f} c f\n")


def drawing(x: float, y: float) -> str:
    """A small water-cycle picture, 483 x 120 points, with its lower left corner at (x, y)."""
    w, h = TEXT_W, 120
    ops = ["q\n"]
    ops.append(f"0.91 0.957 0.984 rg {x} {y} {w} {h} re f\n")                      # sky
    ops.append(f"0.165 0.498 0.757 rg {x} {y} {w * 0.55:.1f} 30 re f\n")           # sea
    ops.append(f"0.553 0.608 0.416 rg {x + w * 0.5:.1f} {y} m {x + w * 0.78:.1f} {y + 95} l "
               f"{x + w:.1f} {y + 40} l {x + w:.1f} {y} l f\n")                       # mountain
    ops.append("0.957 0.706 0 rg\n" + circle(x + 40, y + 90, 16))                  # sun
    ops.append("0.78 0.83 0.87 rg\n")                                               # cloud
    for dx, dy, r in ((0, 0, 14), (16, 8, 18), (36, 2, 14), (50, -2, 10)):
        ops.append(circle(x + w * 0.55 + dx, y + 86 + dy, r))
    ops.append(f"0.165 0.498 0.757 RG 2 w 1 J\n")                                   # rain
    for i in range(4):
        rx = x + w * 0.57 + 14 * i
        ops.append(f"{rx:.1f} {y + 68} m {rx - 5:.1f} {y + 54} l S\n")
    ops.append(f"0.114 0.208 0.341 RG 1.5 w [4 3] 0 d\n")                           # vapour
    for i in range(3):
        vx = x + 110 + 40 * i
        ops.append(f"{vx} {y + 34} m {vx - 6} {y + 50} {vx + 6} {y + 62} {vx} {y + 80} c S\n")
    ops.append("[] 0 d 0.114 0.208 0.341 rg\n")                                     # arrow heads
    for i in range(3):
        vx = x + 110 + 40 * i
        ops.append(f"{vx - 4} {y + 78} m {vx + 4} {y + 78} l {vx} {y + 86} l f\n")
    ops.append(f"0.165 0.498 0.757 RG 4 w {x + w * 0.78:.1f} {y + 60} m "
               f"{x + w * 0.7:.1f} {y + 40} {x + w * 0.62:.1f} {y + 30} "
               f"{x + w * 0.53:.1f} {y + 12} c S\n")                                  # river
    ops.append("Q\n")
    return "".join(ops)


# --- the page ---------------------------------------------------------------------------

SUMMARIES = {
    "en": {
        "title": "The water cycle on one page",
        "subtitle": "Grade 5 science · a summary of the three lessons",
        "sections": [
            ("1. Evaporation",
             "The sun warms the sea, rivers and wet ground. Some of the water changes from a "
             "liquid into an invisible gas, water vapour, and rises into the air. Plants give off "
             "water vapour through their leaves too. Heat and wind make evaporation faster."),
            ("2. Condensation",
             "High above the ground the air is colder. The vapour cools and turns back into tiny "
             "drops of liquid water. Billions of these droplets together make a cloud. You can "
             "see condensation on a cold window or on a glass of iced water."),
            ("3. Precipitation",
             "In a cloud, droplets join into bigger drops. When they are too heavy to float, they "
             "fall as rain, snow or hail, depending on how cold the air is."),
            ("4. Collection",
             "Rain runs into streams, rivers, lakes and the sea, or soaks into the ground and "
             "becomes groundwater. Snow and ice stay on mountains until spring. Then the sun "
             "warms the water again and the cycle starts over."),
            ("Why it matters",
             "About 97 litres out of every 100 litres of water on Earth are salty sea water. "
             "The salt stays behind when water evaporates, so rain is fresh water. Keep rivers "
             "and groundwater clean, and do not waste water."),
        ],
        "keywords": "Key words: evaporation, water vapour, condensation, cloud, precipitation, "
                    "collection, groundwater.",
        "footer": "The Outpost project · CC BY 4.0 · Outpost demo channel \"The water cycle\"",
        "author": "The Outpost project",
    },
    "fr": {
        "title": "Le cycle de l’eau en une page",
        "subtitle": "Sciences, CM2 · résumé des trois leçons",
        "sections": [
            ("1. L’évaporation",
             "Le soleil réchauffe la mer, les rivières et le sol mouillé. Une partie de l’eau "
             "passe de l’état liquide à l’état de gaz invisible, la vapeur d’eau, et monte dans "
             "l’air. Les plantes rejettent aussi de la vapeur d’eau par leurs feuilles. La chaleur "
             "et le vent accélèrent l’évaporation."),
            ("2. La condensation",
             "En altitude, l’air est plus froid. La vapeur se refroidit et redevient de toutes "
             "petites gouttes d’eau liquide. Des milliards de gouttelettes forment un nuage. On "
             "voit la condensation sur une vitre froide ou sur un verre d’eau glacée."),
            ("3. Les précipitations",
             "Dans un nuage, les gouttelettes se rassemblent en gouttes plus grosses. Quand elles "
             "sont trop lourdes pour flotter, elles tombent en pluie, en neige ou en grêle, selon "
             "la température de l’air."),
            ("4. Le ruissellement et l’infiltration",
             "La pluie ruisselle vers les ruisseaux, les rivières, les lacs et la mer, ou "
             "s’infiltre dans le sol et devient de l’eau souterraine. La neige et la glace restent "
             "sur les montagnes jusqu’au printemps. Puis le soleil réchauffe l’eau, et le cycle "
             "recommence."),
            ("Pourquoi c’est important",
             "Sur 100 litres d’eau sur la Terre, environ 97 sont de l’eau de mer salée. Le sel "
             "reste sur place quand l’eau s’évapore : la pluie est donc de l’eau douce. Chaque "
             "élève peut garder les rivières propres et ne pas gaspiller l’eau."),
        ],
        "keywords": "Mots clés : évaporation, vapeur d’eau, condensation, nuage, précipitations, "
                    "ruissellement, eau souterraine.",
        "footer": "Le projet Outpost · CC BY 4.0 · chaîne de démonstration Outpost « Le cycle de l’eau »",
        "author": "Le projet Outpost",
    },
}


def page_content(s: dict) -> bytes:
    out = []
    y = PAGE_H - MARGIN - 22

    def text(line: str, font: str, size: float, x: float, y: float, gray: float = 0.1) -> None:
        out.append(f"BT /{font} {size} Tf {gray} {gray} {gray} rg {x:.1f} {y:.1f} Td ".encode()
                   + pdf_string(line) + b" Tj ET\n")

    text(s["title"], "F2", 22, MARGIN, y, 0.11)
    y -= 20
    text(s["subtitle"], "F1", 11, MARGIN, y, 0.35)
    y -= 14
    out.append(drawing(MARGIN, y - 120).encode())
    y -= 120 + 28
    for heading, body in s["sections"]:
        text(heading, "F2", 13, MARGIN, y, 0.11)
        y -= 17
        for line in wrap(body, 11, TEXT_W):
            text(line, "F1", 11, MARGIN, y)
            y -= 15
        y -= 10
    for line in wrap(s["keywords"], 11, TEXT_W, bold=True):
        text(line, "F2", 11, MARGIN, y, 0.11)
        y -= 15
    if y < MARGIN + 30:
        raise SystemExit(f"make_pdf: the summary \"{s['title']}\" does not fit on one page")
    out.append(f"0.6 0.6 0.6 RG 0.5 w {MARGIN} {MARGIN + 14} m {PAGE_W - MARGIN} {MARGIN + 14} l S\n"
               .encode())
    text(s["footer"], "F1", 9, MARGIN, MARGIN, 0.35)
    return b"".join(out)


def build_pdf(s: dict, lang: str) -> bytes:
    content = page_content(s)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Lang " + pdf_string(lang) + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
         f"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>").encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Title " + info_string(s["title"]) + b" /Author " + info_string(s["author"])
        + b" /Subject " + info_string("CC BY 4.0") + b" /Producer (Outpost demo/tools/make_pdf.py) >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(pdf)
    pdf += b"xref\n0 %d\n" % (len(objects) + 1)
    pdf += b"0000000000 65535 f \n"
    for off in offsets:
        pdf += b"%010d 00000 n \n" % off
    pdf += (b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, len(objects), xref_at))
    return bytes(pdf)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the files on disk instead of writing them")
    args = parser.parse_args()
    status = 0
    for lang, summary in SUMMARIES.items():
        path = CHANNEL / lang / OUTPUT_NAME
        data = build_pdf(summary, lang)
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                print(f"make_pdf: {path} is out of date; run python3 demo/tools/make_pdf.py",
                      file=sys.stderr)
                status = 1
        else:
            path.write_bytes(data)
            print(f"make_pdf: wrote {path} ({len(data)} bytes)")
    return status


if __name__ == "__main__":
    sys.exit(main())
