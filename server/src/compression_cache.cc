#include "compression_cache.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <chrono>
#include <system_error>

#include "outpost/base/file.h"

namespace outpost {

namespace {

constexpr size_t kPiece = 64 * 1024;

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != b[i]) return false;  // b is lower case
  }
  return true;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsNoCase(s.substr(0, prefix.size()), prefix);
}

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsNoCase(s.substr(s.size() - suffix.size()), suffix);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A qvalue ("1", "0.5", "0.000") in thousandths; 1000 when malformed, as if absent.
int ParseQ(std::string_view q) {
  if (q.empty() || (q[0] != '0' && q[0] != '1')) return 1000;
  int value = (q[0] - '0') * 1000;
  if (q.size() == 1) return value;
  if (q[1] != '.') return 1000;
  int scale = 100;
  for (size_t i = 2; i < q.size() && i < 5; ++i, scale /= 10) {
    if (q[i] < '0' || q[i] > '9') return 1000;
    value += (q[i] - '0') * scale;
  }
  return value > 1000 ? 1000 : value;
}

// One element of Accept-Encoding: "gzip;q=0.5" -> ("gzip", 500).
std::pair<std::string_view, int> ParseCoding(std::string_view element) {
  size_t semi = element.find(';');
  std::string_view coding = Trim(element.substr(0, semi));
  int q = 1000;
  while (semi != std::string_view::npos) {
    size_t next = element.find(';', semi + 1);
    std::string_view param = Trim(element.substr(semi + 1, next - semi - 1));
    if (param.size() >= 2 && Lower(param[0]) == 'q' && param[1] == '=') q = ParseQ(param.substr(2));
    semi = next;
  }
  return {coding, q};
}

// Streaming compressors with one interface, so that whole buffers and files share code.
class Compressor {
 public:
  virtual ~Compressor() = default;
  // Compresses `in`, appending output to `out`; `finish` ends the stream. False on failure.
  virtual bool Add(std::string_view in, bool finish, std::string& out) = 0;

  static std::unique_ptr<Compressor> New(ContentEncoding encoding, int level, uint64_t size);
};

class GzipCompressor : public Compressor {
 public:
  explicit GzipCompressor(int level) {
    ok_ = deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16 /* gzip wrapper */, 8,
                       Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipCompressor() override {
    if (ok_) deflateEnd(&zs_);
  }
  bool ok() const { return ok_; }

  bool Add(std::string_view in, bool finish, std::string& out) override {
    // zlib counts in 32 bits: feed very large buffers in pieces.
    while (in.size() > (1u << 30)) {
      if (!Step(in.substr(0, 1u << 30), false, out)) return false;
      in.remove_prefix(1u << 30);
    }
    return Step(in, finish, out);
  }

 private:
  bool Step(std::string_view in, bool finish, std::string& out) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      size_t old = out.size();
      out.resize(old + kPiece);
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      zs_.avail_out = static_cast<uInt>(kPiece);
      int rc = deflate(&zs_, finish ? Z_FINISH : Z_NO_FLUSH);
      out.resize(old + kPiece - zs_.avail_out);
      if (rc == Z_STREAM_ERROR) return false;
      if (finish) {
        if (rc == Z_STREAM_END) return true;
      } else if (zs_.avail_in == 0 && zs_.avail_out != 0) {
        return true;
      }
    }
  }

  z_stream zs_{};
  bool ok_ = false;
};

