#!/usr/bin/env python3
"""An independent implementation of the enrolment file of docs/sync.md, from that page alone.

It rebuilds the page's worked example and checks it against the values the page gives and
sync/src/enrolment_test.cc (EnrolmentFileTest.TheFormatIsPinned) pins. Trust lists and keys are
those of docs/manifest.md, taken from manifest_reference.py beside this script.

Needs Python 3.9+ and the `cryptography` package (Debian: python3-cryptography).
Run: python3 tests/reference/enrolment_reference.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifest_reference import blake2b256, check, key_of_seed, string, trust_list, u16, u32  # noqa: E402


def enrolment_file(node_key, node_public, root_public, address, site_name, code, trust):
    body = (b"OPEF" + u16(1) + node_public + root_public + string(address) + string(site_name) +
            string(code) + u32(len(trust)) + trust)
    return body + node_key.sign(b"outpost enrolment v1\0" + blake2b256(body))


def main():
    ok = True
    node_key, node_public = key_of_seed(bytes(range(0x40, 0x60)))
    root_key, root_public = key_of_seed(bytes(range(0x20, 0x40)))
    _, publisher_public = key_of_seed(bytes(range(0x00, 0x20)))
    ok &= check("hub node key", node_public.hex(),
                "2543b92ff1095511476adc8369db6ddc933665a11978dda1404ee1066ca9559d")
    trust = trust_list(root_key, root_public, 1, [(publisher_public, 1, ["*"])])
    ok &= check("trust list size", len(trust), 156)
    ok &= check("trust list hash", blake2b256(trust).hex(),
                "efc90e654e6a38e6e4c42cd7be4952b6cbb989fccdc17e18a0b81573ac0de7bc")
    f = enrolment_file(node_key, node_public, root_public, "hub.example.org:7600",
                       "ecole-karantina", "abcd-efgh-jkmn-pqrs", trust)
    ok &= check("enrolment file size", len(f), 360)
    ok &= check("enrolment file hash", blake2b256(f).hex(),
                "51ea8eb5b22890b457198e373036a6c8711804de89beef5e6b4a2c054d306f64")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
