#!/usr/bin/env python3
"""An independent implementation of the test vectors of docs/sync-protocol.md, from that page.

It packs the Hello, Accept, Offer, GetChunks, Bye, EnrolId, HubInfo, Enrol and Enrolled of the
page's "Test vectors" section, runs the two handshakes (Noise IK for a sync with the hub, Noise
XXpsk3 for an enrolment, as revision 34 of the Noise specification defines them) with the fixed
keys the page gives, seals the first transport records, and checks every byte against the hex
blocks the page prints (sync/src/session/wire_vectors_test.cc checks the C++ code against the
same blocks). Manifests, keys and trust lists come from manifest_reference.py beside this
script.

Needs Python 3.9+ and the `cryptography` package (Debian: python3-cryptography).
Run: python3 tests/reference/sync_vectors_reference.py
"""
import hashlib
import hmac
import os
import re
import sys

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifest_reference import (blake2b256, key_of_seed, manifest, node, signed_manifest,  # noqa: E402
                                string, trust_list, u8, u16, u32, u64)

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                   "sync-protocol.md")

# ---- Noise (revision 34): 25519, ChaChaPoly, BLAKE2b ----


def x25519_public(private):
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def dh(private, public):
    return X25519PrivateKey.from_private_bytes(private).exchange(
        X25519PublicKey.from_public_bytes(public))


def x25519_of_ed25519_seed(seed):
    # libsodium's crypto_sign_ed25519_sk_to_curve25519: SHA-512 of the seed, first 32 bytes,
    # clamped (X25519 clamps anyway).
    secret = bytearray(hashlib.sha512(seed).digest()[:32])
    secret[0] &= 248
    secret[31] &= 127
    secret[31] |= 64
    return bytes(secret)


def hkdf(ck, ikm, n):
    temp = hmac.new(ck, ikm, hashlib.blake2b).digest()
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac.new(temp, prev + bytes([i]), hashlib.blake2b).digest()
        out.append(prev)
    return out


class Cipher:
    def __init__(self, key=None):
        self.k, self.n = key, 0

    def nonce(self):
        return b"\0\0\0\0" + self.n.to_bytes(8, "little")

    def encrypt(self, ad, plaintext):
        if self.k is None:
            return plaintext
        out = ChaCha20Poly1305(self.k).encrypt(self.nonce(), plaintext, ad)
        self.n += 1
        return out


class Handshake:
    """One side of a handshake; only what the vectors need (both sides are run)."""

    def __init__(self, name, prologue, initiator, s, e, rs=None, psk=None, pre_rs=False):
        name = name.encode()
        self.h = name + bytes(64 - len(name))
        self.ck = self.h
        self.c = Cipher()
        self.initiator, self.s, self.e, self.rs, self.re, self.psk = initiator, s, e, rs, None, psk
        self.is_psk = psk is not None
        self.mix_hash(prologue)
        if pre_rs:  # IK: the responder's static key is known: <- s
            self.mix_hash(rs if initiator else x25519_public(s))

    def mix_hash(self, data):
        self.h = hashlib.blake2b(self.h + data).digest()

    def mix_key(self, ikm):
        self.ck, k = hkdf(self.ck, ikm, 2)
        self.c = Cipher(k[:32])

    def mix_key_and_hash(self, ikm):
        self.ck, temp_h, k = hkdf(self.ck, ikm, 3)
        self.mix_hash(temp_h)
        self.c = Cipher(k[:32])

    def encrypt_and_hash(self, plaintext):
        out = self.c.encrypt(self.h, plaintext)
        self.mix_hash(out)
        return out

    def decrypt_and_hash(self, ciphertext):  # the reader's view: only for following h
        if self.c.k is None:
            self.mix_hash(ciphertext)
            return ciphertext
        plain = ChaCha20Poly1305(self.c.k).decrypt(self.c.nonce(), ciphertext, self.h)
        self.c.n += 1
        self.mix_hash(ciphertext)
        return plain

    def token_dh(self, token):
        mine = {"e": self.e, "s": self.s}
        a, b = token  # initiator's key, responder's key
        if self.initiator:
            return dh(mine[a], {"e": self.re, "s": self.rs}[b])
        return dh(mine[b], {"e": self.re, "s": self.rs}[a])

    def write(self, tokens, payload):
        out = b""
        for t in tokens:
            if t == "e":
                pub = x25519_public(self.e)
                out += pub
                self.mix_hash(pub)
                if self.is_psk:
                    self.mix_key(pub)
            elif t == "s":
                out += self.encrypt_and_hash(x25519_public(self.s))
            elif t == "psk":
                self.mix_key_and_hash(self.psk)
            else:
                self.mix_key(self.token_dh(t))
        return out + self.encrypt_and_hash(payload)

    def read(self, tokens, message):
        for t in tokens:
            if t == "e":
                self.re, message = message[:32], message[32:]
                self.mix_hash(self.re)
                if self.is_psk:
                    self.mix_key(self.re)
            elif t == "s":
                n = 48 if self.c.k is not None else 32
                self.rs = self.decrypt_and_hash(message[:n])
                message = message[n:]
            elif t == "psk":
                self.mix_key_and_hash(self.psk)
            else:
                self.mix_key(self.token_dh(t))
        return self.decrypt_and_hash(message)

    def split(self):
        k1, k2 = hkdf(self.ck, b"", 2)
        return Cipher(k1[:32]), Cipher(k2[:32])


