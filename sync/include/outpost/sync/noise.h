// Noise: the encrypted, authenticated channel two Outpost boxes (or a box and a laptop) talk
// through when they sync. It implements the Noise Protocol Framework, revision 34
// (noiseprotocol.org/noise.html), for one suite and three handshake patterns:
//
//   Noise_XX_25519_ChaChaPoly_BLAKE2b   neither side knows the other's static key beforehand;
//                                       each sends its key encrypted and proves it owns it
//                                       (3 messages)
//   Noise_IK_25519_ChaChaPoly_BLAKE2b   the initiator already knows the responder's static key
//                                       (a box it has paired with); 2 messages
//   Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b  XX, and both sides must also hold the same 32-byte
//                                       pre-shared key (the psk token ends message 3; in psk
//                                       mode every "e" token also does MixKey(e.pub), §9.2).
//                                       Enrolment by code uses it.
//
// The types carry the spec's own names. DH is X25519. The cipher is ChaCha20-Poly1305 (IETF):
// a 32-byte key, and a 12-byte nonce made of 4 zero bytes and the 64-bit counter n in
// little-endian order. HASH is BLAKE2b with a 64-byte output (HASHLEN 64, BLOCKLEN 128); HMAC is
// RFC 2104 over that hash (libsodium's keyed BLAKE2b is a different function), and HKDF is the
// spec's. The SymmetricState (ck, h) is private to noise.cc.
//
// The handshake works on bytes in memory. It never touches a socket; the caller moves the
// messages (FrameDecoder below splits a byte stream into messages):
//
//   KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
//   auto i = HandshakeState::Create({.pattern = Pattern::kXX, .role = Role::kInitiator,
//                                    .prologue = p, .local_static = &alice});
//   auto r = HandshakeState::Create({.pattern = Pattern::kXX, .role = Role::kResponder,
//                                    .prologue = p, .local_static = &bob});
//   m1 = i->WriteMessage(a)  ->  r->ReadMessage(m1) == a     // -> e
//   m2 = r->WriteMessage(b)  ->  i->ReadMessage(m2) == b     // <- e, ee, s, es
//   m3 = i->WriteMessage(c)  ->  r->ReadMessage(m3) == c     // -> s, se
//   now i->IsComplete(), and i->RemoteStatic() == bob.public_key()
//   i->Split() and r->Split() each return the pair (initiator -> responder,
//   responder -> initiator): the initiator sends with .first, the responder with .second.
//
// Trust is the caller's decision. Once the handshake is complete, RemoteStatic() is a key the
// peer has proven it holds; whether that key belongs to a box we trust is decided elsewhere
// (sync's identities). Payloads sent during the handshake have weaker protection than transport
// messages. In XX, the first payload is plaintext and the second is sent to an initiator that
// has not yet authenticated itself. In IK, the first payload is encrypted to the responder but
// can be replayed to it.
//
// Errors: every failure is a Status, never an exception or a crash. Bytes from the peer that
// fail get kCorrupt: a message that fails to authenticate, a truncated or oversized message, an
// all-zero X25519 result (a low-order public key). A call that does not fit the state (out of
// turn, Split before completion, a payload too big, an exhausted nonce) gets
// kInvalidArgument. Once ReadMessage fails, the HandshakeState is dead and every
// later call fails too, since the spec says to abandon the handshake then. A CipherState that
// fails to decrypt keeps its nonce, so the caller decides whether to go on (sync closes the
// session). No Noise message, handshake or transport, may be over 65535 bytes.
//
// Secrets: private keys and cipher keys live in sodium_malloc memory (guard pages, not
// swapped where the OS allows). They are wiped with sodium_memzero when their owner is
// destroyed. CipherState and KeyPair are move-only, so a key is never silently duplicated.
// Reusing a (key, nonce) pair would break ChaCha20-Poly1305.
//
// Thread-safety: none of these types may be used from two threads at once. Separate objects
// are independent.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "outpost/base/status.h"

