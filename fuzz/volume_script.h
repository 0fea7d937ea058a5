// A bundle volume written by the real writer (VolumeWriter) from the sender 2 to the recipients
// 4 and 5 (fuzz_keys.h); shared by fuzz_bundle_volume and the seed generator.
#pragma once

#include <string>
#include <vector>

#include "bundle/bundle_volume.h"
#include "fuzz_keys.h"
#include "memfile.h"

namespace outpost::fuzz {

struct Keys3 {
  Identity sender = FixedIdentity(2), reader = FixedIdentity(4), other = FixedIdentity(5);
};

inline std::string WriteVolume(const Keys3& k, const std::vector<sync::VolumeRecord>& records) {
  sync::VolumeHeader h;
  h.bundle_id.fill(9);
  h.volume = 0;
  h.sender = k.sender.public_key();
  h.created_at = 1700000000;
  h.recipients = {k.reader.public_key(), k.other.public_key()};
  StringFile file;
  auto writer = sync::VolumeWriter::Start(h, k.sender, &file);
  FUZZ_CHECK(writer.has_value());
  for (const auto& r : records) FUZZ_CHECK((*writer)->Add(r.type, r.body).ok());
  FUZZ_CHECK((*writer)->Finish().ok());
  return file.bytes;
}

}  // namespace outpost::fuzz
