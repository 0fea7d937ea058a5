// CheckCompressedVariants (outpost/server/variant_check.h): decompress each variant in pieces,
// hash what comes out, and compare with the variant's name. Memory stays at a few pieces
// whatever the variant's size; output beyond the cache's largest source is damage, not
// something to finish decompressing.
#include "outpost/server/variant_check.h"

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>
#include <optional>
#include <string_view>

#include "compression_cache.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

constexpr size_t kPiece = 64 * 1024;

// What decompressing a variant gave: the hash of its output, or why it is not a stream.
struct Decompressed {
  std::optional<Hash> hash;
  std::string problem;
};

// Streaming decompressors behind one interface.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // Decompresses `in`, appending to `out`. False if the stream is broken; `*ended` is set once
  // the stream is complete (input after the end is damage).
  virtual bool Feed(std::string_view in, std::string& out, bool* ended) = 0;
};

class GzipDecoder : public Decoder {
 public:
  GzipDecoder() { ok_ = inflateInit2(&zs_, 15 + 16) == Z_OK; }
  ~GzipDecoder() override {
    if (ok_) inflateEnd(&zs_);
  }
  bool Feed(std::string_view in, std::string& out, bool* ended) override {
    if (!ok_) return false;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      size_t old = out.size();
      out.resize(old + kPiece);
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      zs_.avail_out = static_cast<uInt>(kPiece);
      int rc = inflate(&zs_, Z_NO_FLUSH);
      out.resize(old + kPiece - zs_.avail_out);
      if (rc == Z_STREAM_END) {
        *ended = true;
        return zs_.avail_in == 0;  // bytes after the end: not what the cache writes
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
      if (zs_.avail_out != 0 && zs_.avail_in == 0) return true;  // wants more input
      if (zs_.avail_out != 0 && rc == Z_BUF_ERROR) return false;  // no progress possible
    }
  }

 private:
  z_stream zs_{};
  bool ok_ = false;
};

class ZstdDecoder : public Decoder {
 public:
  ZstdDecoder() : dctx_(ZSTD_createDCtx()) {}
  bool Feed(std::string_view in, std::string& out, bool* ended) override {
    if (!dctx_) return false;
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    for (;;) {
      size_t old = out.size();
      out.resize(old + kPiece);
      ZSTD_outBuffer output{out.data() + old, kPiece, 0};
      size_t left = ZSTD_decompressStream(dctx_.get(), &output, &input);
      out.resize(old + output.pos);
      if (ZSTD_isError(left)) return false;
      if (left == 0) {  // the frame is whole and flushed
        *ended = true;
        return input.pos == input.size;  // a second frame: not what the cache writes
      }
      if (input.pos == input.size && output.pos < kPiece) return true;  // wants more input
    }
  }

 private:
  struct Free {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };
  std::unique_ptr<ZSTD_DCtx, Free> dctx_;
};

// Decompresses the open variant `file` and hashes the result, stopping at `max_size` bytes.
Decompressed Decompress(const OpenFile& file, ContentEncoding encoding, uint64_t max_size) {
  std::unique_ptr<Decoder> decoder;
  if (encoding == ContentEncoding::kGzip) decoder = std::make_unique<GzipDecoder>();
  else decoder = std::make_unique<ZstdDecoder>();
  Hasher hasher;
  std::string in(kPiece, '\0'), out;
  uint64_t offset = 0, total = 0;
  bool ended = false;
  while (offset < file.size()) {
    ssize_t got = ::pread(file.fd(), in.data(), kPiece, static_cast<off_t>(offset));
    if (got <= 0) return {std::nullopt, got < 0 ? "cannot be read" : "is shorter than it was"};
    offset += static_cast<uint64_t>(got);
    out.clear();
    if (ended || !decoder->Feed(std::string_view(in.data(), static_cast<size_t>(got)), out,
                                &ended)) {
      return {std::nullopt, "is not a whole " + std::string(EncodingToken(encoding)) + " stream"};
    }
    total += out.size();
    if (total > max_size) return {std::nullopt, "decompresses to more than any source"};
    hasher.Update(out);
  }
  if (!ended) return {std::nullopt, "is cut short"};
  return {hasher.Final(), {}};
}

// The encoding and blob of a variant's file name, "<64 hex>.gz" or ".zst"; nullopt for others.
std::optional<std::pair<Hash, ContentEncoding>> ParseVariantName(const std::string& name) {
  size_t dot = name.find('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string_view ext = std::string_view(name).substr(dot);
  auto hash = Hash::FromHex(name.substr(0, dot));
  if (!hash) return std::nullopt;
  if (ext == ".gz") return std::pair{*hash, ContentEncoding::kGzip};
  if (ext == ".zst") return std::pair{*hash, ContentEncoding::kZstd};
  return std::nullopt;
}

// Why the variant at `path` is not the compressed bytes of `hash`; empty if it is (or is a
// marker).
std::string ProblemOf(const fs::path& path, const Hash& hash, ContentEncoding encoding) {
  auto file = OpenFile::Open(path);
  if (!file) return "cannot be opened";
  if (file->size() == 0) return {};  // the "not worth it" marker
  Decompressed d = Decompress(*file, encoding, CompressionOptions{}.max_size);
  if (!d.hash) return d.problem;
  if (*d.hash != hash) return "decompresses to bytes that hash to " + d.hash->Hex();
  return {};
}

// Checks one variant; removes it if it is an orphan or damaged (unless `read_only`).
Status CheckVariant(const BlobStore& store, const fs::path& path, const Hash& hash,
                    ContentEncoding encoding, bool read_only, VariantCheckReport* report) {
  if (!store.Contains(hash)) {
    if (read_only) return Status::Ok();
    ++report->orphans_removed;
    return store.env()->Remove(path);
  }
  std::string problem = ProblemOf(path, hash, encoding);
  if (problem.empty()) return Status::Ok();
  report->damaged.push_back({path, "compressed copy " + path.string() + " " + problem});
  return read_only ? Status::Ok() : store.env()->Remove(path);
}

}  // namespace

Result<VariantCheckReport> CheckCompressedVariants(const BlobStore& store, bool read_only) {
  VariantCheckReport report;
  fs::path dir = store.root() / "cache";
  std::error_code ec;
  if (!fs::exists(dir, ec)) return report;
  for (fs::directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    auto variant = ParseVariantName(it->path().filename().string());
    if (!variant || !it->is_regular_file(ec)) continue;
    ++report.variants;
    report.bytes += it->file_size(ec);
    OUTPOST_RETURN_IF_ERROR(
        CheckVariant(store, it->path(), variant->first, variant->second, read_only, &report));
  }
  if (ec) return ErrnoStatus("listing " + dir.string(), ec.value());
  return report;
}

}  // namespace outpost