namespace outpost::noise {

inline constexpr size_t kDhSize = 32;                   // DHLEN: X25519 keys and shared secrets
inline constexpr size_t kKeySize = 32;                  // ChaCha20-Poly1305 key
inline constexpr size_t kHashSize = 64;                 // HASHLEN: BLAKE2b-512
inline constexpr size_t kTagSize = 16;                  // Poly1305 tag added to every ciphertext
inline constexpr size_t kMaxMessageSize = 65535;        // any Noise message, handshake or transport
inline constexpr uint64_t kReservedNonce = UINT64_MAX;  // 2^64-1: never used to encrypt

using PublicKey = std::array<uint8_t, kDhSize>;
using HandshakeHash = std::array<uint8_t, kHashSize>;
using Psk = std::array<uint8_t, kKeySize>;

namespace detail {
// sodium_malloc / sodium_memzero + sodium_free; the allocation throws std::bad_alloc on failure,
// like any other allocation.
uint8_t* AllocateSecret(size_t size);
void FreeSecret(uint8_t* p, size_t size);
}  // namespace detail

// Secret<N>: N bytes in sodium_malloc memory, wiped and freed on destruction. Move-only. A
// default-constructed or moved-from Secret holds nothing (empty()).
template <size_t N>
class Secret {
 public:
  Secret() = default;
  static Secret Zeroed() {
    Secret s;
    s.p_ = detail::AllocateSecret(N);
    return s;
  }
  ~Secret() { Reset(); }
  Secret(Secret&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Secret& operator=(Secret&& o) noexcept {
    if (this != &o) {
      Reset();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  bool empty() const { return p_ == nullptr; }
  // Only on a non-empty Secret.
  std::span<uint8_t, N> span() { return std::span<uint8_t, N>(p_, N); }
  std::span<const uint8_t, N> span() const { return std::span<const uint8_t, N>(p_, N); }
  void Reset() {
    detail::FreeSecret(p_, N);
    p_ = nullptr;
  }

 private:
  uint8_t* p_ = nullptr;
};

// An X25519 key pair. Move-only; Clone() makes a deliberate copy.
class KeyPair {
 public:
  // A fresh random key pair (randombytes_buf).
  static KeyPair Generate();
  // The pair for a given 32-byte private key (X25519 clamps it). InvalidArgument for any other
  // length.
  static Result<KeyPair> FromPrivateKey(std::span<const uint8_t> private_key);
  KeyPair Clone() const;

  bool empty() const { return private_.empty(); }  // moved-from; the accessors need !empty()
  const PublicKey& public_key() const { return public_; }
  std::span<const uint8_t, kDhSize> private_key() const { return private_.span(); }

 private:
  KeyPair() = default;
  Secret<kDhSize> private_;
  PublicKey public_{};
};

// CipherState (k, n). Without a key (as during the first handshake messages), encryption and
// decryption pass the bytes through unchanged. Move-only.
class CipherState {
 public:
  CipherState() = default;  // no key, n = 0
  explicit CipherState(std::span<const uint8_t, kKeySize> key) { InitializeKey(key); }

  // k = key, n = 0.
  void InitializeKey(std::span<const uint8_t, kKeySize> key);
  bool HasKey() const { return !k_.empty(); }
  void SetNonce(uint64_t n) { n_ = n; }
  uint64_t nonce() const { return n_; }

  // ENCRYPT(k, n, ad, plaintext), then n += 1. Fails without changing n if n is the reserved
  // 2^64-1 or the ciphertext would be over kMaxMessageSize.
  Result<std::vector<uint8_t>> EncryptWithAd(std::span<const uint8_t> ad,
                                             std::span<const uint8_t> plaintext);
  // The same, appending the ciphertext to *out (on failure *out is unchanged). The input must
  // not point into *out.
  Status EncryptWithAd(std::span<const uint8_t> ad, std::span<const uint8_t> plaintext,
                       std::vector<uint8_t>* out);
  // DECRYPT(k, n, ad, ciphertext), then n += 1. On an authentication failure, a ciphertext too
  // short to hold a tag or over kMaxMessageSize, or the reserved nonce: an error, and n stays.
  Result<std::vector<uint8_t>> DecryptWithAd(std::span<const uint8_t> ad,
                                             std::span<const uint8_t> ciphertext);
  Status DecryptWithAd(std::span<const uint8_t> ad, std::span<const uint8_t> ciphertext,
                       std::vector<uint8_t>* out);

  // k = the first 32 bytes of ENCRYPT(k, 2^64-1, empty ad, 32 zero bytes); n is unchanged. Both
  // sides must rekey at the same point in the stream. Fails only without a key.
  Status Rekey();

 private:
  Secret<kKeySize> k_;
  uint64_t n_ = 0;
};

enum class Pattern { kXX, kIK, kXXpsk3 };
enum class Role { kInitiator, kResponder };

// "Noise_XX_25519_ChaChaPoly_BLAKE2b", "Noise_IK_25519_ChaChaPoly_BLAKE2b" or
// "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b".
std::string_view ProtocolName(Pattern pattern);

struct HandshakeConfig {
  Pattern pattern = Pattern::kXX;
  Role role = Role::kInitiator;
  // Bytes both sides must agree on (e.g. a protocol version string). They are mixed into h, so
  // a mismatch makes the handshake fail.
  std::vector<uint8_t> prologue{};
  // Required by every pattern on both sides. Create() copies it; the caller keeps ownership.
  const KeyPair* local_static = nullptr;
  // IK initiator only: the responder's static public key, known in advance. Must be unset
  // otherwise (XX and the IK responder learn the remote key during the handshake).
  std::optional<PublicKey> remote_static{};
  // XXpsk3 only: the pre-shared key, copied into secret memory. It may instead be set later
  // with SetPsk, before the psk token (a responder that learns from message 1 which psk the
  // initiator means); message 3 fails without one.
  std::optional<Psk> psk{};
  // For test vectors only: use this ephemeral key instead of a random one. Copied.
  const KeyPair* ephemeral_for_testing = nullptr;
};

// HandshakeState: one side of one handshake. Move-only. A moved-from HandshakeState is dead and
// refuses every call; only pattern() and role() need a live one.
class HandshakeState {
 public:
  // InvalidArgument if the config does not fit the pattern and role.
  static Result<HandshakeState> Create(const HandshakeConfig& config);
  ~HandshakeState();
  HandshakeState(HandshakeState&&) noexcept;
  HandshakeState& operator=(HandshakeState&&) noexcept;

  // Builds the next handshake message carrying `payload`. Fails if it is not this side's turn,
  // the handshake is complete or dead, or the message would be over kMaxMessageSize (too big a
  // payload is refused before anything changes; the handshake can go on).
  Result<std::vector<uint8_t>> WriteMessage(std::span<const uint8_t> payload);
  // Processes the peer's next handshake message and returns its payload. Any failure
  // (authentication, length, low-order key, wrong turn) leaves the handshake dead.
  Result<std::vector<uint8_t>> ReadMessage(std::span<const uint8_t> message);

  // XXpsk3: sets (or replaces) the pre-shared key; InvalidArgument for another pattern, or once
  // the psk token has been processed or the handshake is dead.
  Status SetPsk(const Psk& psk);

  bool IsComplete() const;
  bool IsMyTurnToWrite() const;  // false once complete or dead
  bool IsDead() const;
  Pattern pattern() const;
  Role role() const;
  // h: the final handshake hash once IsComplete(), equal on both sides and unique to this
  // session (for channel binding, e.g. signing it with an identity key). Before that, the
  // running value.
  HandshakeHash GetHandshakeHash() const;
  // The peer's static public key once a message has carried it (or from the start, for the
  // IK initiator). Authenticated only once IsComplete().
  std::optional<PublicKey> RemoteStatic() const;
  // The transport CipherStates: first for initiator -> responder, second for responder ->
  // initiator. Only once complete, and only once (ck is wiped afterwards).
  Result<std::pair<CipherState, CipherState>> Split();

 private:
  struct Impl;
  explicit HandshakeState(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Framing for byte streams (TCP, a pipe, a file). Each Noise message travels as a 2-byte
// big-endian length followed by the message. A 48-byte message e1 09 ... 7f goes on the wire as
// 00 30 e1 09 ... 7f (50 bytes).
inline constexpr size_t kFrameHeaderSize = 2;

// The frame for one message; InvalidArgument if the message is over kMaxMessageSize.
Result<std::vector<uint8_t>> EncodeFrame(std::span<const uint8_t> message);

// Collects bytes as they arrive and hands back whole messages. Never fails: every 2-byte
// length is valid. It buffers only what it is given.
class FrameDecoder {
 public:
  void Append(std::span<const uint8_t> bytes);
  // The next whole message, or nullopt until more bytes arrive.
  std::optional<std::vector<uint8_t>> Next();
  size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::vector<uint8_t> buffer_;
  size_t start_ = 0;
};

}  // namespace outpost::noise
