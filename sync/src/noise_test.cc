#include "outpost/sync/noise.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

namespace outpost::noise {
namespace {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

Bytes FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  EXPECT_EQ(hex.size() % 2, 0u) << hex;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    EXPECT_TRUE(hi >= 0 && lo >= 0) << hex;
    out.push_back(static_cast<uint8_t>((hi << 4) | lo));
  }
  return out;
}

std::string Hex(ByteSpan bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

Bytes B(std::string_view text) { return Bytes(text.begin(), text.end()); }

KeyPair KeyFromHex(std::string_view hex) {
  Result<KeyPair> kp = KeyPair::FromPrivateKey(FromHex(hex));
  EXPECT_TRUE(kp.has_value()) << kp.error().ToString();
  return kp ? std::move(kp).value() : KeyPair::Generate();
}

// A deterministic key pair: the private key is 32 copies of `seed`.
KeyPair FixedKey(uint8_t seed) {
  Bytes key(kDhSize, seed);
  return KeyFromHex(Hex(key));
}

PublicKey ToPublicKey(ByteSpan bytes) {
  PublicKey key{};
  EXPECT_EQ(bytes.size(), key.size());
  std::copy_n(bytes.begin(), std::min(bytes.size(), key.size()), key.begin());
  return key;
}

HandshakeState MustCreate(const HandshakeConfig& config) {
  Result<HandshakeState> hs = HandshakeState::Create(config);
  if (!hs) ADD_FAILURE() << hs.error().ToString();
  return std::move(hs).value();
}

// The two sides of one handshake with the given keys. Ephemerals are random when null.
struct Pair {
  HandshakeState init;
  HandshakeState resp;
};

Pair MakePair(Pattern pattern, const KeyPair& init_static, const KeyPair& resp_static,
              const KeyPair* init_ephemeral = nullptr, const KeyPair* resp_ephemeral = nullptr,
              std::optional<PublicKey> init_knows = std::nullopt) {
  if (pattern == Pattern::kIK && !init_knows) init_knows = resp_static.public_key();
  std::optional<Psk> psk;
  if (pattern == Pattern::kXXpsk3) psk.emplace().fill(0x5a);
  return Pair{MustCreate({.pattern = pattern,
                          .role = Role::kInitiator,
                          .prologue = B("outpost test"),
                          .local_static = &init_static,
                          .remote_static = init_knows,
                          .psk = psk,
                          .ephemeral_for_testing = init_ephemeral}),
              MustCreate({.pattern = pattern,
                          .role = Role::kResponder,
                          .prologue = B("outpost test"),
                          .local_static = &resp_static,
                          .psk = psk,
                          .ephemeral_for_testing = resp_ephemeral})};
}

struct Transport {
  CipherState init_send, init_recv, resp_send, resp_recv;
};

// Drives the handshake to completion with payload "hello <i>" in message i, checking each
// payload arrives, then splits both sides.
void CompleteHandshake(Pair& p, Transport* t) {
  for (size_t i = 0; !p.init.IsComplete(); ++i) {
    ASSERT_LT(i, 3u);
    bool from_init = i % 2 == 0;
    HandshakeState& sender = from_init ? p.init : p.resp;
    HandshakeState& receiver = from_init ? p.resp : p.init;
    Bytes payload = B("hello " + std::to_string(i));
    Result<Bytes> message = sender.WriteMessage(payload);
    ASSERT_TRUE(message.has_value()) << message.error().ToString();
    Result<Bytes> read = receiver.ReadMessage(*message);
    ASSERT_TRUE(read.has_value()) << read.error().ToString();
    EXPECT_EQ(*read, payload);
  }
  ASSERT_TRUE(p.resp.IsComplete());
  EXPECT_EQ(p.init.GetHandshakeHash(), p.resp.GetHandshakeHash());
  auto init_split = p.init.Split();
  auto resp_split = p.resp.Split();
  ASSERT_TRUE(init_split.has_value() && resp_split.has_value());
  t->init_send = std::move(init_split->first);
  t->init_recv = std::move(init_split->second);
  t->resp_recv = std::move(resp_split->first);
  t->resp_send = std::move(resp_split->second);
}

void ExpectRoundTrip(CipherState& send, CipherState& recv, const Bytes& plaintext) {
  Result<Bytes> ct = send.EncryptWithAd({}, plaintext);
  ASSERT_TRUE(ct.has_value()) << ct.error().ToString();
  EXPECT_EQ(ct->size(), plaintext.size() + kTagSize);
  Result<Bytes> pt = recv.DecryptWithAd({}, *ct);
  ASSERT_TRUE(pt.has_value()) << pt.error().ToString();
  EXPECT_EQ(*pt, plaintext);
}

// ---- The cacophony vectors ----

std::optional<Pattern> SupportedPattern(std::string_view protocol_name) {
  if (protocol_name == ProtocolName(Pattern::kXX)) return Pattern::kXX;
  if (protocol_name == ProtocolName(Pattern::kIK)) return Pattern::kIK;
  if (protocol_name == ProtocolName(Pattern::kXXpsk3)) return Pattern::kXXpsk3;
  return std::nullopt;
}

std::optional<PublicKey> OptionalKey(const nlohmann::json& v, const char* field) {
  if (!v.contains(field)) return std::nullopt;
  return ToPublicKey(FromHex(v.at(field).get<std::string>()));
}

// The vector's single psk for one side ("init_psks" or "resp_psks"), or none.
std::optional<Psk> OptionalPsk(const nlohmann::json& v, const char* field) {
  if (!v.contains(field)) return std::nullopt;
  EXPECT_EQ(v.at(field).size(), 1u);
  Bytes bytes = FromHex(v.at(field).at(0).get<std::string>());
  Psk psk{};
  EXPECT_EQ(bytes.size(), psk.size());
  std::copy_n(bytes.begin(), std::min(bytes.size(), psk.size()), psk.begin());
  return psk;
}

// Plays one vector: every handshake message and every transport message after Split, both
// written (must equal the ciphertext) and read (must give back the payload).
void RunVector(Pattern pattern, const nlohmann::json& v) {
  KeyPair init_s = KeyFromHex(v.at("init_static").get<std::string>());
  KeyPair init_e = KeyFromHex(v.at("init_ephemeral").get<std::string>());
  KeyPair resp_s = KeyFromHex(v.at("resp_static").get<std::string>());
  KeyPair resp_e = KeyFromHex(v.at("resp_ephemeral").get<std::string>());
  ASSERT_FALSE(v.contains("resp_remote_static"));
  HandshakeState init = MustCreate({.pattern = pattern,
                                    .role = Role::kInitiator,
                                    .prologue = FromHex(v.value("init_prologue", "")),
                                    .local_static = &init_s,
                                    .remote_static = OptionalKey(v, "init_remote_static"),
                                    .psk = OptionalPsk(v, "init_psks"),
                                    .ephemeral_for_testing = &init_e});
  HandshakeState resp = MustCreate({.pattern = pattern,
                                    .role = Role::kResponder,
                                    .prologue = FromHex(v.value("resp_prologue", "")),
                                    .local_static = &resp_s,
                                    .psk = OptionalPsk(v, "resp_psks"),
                                    .ephemeral_for_testing = &resp_e});
  std::optional<std::pair<CipherState, CipherState>> init_t, resp_t;
  const nlohmann::json& messages = v.at("messages");
  for (size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    bool from_init = i % 2 == 0;
    Bytes payload = FromHex(messages[i].at("payload").get<std::string>());
    Bytes expected = FromHex(messages[i].at("ciphertext").get<std::string>());
    Result<Bytes> written = Bytes(), read = Bytes();
    if (!init_t) {
      HandshakeState& sender = from_init ? init : resp;
      HandshakeState& receiver = from_init ? resp : init;
      ASSERT_TRUE(sender.IsMyTurnToWrite());
      written = sender.WriteMessage(payload);
      read = receiver.ReadMessage(expected);
    } else {
      written = (from_init ? init_t->first : resp_t->second).EncryptWithAd({}, payload);
      read = (from_init ? resp_t->first : init_t->second).DecryptWithAd({}, expected);
    }
    ASSERT_TRUE(written.has_value()) << written.error().ToString();
    EXPECT_EQ(Hex(*written), Hex(expected));
    ASSERT_TRUE(read.has_value()) << read.error().ToString();
    EXPECT_EQ(Hex(*read), Hex(payload));

    if (!init_t && init.IsComplete()) {
      ASSERT_TRUE(resp.IsComplete());
      if (v.contains("handshake_hash")) {
        EXPECT_EQ(Hex(init.GetHandshakeHash()), v.at("handshake_hash").get<std::string>());
      }
      EXPECT_EQ(init.GetHandshakeHash(), resp.GetHandshakeHash());
      EXPECT_EQ(init.RemoteStatic(), resp_s.public_key());
      EXPECT_EQ(resp.RemoteStatic(), init_s.public_key());
      auto a = init.Split(), b = resp.Split();
      ASSERT_TRUE(a.has_value() && b.has_value());
      init_t.emplace(std::move(a).value());
      resp_t.emplace(std::move(b).value());
    }
  }
  EXPECT_TRUE(init_t.has_value()) << "the vector ended before the handshake did";
}

TEST(NoiseVectors, EveryXxIkAndXxpsk3VectorIsReproducedByteForByte) {
  std::ifstream in(OUTPOST_NOISE_VECTORS);
  ASSERT_TRUE(in) << "cannot open " << OUTPOST_NOISE_VECTORS;
  nlohmann::json doc = nlohmann::json::parse(in);
  int xx = 0, ik = 0, xxpsk3 = 0, skipped_psk = 0, skipped_other = 0;
  for (const nlohmann::json& v : doc.at("vectors")) {
    // The file says "protocol_name"; its README says "name". Accept either.
    std::string name = v.contains("protocol_name") ? v.at("protocol_name").get<std::string>()
                                                   : v.value("name", "");
    std::optional<Pattern> pattern = SupportedPattern(name);
    if (!pattern) {
      (name.find("psk") != std::string::npos ? skipped_psk : skipped_other) += 1;
      continue;
    }
    SCOPED_TRACE(name);
    RunVector(*pattern, v);
    if (HasFatalFailure()) return;
    (*pattern == Pattern::kXX ? xx : *pattern == Pattern::kIK ? ik : xxpsk3) += 1;
  }
  std::cout << "noise vectors: ran " << xx << " XX, " << ik << " IK and " << xxpsk3
            << " XXpsk3; skipped " << skipped_psk << " other PSK and " << skipped_other
            << " other-pattern vectors\n";
  RecordProperty("xx_vectors", xx);
  RecordProperty("ik_vectors", ik);
  RecordProperty("xxpsk3_vectors", xxpsk3);
  RecordProperty("skipped_vectors", skipped_psk + skipped_other);
  EXPECT_GE(xx, 1);
  EXPECT_GE(ik, 1);
  EXPECT_GE(xxpsk3, 1);
}

// ---- Handshakes between fresh keys ----

void ExpectHandshakeAndTransportWork(Pattern pattern) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  ASSERT_NE(alice.public_key(), bob.public_key());
  Pair p = MakePair(pattern, alice, bob);
  EXPECT_EQ(p.init.RemoteStatic().has_value(), pattern == Pattern::kIK);
  EXPECT_FALSE(p.resp.RemoteStatic().has_value());
  Transport t;
  ASSERT_NO_FATAL_FAILURE(CompleteHandshake(p, &t));
  EXPECT_EQ(p.init.RemoteStatic(), bob.public_key());
  EXPECT_EQ(p.resp.RemoteStatic(), alice.public_key());
  for (int round = 0; round < 5; ++round) {
    ExpectRoundTrip(t.init_send, t.resp_recv, B("from alice " + std::to_string(round)));
    ExpectRoundTrip(t.resp_send, t.init_recv, B("from bob " + std::to_string(round)));
  }
  ExpectRoundTrip(t.init_send, t.resp_recv, Bytes());
  ExpectRoundTrip(t.resp_send, t.init_recv, Bytes(kMaxMessageSize - kTagSize, 0xab));
  EXPECT_EQ(t.init_send.nonce(), 6u);
  EXPECT_EQ(t.resp_recv.nonce(), 6u);
}

