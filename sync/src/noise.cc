// The Noise Protocol Framework (revision 34) for 25519_ChaChaPoly_BLAKE2b, patterns XX and IK.
// Section numbers below refer to the spec. The workload is a handful of handshakes per sync
// session and then a stream of transport messages up to 64 KiB each, so clarity comes first:
// buffers are plain vectors, and each secret that lives past one call is in sodium_malloc
// memory.
#include "outpost/sync/noise.h"

#include <sodium.h>

#include <cstring>
#include <initializer_list>
#include <new>
#include <string>

namespace outpost::noise {

namespace detail {

#ifndef OUTPOST_FUZZ_BUILD
uint8_t* AllocateSecret(size_t size) {
  // sodium_malloc reads the page size that sodium_init records; calling it again is cheap.
  if (sodium_init() < 0) throw std::bad_alloc();
  void* p = sodium_malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  sodium_memzero(p, size);
  return static_cast<uint8_t*>(p);
}

void FreeSecret(uint8_t* p, size_t size) {
  if (p == nullptr) return;
  sodium_memzero(p, size);
  sodium_free(p);
}
#else
// The fuzz build (fuzz/, OUTPOST_FUZZ) keeps secrets on the plain heap: sodium_malloc's mmap,
// mprotect and mlock for each secret took most of a handshake's time there, and AddressSanitizer
// watches heap blocks byte for byte where guard pages only catch a whole page's overrun.
uint8_t* AllocateSecret(size_t size) { return new uint8_t[size](); }

void FreeSecret(uint8_t* p, size_t size) {
  if (p == nullptr) return;
  sodium_memzero(p, size);
  delete[] p;
}
#endif

}  // namespace detail

namespace {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

constexpr size_t kBlockSize = 128;  // BLOCKLEN of BLAKE2b, the HMAC block
constexpr size_t kNonceSize = crypto_aead_chacha20poly1305_ietf_NPUBBYTES;
static_assert(kNonceSize == 12);
static_assert(kKeySize == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kTagSize == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(kDhSize == crypto_scalarmult_BYTES && kDhSize == crypto_scalarmult_SCALARBYTES);
static_assert(kHashSize == crypto_generichash_BYTES_MAX);

// Wipes a stack buffer when it goes out of scope, whichever way the function returns.
class WipeOnExit {
 public:
  WipeOnExit(void* p, size_t n) : p_(p), n_(n) {}
  ~WipeOnExit() { sodium_memzero(p_, n_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  void* p_;
  size_t n_;
};

// HASH(parts...): unkeyed BLAKE2b-512 over the concatenation. `out` may alias an input.
void Blake2b(std::initializer_list<ByteSpan> parts, uint8_t* out) {
  crypto_generichash_state state;
  WipeOnExit wipe(&state, sizeof state);
  crypto_generichash_init(&state, nullptr, 0, kHashSize);
  for (ByteSpan p : parts) crypto_generichash_update(&state, p.data(), p.size());
  crypto_generichash_final(&state, out, kHashSize);
}

// HMAC-HASH(key, text...) per RFC 2104: H((K ^ opad) || H((K ^ ipad) || text)), K zero-padded
// to the 128-byte block (a longer key is hashed first; Noise never passes one).
void HmacBlake2b(ByteSpan key, std::initializer_list<ByteSpan> text, uint8_t* out) {
  uint8_t block[kBlockSize] = {};
  uint8_t pad[kBlockSize];
  uint8_t inner[kHashSize];
  WipeOnExit wipe_block(block, sizeof block), wipe_pad(pad, sizeof pad),
      wipe_inner(inner, sizeof inner);
  if (key.size() > kBlockSize) {
    Blake2b({key}, block);
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  for (size_t i = 0; i < kBlockSize; ++i) pad[i] = block[i] ^ 0x36;
  crypto_generichash_state state;
  WipeOnExit wipe_state(&state, sizeof state);
  crypto_generichash_init(&state, nullptr, 0, kHashSize);
  crypto_generichash_update(&state, pad, sizeof pad);
  for (ByteSpan t : text) crypto_generichash_update(&state, t.data(), t.size());
  crypto_generichash_final(&state, inner, kHashSize);
  for (size_t i = 0; i < kBlockSize; ++i) pad[i] = block[i] ^ 0x5c;
  Blake2b({ByteSpan(pad), ByteSpan(inner)}, out);
}

// HKDF(chaining_key, input_key_material, 2 or 3) (§4.3): out3 may be null for two outputs.
// out1 may alias chaining_key.
void Hkdf(ByteSpan chaining_key, ByteSpan input_key_material, uint8_t* out1, uint8_t* out2,
          uint8_t* out3) {
  uint8_t temp_key[kHashSize];
  WipeOnExit wipe(temp_key, sizeof temp_key);
  HmacBlake2b(chaining_key, {input_key_material}, temp_key);
  const uint8_t one = 0x01, two = 0x02, three = 0x03;
  HmacBlake2b(temp_key, {ByteSpan(&one, 1)}, out1);
  HmacBlake2b(temp_key, {ByteSpan(out1, kHashSize), ByteSpan(&two, 1)}, out2);
  if (out3 != nullptr) {
    HmacBlake2b(temp_key, {ByteSpan(out2, kHashSize), ByteSpan(&three, 1)}, out3);
  }
}

void Hkdf2(ByteSpan chaining_key, ByteSpan input_key_material, uint8_t* out1, uint8_t* out2) {
  Hkdf(chaining_key, input_key_material, out1, out2, nullptr);
}

// The 96-bit ChaChaPoly nonce (§12.3): 32 bits of zeros, then n as 64 bits little-endian.
std::array<uint8_t, kNonceSize> NonceBytes(uint64_t n) {
  std::array<uint8_t, kNonceSize> nonce{};
  for (size_t i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(n >> (8 * i));
  return nonce;
}

// ENCRYPT(k, n, ad, plaintext) into out[0, plaintext.size() + kTagSize).
void ChaChaPolyEncrypt(std::span<const uint8_t, kKeySize> k, uint64_t n, ByteSpan ad,
                       ByteSpan plaintext, uint8_t* out) {
  std::array<uint8_t, kNonceSize> nonce = NonceBytes(n);
  crypto_aead_chacha20poly1305_ietf_encrypt(out, nullptr, plaintext.data(), plaintext.size(),
                                            ad.data(), ad.size(), nullptr, nonce.data(), k.data());
}

// DECRYPT(k, n, ad, ciphertext) into out[0, ciphertext.size() - kTagSize); false if the tag is
// wrong. ciphertext.size() >= kTagSize.
bool ChaChaPolyDecrypt(std::span<const uint8_t, kKeySize> k, uint64_t n, ByteSpan ad,
                       ByteSpan ciphertext, uint8_t* out) {
  std::array<uint8_t, kNonceSize> nonce = NonceBytes(n);
  return crypto_aead_chacha20poly1305_ietf_decrypt(out, nullptr, nullptr, ciphertext.data(),
                                                   ciphertext.size(), ad.data(), ad.size(),
                                                   nonce.data(), k.data()) == 0;
}

Status ReservedNonce() {
  return InvalidArgument("noise: nonce 2^64-1 reached; this cipher can send no more");
}

// SymmetricState (§5.2): the chaining key ck, the handshake hash h and the CipherState that
// MixKey keys.
class SymmetricState {
 public:
  // InitializeSymmetric(protocol_name).
  explicit SymmetricState(std::string_view protocol_name) : ck_(Secret<kHashSize>::Zeroed()) {
    if (protocol_name.size() <= kHashSize) {
      std::memcpy(h_.data(), protocol_name.data(), protocol_name.size());  // zero-padded
    } else {
      Blake2b(
          {ByteSpan(reinterpret_cast<const uint8_t*>(protocol_name.data()), protocol_name.size())},
          h_.data());
    }
    std::memcpy(ck_.span().data(), h_.data(), kHashSize);
  }

  void MixKey(ByteSpan input_key_material) {
    uint8_t temp_k[kHashSize];
    WipeOnExit wipe(temp_k, sizeof temp_k);
    Hkdf2(ck_.span(), input_key_material, ck_.span().data(), temp_k);
    cipher_.InitializeKey(std::span<const uint8_t, kKeySize>(temp_k, kKeySize));  // truncated
  }

  void MixHash(ByteSpan data) { Blake2b({ByteSpan(h_), data}, h_.data()); }

  // MixKeyAndHash(psk): ck, temp_h, temp_k = HKDF(ck, psk, 3); MixHash(temp_h); k = temp_k.
  void MixKeyAndHash(ByteSpan input_key_material) {
    uint8_t temp_h[kHashSize], temp_k[kHashSize];
    WipeOnExit wipe_h(temp_h, sizeof temp_h), wipe_k(temp_k, sizeof temp_k);
    Hkdf(ck_.span(), input_key_material, ck_.span().data(), temp_h, temp_k);
    MixHash(temp_h);
    cipher_.InitializeKey(std::span<const uint8_t, kKeySize>(temp_k, kKeySize));  // truncated
  }

  Status EncryptAndHash(ByteSpan plaintext, Bytes* out) {
    size_t start = out->size();
    OUTPOST_RETURN_IF_ERROR(cipher_.EncryptWithAd(h_, plaintext, out));
    MixHash(ByteSpan(out->data() + start, out->size() - start));
    return Status::Ok();
  }

  Status DecryptAndHash(ByteSpan ciphertext, Bytes* out) {
    OUTPOST_RETURN_IF_ERROR(cipher_.DecryptWithAd(h_, ciphertext, out));
    MixHash(ciphertext);
    return Status::Ok();
  }

  // Split(): the two transport CipherStates; ck is wiped afterwards.
  std::pair<CipherState, CipherState> Split() {
    uint8_t k1[kHashSize], k2[kHashSize];
    WipeOnExit wipe1(k1, sizeof k1), wipe2(k2, sizeof k2);
    Hkdf2(ck_.span(), ByteSpan(), k1, k2);
    ck_.Reset();
    return {CipherState(std::span<const uint8_t, kKeySize>(k1, kKeySize)),
            CipherState(std::span<const uint8_t, kKeySize>(k2, kKeySize))};
  }

  bool HasKey() const { return cipher_.HasKey(); }
  const HandshakeHash& h() const { return h_; }

 private:
  Secret<kHashSize> ck_;
  HandshakeHash h_{};
  CipherState cipher_;
};

enum class Token : uint8_t { kE, kS, kEE, kES, kSE, kSS, kPsk };

struct PatternSpec {
  std::string_view protocol_name;
  bool responder_static_premessage;          // "<- s" before the first message (IK)
  bool psk;                                  // a psk modifier: "e" also does MixKey (§9.2)
  std::vector<std::vector<Token>> messages;  // even indices: initiator -> responder
};

const PatternSpec& SpecOf(Pattern pattern) {
  using enum Token;
  static const PatternSpec kXX{
      "Noise_XX_25519_ChaChaPoly_BLAKE2b", false, false, {{kE}, {kE, kEE, kS, kES}, {kS, kSE}}};
  static const PatternSpec kIK{
      "Noise_IK_25519_ChaChaPoly_BLAKE2b", true, false, {{kE, kES, kS, kSS}, {kE, kEE, kSE}}};
  static const PatternSpec kXXpsk3{"Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b",
                                   false,
                                   true,
                                   {{kE}, {kE, kEE, kS, kES}, {kS, kSE, kPsk}}};
  switch (pattern) {
    case Pattern::kXX:
      return kXX;
    case Pattern::kIK:
      return kIK;
    case Pattern::kXXpsk3:
      return kXXpsk3;
  }
  return kXX;
}

Status TooShort() { return Corrupt("noise: handshake message too short"); }

}  // namespace

// ---- KeyPair ----

KeyPair KeyPair::Generate() {
  KeyPair kp;
  kp.private_ = Secret<kDhSize>::Zeroed();
  do {
    randombytes_buf(kp.private_.span().data(), kDhSize);
  } while (crypto_scalarmult_base(kp.public_.data(), kp.private_.span().data()) != 0);
  return kp;
}

Result<KeyPair> KeyPair::FromPrivateKey(std::span<const uint8_t> private_key) {
  if (private_key.size() != kDhSize) {
    return InvalidArgument("noise: an X25519 private key is 32 bytes, not " +
                           std::to_string(private_key.size()));
  }
  KeyPair kp;
  kp.private_ = Secret<kDhSize>::Zeroed();
  std::memcpy(kp.private_.span().data(), private_key.data(), kDhSize);
  if (crypto_scalarmult_base(kp.public_.data(), kp.private_.span().data()) != 0) {
    return InvalidArgument("noise: unusable X25519 private key");
  }
  return kp;
}

KeyPair KeyPair::Clone() const {
  KeyPair kp;
  if (empty()) return kp;
  kp.private_ = Secret<kDhSize>::Zeroed();
  std::memcpy(kp.private_.span().data(), private_.span().data(), kDhSize);
  kp.public_ = public_;
  return kp;
}

// ---- CipherState (§5.1) ----

void CipherState::InitializeKey(std::span<const uint8_t, kKeySize> key) {
  if (k_.empty()) k_ = Secret<kKeySize>::Zeroed();
  std::memcpy(k_.span().data(), key.data(), kKeySize);
  n_ = 0;
}

Status CipherState::EncryptWithAd(ByteSpan ad, ByteSpan plaintext, Bytes* out) {
  if (!HasKey()) {
    if (plaintext.size() > kMaxMessageSize) return InvalidArgument("noise: message too long");
    out->insert(out->end(), plaintext.begin(), plaintext.end());
    return Status::Ok();
  }
  if (n_ == kReservedNonce) return ReservedNonce();
  if (plaintext.size() > kMaxMessageSize - kTagSize) {
    return InvalidArgument("noise: plaintext of " + std::to_string(plaintext.size()) +
                           " bytes does not fit a 65535-byte message");
  }
  size_t start = out->size();
  out->resize(start + plaintext.size() + kTagSize);
  ChaChaPolyEncrypt(k_.span(), n_, ad, plaintext, out->data() + start);
  ++n_;
  return Status::Ok();
}

Result<Bytes> CipherState::EncryptWithAd(ByteSpan ad, ByteSpan plaintext) {
  Bytes out;
  OUTPOST_RETURN_IF_ERROR(EncryptWithAd(ad, plaintext, &out));
  return out;
}

Status CipherState::DecryptWithAd(ByteSpan ad, ByteSpan ciphertext, Bytes* out) {
  if (ciphertext.size() > kMaxMessageSize) {
    return Corrupt("noise: message of " + std::to_string(ciphertext.size()) +
                   " bytes is over the 65535-byte limit");
  }
  if (!HasKey()) {
    out->insert(out->end(), ciphertext.begin(), ciphertext.end());
    return Status::Ok();
  }
  if (n_ == kReservedNonce) return ReservedNonce();
  if (ciphertext.size() < kTagSize) return Corrupt("noise: ciphertext shorter than its tag");
  size_t start = out->size();
  out->resize(start + ciphertext.size() - kTagSize);
  if (!ChaChaPolyDecrypt(k_.span(), n_, ad, ciphertext, out->data() + start)) {
    out->resize(start);
    return Corrupt("noise: message failed authentication");
  }
  ++n_;
  return Status::Ok();
}

Result<Bytes> CipherState::DecryptWithAd(ByteSpan ad, ByteSpan ciphertext) {
  Bytes out;
  OUTPOST_RETURN_IF_ERROR(DecryptWithAd(ad, ciphertext, &out));
  return out;
}

Status CipherState::Rekey() {
  if (!HasKey()) return InvalidArgument("noise: rekey of a cipher without a key");
  const uint8_t zeros[kKeySize] = {};
  uint8_t encrypted[kKeySize + kTagSize];
  WipeOnExit wipe(encrypted, sizeof encrypted);
  ChaChaPolyEncrypt(k_.span(), kReservedNonce, ByteSpan(), zeros, encrypted);
  std::memcpy(k_.span().data(), encrypted, kKeySize);
  return Status::Ok();
}

// ---- HandshakeState (§5.3) ----

std::string_view ProtocolName(Pattern pattern) { return SpecOf(pattern).protocol_name; }

struct HandshakeState::Impl {
  Impl(Pattern pattern, Role r, KeyPair local_static)
      : spec(&SpecOf(pattern)),
        kind(pattern),
        role(r),
        symmetric(spec->protocol_name),
        s(std::move(local_static)) {}

  const PatternSpec* spec;
  Pattern kind;
  Role role;
  SymmetricState symmetric;
  KeyPair s;
  std::optional<KeyPair> e;
  std::optional<KeyPair> fixed_e;  // ephemeral_for_testing, used by the "e" token
  std::optional<PublicKey> rs;
  std::optional<PublicKey> re;
  Secret<kKeySize> psk;  // XXpsk3 only
  bool psk_used = false;  // the psk token is behind
  size_t next = 0;  // index into spec->messages of the next message
  bool dead = false;
  bool split = false;

  bool initiator() const { return role == Role::kInitiator; }
  bool complete() const { return next == spec->messages.size(); }
  bool initiators_turn() const { return next % 2 == 0; }
  bool may_write() const { return !dead && !complete() && initiators_turn() == initiator(); }
  bool may_read() const { return !dead && !complete() && initiators_turn() != initiator(); }

  void SetPsk(const Psk& key) {
    if (psk.empty()) psk = Secret<kKeySize>::Zeroed();
    std::memcpy(psk.span().data(), key.data(), kKeySize);
  }

  Status Fail(Status st) {
    dead = true;
    e.reset();
    return st;
  }

  // The size WriteMessage would produce for a payload of `payload` bytes.
  size_t MessageSize(size_t payload) const {
    bool keyed = symmetric.HasKey();
    size_t size = 0;
    for (Token t : spec->messages[next]) {
      if (t == Token::kE) {
        size += kDhSize;
        keyed = keyed || spec->psk;  // MixKey(e.pub) in psk mode
      } else if (t == Token::kS) {
        size += kDhSize + (keyed ? kTagSize : 0);
      } else {
        keyed = true;  // every DH token calls MixKey
      }
    }
    return size + payload + (keyed ? kTagSize : 0);
  }

  // MixKey(DH(local, remote)); an all-zero result (a low-order remote key) is an error.
  Status MixDh(const KeyPair* local, const std::optional<PublicKey>& remote) {
    if (local == nullptr || local->empty() || !remote) {
      return Internal("noise: DH before its keys exist");
    }
    uint8_t shared[kDhSize];
    WipeOnExit wipe(shared, sizeof shared);
    if (crypto_scalarmult(shared, local->private_key().data(), remote->data()) != 0) {
      return Corrupt("noise: the peer sent a low-order X25519 key");
    }
    symmetric.MixKey(shared);
    return Status::Ok();
  }

  Status MixDhToken(Token t) {
    const KeyPair* local_e = e ? &*e : nullptr;
    switch (t) {
      case Token::kEE:
        return MixDh(local_e, re);
      case Token::kES:
        return initiator() ? MixDh(local_e, rs) : MixDh(&s, re);
      case Token::kSE:
        return initiator() ? MixDh(&s, re) : MixDh(local_e, rs);
      case Token::kSS:
        return MixDh(&s, rs);
      case Token::kPsk:
        if (psk.empty()) return InvalidArgument("noise: the psk was not set (SetPsk)");
        psk_used = true;
        symmetric.MixKeyAndHash(psk.span());
        return Status::Ok();
      default:
        return Internal("noise: not a DH token");
    }
  }

  Status WriteToken(Token t, Bytes* out) {
    if (t == Token::kE) {
      e = fixed_e ? std::move(*fixed_e) : KeyPair::Generate();
      fixed_e.reset();
      out->insert(out->end(), e->public_key().begin(), e->public_key().end());
      symmetric.MixHash(e->public_key());
      if (spec->psk) symmetric.MixKey(e->public_key());
      return Status::Ok();
    }
    if (t == Token::kS) return symmetric.EncryptAndHash(s.public_key(), out);
    return MixDhToken(t);
  }

  // Consumes the token's bytes from the front of *in.
  Status ReadToken(Token t, ByteSpan* in) {
    if (t == Token::kE) {
      if (in->size() < kDhSize) return TooShort();
      re.emplace();
      std::memcpy(re->data(), in->data(), kDhSize);
      symmetric.MixHash(in->first(kDhSize));
      if (spec->psk) symmetric.MixKey(in->first(kDhSize));
      *in = in->subspan(kDhSize);
      return Status::Ok();
    }
    if (t == Token::kS) {
      size_t size = kDhSize + (symmetric.HasKey() ? kTagSize : 0);
      if (in->size() < size) return TooShort();
      Bytes key;
      OUTPOST_RETURN_IF_ERROR(symmetric.DecryptAndHash(in->first(size), &key));
      rs.emplace();
      std::memcpy(rs->data(), key.data(), kDhSize);
      *in = in->subspan(size);
      return Status::Ok();
    }
    return MixDhToken(t);
  }
};

HandshakeState::HandshakeState(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HandshakeState::~HandshakeState() = default;
HandshakeState::HandshakeState(HandshakeState&&) noexcept = default;
HandshakeState& HandshakeState::operator=(HandshakeState&&) noexcept = default;

Result<HandshakeState> HandshakeState::Create(const HandshakeConfig& config) {
  const PatternSpec& spec = SpecOf(config.pattern);
  bool initiator = config.role == Role::kInitiator;
  if (config.local_static == nullptr || config.local_static->empty()) {
    return InvalidArgument("noise: XX and IK need a local static key pair");
  }
  bool knows_remote = spec.responder_static_premessage && initiator;
  if (knows_remote && !config.remote_static) {
    return InvalidArgument("noise: the IK initiator needs the responder's static key");
  }
  if (!knows_remote && config.remote_static) {
    return InvalidArgument("noise: only the IK initiator is given the remote static key");
  }
  if (config.ephemeral_for_testing != nullptr && config.ephemeral_for_testing->empty()) {
    return InvalidArgument("noise: empty ephemeral key pair");
  }
  if (!spec.psk && config.psk) return InvalidArgument("noise: only XXpsk3 takes a psk");
  auto impl = std::make_unique<Impl>(config.pattern, config.role, config.local_static->Clone());
  if (config.psk) impl->SetPsk(*config.psk);
  impl->symmetric.MixHash(config.prologue);
  if (spec.responder_static_premessage) {  // "<- s": both sides hash the responder's key
    if (initiator) impl->rs = config.remote_static;
    impl->symmetric.MixHash(initiator ? ByteSpan(*impl->rs) : ByteSpan(impl->s.public_key()));
  }
  if (config.ephemeral_for_testing != nullptr) {
    impl->fixed_e = config.ephemeral_for_testing->Clone();
  }
  return HandshakeState(std::move(impl));
}

Result<Bytes> HandshakeState::WriteMessage(ByteSpan payload) {
  if (!impl_) return InvalidArgument("noise: moved-from handshake");
  Impl& x = *impl_;
  if (x.dead) return InvalidArgument("noise: the handshake has failed");
  if (!x.may_write()) return InvalidArgument("noise: not this side's turn to write");
  if (payload.size() > kMaxMessageSize || x.MessageSize(payload.size()) > kMaxMessageSize) {
    return InvalidArgument("noise: a payload of " + std::to_string(payload.size()) +
                           " bytes does not fit a 65535-byte handshake message");
  }
  Bytes out;
  out.reserve(x.MessageSize(payload.size()));
  for (Token t : x.spec->messages[x.next]) {
    Status st = x.WriteToken(t, &out);
    if (!st.ok()) return x.Fail(st);
  }
  Status st = x.symmetric.EncryptAndHash(payload, &out);
  if (!st.ok()) return x.Fail(st);
  ++x.next;
  return out;
}

Result<Bytes> HandshakeState::ReadMessage(ByteSpan message) {
  if (!impl_) return InvalidArgument("noise: moved-from handshake");
  Impl& x = *impl_;
  if (x.dead) return InvalidArgument("noise: the handshake has failed");
  if (!x.may_read()) return x.Fail(InvalidArgument("noise: not this side's turn to read"));
  if (message.size() > kMaxMessageSize) {
    return x.Fail(Corrupt("noise: handshake message over 65535 bytes"));
  }
  ByteSpan in = message;
  for (Token t : x.spec->messages[x.next]) {
    Status st = x.ReadToken(t, &in);
    if (!st.ok()) return x.Fail(st);
  }
  Bytes payload;
  Status st = x.symmetric.DecryptAndHash(in, &payload);
  if (!st.ok()) return x.Fail(st);
  ++x.next;
  return payload;
}

Status HandshakeState::SetPsk(const Psk& psk) {
  if (!impl_) return InvalidArgument("noise: moved-from handshake");
  if (!impl_->spec->psk) return InvalidArgument("noise: only XXpsk3 takes a psk");
  if (impl_->dead || impl_->psk_used) {
    return InvalidArgument("noise: too late to set the psk");
  }
  impl_->SetPsk(psk);
  return Status::Ok();
}

bool HandshakeState::IsComplete() const { return impl_ && !impl_->dead && impl_->complete(); }
bool HandshakeState::IsMyTurnToWrite() const { return impl_ && impl_->may_write(); }
bool HandshakeState::IsDead() const { return !impl_ || impl_->dead; }
Pattern HandshakeState::pattern() const { return impl_->kind; }
Role HandshakeState::role() const { return impl_->role; }

HandshakeHash HandshakeState::GetHandshakeHash() const {
  return impl_ ? impl_->symmetric.h() : HandshakeHash{};
}

std::optional<PublicKey> HandshakeState::RemoteStatic() const {
  return impl_ ? impl_->rs : std::nullopt;
}

Result<std::pair<CipherState, CipherState>> HandshakeState::Split() {
  if (!IsComplete()) return InvalidArgument("noise: split before the handshake is complete");
  if (impl_->split) return InvalidArgument("noise: split twice");
  impl_->split = true;
  impl_->e.reset();
  impl_->psk.Reset();
  return impl_->symmetric.Split();
}

// ---- Framing ----

Result<Bytes> EncodeFrame(ByteSpan message) {
  if (message.size() > kMaxMessageSize) {
    return InvalidArgument("noise: a frame holds at most 65535 bytes, not " +
                           std::to_string(message.size()));
  }
  Bytes frame;
  frame.reserve(kFrameHeaderSize + message.size());
  frame.push_back(static_cast<uint8_t>(message.size() >> 8));
  frame.push_back(static_cast<uint8_t>(message.size() & 0xff));
  frame.insert(frame.end(), message.begin(), message.end());
  return frame;
}

void FrameDecoder::Append(ByteSpan bytes) {
  if (start_ > 0) {  // drop what Next() has handed out
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<Bytes> FrameDecoder::Next() {
  if (buffered() < kFrameHeaderSize) return std::nullopt;
  size_t size = (size_t{buffer_[start_]} << 8) | buffer_[start_ + 1];
  if (buffered() < kFrameHeaderSize + size) return std::nullopt;
  auto begin = buffer_.begin() + static_cast<ptrdiff_t>(start_ + kFrameHeaderSize);
  Bytes message(begin, begin + static_cast<ptrdiff_t>(size));
  start_ += kFrameHeaderSize + size;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return message;
}

}  // namespace outpost::noise
