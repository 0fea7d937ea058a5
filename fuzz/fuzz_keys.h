// Fixed keys for the fuzz targets and their seed generator (seeds.cc): a seed written with
// them stays valid input for the target, so the fuzzer starts from messages that pass the
// signature and AEAD checks and mutates what lies behind them.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "outpost/sync/identity.h"
#include "outpost/sync/noise.h"

namespace outpost::fuzz {

// The Ed25519 identity of seed byte `n` repeated (1: the root, 2: a publisher, 3: a hub, 4: a
// site).
inline Identity FixedIdentity(uint8_t n) {
  std::array<uint8_t, 32> seed;
  seed.fill(n);
  return std::move(*Identity::FromSeed(seed));
}

// An X25519 key pair from private bytes `n` repeated (Noise statics and ephemerals).
inline noise::KeyPair FixedKeyPair(uint8_t n) {
  std::array<uint8_t, 32> priv;
  priv.fill(n);
  return std::move(*noise::KeyPair::FromPrivateKey(priv));
}

}  // namespace outpost::fuzz
