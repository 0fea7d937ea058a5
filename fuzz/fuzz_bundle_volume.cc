// Bundle volumes (docs/bundle.md) as a stick brings them, read by the recipient 4. The first
// byte picks:
//   odd   the rest is the volume file, read as it is (a forged header, damaged frames);
//   even  the rest is records (u8 type, u16 big-endian length, body; at most 8) that the real
//         writer seals into a volume, then edits (u32 big-endian offset, u8 xor) applied to
//         it; a last edit of fewer than 5 bytes truncates the volume to its first bytes. This
//         reaches the frames behind the header's signature.
// Whatever the bytes: every record read is the one written at its place (no frame that fails
// authentication yields anything), and a volume read to its end yields every record.
#include <algorithm>

#include "fuzz_support.h"
#include "volume_script.h"

using namespace outpost;
using namespace outpost::fuzz;
using sync::VolumeRecord;

namespace {

std::vector<VolumeRecord> TakeRecords(Input* in) {
  std::vector<VolumeRecord> records;
  size_t count = in->TakeByte() % 9;
  for (size_t i = 0; i < count && !in->empty(); ++i) {
    uint8_t type = in->TakeByte() % sync::kEndRecord;
    size_t length = size_t{in->TakeByte()} << 8;
    length |= in->TakeByte();
    records.push_back({type, std::string(in->TakeText(length))});
  }
  return records;
}

void Edit(Input* in, std::string* volume) {
  while (!in->empty()) {
    std::string_view e = in->TakeText(5);
    uint32_t at = 0;
    for (size_t i = 0; i < e.size() && i < 4; ++i) at = (at << 8) | static_cast<uint8_t>(e[i]);
    if (volume->empty()) return;
    if (e.size() < 5) {
      volume->resize(at % volume->size());
      return;
    }
    (*volume)[at % volume->size()] ^= e[4];
  }
}

// Reads the volume; returns the records read, and whether it verified to its end.
std::pair<std::vector<VolumeRecord>, bool> Read(const std::string& volume, const Identity& self) {
  MemFile file(volume);
  auto reader = sync::VolumeReader::Open(file.path(), self);
  if (!reader) return {{}, false};
  std::vector<VolumeRecord> records;
  for (;;) {
    auto next = (*reader)->Next();
    if (!next) {
      FUZZ_CHECK(!(*reader)->complete());
      FUZZ_CHECK(!(*reader)->Next().has_value());  // a failed reader stays failed
      return {records, false};
    }
    if (!*next) return {records, (*reader)->complete()};
    records.push_back(std::move(**next));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Keys3 keys;
  Input in(data, size);
  if (in.TakeByte() & 1) {
    auto raw = in.Rest();
    Read(std::string(raw), keys.reader);
    return 0;
  }
  auto written = TakeRecords(&in);
  std::string volume = WriteVolume(keys, written);
  Edit(&in, &volume);
  auto [read, complete] = Read(volume, keys.reader);
  FUZZ_CHECK(read.size() <= written.size());
  for (size_t i = 0; i < read.size(); ++i) {
    FUZZ_CHECK(read[i].type == written[i].type && read[i].body == written[i].body);
  }
  if (complete) FUZZ_CHECK(read.size() == written.size());
  return 0;
}
