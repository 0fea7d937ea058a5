// Noise handshake messages as a peer sends them: the first byte picks the step (the XX
// responder reading message 1 or 3, the XX initiator reading 2, the IK responder reading 1, the
// IK initiator reading 2, and the same three steps of XXpsk3, enrolment's handshake), the rest
// is the message. Whatever the bytes, ReadMessage returns a
// Status; a refused one leaves the handshake dead; an accepted one leaves a handshake whose
// turn it is to write (or, at the last step, one that is complete, knows the peer's static key
// and splits into the two transport ciphers), and writing the answer returns a Status too.
#include "fuzz_support.h"
#include "noise_steps.h"

using namespace outpost;
using namespace outpost::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const NoiseKeys keys;
  static const NoiseScripts scripts = *PlayEveryPattern(keys);
  Input in(data, size);
  auto step = static_cast<NoiseStep>(in.TakeByte() % static_cast<uint8_t>(NoiseStep::kCount));
  auto prepared = PrepareNoiseStep(keys, scripts, step);
  FUZZ_CHECK(prepared.has_value());
  auto message = in.RestBytes();
  auto payload = prepared->reader.ReadMessage(message);
  if (!payload) {
    FUZZ_CHECK(prepared->reader.IsDead());
    FUZZ_CHECK(!prepared->reader.WriteMessage({}).has_value());
    return 0;
  }
  FUZZ_CHECK(payload->size() <= message.size());
  FUZZ_CHECK(prepared->reader.IsComplete() == prepared->completes);
  if (prepared->completes) {
    auto ciphers = prepared->reader.Split();
    FUZZ_CHECK(ciphers.has_value());
    FUZZ_CHECK(prepared->reader.RemoteStatic().has_value());
  } else {
    FUZZ_CHECK(prepared->reader.IsMyTurnToWrite());
    // Writing the answer may still fail: a low-order ephemeral key in message 1 passes the
    // read (no DH yet) and makes the answer's "ee" all zeros, which WriteMessage refuses.
    (void)prepared->reader.WriteMessage({});
  }
  return 0;
}
