// Delivery: answering a GET or HEAD for one resource (a blob on disk or a file in memory) with
// everything a browser and a cache need, and nothing sent twice.
//
// What a response carries:
//   ETag                    strong, from the content hash: "HASH" for the bytes as stored,
//                           "HASH-gz" / "HASH-zst" for a compressed variant
//   Cache-Control           "public, max-age=31536000, immutable" for content-addressed URLs
//                           (/blob/HASH, /static/NAME.HASH.EXT), else "no-cache" (the browser
//                           keeps the copy and revalidates with If-None-Match)
//   Content-Type            as given ("application/octet-stream" when empty)
//   Content-Encoding        zstd or gzip when the client accepts it and a variant exists
//   Vary: Accept-Encoding   whenever the answer could have been compressed
//   Accept-Ranges: bytes    always
//   Content-Disposition     "attachment; filename="ASCII"; filename*=UTF-8''PERCENT" when a
//                           download name is given (RFC 6266 / RFC 8187)
//   X-Content-Type-Options: nosniff   always
//
// Order of decisions: pick the representation (identity, or a compressed variant when there is
// no Range header; only the client's preferred coding is looked up, and if that variant is "not
// worth it" the identity is sent: text that zstd cannot shrink by 10% gzip cannot either), then
// If-None-Match against that representation's ETag (304, with the Content-Length a 200 would
// have), then Range on the identity (206 / 416; If-Range must match the ETag strongly or the
// Range is ignored). A request with a Range header is always answered from the uncompressed
// bytes: byte offsets then mean what the client thinks they mean, and video players, the main
// users of ranges, ask for no compressible types anyway.
//
// HEAD: the transport routes HEAD to the GET handlers and sends the headers, with the
// Content-Length GET would send, and no body. Ranges are decided here (byte_range.h): status,
// Content-Range and the slice of the body exactly. File bodies are a descriptor and a range,
// which the transport sends with sendfile(2): memory stays bounded whatever the file size.
//
// Thread-safety: the functions are thread-safe; they share nothing but the CompressionCache,
// which is. Ownership: nothing here outlives the call except what the response keeps for the
// body: an open descriptor for files, and `owner` for memory replies (see MemoryReply).
#pragma once


#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "compression_cache.h"
#include "http/http_message.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost {

// A blob on disk. The string_views need to stay valid only during the call. Every member has
// a default, so designated initializers may leave any out (also in MemoryReply).
struct FileReply {
  std::filesystem::path path = {};      // the file to send (BlobStore::PathOf)
  Hash hash = {};                       // BLAKE2b-256 of its bytes: the ETag
  std::string_view mime = {};           // Content-Type; empty: application/octet-stream
  bool immutable = false;               // the URL names the content (it never changes)
  std::string_view download_name = {};  // UTF-8; non-empty: sent as an attachment, this name
  // False on an event loop: rather than compress the file now, ServeFile returns kBusy and
  // leaves the response untouched (the caller answers from a worker instead).
  bool may_wait = true;
};

// Answers `req` with the blob. Compressible types are compressed through `cache` (null: never
// compressed). Returns OK, or the reason the blob could not be opened or, while making a
// compressed variant, was found damaged (kCorrupt); the response is then a 500 and the caller
// should log the status (the store is damaged: `outpost verify`).
Status ServeFile(const http::Request& req, http::Response& res, const FileReply& reply,
                 CompressionCache* cache);

// A file in memory, for instance a web-ui asset compiled into the binary.
struct MemoryReply {
  // The bytes. They are read while the response is written, after the handler has returned:
  // they must live in static storage or be kept alive by `owner`.
  std::string_view data = {};
  std::string_view tag = {};  // identity of the bytes (hex hash): ETag "TAG", "TAG-gz", ...
  std::string_view mime = {};
  bool immutable = false;
  std::string_view download_name = {};
  std::shared_ptr<const void> owner = {};  // kept until the response is sent; may be null
};

// Answers `req` with the bytes of `reply`, or a compressed variant from `variants` (null: never
// compressed). `variants` must outlive the response like `data`.
void ServeMemory(const http::Request& req, http::Response& res, const MemoryReply& reply,
                 const CompressedVariants* variants);

// ---- Pieces, public for tests and for handlers that build other responses.

// "\"" + tag + suffix + "\"" for the variant `encoding`.
std::string MakeEtag(std::string_view tag, ContentEncoding encoding);

// True if an If-None-Match value matches `etag`: "*", or one of a comma-separated list of
// entity tags compared weakly (a W/ prefix on either side is ignored).
bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

// The Content-Disposition value for downloading as `utf8_name`: attachment; filename="..."
// (an ASCII fallback: each non-ASCII character, control character, quote, backslash, slash
// and percent sign becomes '_') and filename*=UTF-8''... (RFC 8187 percent-encoding).
std::string ContentDisposition(std::string_view utf8_name);

}  // namespace outpost
