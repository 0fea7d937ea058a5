// A streaming parser of multipart/form-data (RFC 7578), for the upload form that works without
// JavaScript: a browser sends the chosen files in one POST, which may be a gigabyte, so the
// parser takes the body in pieces as it arrives and hands each part's bytes on as it finds them,
// holding at most a part's headers (kMaxHeaderBytes) and a boundary's length of bytes.
//
// Thread-safety: one parser per request, used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "outpost/base/status.h"

namespace outpost::http {

struct FormPart {
  std::string name;          // Content-Disposition's name
  std::optional<std::string> filename;  // set for a file (maybe empty: no file chosen)
  std::string content_type;  // as sent ("" if none)
};

class MultipartHandler {
 public:
  virtual ~MultipartHandler() = default;
  virtual Status OnPartBegin(const FormPart& part) = 0;
  virtual Status OnPartData(std::span<const uint8_t> data) = 0;
  virtual Status OnPartEnd() = 0;
};

class MultipartParser {
 public:
  static constexpr size_t kMaxHeaderBytes = 8 * 1024;  // one part's header block
  static constexpr size_t kMaxBoundary = 70;           // RFC 2046
  static constexpr int kMaxParts = 256;

  // The boundary of a Content-Type "multipart/form-data; boundary=…" (quoted or not); nullopt
  // for another type or a boundary that is empty, longer than kMaxBoundary or not printable.
  static std::optional<std::string> BoundaryOf(std::string_view content_type);

  MultipartParser(const std::string& boundary, MultipartHandler* handler);
  // Parses the next bytes of the body. kInvalidArgument for a malformed body (the message says
  // how), or the handler's error; after an error the parser takes nothing more.
  Status Feed(std::span<const uint8_t> data);
  // The body ended: kInvalidArgument unless the closing boundary was seen.
  Status Finish();

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kData, kEpilogue, kFailed };
  Status Step(bool* progressed);
  Status ParseHeaders(std::string_view block);
  Status Fail(Status s);

  std::string delimiter_;  // "\r\n--" + boundary
  MultipartHandler* handler_;
  State state_ = State::kPreamble;
  std::string pending_;    // bytes received, not yet handed on or discarded
  int parts_ = 0;
};

}  // namespace outpost::http
