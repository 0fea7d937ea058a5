#include "zstd_codec.h"

#include <zstd.h>

namespace outpost::sync {

namespace {

// The smallest window (2^10 to 2^30) that covers `bytes`.
int WindowLog(size_t bytes) {
  int log = 10;
  while (log < 30 && (size_t{1} << log) < bytes) ++log;
  return log;
}

// One compression and one decompression context per thread, reused: making a context for every
// 32 KiB chunk cost more than compressing it.
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

Result<std::string> ZstdDecompress(std::string_view frame, uint64_t size, uint64_t max_size,
                                   std::string_view prefix) {
  if (size > max_size) {
    return InvalidArgument("compressed data claims " + std::to_string(size) +
                           " bytes, over the limit of " + std::to_string(max_size));
  }
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

}  // namespace outpost::sync
