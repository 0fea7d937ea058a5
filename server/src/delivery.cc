// The hot path of static delivery: per request, one open(2)+fstat(2) of the chosen file (two
// when a compressible type has no variant), and no copy of the bytes: files leave by
// sendfile(2), memory replies are sent from where they are.
#include "delivery.h"

#include <unistd.h>

#include <cerrno>

#include "http/byte_range.h"

namespace outpost {

namespace {

constexpr char kOctetStream[] = "application/octet-stream";

std::string_view MimeOr(std::string_view mime) { return mime.empty() ? kOctetStream : mime; }

void SetCommonHeaders(http::Response& res, bool immutable, std::string_view download_name) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (!download_name.empty()) {
    res.set_header("Content-Disposition", ContentDisposition(download_name));
  }
}

// The range to send of the identity representation. If-Range (RFC 9110 13.1.5) must match the
// current ETag strongly; a date or another tag means "send everything".
ByteRange DecideRange(const http::Request& req, std::string_view etag, uint64_t size) {
  if (!req.has_header("Range")) return {};
  if (req.has_header("If-Range")) {
    std::string if_range = req.get_header_value("If-Range");
    if (if_range != etag) return {};
  }
  return ByteRange::Parse(req.get_header_value("Range"), size);
}

// Sets the status and Content-Range for `range`; false if there is no body to send (416).
bool ApplyRange(http::Response& res, const ByteRange& range, uint64_t size) {
  if (range.kind == ByteRange::Kind::kFull) {
    res.status = 200;
    return true;
  }
  res.set_header("Content-Range", range.ContentRange(size));
  res.status = range.kind == ByteRange::Kind::kPartial ? 206 : 416;
  return range.kind == ByteRange::Kind::kPartial;
}

// 304 for a matching If-None-Match. Content-Length is the one a 200 would carry (RFC 9110
// 8.6), set explicitly because a 304 has no body to take it from.
bool AnswerNotModified(const http::Request& req, http::Response& res,
                       const std::string& etag, uint64_t size) {
  if (!req.has_header("If-None-Match") ||
      !IfNoneMatchMatches(req.get_header_value("If-None-Match"), etag)) {
    return false;
  }
  res.status = 304;
  res.set_header("Content-Length", std::to_string(size));
  return true;
}

void SetEncoding(http::Response& res, ContentEncoding encoding) {
  if (encoding != ContentEncoding::kIdentity) {
    res.set_header("Content-Encoding", std::string(EncodingToken(encoding)));
  }
}

// Sends `length` bytes of `file` from `first`, with sendfile(2) (the transport's); the
// descriptor closes when the response is done with (also for HEAD, which sends no body).
void SendFileBody(http::Response& res, OpenFile file, uint64_t first, uint64_t length,
                  std::string_view mime) {
  res.set_file({std::make_shared<const http::FileHandle>(file.Release()), first, length}, mime);
}

// The representation of a blob to send: a cached variant when the client takes one and there
// is one (made now if need be), else the blob itself.
struct Chosen {
  ContentEncoding encoding = ContentEncoding::kIdentity;
  std::optional<OpenFile> file;
  bool damaged = false;  // the blob's bytes did not hash to its name: send nothing
};

// With !reply.may_wait, a variant that would have to be made now is not: `would_wait` is set
// and nothing is opened.
Chosen ChooseFile(const http::Request& req, const FileReply& reply, CompressionCache* cache,
                  bool* would_wait) {
  Chosen chosen;
  ContentEncoding wanted = NegotiateEncoding(req.get_header_value("Accept-Encoding"));
  if (wanted != ContentEncoding::kIdentity) {
    auto lookup = cache->Find(reply.hash, wanted);
    if (lookup.state == CompressionCache::State::kHit) {
      chosen.file = std::move(lookup.file);
    } else if (lookup.state == CompressionCache::State::kMissing) {
      if (!reply.may_wait) {
        *would_wait = true;
        return chosen;
      }
      auto source = OpenFile::Open(reply.path);
      if (source) {
        chosen.file = cache->Make(reply.hash, wanted, *source, &chosen.damaged);
        if (chosen.damaged) return chosen;
        if (!chosen.file) chosen.file = std::move(source);  // serve the original
        else chosen.encoding = wanted;
        return chosen;
      }
    }
    if (chosen.file) chosen.encoding = wanted;
  }
  if (!chosen.file) chosen.file = OpenFile::Open(reply.path);
  return chosen;
}

bool IsAttrChar(unsigned char c) {  // RFC 8187 attr-char
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

std::string MakeEtag(std::string_view tag, ContentEncoding encoding) {
  std::string etag;
  std::string_view suffix = EtagSuffix(encoding);
  etag.reserve(tag.size() + suffix.size() + 2);
  etag += '"';
  etag += tag;
  etag += suffix;
  etag += '"';
  return etag;
}

bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  size_t i = 0;
  while (i < header.size()) {
    char c = header[i];
    if (c == ' ' || c == '\t' || c == ',') {
      ++i;
    } else if (c == '*') {
      return true;
    } else {
      if (header.substr(i).starts_with("W/")) i += 2;
      if (i >= header.size() || header[i] != '"') return false;  // malformed: stop
      size_t close = header.find('"', i + 1);
      if (close == std::string_view::npos) return false;
      if (header.substr(i, close - i + 1) == etag) return true;
      i = close + 1;
    }
  }
  return false;
}

std::string ContentDisposition(std::string_view utf8_name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string fallback, encoded;
  for (size_t i = 0; i < utf8_name.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8_name[i]);
    if (c >= 0x80) {
      if ((c & 0xC0) != 0x80) fallback += '_';  // one '_' per character, not per byte
    } else if (c < 0x20 || c == 0x7F || c == '"' || c == '\\' || c == '/' || c == '%') {
      fallback += '_';
    } else {
      fallback += static_cast<char>(c);
    }
    if (IsAttrChar(c)) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

Status ServeFile(const http::Request& req, http::Response& res, const FileReply& reply,
                 CompressionCache* cache) {
  bool ranged = req.has_header("Range");
  bool negotiable = cache != nullptr && IsCompressible(reply.mime);
  bool would_wait = false;
  Chosen chosen = negotiable && !ranged ? ChooseFile(req, reply, cache, &would_wait)
                                        : Chosen{ContentEncoding::kIdentity,
                                                 OpenFile::Open(reply.path)};
  if (would_wait) return Status(StatusCode::kBusy, "a compressed variant must be made first");
  SetCommonHeaders(res, reply.immutable, reply.download_name);
  if (negotiable) res.set_header("Vary", "Accept-Encoding");
  if (!chosen.file) {
    int err = errno;
    Status error = chosen.damaged ? Corrupt("blob " + reply.hash.Hex() + " is damaged")
                                  : ErrnoStatus("opening blob " + reply.hash.Hex(), err);
    res.status = 500;
    res.set_content("Internal error", "text/plain");
    return error;
  }
  std::string etag = MakeEtag(reply.hash.Hex(), chosen.encoding);
  res.set_header("ETag", etag);
  uint64_t size = chosen.file->size();
  if (AnswerNotModified(req, res, etag, size)) return Status::Ok();
  SetEncoding(res, chosen.encoding);
  ByteRange range = chosen.encoding == ContentEncoding::kIdentity ? DecideRange(req, etag, size)
                                                                  : ByteRange{};
  if (!ApplyRange(res, range, size)) return Status::Ok();
  uint64_t first = range.kind == ByteRange::Kind::kPartial ? range.first : 0;
  SendFileBody(res, std::move(*chosen.file), first, range.Length(size), MimeOr(reply.mime));
  return Status::Ok();
}

void ServeMemory(const http::Request& req, http::Response& res, const MemoryReply& reply,
                 const CompressedVariants* variants) {
  bool ranged = req.has_header("Range");
  SetCommonHeaders(res, reply.immutable, reply.download_name);
  ContentEncoding encoding = ContentEncoding::kIdentity;
  std::string_view bytes = reply.data;
  if (variants != nullptr && variants->any()) {
    res.set_header("Vary", "Accept-Encoding");
    if (!ranged) {
      encoding = NegotiateEncoding(req.get_header_value("Accept-Encoding"),
                                   variants->Get(ContentEncoding::kZstd) != nullptr,
                                   variants->Get(ContentEncoding::kGzip) != nullptr);
      if (const std::string* variant = variants->Get(encoding)) bytes = *variant;
    }
  }
  std::string etag = MakeEtag(reply.tag, encoding);
  res.set_header("ETag", etag);
  if (AnswerNotModified(req, res, etag, bytes.size())) return;
  SetEncoding(res, encoding);
  ByteRange range = encoding == ContentEncoding::kIdentity ? DecideRange(req, etag, bytes.size())
                                                           : ByteRange{};
  if (!ApplyRange(res, range, bytes.size())) return;
  if (range.kind == ByteRange::Kind::kPartial) {
    bytes = bytes.substr(range.first, range.Length(bytes.size()));
  }
  res.set_content_view(bytes, reply.owner, MimeOr(reply.mime));
}

}  // namespace outpost