IK = [["e", "es", "s", "ss"], ["e", "ee", "se"]]
XXPSK3 = [["e"], ["e", "ee", "s", "es"], ["s", "se", "psk"]]


def run(pattern, initiator, responder, payloads):
    """Both sides through the pattern; the messages written, then each side's ciphers."""
    messages = []
    for i, (tokens, payload) in enumerate(zip(pattern, payloads)):
        writer, reader = (initiator, responder) if i % 2 == 0 else (responder, initiator)
        m = writer.write(tokens, payload)
        assert reader.read(tokens, m) == payload
        messages.append(m)
    return messages, initiator.split(), responder.split()


def frame(message):
    return u16(len(message)) + message


def sealed(cipher, record_type, body):
    """A record alone in one transport message (it fits in 65519 bytes), as a frame."""
    return frame(cipher.encrypt(b"", u8(record_type) + u32(len(body)) + body))


# ---- the messages, packed as the page says ----

PROLOGUE = b"outpost sync v1"


def preamble(mode):
    return b"OPS1" + u8(mode) + bytes(3)


def hello(node_key, trust_sequence, held, counter):
    out = u16(1) + node_key + u64(trust_sequence) + u32(len(held))
    for channel, served, staged in held:
        out += string(channel) + u64(served) + u64(staged)
    return u8(1) + out + u64(counter)


def offer(trust, versions, uploads, yours):
    out = u32(len(trust)) + trust + u32(len(versions))
    for channel, packing, base, envelope, packed, files in versions:
        out += string(channel) + u8(packing) + u64(base) + u64(len(envelope))
        out += u32(len(packed)) + packed + u32(len(files))
        for blob, size, previous, chunks in files:
            out += blob + u64(size) + (u8(0) if previous is None else u8(1) + previous)
            out += u32(len(chunks))
            for chunk, length in chunks:
                out += chunk + u32(length)
    out += u8(1 if uploads else 0) + u32(len(yours))
    for channel, version in yours:
        out += string(channel) + u64(version)
    return out


def counting(first):
    return bytes(range(first, first + 32))


def worked_example_envelope():
    child = node("a.txt", "document", {"title": "A"}, file=blake2b256(b"abc"), size=3,
                 mime="text/plain")
    root = node("", "topic", {"title": "Démo"}, children=[child])
    m = manifest("demo", 1, {"title": "Démo", "language": "fr"}, None, root)
    publisher, publisher_public = key_of_seed(counting(0x00))
    return signed_manifest(m, publisher, publisher_public)[0]


