// The Beast-based parser fed as the transport feeds it: the buffered bytes not yet consumed,
// again and again as more arrive.
#include "request_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace outpost::http {
namespace {

// Feeds `wire` `step` bytes at a time, keeping what the parser did not consume, as a connection
// does; stops at the end of the request or at a refusal. Returns the parser's status (or -1
// when the wire ended before the request did) and leaves in `*rest` the bytes after it.
int FeedInSteps(RequestParser* parser, std::string_view wire, size_t step, std::string* rest) {
  std::string buffered;
  size_t at = 0;
  for (;;) {
    for (size_t used; (used = parser->Feed(buffered)) > 0;) buffered.erase(0, used);
    if (parser->status() != 0 || parser->is_done()) break;
    if (at == wire.size()) return -1;
    size_t n = std::min(step, wire.size() - at);
    buffered.append(wire.substr(at, n));
    at += n;
  }
  *rest = buffered + std::string(wire.substr(at));
  return parser->status();
}

const char kPost[] =
    "POST /form?x=1 HTTP/1.1\r\nHost: box\r\nContent-Length: 11\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n\r\na=x+y&b=%41"
    "GET /next HTTP/1.1\r\n\r\n";

TEST(RequestParserTest, ARequestFedAByteAtATimeIsParsedAsAWholeAndStopsAtItsEnd) {
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, sizeof kPost}) {
    HeadLimits limits;
    Request req;
    RequestParser parser(limits, 1 << 20, &req);
    std::string rest;
    ASSERT_EQ(FeedInSteps(&parser, kPost, step, &rest), 0) << step;
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.path, "/form");
    EXPECT_EQ(req.get_param_value("x"), "1");
    EXPECT_EQ(req.get_header_value("host"), "box");
    EXPECT_EQ(req.body, "a=x+y&b=%41") << step;
    EXPECT_EQ(rest, "GET /next HTTP/1.1\r\n\r\n") << step;  // the pipelined request is left
  }
}

TEST(RequestParserTest, AHeadOverTheLimitIsRefusedWhenItArrivesInPiecesToo) {
  HeadLimits limits;
  limits.max_header_bytes = 1000;
  // A request line and header lines of ~600 bytes each: neither reaches the limit on its own
  // (Beast parses the line as soon as it is whole, and bounds only what it has not consumed).
  std::string wire = "GET /" + std::string(600, 'a') + " HTTP/1.1\r\n";
  for (int i = 0; i < 12; ++i) wire += "X-Field-" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
  wire += "\r\n";
  for (size_t step : {size_t{1}, size_t{100}, wire.size()}) {
    Request req;
    RequestParser parser(limits, 1 << 20, &req);
    std::string rest;
    EXPECT_EQ(FeedInSteps(&parser, wire, step, &rest), 431) << step;
  }
}

TEST(RequestParserTest, ARequestLineLongerThanATargetIsRefusedBeforeItEnds) {
  HeadLimits limits;
  Request req;
  RequestParser parser(limits, 1 << 20, &req);
  std::string rest;
  std::string endless = "GET /" + std::string(limits.max_target_bytes + 100, 'a');  // no CRLF
  EXPECT_EQ(FeedInSteps(&parser, endless, 4096, &rest), 414);
}

TEST(RequestParserTest, FoldedLinesAreRefusedWhateverTheFirstLineHolds) {
  for (std::string_view folded : {"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
                                   "GET / HTTP/1.1\r\nA:\r\n c\r\n\r\n",
                                   "GET / HTTP/1.1\r\nA: \r\n\tc\r\n\r\n"}) {
    HeadLimits limits;
    Request req;
    RequestParser parser(limits, 1 << 20, &req);
    std::string rest;
    EXPECT_EQ(FeedInSteps(&parser, folded, folded.size(), &rest), 400) << folded;
  }
}

TEST(RequestParserTest, ABodyOverTheLimitIsRefusedFromItsLengthAlone) {
  HeadLimits limits;
  Request req;
  RequestParser parser(limits, 10, &req);
  std::string rest;
  EXPECT_EQ(FeedInSteps(&parser, "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 64, &rest), 413);
  EXPECT_TRUE(req.body.empty());
}

TEST(RequestParserTest, ChunkedBodiesAndDisagreeingLengthsAreRefused) {
  struct Case {
    std::string_view wire;
    int status;
  };
  for (const Case& c : {Case{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", 501},
                        Case{"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
                        Case{"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 400},
                        Case{"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
                        Case{"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400}}) {
    HeadLimits limits;
    Request req;
    RequestParser parser(limits, 1 << 20, &req);
    std::string rest;
    EXPECT_EQ(FeedInSteps(&parser, c.wire, c.wire.size(), &rest), c.status) << c.wire;
  }
}

}  // namespace
}  // namespace outpost::http