class ZstdCompressor : public Compressor {
 public:
  ZstdCompressor(int level, uint64_t size) : cctx_(ZSTD_createCCtx()) {
    ok_ = cctx_ != nullptr &&
          !ZSTD_isError(ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, level)) &&
          !ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx_.get(), size));
  }
  bool ok() const { return ok_; }

  bool Add(std::string_view in, bool finish, std::string& out) override {
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    for (;;) {
      size_t old = out.size();
      out.resize(old + kPiece);
      ZSTD_outBuffer output{out.data() + old, kPiece, 0};
      size_t left =
          ZSTD_compressStream2(cctx_.get(), &output, &input, finish ? ZSTD_e_end : ZSTD_e_continue);
      out.resize(old + output.pos);
      if (ZSTD_isError(left)) return false;
      if (finish ? left == 0 : input.pos == input.size) return true;
    }
  }

 private:
  struct Free {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  std::unique_ptr<ZSTD_CCtx, Free> cctx_;
  bool ok_ = false;
};

std::unique_ptr<Compressor> Compressor::New(ContentEncoding encoding, int level, uint64_t size) {
  if (encoding == ContentEncoding::kGzip) {
    auto c = std::make_unique<GzipCompressor>(level);
    if (c->ok()) return c;
  } else if (encoding == ContentEncoding::kZstd) {
    auto c = std::make_unique<ZstdCompressor>(level, size);
    if (c->ok()) return c;
  }
  return nullptr;
}

int LevelFor(ContentEncoding encoding, const CompressionOptions& options) {
  return encoding == ContentEncoding::kGzip ? options.gzip_level : options.zstd_level;
}

bool SmallEnough(uint64_t compressed, uint64_t original, const CompressionOptions& options) {
  return compressed * 100 <= original * static_cast<uint64_t>(options.max_percent);
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string_view EncodingToken(ContentEncoding encoding) {
  switch (encoding) {
    case ContentEncoding::kIdentity: return {};
    case ContentEncoding::kGzip: return "gzip";
    case ContentEncoding::kZstd: return "zstd";
  }
  return {};
}

std::string_view EtagSuffix(ContentEncoding encoding) {
  switch (encoding) {
    case ContentEncoding::kIdentity: return {};
    case ContentEncoding::kGzip: return "-gz";
    case ContentEncoding::kZstd: return "-zst";
  }
  return {};
}

bool IsCompressible(std::string_view mime) {
  std::string_view type = Trim(mime.substr(0, mime.find(';')));
  return StartsWithNoCase(type, "text/") || EqualsNoCase(type, "application/json") ||
         EqualsNoCase(type, "application/javascript") || EqualsNoCase(type, "application/xml") ||
         EqualsNoCase(type, "image/svg+xml") || EndsWithNoCase(type, "+xml") ||
         EndsWithNoCase(type, "+json");
}

ContentEncoding NegotiateEncoding(std::string_view accept_encoding, bool has_zstd,
                                  bool has_gzip) {
  int zstd = -1, gzip = -1, star = -1;  // q in thousandths; -1: not named
  while (!accept_encoding.empty()) {
    size_t comma = accept_encoding.find(',');
    auto [coding, q] = ParseCoding(accept_encoding.substr(0, comma));
    if (EqualsNoCase(coding, "zstd")) zstd = q;
    if (EqualsNoCase(coding, "gzip") || EqualsNoCase(coding, "x-gzip")) gzip = q;
    if (coding == "*") star = q;
    if (comma == std::string_view::npos) break;
    accept_encoding.remove_prefix(comma + 1);
  }
  if (zstd < 0) zstd = star;
  if (gzip < 0) gzip = star;
  if (!has_zstd) zstd = -1;
  if (!has_gzip) gzip = -1;
  if (zstd > 0 && zstd >= gzip) return ContentEncoding::kZstd;
  if (gzip > 0) return ContentEncoding::kGzip;
  return ContentEncoding::kIdentity;
}

std::optional<std::string> Compress(ContentEncoding encoding, std::string_view data, int level) {
  auto compressor = Compressor::New(encoding, level, data.size());
  std::string out;
  if (!compressor || !compressor->Add(data, /*finish=*/true, out)) return std::nullopt;
  return out;
}

// ---- OpenFile

std::optional<OpenFile> OpenFile::Open(const std::filesystem::path& path) {
  return Open(path.c_str());
}

std::optional<OpenFile> OpenFile::Open(const char* path) {
  int fd = OpenForReadingNoAtime(path);
  if (fd < 0) return std::nullopt;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return std::nullopt;
  }
  return OpenFile(fd, static_cast<uint64_t>(st.st_size));
}