def sync_vector():
    got = {}
    _, site_public = key_of_seed(counting(0x60))
    site_s = x25519_of_ed25519_seed(counting(0x60))
    hub_s = x25519_of_ed25519_seed(counting(0x40))
    site_e, hub_e = counting(0x80), counting(0xa0)
    got["site_x25519_public"] = x25519_public(site_s)
    got["hub_x25519_public"] = x25519_public(hub_s)
    got["site_ephemeral_public"] = x25519_public(site_e)
    got["hub_ephemeral_public"] = x25519_public(hub_e)
    name = "Noise_IK_25519_ChaChaPoly_BLAKE2b"
    prologue = PROLOGUE + preamble(2)
    site = Handshake(name, prologue, True, site_s, site_e, rs=x25519_public(hub_s), pre_rs=True)
    hub = Handshake(name, prologue, False, hub_s, hub_e, pre_rs=True)
    got["hello_payload"] = hello(site_public, 1, [("water", 3, 0)], 1765000000000000)
    got["accept_payload"] = u8(10) + u16(1) + u32(4096)
    messages, (site_send, site_recv), (hub_recv, hub_send) = run(
        IK, site, hub, [got["hello_payload"], got["accept_payload"]])
    got["sync_first_write"] = preamble(2) + frame(messages[0])
    got["sync_message_2"] = frame(messages[1])
    got["sync_handshake_hash"] = site.h
    abc = blake2b256(b"abc")
    envelope = worked_example_envelope()
    got["offer_body"] = offer(b"", [("demo", 0, 0, envelope, envelope, [(abc, 3, None, [(abc, 3)])])],
                              True, [("ecole-1-notes", 2)])
    got["offer_frame"] = sealed(hub_send, 3, got["offer_body"])
    got["get_chunks_frame"] = sealed(site_send, 4, u32(1) + abc)
    got["bye_frame"] = sealed(site_send, 9, b"")
    return got


def enrol_vector():
    got = {}
    _, site_public = key_of_seed(counting(0x60))
    _, hub_public = key_of_seed(counting(0x40))
    root_key, root_public = key_of_seed(counting(0x20))
    _, publisher_public = key_of_seed(counting(0x00))
    site_s = x25519_of_ed25519_seed(counting(0x60))
    hub_s = x25519_of_ed25519_seed(counting(0x40))
    code = b"abcdefghjkmnpqrs"
    code_id = hashlib.blake2b(code, digest_size=32, key=b"outpost enrol code id v1").digest()
    psk = hashlib.blake2b(code, digest_size=32, key=b"outpost enrol code psk v1").digest()
    got["code_id"], got["psk"] = code_id, psk
    name = "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b"
    prologue = PROLOGUE + preamble(4)
    site = Handshake(name, prologue, True, site_s, counting(0xc0), psk=psk)
    hub = Handshake(name, prologue, False, hub_s, counting(0xe0), psk=psk)
    payloads = [u8(15) + code_id, u8(11) + u16(1) + hub_public,
                u8(12) + site_public + string("") + string("ecole-karantina")]
    messages, _, (_, hub_send) = run(XXPSK3, site, hub, payloads)
    got["enrol_first_write"] = preamble(4) + frame(messages[0])
    got["enrol_message_2"] = frame(messages[1])
    got["enrol_message_3"] = frame(messages[2])
    trust = trust_list(root_key, root_public, 1, [(publisher_public, 1, ["*"])])
    enrolled = string("ecole-karantina") + hub_public + root_public + u32(len(trust)) + trust
    got["enrolled_frame"] = sealed(hub_send, 13, enrolled)
    return got


def document_blocks():
    """Every block "name:" followed by lines of hex in the page."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    blocks = {}
    for m in re.finditer(r"^([a-z0-9_]+):\n((?:[0-9a-f ]+\n)+)", text, re.M):
        blocks[m.group(1)] = m.group(2).replace(" ", "").replace("\n", "")
    return blocks


def main():
    blocks = document_blocks()
    ok = True
    for name, value in {**sync_vector(), **enrol_vector()}.items():
        want = blocks.get(name)
        if want != value.hex():
            print(f"FAIL {name}:\n  got  {value.hex()}\n  page {want}")
            ok = False
        else:
            print(f"ok   {name} ({len(value)} bytes)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
