// The learner server's request head (server/src/http/: ParseRequestHead, PercentDecode,
// ParseQuery), as any phone on the Wi-Fi sends it. The first byte picks tight or default
// limits; the rest is the head. The parser answers 0 or one of 400, 414, 431, 505; a head it
// accepts has a method, a target starting with "/" within the limit, at most the allowed
// headers, and a path that is the decoded target up to "?". Percent-encoding then decoding
// any bytes gives them back.
#include <string>

#include "fuzz_support.h"
#include "http/http_message.h"
#include "http/http_transport.h"
#include "http/url.h"

using namespace outpost;
using namespace outpost::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  http::HeadLimits limits;
  if (in.TakeByte() & 1) limits = {.max_target_bytes = 64, .max_header_bytes = 256, .max_headers = 4};
  std::string_view head = in.Rest();
  http::Request req;
  int status = http::ParseRequestHead(head, limits, &req);
  FUZZ_CHECK(status == 0 || status == 400 || status == 414 || status == 431 || status == 505);
  if (status == 0) {
    FUZZ_CHECK(!req.method.empty());
    FUZZ_CHECK(!req.target.empty() && req.target[0] == '/');
    FUZZ_CHECK(req.target.size() <= limits.max_target_bytes);
    FUZZ_CHECK(req.headers.size() <= limits.max_headers);
    FUZZ_CHECK(req.version == "HTTP/1.1" || req.version == "HTTP/1.0");
    std::string_view target = req.target;
    FUZZ_CHECK(req.path == http::PercentDecode(target.substr(0, target.find('?')), false));
  }
  FUZZ_CHECK(http::PercentDecode(PercentEncode(head, false), false) == head);
  FUZZ_CHECK(http::PercentDecode(PercentEncode(head, true), true) == head);
  FUZZ_CHECK(http::PercentDecode(head, true).size() <= head.size());
  http::Params params;
  http::ParseQuery(head, &params);
  return 0;
}