OpenFile& OpenFile::operator=(OpenFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
  }
  return *this;
}

OpenFile::~OpenFile() {
  if (fd_ >= 0) ::close(fd_);
}

// ---- CompressionCache

Result<std::unique_ptr<CompressionCache>> CompressionCache::Open(std::filesystem::path dir,
                                                                 Env* env,
                                                                 CompressionOptions options) {
  if (Status s = env->CreateDirs(dir); !s.ok()) return s;
  // Temp files of a killed process. Ten minutes old: surely not being written any more.
  std::error_code ec;
  auto cutoff = std::filesystem::file_time_type::clock::now() - std::chrono::minutes(10);
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().find(".tmp.") == std::string::npos) continue;
    std::error_code time_ec;
    if (entry.last_write_time(time_ec) < cutoff && !time_ec) (void)env->Remove(entry.path());
  }
  return std::unique_ptr<CompressionCache>(new CompressionCache(std::move(dir), env, options));
}

std::filesystem::path CompressionCache::PathOf(const Hash& hash, ContentEncoding encoding) const {
  return dir_ / (hash.Hex() + (encoding == ContentEncoding::kGzip ? ".gz" : ".zst"));
}

CompressionCache::Lookup CompressionCache::Find(const Hash& hash,
                                                ContentEncoding encoding) const {
  Lookup lookup;
  if (encoding == ContentEncoding::kIdentity) return lookup;
  // The name as one string: a std::filesystem::path would be split into its components (and
  // allocate for each) on every request for a compressed file.
  std::string name;
  name.reserve(dir_.native().size() + 1 + 2 * Hash::kSize + 4);
  name.append(dir_.native()).append("/").append(hash.Hex());
  name.append(encoding == ContentEncoding::kGzip ? ".gz" : ".zst");
  auto file = OpenFile::Open(name.c_str());
  if (!file) return lookup;  // kMissing (or unreadable: making it again will tell)
  if (file->size() == 0) {
    lookup.state = State::kNotWorthIt;
  } else {
    lookup.state = State::kHit;
    lookup.file = std::move(file);
  }
  return lookup;
}

std::optional<OpenFile> CompressionCache::Make(const Hash& hash, ContentEncoding encoding,
                                               const OpenFile& source, bool* source_damaged) {
  if (encoding == ContentEncoding::kIdentity) return std::nullopt;
  Key key{hash, encoding};
  if (!Claim(key)) return std::nullopt;
  // Another thread may have finished it between the caller's Find() and the claim.
  if (auto existing = Find(hash, encoding); existing.state != State::kMissing) {
    Finish(key, /*failed=*/false);
    return std::move(existing.file);
  }
  auto target = PathOf(hash, encoding);
  Result<bool> written = false;
  if (source.size() < options_.min_size || source.size() > options_.max_size) {
    Status s = WriteMarker(target);
    if (!s.ok()) written = s;
  } else {
    written = Write(key, source, target);
  }
  bool damaged = !written && written.error().code() == StatusCode::kCorrupt;
  Finish(key, !written.has_value() && !damaged);
  if (!written) {
    spdlog::warn("compression cache: {}", written.error().ToString());
    if (damaged && source_damaged != nullptr) *source_damaged = true;
    return std::nullopt;
  }
  if (!*written) return std::nullopt;
  return OpenFile::Open(target);
}

