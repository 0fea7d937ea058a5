// The staging log (sync/src/staging.h): what a sync left in DATA/staging/, read back after a
// cut or a reboot, possibly torn or damaged on disk. The bytes are one log file; Open scans
// it. Every record up to the first torn or damaged one (32-byte hash, u32 big-endian length,
// bytes whose hash it is) is indexed and reads back as written; a chunk appended afterwards
// reads back too. The folder is a fresh one under /dev/shm (else /tmp) per process, emptied
// after each run.
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_support.h"
#include "outpost/base/hash.h"
#include "staging.h"

using namespace outpost;
using namespace outpost::fuzz;
namespace fs = std::filesystem;

namespace {

const fs::path& Folder() {
  static const fs::path dir = [] {
    // On tmpfs when there is one: the log fsyncs what it appends, which on a disk costs a
    // millisecond a run and nothing the fuzzer learns from.
    fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string t = (base / "outpost-fuzz-staging-XXXXXX").string();
    FUZZ_CHECK(::mkdtemp(t.data()) != nullptr);
    return fs::path(t);
  }();
  return dir;
}

// The records a scan must find: those before the first torn or damaged one.
void CheckIndexed(std::string_view log, const sync::StagingLog& staging) {
  constexpr size_t kHead = 36;
  size_t pos = 0;
  while (log.size() - pos >= kHead) {
    Hash hash;
    std::memcpy(hash.bytes.data(), log.data() + pos, 32);
    uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length = (length << 8) | static_cast<uint8_t>(log[pos + 32 + i]);
    if (length > log.size() - pos - kHead) return;
    std::string_view chunk = log.substr(pos + kHead, length);
    if (Hash::Of(chunk) != hash) return;
    FUZZ_CHECK(staging.Has(hash));
    auto read = staging.Read(hash);
    // A chunk listed twice is indexed at its last copy: the same bytes, since the hash matches.
    FUZZ_CHECK(read.has_value() && *read == chunk);
    pos += kHead + length;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  std::string_view log = in.Rest();
  {
    std::ofstream out(Folder() / "chunks-1-1.log", std::ios::binary | std::ios::trunc);
    out.write(log.data(), static_cast<std::streamsize>(log.size()));
  }
  auto staging = sync::StagingLog::Open(Folder());
  FUZZ_CHECK(staging.has_value());
  FUZZ_CHECK((*staging)->size() <= log.size() / 36);
  CheckIndexed(log, **staging);
  const std::string fresh = "appended after the scan";
  FUZZ_CHECK((*staging)->Append(Hash::Of(fresh), fresh).ok());
  auto back = (*staging)->Read(Hash::Of(fresh));
  FUZZ_CHECK(back.has_value() && *back == fresh);
  FUZZ_CHECK((*staging)->Clear().ok());
  return 0;
}