TEST(Noise, XxBetweenRandomKeysAuthenticatesBothSidesAndTransportRoundTrips) {
  ExpectHandshakeAndTransportWork(Pattern::kXX);
}

TEST(Noise, IkBetweenRandomKeysAuthenticatesBothSidesAndTransportRoundTrips) {
  ExpectHandshakeAndTransportWork(Pattern::kIK);
}

TEST(Noise, XxPsk3WithTheSamePskAuthenticatesBothSidesAndTransportRoundTrips) {
  ExpectHandshakeAndTransportWork(Pattern::kXXpsk3);
}

TEST(Noise, XxPsk3WithDifferentPsksFailsAtMessageThreeAndNoTransportKeyIsShared) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  Psk mine{}, theirs{};
  mine.fill(1);
  theirs.fill(2);
  HandshakeState init = MustCreate({.pattern = Pattern::kXXpsk3,
                                    .local_static = &alice,
                                    .psk = mine});
  HandshakeState resp = MustCreate({.pattern = Pattern::kXXpsk3,
                                    .role = Role::kResponder,
                                    .local_static = &bob,
                                    .psk = theirs});
  for (int i = 0; i < 2; ++i) {
    HandshakeState& sender = i == 0 ? init : resp;
    HandshakeState& receiver = i == 0 ? resp : init;
    Result<Bytes> m = sender.WriteMessage(B("before the psk"));
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE(receiver.ReadMessage(*m).has_value()) << "the psk is mixed in only at message 3";
  }
  Result<Bytes> m3 = init.WriteMessage(B("secret"));
  ASSERT_TRUE(m3.has_value());
  Result<Bytes> read = resp.ReadMessage(*m3);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), StatusCode::kCorrupt);
  EXPECT_TRUE(resp.IsDead());
  // The initiator finished writing, but its transport keys match nothing the responder has.
  ASSERT_TRUE(init.IsComplete());
  auto keys = init.Split();
  ASSERT_TRUE(keys.has_value());
  CipherState forged{std::span<const uint8_t, kKeySize>(theirs)};
  Result<Bytes> answer = forged.EncryptWithAd({}, B("enrolled"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_FALSE(keys->second.DecryptWithAd({}, *answer).has_value());
}

TEST(Noise, TwoHandshakesWithTheSameStaticKeysGetDifferentSessions) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  Pair p1 = MakePair(Pattern::kXX, alice, bob), p2 = MakePair(Pattern::kXX, alice, bob);
  Transport t1, t2;
  ASSERT_NO_FATAL_FAILURE(CompleteHandshake(p1, &t1));
  ASSERT_NO_FATAL_FAILURE(CompleteHandshake(p2, &t2));
  EXPECT_NE(p1.init.GetHandshakeHash(), p2.init.GetHandshakeHash());
  Result<Bytes> ct = t1.init_send.EncryptWithAd({}, B("x"));
  ASSERT_TRUE(ct.has_value());
  EXPECT_FALSE(t2.resp_recv.DecryptWithAd({}, *ct).has_value());
}

