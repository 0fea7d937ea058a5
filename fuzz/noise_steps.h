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
};

inline noise::HandshakeState MakeSide(const NoiseKeys& k, noise::Pattern p, noise::Role role) {
  bool init = role == noise::Role::kInitiator;
  noise::HandshakeConfig c{.pattern = p, .role = role, .prologue = {'o', 'p'},
                           .local_static = init ? &k.initiator : &k.responder,
                           .ephemeral_for_testing = init ? &k.initiator_e : &k.responder_e};
  if (init && p == noise::Pattern::kIK) c.remote_static = k.responder.public_key();
  return std::move(*noise::HandshakeState::Create(c));
}

// The honest messages of one handshake, both sides played once: fixed keys make them the same
// bytes every time.
struct NoiseScript {
  std::vector<uint8_t> m1, m2, m3;  // m3: XX only
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
  if (p == noise::Pattern::kXX) {
    auto m3 = i.WriteMessage(kHonestPayload);
    if (!m3) return std::nullopt;
    script.m3 = std::move(*m3);
  }
  return script;
}

// The reading side at `step`, having played its own part of the script up to there (only its
// own side: half the key agreements of playing both); nullopt only if that fails.
inline std::optional<PreparedStep> PrepareNoiseStep(const NoiseKeys& k, const NoiseScript& xx,
                                                    const NoiseScript& ik, NoiseStep step) {
  using noise::Role;
  switch (step) {
    case NoiseStep::kXXResponderReads1:
      return PreparedStep{MakeSide(k, noise::Pattern::kXX, Role::kResponder), xx.m1, false};
    case NoiseStep::kIKResponderReads1:
      return PreparedStep{MakeSide(k, noise::Pattern::kIK, Role::kResponder), ik.m1, false};
    case NoiseStep::kXXInitiatorReads2:
    case NoiseStep::kIKInitiatorReads2: {
      bool is_ik = step == NoiseStep::kIKInitiatorReads2;
      auto i = MakeSide(k, is_ik ? noise::Pattern::kIK : noise::Pattern::kXX, Role::kInitiator);
      if (!i.WriteMessage(kHonestPayload)) return std::nullopt;
      return PreparedStep{std::move(i), is_ik ? ik.m2 : xx.m2, is_ik};
    }
    case NoiseStep::kXXResponderReads3:
    case NoiseStep::kCount: {
      auto r = MakeSide(k, noise::Pattern::kXX, Role::kResponder);
      if (!r.ReadMessage(xx.m1) || !r.WriteMessage(kHonestPayload)) return std::nullopt;
      return PreparedStep{std::move(r), xx.m3, true};
    }
  }
  return std::nullopt;
}

}  // namespace outpost::fuzz
