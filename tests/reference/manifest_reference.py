#!/usr/bin/env python3
"""An independent implementation of docs/manifest.md, written from that page alone.

It rebuilds the page's worked examples (the manifest of the channel "demo" in formats 1 and 2,
its signed envelope, and a one-entry trust list) and checks them against the values the page gives and
sync/src/*_test.cc pins. If it fails, the code, the page and this script disagree about the
format: find out which is wrong before changing any of them.

Needs Python 3.9+ and the `cryptography` package (Debian: python3-cryptography) for Ed25519.
Run: python3 tests/reference/manifest_reference.py
"""
import hashlib
import struct
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KINDS = ["topic", "video", "audio", "document", "image", "html", "app", "exercise", "other"]
NODE_META = ["title", "description", "language", "grade", "subject", "license", "author"]
CHANNEL_META = ["title", "description", "language", "license", "author"]


def blake2b256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def string(text):
    data = text.encode("utf-8")
    return u32(len(data)) + data


def opt_hash(h):
    return u8(0) if h is None else u8(1) + h


def node(path, kind, meta, listed=True, thumbnail=None, file=None, size=0, mime="",
         children=()):
    out = string(path) + u8(KINDS.index(kind)) + u8(1 if listed else 0)
    for field in NODE_META:
        out += string(meta.get(field, ""))
    out += opt_hash(thumbnail) + opt_hash(file) + u64(size) + string(mime) + u32(len(children))
    for child in children:
        out += child
    return out


def manifest(channel_id, version, meta, thumbnail, root, labels=()):
    """labels: (field, value, language, label) tuples; any make it format 2."""
    out = b"OPMF" + u16(2 if labels else 1) + string(channel_id) + u64(version)
    for field in CHANNEL_META:
        out += string(meta.get(field, ""))
    out += opt_hash(thumbnail) + root
    if labels:
        out += u32(len(labels))
        for label in sorted(labels, key=lambda l: [t.encode("utf-8") for t in l[:3]]):
            out += b"".join(string(t) for t in label)
    return out


def key_of_seed(seed):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    return key, public


def signed_manifest(manifest_bytes, key, public):
    signature = key.sign(b"outpost manifest v1\0" + blake2b256(manifest_bytes))
    return (b"OPSM" + u16(1) + u32(len(manifest_bytes)) + manifest_bytes + public + signature,
            signature)


def trust_list(root_key, root_public, sequence, entries):
    body = b"OPTL" + u16(1) + root_public + u64(sequence) + u32(len(entries))
    for public, state, channels in sorted(entries):
        body += public + u8(state) + u32(len(channels))
        for channel in sorted(channels):
            body += string(channel)
    return body + root_key.sign(b"outpost trust list v1\0" + blake2b256(body))


def check(name, got, want):
    if got != want:
        print(f"FAIL {name}:\n  got  {got}\n  want {want}")
        return False
    print(f"ok   {name}")
    return True


def main():
    ok = True
    # The worked example: channel "demo", version 1.
    child = node("a.txt", "document", {"title": "A"}, file=blake2b256(b"abc"), size=3,
                 mime="text/plain")
    root = node("", "topic", {"title": "Démo"}, children=[child])
    m = manifest("demo", 1, {"title": "Démo", "language": "fr"}, None, root)
    ok &= check("manifest size", len(m), 207)
    ok &= check("manifest hash", blake2b256(m).hex(),
                "1eefd112164977b1884e94846dc4602d8a6ce4fb328fcd4b1357db1face27ad7")

    # The same with one label: format 2.
    m2 = manifest("demo", 1, {"title": "Démo", "language": "fr"}, None, root,
                  [("subject", "sciences", "ar", "العلوم")])
    ok &= check("labelled manifest size", len(m2), 256)
    ok &= check("labelled manifest hash", blake2b256(m2).hex(),
                "ce9d809d4707766dedab2257eaad601a12d1102db6397c44044b22a3a2efdbda")

    publisher, publisher_public = key_of_seed(bytes(range(32)))
    ok &= check("publisher key", publisher_public.hex(),
                "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
    envelope, signature = signed_manifest(m, publisher, publisher_public)
    ok &= check("signature", signature.hex(),
                "043258dbf4e6c4b498edeed3ab0ad3f0ce4f323e3ca8e767937e11bef08b4a16"
                "75c73a713b2ce611c8a97730ae8518f2fb184d07305cb9563bfd1e6401908003")
    ok &= check("envelope size", len(envelope), 313)
    ok &= check("envelope hash", blake2b256(envelope).hex(),
                "1d2d82db596ac4ce92a69b812201bd65fbaa850513ece10daa9206ab71e7d602")

    # The trust list example: root seed 20 21 ... 3f, sequence 1, the publisher above active
    # for "demo" and "maths-5".
    root_key, root_public = key_of_seed(bytes(range(32, 64)))
    trust = trust_list(root_key, root_public, 1, [(publisher_public, 1, ["maths-5", "demo"])])
    ok &= check("trust list size", len(trust), 4 + 2 + 32 + 8 + 4 + 32 + 1 + 4 + 8 + 11 + 64)
    ok &= check("trust list hash", blake2b256(trust).hex(), TRUST_LIST_HASH)
    return 0 if ok else 1


TRUST_LIST_HASH = "b077a0e3e643626e2110611107990fd11fed6130ab8a255953338eb9467e09ca"

if __name__ == "__main__":
    sys.exit(main())