// ---- Tampering ----

// Runs a handshake with fixed keys and payloads, letting `mutate` change message `target`
// before it is delivered. Returns the index of the first message whose ReadMessage failed, or
// nullopt if both sides completed.
std::optional<size_t> HandshakeWithTampering(Pattern pattern, size_t target,
                                             const std::function<void(Bytes*)>& mutate) {
  KeyPair is = FixedKey(1), rs = FixedKey(2), ie = FixedKey(3), re = FixedKey(4);
  Pair p = MakePair(pattern, is, rs, &ie, &re);
  for (size_t i = 0; !p.init.IsComplete() || !p.resp.IsComplete(); ++i) {
    bool from_init = i % 2 == 0;
    HandshakeState& sender = from_init ? p.init : p.resp;
    HandshakeState& receiver = from_init ? p.resp : p.init;
    Result<Bytes> message = sender.WriteMessage(B("payload " + std::to_string(i)));
    if (!message) {
      ADD_FAILURE() << "write " << i << ": " << message.error().ToString();
      return i;
    }
    if (i == target) mutate(&*message);
    Result<Bytes> read = receiver.ReadMessage(*message);
    if (!read) {
      EXPECT_EQ(read.error().code(), StatusCode::kCorrupt) << read.error().ToString();
      EXPECT_TRUE(receiver.IsDead());
      EXPECT_FALSE(receiver.ReadMessage(*message).has_value());
      EXPECT_FALSE(receiver.Split().has_value());
      return i;
    }
  }
  return std::nullopt;
}

