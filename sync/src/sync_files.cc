#include "sync_files.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

namespace outpost::sync {

Result<std::string> ReadRange(const std::filesystem::path& path, uint64_t offset, uint64_t length) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening " + path.string(), errno);
  std::string out(length, '\0');
  size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd, out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      if (n == 0) return Corrupt(path.string() + " is shorter than expected");
      return ErrnoStatus("reading " + path.string(), err);
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status(ec == std::errc::no_such_file_or_directory ? StatusCode::kNotFound
                                                                    : StatusCode::kIoError,
                        path.string() + ": " + ec.message());
  return ReadRange(path, 0, size);
}

namespace {
int WindowLog(size_t bytes) {
  int log = 10;
  while (log < 30 && (size_t{1} << log) < bytes) ++log;
  return log;
}
}  // namespace

// One compression and one decompression context per thread, reused: making a context for every
// 32 KiB chunk cost more than compressing it.
namespace {
struct Contexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ~Contexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
Contexts& ThreadContexts() {
  thread_local Contexts contexts;
  return contexts;
}
}  // namespace

std::string ZstdCompress(std::string_view data, int level, std::string_view prefix) {
  ZSTD_CCtx* cctx = ThreadContexts().c;
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (!prefix.empty()) {
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, WindowLog(prefix.size() + data.size()));
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1);
    ZSTD_CCtx_refPrefix(cctx, prefix.data(), prefix.size());
  }
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

Result<std::string> ZstdDecompress(std::string_view frame, uint64_t size, std::string_view prefix) {
  ZSTD_DCtx* dctx = ThreadContexts().d;
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 31);
  if (!prefix.empty()) ZSTD_DCtx_refPrefix(dctx, prefix.data(), prefix.size());
  std::string out(size, '\0');
  size_t n = ZSTD_decompressDCtx(dctx, out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) return Corrupt(std::string("compressed data does not decompress: ") + ZSTD_getErrorName(n));
  if (n != size) return Corrupt("compressed data holds " + std::to_string(n) + " bytes, not " + std::to_string(size));
  return out;
}

Result<PublicKey> TrustListRoot(std::string_view document) {
  if (document.size() < 6 + 32 + 8 || document.substr(0, 4) != "OPTL") {
    return Corrupt("not a trust list");
  }
  PublicKey key;
  std::memcpy(key.bytes.data(), document.data() + 6, 32);
  return key;
}

Result<uint64_t> TrustListSequence(std::string_view document) {
  if (document.size() < 6 + 32 + 8 || document.substr(0, 4) != "OPTL") {
    return Corrupt("not a trust list");
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(document[38 + i]);
  return v;
}

Result<Manifest> DecodeEnvelopeManifest(std::string_view envelope) {
  auto signed_manifest = ParseSignedManifest(envelope);
  if (!signed_manifest) return signed_manifest.error();
  return DecodeManifest(signed_manifest->manifest);
}

namespace {
void Collect(const DraftNode& node, std::map<std::string, Hash>* out) {
  if (node.blob) (*out)[node.path] = *node.blob;
  for (const auto& child : node.children) Collect(child, out);
}
}  // namespace

std::map<std::string, Hash> FilesByPath(const VersionDraft& draft) {
  std::map<std::string, Hash> out;
  Collect(draft.root, &out);
  return out;
}

}  // namespace outpost::sync
