// The request parser under the transport (decision 31): Boost.Beast's HTTP/1.1 parser
// (basic_parser, fuzzed for years upstream), fed from the connection's own read buffer and
// filling our Request directly, with no Beast stream or message in between; the event loops,
// the writes and sendfile stay the transport's.
//
// Beast checks the grammar (method token, request-target characters, "HTTP/d.d", field names
// and values, CRLF line ends, one Content-Length or several that agree) and bounds the head
// (header_limit) and the body (body_limit). What it leaves to its user, this class adds, so
// that the transport answers as before:
//   - the request line: HTTP/1.0 and 1.1 only (other versions 505), an origin-form target
//     ("/..."; else 400), at most max_target_bytes (else 414, also while the line is still
//     arriving);
//   - the header block: at most max_header_bytes in all (431, counted across reads), at most
//     max_headers lines (431), none longer than max_target_bytes (431), no obsolete line
//     folding (400: Beast would join the lines) and no Transfer-Encoding (501: chunked bodies
//     are not accepted, so a body's length is known, and booked, before it is read);
//   - the body: at most max_body bytes (413, from Content-Length, before any of it is read).
//
// Thread-safety: one parser per request, on one thread.
#pragma once

// Boost 1.74's Asio uses std::exchange without including <utility>.
#include <utility>

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <string_view>

#include "http_message.h"
#include "http_transport.h"

namespace outpost::http {

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  // Fills `*req` (which must outlive the parser); `limits` too is kept by reference.
  RequestParser(const HeadLimits& limits, uint64_t max_body, Request* req);

  // Parses what it can of `bytes`: the connection's buffered bytes not yet consumed, which it
  // presents again, with more, when the parser needs more. Stops after the head (the caller
  // checks and books the body first) and after the body. Returns the bytes consumed.
  size_t Feed(std::string_view bytes);
  // 0, or the HTTP status to refuse the request with (400, 413, 414, 431, 501, 505).
  int status() const { return status_; }

 private:
  int StatusOf(const boost::beast::error_code& ec, std::string_view bytes) const;
  bool Refuse(int status, boost::beast::error_code& ec);
  bool IsFolded(std::string_view name, std::string_view value) const;

  void on_request_impl(boost::beast::http::verb, boost::beast::string_view method,
                       boost::beast::string_view target, int version,
                       boost::beast::error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override;
  void on_header_impl(boost::beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::beast::error_code& ec) override;
  size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) override;
  // Never called: a Transfer-Encoding field is refused before any chunk.
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::beast::error_code& ec) override;
  size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view,
                            boost::beast::error_code& ec) override;
  void on_finish_impl(boost::beast::error_code&) override {}

  const HeadLimits& limits_;
  Request* req_;
  std::string_view input_;  // the bytes of the Feed() in progress
  size_t head_used_ = 0;    // bytes of the head consumed by earlier Feed() calls
  size_t fields_ = 0;
  bool have_line_ = false;  // the request line is parsed
  int status_ = 0;
};

}  // namespace outpost::http