std::vector<size_t> CleanMessageSizes(Pattern pattern) {
  std::vector<size_t> sizes;
  for (size_t i = 0; i < 3; ++i) {
    size_t size = 0;
    EXPECT_EQ(HandshakeWithTampering(pattern, i, [&](Bytes* m) { size = m->size(); }),
              std::nullopt);
    if (size > 0) sizes.push_back(size);
  }
  return sizes;
}

void ExpectEveryFlippedByteIsRefused(Pattern pattern) {
  std::vector<size_t> sizes = CleanMessageSizes(pattern);
  ASSERT_EQ(sizes.size(), pattern == Pattern::kIK ? 2u : 3u);
  for (size_t target = 0; target < sizes.size(); ++target) {
    for (size_t byte = 0; byte < sizes[target]; ++byte) {
      for (uint8_t bit : {0x01, 0x80}) {
        std::optional<size_t> failed =
            HandshakeWithTampering(pattern, target, [&](Bytes* m) { (*m)[byte] ^= bit; });
        // A flip may go unnoticed by the message it hits only where that message is not
        // encrypted (XX's first); h then differs, so the next message fails.
        ASSERT_TRUE(failed.has_value()) << "message " << target << " byte " << byte;
        EXPECT_GE(*failed, target);
        EXPECT_LE(*failed, target + 1);
      }
    }
  }
}

TEST(Noise, EveryFlippedHandshakeByteIsRefusedInXx) {
  ExpectEveryFlippedByteIsRefused(Pattern::kXX);
}

TEST(Noise, EveryFlippedHandshakeByteIsRefusedInIk) {
  ExpectEveryFlippedByteIsRefused(Pattern::kIK);
}

TEST(Noise, AnXxPsk3PskMaySetBeforeMessageThreeAndNotAfter) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  Psk psk{};
  psk.fill(7);
  HandshakeState init = MustCreate({.pattern = Pattern::kXXpsk3, .local_static = &alice, .psk = psk});
  HandshakeState resp = MustCreate(
      {.pattern = Pattern::kXXpsk3, .role = Role::kResponder, .local_static = &bob});
  Result<Bytes> m1 = init.WriteMessage(B("which psk"));
  ASSERT_TRUE(m1.has_value());
  ASSERT_TRUE(resp.ReadMessage(*m1).has_value());
  ASSERT_TRUE(resp.SetPsk(psk).ok()) << "the responder picks its psk after message 1";
  Result<Bytes> m2 = resp.WriteMessage({});
  ASSERT_TRUE(m2.has_value() && init.ReadMessage(*m2).has_value());
  Result<Bytes> m3 = init.WriteMessage(B("done"));
  ASSERT_TRUE(m3.has_value());
  Result<Bytes> read = resp.ReadMessage(*m3);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(*read, B("done"));
  EXPECT_FALSE(resp.SetPsk(psk).ok()) << "too late: the psk token is behind";
  HandshakeState xx = MustCreate({.local_static = &alice});
  EXPECT_FALSE(xx.SetPsk(psk).ok()) << "XX takes no psk";
  HandshakeState unset = MustCreate({.pattern = Pattern::kXXpsk3, .local_static = &alice});
  Result<Bytes> u1 = unset.WriteMessage({});
  ASSERT_TRUE(u1.has_value());
  HandshakeState r2 = MustCreate(
      {.pattern = Pattern::kXXpsk3, .role = Role::kResponder, .local_static = &bob, .psk = psk});
  ASSERT_TRUE(r2.ReadMessage(*u1).has_value());
  Result<Bytes> u2 = r2.WriteMessage({});
  ASSERT_TRUE(u2.has_value() && unset.ReadMessage(*u2).has_value());
  EXPECT_FALSE(unset.WriteMessage({}).has_value()) << "message 3 without a psk";
}

