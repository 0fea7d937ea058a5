// The handshake steps fuzz_noise_handshake feeds: each is one side of an XX or IK handshake
// driven honestly up to the message it reads next, with fixed static and ephemeral keys, so
// the honest message at each step is always the same bytes (the seed generator writes them).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_keys.h"
#include "outpost/sync/noise.h"

namespace outpost::fuzz {

enum class NoiseStep : uint8_t {
  kXXResponderReads1,
  kXXInitiatorReads2,
  kXXResponderReads3,
  kIKResponderReads1,
  kIKInitiatorReads2,
  // Enrolment (mode 4): XX with the code's psk mixed in from message 1's e on.
  kXXpsk3ResponderReads1,
  kXXpsk3InitiatorReads2,
  kXXpsk3ResponderReads3,
  kCount,
};

struct PreparedStep {
  noise::HandshakeState reader;    // the side that reads next
  std::vector<uint8_t> honest;     // what its honest peer sends at this step
  bool completes = false;          // whether reading it completes the reader's handshake
};

struct NoiseKeys {
  noise::KeyPair initiator = FixedKeyPair(1), responder = FixedKeyPair(2);
  noise::KeyPair initiator_e = FixedKeyPair(3), responder_e = FixedKeyPair(4);
  noise::Psk psk{7, 7, 7};  // an enrolment code's psk stands here
};

inline noise::HandshakeState MakeSide(const NoiseKeys& k, noise::Pattern p, noise::Role role) {
  bool init = role == noise::Role::kInitiator;
  noise::HandshakeConfig c{.pattern = p, .role = role, .prologue = {'o', 'p'},
                           .local_static = init ? &k.initiator : &k.responder,
                           .ephemeral_for_testing = init ? &k.initiator_e : &k.responder_e};
  if (init && p == noise::Pattern::kIK) c.remote_static = k.responder.public_key();
  if (p == noise::Pattern::kXXpsk3) c.psk = k.psk;
  return std::move(*noise::HandshakeState::Create(c));
}

// The honest messages of one handshake, both sides played once: fixed keys make them the same
// bytes every time.
struct NoiseScript {
  std::vector<uint8_t> m1, m2, m3;  // m3: XX and XXpsk3 only
};

inline const std::vector<uint8_t> kHonestPayload = {'h', 'i'};

inline std::optional<NoiseScript> PlayHonestly(const NoiseKeys& k, noise::Pattern p) {
  auto i = MakeSide(k, p, noise::Role::kInitiator);
  auto r = MakeSide(k, p, noise::Role::kResponder);
  NoiseScript script;
  auto m1 = i.WriteMessage(kHonestPayload);
  if (!m1 || !r.ReadMessage(*m1)) return std::nullopt;
  auto m2 = r.WriteMessage(kHonestPayload);
  if (!m2 || !i.ReadMessage(*m2)) return std::nullopt;
  script.m1 = std::move(*m1);
  script.m2 = std::move(*m2);
  if (p != noise::Pattern::kIK) {
    auto m3 = i.WriteMessage(kHonestPayload);
    if (!m3) return std::nullopt;
    script.m3 = std::move(*m3);
  }
  return script;
}

// The honest messages of each pattern.
struct NoiseScripts {
  NoiseScript xx, ik, xxpsk3;
};

inline std::optional<NoiseScripts> PlayEveryPattern(const NoiseKeys& k) {
  auto xx = PlayHonestly(k, noise::Pattern::kXX), ik = PlayHonestly(k, noise::Pattern::kIK);
  auto psk = PlayHonestly(k, noise::Pattern::kXXpsk3);
  if (!xx || !ik || !psk) return std::nullopt;
  return NoiseScripts{std::move(*xx), std::move(*ik), std::move(*psk)};
}

// The initiator, having written message 1, reading message 2.
inline std::optional<PreparedStep> InitiatorReads2(const NoiseKeys& k, noise::Pattern p,
                                                   const NoiseScript& script) {
  auto i = MakeSide(k, p, noise::Role::kInitiator);
  if (!i.WriteMessage(kHonestPayload)) return std::nullopt;
  return PreparedStep{std::move(i), script.m2, p == noise::Pattern::kIK};
}

// The XX or XXpsk3 responder, having read message 1 and written message 2, reading message 3.
inline std::optional<PreparedStep> ResponderReads3(const NoiseKeys& k, noise::Pattern p,
                                                   const NoiseScript& script) {
  auto r = MakeSide(k, p, noise::Role::kResponder);
  if (!r.ReadMessage(script.m1) || !r.WriteMessage(kHonestPayload)) return std::nullopt;
  return PreparedStep{std::move(r), script.m3, true};
}

// The reading side at `step`, having played its own part of the script up to there (only its
// own side: half the key agreements of playing both); nullopt only if that fails.
inline std::optional<PreparedStep> PrepareNoiseStep(const NoiseKeys& k, const NoiseScripts& s,
                                                    NoiseStep step) {
  using noise::Pattern;
  using noise::Role;
  switch (step) {
    case NoiseStep::kXXResponderReads1:
      return PreparedStep{MakeSide(k, Pattern::kXX, Role::kResponder), s.xx.m1, false};
    case NoiseStep::kIKResponderReads1:
      return PreparedStep{MakeSide(k, Pattern::kIK, Role::kResponder), s.ik.m1, false};
    case NoiseStep::kXXpsk3ResponderReads1:
      return PreparedStep{MakeSide(k, Pattern::kXXpsk3, Role::kResponder), s.xxpsk3.m1, false};
    case NoiseStep::kXXInitiatorReads2: return InitiatorReads2(k, Pattern::kXX, s.xx);
    case NoiseStep::kIKInitiatorReads2: return InitiatorReads2(k, Pattern::kIK, s.ik);
    case NoiseStep::kXXpsk3InitiatorReads2: return InitiatorReads2(k, Pattern::kXXpsk3, s.xxpsk3);
    case NoiseStep::kXXpsk3ResponderReads3: return ResponderReads3(k, Pattern::kXXpsk3, s.xxpsk3);
    case NoiseStep::kXXResponderReads3:
    case NoiseStep::kCount: return ResponderReads3(k, Pattern::kXX, s.xx);
  }
  return std::nullopt;
}

}  // namespace outpost::fuzz
