// Request and Response: what a handler reads and fills, with no socket in sight. The transport
// (http_transport.h) parses the request and writes the response; handlers never block on the
// network. The method names follow cpp-httplib's (has_header, get_param_value, set_content,
// ...), which the handlers were first written against.
//
// A response body is one of three things:
//   - `body`, a string the response owns (pages, JSON, error texts);
//   - a view of bytes that `owner` keeps alive (web-ui assets, compressed variants), never copied;
//   - a range of an open file (blobs), which the transport sends with sendfile(2): the bytes go
//     from the page cache to the socket without passing through the server's memory.
// HEAD requests are routed to the GET handlers; the transport sends the headers with the
// Content-Length the GET would have, and no body.
//
// Thread-safety: plain values; a request and its response belong to one handler call.
#pragma once

#include <strings.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace outpost::http {

struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    size_t n = a.size() < b.size() ? a.size() : b.size();
    int c = ::strncasecmp(a.data(), b.data(), n);
    return c < 0 || (c == 0 && a.size() < b.size());
  }
};

using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;
using Params = std::multimap<std::string, std::string, std::less<>>;

// A route's capture groups, as views into Request::path (so valid while the request is): [0]
// the whole path, [1].. the groups; a group that is not there reads as "".
class Captures {
 public:
  static constexpr size_t kMax = 8;
  std::string operator[](size_t i) const { return std::string(view(i)); }
  std::string_view view(size_t i) const { return i < size_ ? group_[i] : std::string_view(); }
  size_t size() const { return size_; }
  void clear() { size_ = 0; }
  void push_back(std::string_view group) {
    if (size_ < kMax) group_[size_++] = group;
  }

 private:
  std::array<std::string_view, kMax> group_{};
  size_t size_ = 0;
};

struct Request {
  std::string method;   // "GET", "HEAD", "POST"
  std::string target;   // as sent: "/search?q=eau"
  std::string path;     // percent-decoded, without the query: "/search"
  std::string version;  // "HTTP/1.1"
  Headers headers;
  Params params;        // the query, and for POST the form body (x-www-form-urlencoded)
  std::string body;
  Captures matches;     // the route's capture groups, over `path`
  std::string remote_addr;

  bool has_header(std::string_view key) const { return headers.find(key) != headers.end(); }
  std::string get_header_value(std::string_view key) const {
    auto it = headers.find(key);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_param(std::string_view key) const { return params.find(key) != params.end(); }
  std::string get_param_value(std::string_view key) const {
    auto it = params.find(key);
    return it == params.end() ? std::string() : it->second;
  }
};

// An open descriptor, closed when the last response holding it is gone.
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct FileBody {
  std::shared_ptr<const FileHandle> file;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Instead of `body`: bytes kept alive by `body_owner` (null owner: static storage).
  std::optional<std::string_view> body_view;
  std::shared_ptr<const void> body_owner;
  // Instead of either: a range of a file.
  std::optional<FileBody> file;

  bool has_header(std::string_view key) const { return headers.find(key) != headers.end(); }
  std::string get_header_value(std::string_view key) const {
    auto it = headers.find(key);
    return it == headers.end() ? std::string() : it->second;
  }
  // Adds a header line (a second call with the same name adds a second line).
  void set_header(std::string key, std::string value) {
    headers.emplace(std::move(key), std::move(value));
  }
  void set_content(std::string content, std::string_view content_type) {
    body = std::move(content);
    body_view.reset();
    body_owner.reset();
    file.reset();
    SetType(content_type);
  }
  void set_content_view(std::string_view content, std::shared_ptr<const void> owner,
                        std::string_view content_type) {
    body.clear();
    body_view = content;
    body_owner = std::move(owner);
    file.reset();
    SetType(content_type);
  }
  void set_file(FileBody range, std::string_view content_type) {
    body.clear();
    body_view.reset();
    body_owner.reset();
    file = std::move(range);
    SetType(content_type);
  }
  void set_redirect(std::string location, int redirect_status = 302) {
    status = redirect_status;
    headers.erase("Location");
    set_header("Location", std::move(location));
  }
  bool has_body() const { return !body.empty() || body_view || file; }
  uint64_t body_size() const {
    if (file) return file->length;
    if (body_view) return body_view->size();
    return body.size();
  }

 private:
  void SetType(std::string_view content_type) {
    headers.erase("Content-Type");
    set_header("Content-Type", std::string(content_type));
  }
};

}  // namespace outpost::http