TEST(Noise, EveryFlippedHandshakeByteIsRefusedInXxPsk3) {
  ExpectEveryFlippedByteIsRefused(Pattern::kXXpsk3);
}

TEST(Noise, FlippedTransportByteIsRefusedAndTheNonceStays) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  Pair p = MakePair(Pattern::kXX, alice, bob);
  Transport t;
  ASSERT_NO_FATAL_FAILURE(CompleteHandshake(p, &t));
  Result<Bytes> ct = t.init_send.EncryptWithAd({}, B("lesson 4"));
  ASSERT_TRUE(ct.has_value());
  for (size_t i = 0; i < ct->size(); ++i) {
    Bytes bad = *ct;
    bad[i] ^= 0x40;
    Result<Bytes> read = t.resp_recv.DecryptWithAd({}, bad);
    ASSERT_FALSE(read.has_value()) << "byte " << i;
    EXPECT_EQ(read.error().code(), StatusCode::kCorrupt);
    EXPECT_EQ(t.resp_recv.nonce(), 0u);
  }
  EXPECT_FALSE(t.resp_recv.DecryptWithAd(B("other ad"), *ct).has_value());
  EXPECT_FALSE(t.resp_recv.DecryptWithAd({}, ByteSpan(*ct).first(kTagSize - 1)).has_value());
  Result<Bytes> read = t.resp_recv.DecryptWithAd({}, *ct);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, B("lesson 4"));
  // A replay is refused: the receiver has moved on to nonce 1.
  EXPECT_FALSE(t.resp_recv.DecryptWithAd({}, *ct).has_value());
}

TEST(Noise, EveryTruncationOfAnAuthenticatedMessageIsRefused) {
  for (Pattern pattern : {Pattern::kXX, Pattern::kIK}) {
    std::vector<size_t> sizes = CleanMessageSizes(pattern);
    for (size_t target = 0; target < sizes.size(); ++target) {
      for (size_t keep = 0; keep < sizes[target]; ++keep) {
        std::optional<size_t> failed =
            HandshakeWithTampering(pattern, target, [&](Bytes* m) { m->resize(keep); });
        ASSERT_TRUE(failed.has_value())
            << ProtocolName(pattern) << " message " << target << " cut to " << keep;
        EXPECT_LE(*failed, target + 1);
      }
    }
  }
}

TEST(Noise, ExtraBytesAfterAMessageAreRefused) {
  for (Pattern pattern : {Pattern::kXX, Pattern::kIK}) {
    for (size_t target = pattern == Pattern::kXX ? 1 : 0; target < 2; ++target) {
      EXPECT_EQ(HandshakeWithTampering(pattern, target, [](Bytes* m) { m->push_back(0); }), target);
    }
  }
}

TEST(Noise, RandomBytesNeverCompleteAHandshake) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  for (int round = 0; round < 200; ++round) {
    Bytes junk(randombytes_uniform(200));
    if (!junk.empty()) randombytes_buf(junk.data(), junk.size());
    // The IK responder's first read is authenticated; so is the XX initiator's.
    Pair ik = MakePair(Pattern::kIK, alice, bob);
    EXPECT_FALSE(ik.resp.ReadMessage(junk).has_value());
    Pair xx = MakePair(Pattern::kXX, alice, bob);
    ASSERT_TRUE(xx.init.WriteMessage({}).has_value());
    EXPECT_FALSE(xx.init.ReadMessage(junk).has_value());
  }
}