Status CompressionCache::Compress(const Key& key, const OpenFile& source, WritableFile* file,
                                  uint64_t* written) {
  auto compressor = Compressor::New(key.second, LevelFor(key.second, options_), source.size());
  if (!compressor) return Internal("cannot start the compressor");
  Hasher hasher;
  std::string in(kPiece, '\0'), out;
  uint64_t offset = 0;
  while (offset < source.size()) {
    ssize_t got = ::pread(source.fd(), in.data(), kPiece, static_cast<off_t>(offset));
    if (got <= 0) {
      return got < 0 ? ErrnoStatus("reading blob " + key.first.Hex(), errno)
                     : Corrupt("blob " + key.first.Hex() + " is shorter than it was");
    }
    std::string_view piece(in.data(), static_cast<size_t>(got));
    hasher.Update(piece);
    offset += piece.size();
    out.clear();
    if (!compressor->Add(piece, offset >= source.size(), out)) {
      return Internal("compressing blob " + key.first.Hex());
    }
    OUTPOST_RETURN_IF_ERROR(file->Append(Bytes(out)));
    *written += out.size();
  }
  // The variant must hold the blob's bytes, not what a failing card returns for them.
  if (hasher.Final() != key.first) {
    return Corrupt("blob " + key.first.Hex() + " is damaged (its bytes no longer hash to its "
                   "name): not compressed, not served; `outpost verify` moves it out");
  }
  return Status::Ok();
}

Result<bool> CompressionCache::Write(const Key& key, const OpenFile& source,
                                     const std::filesystem::path& target) {
  auto temp = TempPath(target);
  auto file = env_->NewWritableFile(temp);
  if (!file) return file.error();
  uint64_t written = 0;
  Status status = Compress(key, source, file->get(), &written);
  if (status.ok()) status = (*file)->Close();
  if (status.ok() && !SmallEnough(written, source.size(), options_)) {
    (void)env_->Remove(temp);
    if (Status s = WriteMarker(target); !s.ok()) return s;
    return false;
  }
  if (status.ok()) status = env_->Rename(temp, target);
  if (!status.ok()) {
    (void)env_->Remove(temp);
    return status;
  }
  return true;
}

Status CompressionCache::WriteMarker(const std::filesystem::path& target) {
  auto temp = TempPath(target);
  auto file = env_->NewWritableFile(temp);
  if (!file) return file.error();
  Status s = (*file)->Close();
  if (s.ok()) s = env_->Rename(temp, target);
  if (!s.ok()) (void)env_->Remove(temp);
  return s;
}

std::filesystem::path CompressionCache::TempPath(const std::filesystem::path& target) {
  uint64_t n;
  {
    std::lock_guard lock(mu_);
    n = ++temp_counter_;
  }
  return target.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(n);
}

bool CompressionCache::Claim(const Key& key) {
  std::lock_guard lock(mu_);
  if (failed_.count(key) != 0) return false;
  return in_flight_.insert(key).second;
}

void CompressionCache::Finish(const Key& key, bool failed) {
  std::lock_guard lock(mu_);
  in_flight_.erase(key);
  if (!failed) return;
  if (failed_.size() >= 10000) failed_.clear();  // bounded memory; a retry is harmless
  failed_.insert(key);
}

// ---- CompressedVariants

CompressedVariants CompressedVariants::Make(std::string_view data, std::string_view mime,
                                            const CompressionOptions& options) {
  CompressedVariants v;
  if (!IsCompressible(mime) || data.size() < options.min_size || data.size() > options.max_size) {
    return v;
  }
  for (auto encoding : {ContentEncoding::kGzip, ContentEncoding::kZstd}) {
    auto out = Compress(encoding, data, LevelFor(encoding, options));
    if (!out || !SmallEnough(out->size(), data.size(), options)) continue;
    (encoding == ContentEncoding::kGzip ? v.gzip_ : v.zstd_) = std::move(out);
  }
  return v;
}

const std::string* CompressedVariants::Get(ContentEncoding encoding) const {
  if (encoding == ContentEncoding::kGzip && gzip_) return &*gzip_;
  if (encoding == ContentEncoding::kZstd && zstd_) return &*zstd_;
  return nullptr;
}

}  // namespace outpost
