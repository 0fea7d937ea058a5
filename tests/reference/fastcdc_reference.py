#!/usr/bin/env python3
"""Independent reference implementation of Outpost's chunker (docs/chunking.md).

Run it without arguments: it chunks the 1 MiB test input of content/src/chunker_test.cc
(BoundariesArePinned), prints the chunk offsets, and exits 0 if they equal the pinned ones,
1 otherwise. With file names as arguments it prints "offset length hash" for each chunk of each
file (default parameters: 8192 / 32768 / 131072), to compare with the `chunks` table of a
catalog. With --other-checks it prints the chunk lengths of the inputs of the "Other checks"
table of docs/chunking.md.
Standard library only; written from the specification, one byte at a time, for clarity.
"""
import hashlib
import sys

M64 = (1 << 64) - 1


def splitmix64_table(seed=0x4F7574706F737431, n=256):  # seed: b"Outpost1" big-endian
    table, state = [], seed
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        table.append(z ^ (z >> 31))
    return table


GEAR = splitmix64_table()


def top_bits_mask(bits):
    return (((1 << bits) - 1) << (64 - bits)) & M64 if bits > 0 else 0


MIN_SIZE, AVG_SIZE, MAX_SIZE = 8192, 32768, 131072         # the defaults (8 / 32 / 128 KiB)


def chunk(data, min_size=MIN_SIZE, avg_size=AVG_SIZE, max_size=MAX_SIZE):
    """Returns [(offset, length, blake2b-256 hex)] for the whole of `data`."""
    bits = avg_size.bit_length() - 1                       # floor(log2(avg_size))
    mask_s, mask_l = top_bits_mask(bits + 2), top_bits_mask(bits - 2)
    out, start, n = [], 0, len(data)
    while start < n:
        end = min(start + max_size, n)                     # a chunk never exceeds max_size
        cut, h = end, 0
        i = start + min_size                               # bytes below min_size: not hashed
        while i < end:
            h = ((h << 1) + GEAR[data[i]]) & M64
            i += 1
            length = i - start
            if (h & (mask_s if length <= avg_size else mask_l)) == 0:
                cut = i
                break
        out.append((start, cut - start, hashlib.blake2b(data[start:cut], digest_size=32).hexdigest()))
        start = cut
    return out


def random_bytes(n, seed):
    """tests/testing/temp_dir.cc RandomBytes: xorshift64, top byte of each state."""
    x = (seed * 0x9E3779B97F4A7C15 + 1) & M64
    out = bytearray(n)
    for i in range(n):
        x ^= (x << 13) & M64
        x ^= x >> 7
        x ^= (x << 17) & M64
        out[i] = x >> 56
    return bytes(out)


def other_inputs():
    """The inputs of the "Other checks" table of docs/chunking.md: [(description, bytes)]."""
    words = [b"water", b"cycle", b"rain", b"cloud", b"evaporation", b" ", b"\n"]
    text = b"".join(words[b % 7] for b in random_bytes(400000, 7))
    return [
        ("1,000,000 zero bytes", bytes(1000000)),
        ("%d bytes x (min_size + 1)" % (MIN_SIZE + 1), b"x" * (MIN_SIZE + 1)),
        ("%d bytes y (min_size)" % MIN_SIZE, b"y" * MIN_SIZE),
        ("random_bytes(3000017, 1)", random_bytes(3000017, 1)),
        ("%d bytes of text (400,000 words picked by random_bytes(400000, 7))" % len(text), text),
    ]


PINNED = [0, 47443, 83897, 122034, 147655, 192127, 229432, 267301, 310654, 338252,
          351565, 384557, 431635, 466986, 520556, 564278, 606611, 647580, 688514, 725504,
          763939, 819533, 871424, 909358, 954943, 969808, 991877, 1033168]
PINNED_FIRST_HASH = "04e49073f75b62d9ae423254c0c102189b0afb47c9257d123a3cf75478bac260"


def main():
    if sys.argv[1:] == ["--other-checks"]:
        for description, data in other_inputs():
            lengths = [c[1] for c in chunk(data)]
            plural = "" if len(lengths) == 1 else "s"
            print("%s: %d chunk%s: %s" % (description, len(lengths), plural,
                                          " ".join(map(str, lengths))))
        return 0
    if len(sys.argv) > 1:
        for name in sys.argv[1:]:
            with open(name, "rb") as f:
                for offset, length, digest in chunk(f.read()):
                    print(offset, length, digest)
        return 0
    assert GEAR[0] == 0x0E0736B137082ECE, hex(GEAR[0])
    chunks = chunk(random_bytes(1 << 20, 42))
    offsets = [c[0] for c in chunks]
    print("gear[0..3]:", " ".join("%016x" % g for g in GEAR[:4]))
    print("offsets:", offsets)
    print("first chunk hash:", chunks[0][2])
    ok = offsets == PINNED and chunks[0][2] == PINNED_FIRST_HASH
    print("match" if ok else "MISMATCH with content/src/chunker_test.cc")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