TEST(Noise, MessagesOverTheLimitAreRefused) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  Pair p = MakePair(Pattern::kXX, alice, bob);
  // XX's first message is e (32 bytes) and the plaintext payload.
  Result<Bytes> too_big = p.init.WriteMessage(Bytes(kMaxMessageSize - kDhSize + 1));
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(p.init.IsDead()) << "a refused payload must leave the handshake usable";
  Result<Bytes> largest = p.init.WriteMessage(Bytes(kMaxMessageSize - kDhSize));
  ASSERT_TRUE(largest.has_value());
  EXPECT_EQ(largest->size(), kMaxMessageSize);
  ASSERT_TRUE(p.resp.ReadMessage(*largest).has_value());
  // Second message: e, ee, s (32 + 16), es, payload + 16.
  EXPECT_FALSE(p.resp.WriteMessage(Bytes(kMaxMessageSize - 96 + 1)).has_value());
  EXPECT_EQ(p.resp.WriteMessage(Bytes(kMaxMessageSize - 96)).value().size(), kMaxMessageSize);

  Pair q = MakePair(Pattern::kXX, alice, bob);
  ASSERT_TRUE(q.init.WriteMessage({}).has_value());
  EXPECT_FALSE(q.resp.ReadMessage(Bytes(kMaxMessageSize + 1)).has_value());
  EXPECT_TRUE(q.resp.IsDead());

  CipherState c(FixedKey(9).private_key());
  EXPECT_FALSE(c.EncryptWithAd({}, Bytes(kMaxMessageSize - kTagSize + 1)).has_value());
  EXPECT_EQ(c.nonce(), 0u);
  EXPECT_FALSE(c.DecryptWithAd({}, Bytes(kMaxMessageSize + 1)).has_value());
}

// ---- Keys ----

TEST(Noise, IkWithTheWrongResponderKeyFails) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate(), mallory = KeyPair::Generate();
  Pair p = MakePair(Pattern::kIK, alice, bob, nullptr, nullptr, mallory.public_key());
  Result<Bytes> m1 = p.init.WriteMessage(B("secret for bob"));
  ASSERT_TRUE(m1.has_value());
  Result<Bytes> read = p.resp.ReadMessage(*m1);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), StatusCode::kCorrupt);
  EXPECT_TRUE(p.resp.IsDead());
  EXPECT_FALSE(p.resp.WriteMessage({}).has_value());
}

TEST(Noise, LowOrderPeerKeysAreRefused) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  // 0 and 1 are points of small order: X25519 with them gives all zeros.
  for (uint8_t low : {0, 1}) {
    PublicKey bad{};
    bad[0] = low;
    // The IK initiator's first DH (es) is with the responder key it was given.
    Pair ik = MakePair(Pattern::kIK, alice, bob, nullptr, nullptr, bad);
    Result<Bytes> m1 = ik.init.WriteMessage({});
    ASSERT_FALSE(m1.has_value());
    EXPECT_EQ(m1.error().code(), StatusCode::kCorrupt);
    EXPECT_TRUE(ik.init.IsDead());
    // An XX responder sent a low-order e cannot compute ee.
    Pair xx = MakePair(Pattern::kXX, alice, bob);
    Bytes m = Bytes(bad.begin(), bad.end());
    ASSERT_TRUE(xx.resp.ReadMessage(m).has_value());
    EXPECT_FALSE(xx.resp.WriteMessage({}).has_value());
    EXPECT_TRUE(xx.resp.IsDead());
  }
}

TEST(Noise, MismatchedProloguesFailTheHandshake) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  HandshakeState init = MustCreate({.prologue = B("outpost/1"), .local_static = &alice});
  HandshakeState resp =
      MustCreate({.role = Role::kResponder, .prologue = B("outpost/2"), .local_static = &bob});
  Result<Bytes> m1 = init.WriteMessage({});
  ASSERT_TRUE(m1.has_value());
  ASSERT_TRUE(resp.ReadMessage(*m1).has_value());
  Result<Bytes> m2 = resp.WriteMessage({});
  ASSERT_TRUE(m2.has_value());
  EXPECT_FALSE(init.ReadMessage(*m2).has_value());
}

TEST(NoiseKeyPair, FromPrivateKeyDerivesTheX25519PublicKey) {
  KeyPair kp = KeyPair::Generate();
  PublicKey expected{};
  ASSERT_EQ(crypto_scalarmult_base(expected.data(), kp.private_key().data()), 0);
  EXPECT_EQ(kp.public_key(), expected);
  Result<KeyPair> again = KeyPair::FromPrivateKey(kp.private_key());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->public_key(), kp.public_key());
  KeyPair copy = kp.Clone();
  EXPECT_EQ(copy.public_key(), kp.public_key());
  EXPECT_EQ(Hex(copy.private_key()), Hex(kp.private_key()));
  KeyPair moved = std::move(copy);
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): that is the point
  EXPECT_FALSE(moved.empty());
  EXPECT_FALSE(KeyPair::FromPrivateKey(Bytes(31)).has_value());
  EXPECT_FALSE(KeyPair::FromPrivateKey(Bytes(33)).has_value());
}

// ---- Config and call order ----

