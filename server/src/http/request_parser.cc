#include "request_parser.h"

#include <boost/beast/http/error.hpp>

#include <functional>
#include <limits>

namespace outpost::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

RequestParser::RequestParser(const HeadLimits& limits, uint64_t max_body, Request* req)
    : limits_(limits), req_(req) {
  eager(false);
  header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  body_limit(max_body);
}

size_t RequestParser::Feed(std::string_view bytes) {
  if (status_ != 0 || is_done() || bytes.empty()) return 0;
  bool in_head = !is_header_done();
  input_ = bytes;
  beast::error_code ec;
  size_t used = put(boost::asio::const_buffer(bytes.data(), bytes.size()), ec);
  input_ = {};
  if (ec == bhttp::error::need_more) ec = {};
  if (ec && status_ == 0) status_ = StatusOf(ec, bytes.substr(used));
  if (status_ != 0 || !in_head) return used;
  head_used_ += used;
  // Beast bounds what it holds unconsumed; the transport bounds the head as a whole.
  size_t head = is_header_done() ? head_used_ : head_used_ + (bytes.size() - used);
  if (!have_line_ && !is_header_done() && head > limits_.max_target_bytes + 32) {
    status_ = 414;
  } else if (head > limits_.max_header_bytes) {
    status_ = 431;
  }
  return used;
}

// `bytes` starts where the parser stopped: at the request line when it is the line that failed.
int RequestParser::StatusOf(const beast::error_code& ec, std::string_view bytes) const {
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::bad_version && !have_line_) {
    // Beast refuses "HTTP/2.0" as it refuses "HTTX/1.1"; a well-formed other version is a 505.
    std::string_view line = bytes.substr(0, bytes.find("\r\n"));
    if (line.size() > 8) {
      std::string_view v = line.substr(line.size() - 8);
      auto digit = [](char c) { return c >= '0' && c <= '9'; };
      if (v.starts_with("HTTP/") && digit(v[5]) && v[6] == '.' && digit(v[7])) return 505;
    }
  }
  return 400;
}

bool RequestParser::Refuse(int status, beast::error_code& ec) {
  status_ = status;
  ec = bhttp::error::bad_value;  // stops the parser; status_ says why
  return false;
}

void RequestParser::on_request_impl(bhttp::verb, beast::string_view method,
                                    beast::string_view target, int version,
                                    beast::error_code& ec) {
  if (target.size() > limits_.max_target_bytes ||
      method.size() + target.size() + 10 > limits_.max_target_bytes + 32) {
    Refuse(414, ec);
    return;
  }
  if (target.front() != '/') {  // origin-form only: no "http://host/", no "*"
    Refuse(400, ec);
    return;
  }
  have_line_ = true;
  req_->method.assign(method.data(), method.size());
  req_->target.assign(target.data(), target.size());
  req_->version = version == 11 ? "HTTP/1.1" : "HTTP/1.0";  // Beast allows only these two
  std::string_view t(target.data(), target.size());
  size_t q = t.find('?');
  req_->path = PercentDecode(t.substr(0, q), false);
  if (q != std::string_view::npos) ParseQuery(t.substr(q + 1), &req_->params);
}

// Beast joins folded lines into a value of its own, outside the input, or (when the first
// line's value is empty) gives the value after the fold: either way, not what was sent in one
// line.
bool RequestParser::IsFolded(std::string_view name, std::string_view value) const {
  std::less<const char*> before;
  const char* first = input_.data();
  const char* last = input_.data() + input_.size();
  if (before(value.data(), first) || before(last, value.data())) return true;
  const char* colon = name.data() + name.size();
  return before(colon, value.data()) &&
         std::string_view(colon, static_cast<size_t>(value.data() - colon)).find('\n') !=
             std::string_view::npos;
}

void RequestParser::on_field_impl(bhttp::field name, beast::string_view name_string,
                                  beast::string_view value, beast::error_code& ec) {
  std::string_view n(name_string.data(), name_string.size());
  std::string_view v(value.data(), value.size());
  if (++fields_ > limits_.max_headers) return (void)Refuse(431, ec);
  if (n.size() + 2 + v.size() > limits_.max_target_bytes) return (void)Refuse(431, ec);
  if (IsFolded(n, v)) return (void)Refuse(400, ec);
  if (name == bhttp::field::transfer_encoding) return (void)Refuse(501, ec);
  req_->headers.emplace(std::string(n), std::string(v));
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      beast::error_code&) {
  // Within max_body (Beast's body_limit, checked against Content-Length before this).
  if (content_length) req_->body.reserve(static_cast<size_t>(*content_length));
}

size_t RequestParser::on_body_impl(beast::string_view body, beast::error_code&) {
  req_->body.append(body.data(), body.size());
  return body.size();
}

void RequestParser::on_chunk_header_impl(std::uint64_t, beast::string_view,
                                         beast::error_code& ec) {
  Refuse(501, ec);
}

size_t RequestParser::on_chunk_body_impl(std::uint64_t, beast::string_view,
                                         beast::error_code& ec) {
  Refuse(501, ec);
  return 0;
}

}  // namespace outpost::http
