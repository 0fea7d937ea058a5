#!/usr/bin/env python3
"""zim_illustration.py FILE: writes the 48x48 PNG zimwriterfs needs for --illustration
(serve.sh and box_budgets.sh make ZIMs of their pages for kiwix-serve). Standard library only."""
import struct
import sys
import zlib

W = H = 48
raw = b"".join(b"\x00" + b"".join(bytes((x * 5, y * 5, 160)) for x in range(W)) for y in range(H))


def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