TEST(Noise, CreateRefusesConfigsThatDoNotFitThePattern) {
  KeyPair alice = KeyPair::Generate();
  PublicKey some = KeyPair::Generate().public_key();
  EXPECT_FALSE(HandshakeState::Create({}).has_value());  // no static key
  EXPECT_FALSE(HandshakeState::Create({.pattern = Pattern::kIK, .local_static = &alice})
                   .has_value());  // IK initiator without the responder's key
  EXPECT_FALSE(HandshakeState::Create({.local_static = &alice, .remote_static = some})
                   .has_value());  // XX is not told the remote key
  EXPECT_FALSE(HandshakeState::Create({.pattern = Pattern::kIK,
                                       .role = Role::kResponder,
                                       .local_static = &alice,
                                       .remote_static = some})
                   .has_value());
  EXPECT_FALSE(HandshakeState::Create({.local_static = &alice, .psk = Psk{}})
                   .has_value());  // a psk for plain XX
  KeyPair empty = std::move(alice);
  EXPECT_FALSE(HandshakeState::Create({.local_static = &alice}).has_value());  // NOLINT
}

TEST(Noise, CallsOutOfTurnAreRefused) {
  KeyPair alice = KeyPair::Generate(), bob = KeyPair::Generate();
  Pair p = MakePair(Pattern::kXX, alice, bob);
  EXPECT_TRUE(p.init.IsMyTurnToWrite());
  EXPECT_FALSE(p.resp.IsMyTurnToWrite());
  EXPECT_FALSE(p.resp.WriteMessage({}).has_value());
  EXPECT_FALSE(p.resp.IsDead()) << "writing out of turn changes nothing";
  EXPECT_FALSE(p.init.Split().has_value());
  Transport t;
  ASSERT_NO_FATAL_FAILURE(CompleteHandshake(p, &t));
  EXPECT_FALSE(p.init.Split().has_value()) << "split twice";
  EXPECT_FALSE(p.init.WriteMessage({}).has_value());
  EXPECT_FALSE(p.init.IsMyTurnToWrite());

  Pair q = MakePair(Pattern::kIK, alice, bob);
  EXPECT_FALSE(q.init.ReadMessage(Bytes(100)).has_value());
  EXPECT_TRUE(q.init.IsDead()) << "reading out of turn abandons the handshake";
  EXPECT_FALSE(q.init.WriteMessage({}).has_value());
}

// ---- CipherState ----

// The same transport twice over: a handshake with fixed keys is deterministic.
void FixedTransport(Transport* t) {
  KeyPair is = FixedKey(1), rs = FixedKey(2), ie = FixedKey(3), re = FixedKey(4);
  Pair p = MakePair(Pattern::kXX, is, rs, &ie, &re);
  CompleteHandshake(p, t);
}

TEST(NoiseCipherState, RekeyChangesCiphertextsConsistentlyOnBothSides) {
  Transport a, b;
  ASSERT_NO_FATAL_FAILURE(FixedTransport(&a));
  ASSERT_NO_FATAL_FAILURE(FixedTransport(&b));
  ExpectRoundTrip(a.init_send, a.resp_recv, B("before"));
  ExpectRoundTrip(b.init_send, b.resp_recv, B("before"));
  ASSERT_TRUE(a.init_send.Rekey().ok());
  ASSERT_TRUE(a.resp_recv.Rekey().ok());
  EXPECT_EQ(a.init_send.nonce(), 1u) << "rekey keeps n";
  Result<Bytes> rekeyed = a.init_send.EncryptWithAd({}, B("after"));
  Result<Bytes> plain = b.init_send.EncryptWithAd({}, B("after"));
  ASSERT_TRUE(rekeyed.has_value() && plain.has_value());
  EXPECT_NE(*rekeyed, *plain);
  EXPECT_FALSE(b.resp_recv.DecryptWithAd({}, *rekeyed).has_value())
      << "a side that did not rekey cannot read";
  Result<Bytes> read = a.resp_recv.DecryptWithAd({}, *rekeyed);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, B("after"));
  // The other direction was not rekeyed and still works.
  ExpectRoundTrip(a.resp_send, a.init_recv, B("reply"));
  // Rekeying the other direction on both sides, twice, keeps them in step.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(a.resp_send.Rekey().ok());
    ASSERT_TRUE(a.init_recv.Rekey().ok());
    ExpectRoundTrip(a.resp_send, a.init_recv, B("reply " + std::to_string(i)));
  }
  EXPECT_FALSE(CipherState().Rekey().ok()) << "no key to rekey";
}

// ChaCha20-Poly1305 IETF through libsodium directly, as the spec defines ENCRYPT.
Bytes ReferenceEncrypt(ByteSpan key, const std::array<uint8_t, 12>& nonce, ByteSpan ad,
                       ByteSpan plaintext) {
  Bytes out(plaintext.size() + kTagSize);
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), nullptr, plaintext.data(), plaintext.size(),
                                            ad.data(), ad.size(), nullptr, nonce.data(),
                                            key.data());
  return out;
}

TEST(NoiseCipherState, NonceIsFourZeroBytesThenTheCounterLittleEndian) {
  KeyPair key = FixedKey(7);  // 32 bytes of 0x07 as a cipher key
  CipherState c(key.private_key());
  c.SetNonce(0x0102030405060708);
  Result<Bytes> ct = c.EncryptWithAd(B("ad"), B("text"));
  ASSERT_TRUE(ct.has_value());
  std::array<uint8_t, 12> nonce = {0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_EQ(Hex(*ct), Hex(ReferenceEncrypt(key.private_key(), nonce, B("ad"), B("text"))));
  EXPECT_EQ(c.nonce(), 0x0102030405060709u);
}

TEST(NoiseCipherState, RekeyIsTheFirst32BytesOfEncryptingZerosAtTheMaxNonce) {
  KeyPair key = FixedKey(7);
  CipherState c(key.private_key());
  ASSERT_TRUE(c.Rekey().ok());
  std::array<uint8_t, 12> max_nonce = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Bytes new_key = ReferenceEncrypt(key.private_key(), max_nonce, {}, Bytes(32, 0));
  new_key.resize(32);
  Result<Bytes> ct = c.EncryptWithAd({}, B("x"));
  ASSERT_TRUE(ct.has_value());
  std::array<uint8_t, 12> zero_nonce{};
  EXPECT_EQ(Hex(*ct), Hex(ReferenceEncrypt(new_key, zero_nonce, {}, B("x"))));
}

TEST(NoiseCipherState, TheReservedNonceIsNeverUsed) {
  KeyPair key = FixedKey(7);
  CipherState send(key.private_key()), recv(key.private_key());
  send.SetNonce(kReservedNonce - 1);
  recv.SetNonce(kReservedNonce - 1);
  Result<Bytes> last = send.EncryptWithAd({}, B("last"));
  ASSERT_TRUE(last.has_value());
  ASSERT_TRUE(recv.DecryptWithAd({}, *last).has_value());
  EXPECT_EQ(send.nonce(), kReservedNonce);
  Result<Bytes> refused = send.EncryptWithAd({}, B("one more"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(send.nonce(), kReservedNonce);
  EXPECT_FALSE(recv.DecryptWithAd({}, *last).has_value());
  // Rekey uses 2^64-1 inside ENCRYPT only; it does not unlock the counter.
  ASSERT_TRUE(send.Rekey().ok());
  EXPECT_FALSE(send.EncryptWithAd({}, B("one more")).has_value());
}

TEST(NoiseCipherState, WithoutAKeyBytesPassThrough) {
  CipherState c;
  EXPECT_FALSE(c.HasKey());
  Result<Bytes> out = c.EncryptWithAd(B("ad"), B("plain"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, B("plain"));
  EXPECT_EQ(c.nonce(), 0u);
  CipherState moved = CipherState(FixedKey(7).private_key());
  EXPECT_TRUE(moved.HasKey());
  CipherState target = std::move(moved);
  EXPECT_TRUE(target.HasKey());
  EXPECT_FALSE(moved.HasKey());  // NOLINT(bugprone-use-after-move)
}

// ---- Framing ----

TEST(NoiseFrame, LengthIsTwoBytesBigEndian) {
  Bytes message(48, 0x11);
  Result<Bytes> frame = EncodeFrame(message);
  ASSERT_TRUE(frame.has_value());
  ASSERT_EQ(frame->size(), 50u);
  EXPECT_EQ((*frame)[0], 0x00);
  EXPECT_EQ((*frame)[1], 0x30);
  Result<Bytes> big = EncodeFrame(Bytes(0x1234));
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ((*big)[0], 0x12);
  EXPECT_EQ((*big)[1], 0x34);
  EXPECT_EQ(EncodeFrame(Bytes(kMaxMessageSize)).value().size(), kMaxMessageSize + 2);
  EXPECT_FALSE(EncodeFrame(Bytes(kMaxMessageSize + 1)).has_value());
}

TEST(NoiseFrame, DecoderReassemblesMessagesFromAnySplitOfTheStream) {
  std::vector<Bytes> messages = {B("first"), Bytes(), Bytes(300, 0x5a), Bytes(kMaxMessageSize, 1)};
  Bytes stream;
  for (const Bytes& m : messages) {
    Bytes frame = EncodeFrame(m).value();
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  for (size_t piece : {size_t{1}, size_t{3}, size_t{1000}, stream.size()}) {
    FrameDecoder decoder;
    std::vector<Bytes> got;
    for (size_t at = 0; at < stream.size(); at += piece) {
      decoder.Append(ByteSpan(stream).subspan(at, std::min(piece, stream.size() - at)));
      while (std::optional<Bytes> m = decoder.Next()) got.push_back(std::move(*m));
    }
    EXPECT_EQ(got, messages) << "pieces of " << piece;
    EXPECT_EQ(decoder.buffered(), 0u);
  }
  FrameDecoder partial;
  partial.Append(std::array<uint8_t, 3>{0x00, 0x05, 'a'});
  EXPECT_FALSE(partial.Next().has_value());
  EXPECT_EQ(partial.buffered(), 3u);
}

}  // namespace
}  // namespace outpost::noise
