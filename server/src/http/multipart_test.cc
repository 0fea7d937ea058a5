#include "multipart.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "testing/temp_dir.h"

namespace outpost::http {
namespace {

struct Seen {
  FormPart part;
  std::string data;
  bool ended = false;
};

class Collect : public MultipartHandler {
 public:
  Status OnPartBegin(const FormPart& part) override {
    parts.push_back({part, "", false});
    return Status::Ok();
  }
  Status OnPartData(std::span<const uint8_t> data) override {
    parts.back().data.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::Ok();
  }
  Status OnPartEnd() override {
    parts.back().ended = true;
    return Status::Ok();
  }
  std::vector<Seen> parts;
};

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Feeds `body` in pieces of the given sizes (cycled); the parser's verdict.
Status FeedInPieces(MultipartParser* parser, std::string_view body, std::vector<size_t> sizes) {
  size_t i = 0, at = 0;
  while (at < body.size()) {
    size_t n = std::min(sizes[i++ % sizes.size()], body.size() - at);
    OUTPOST_RETURN_IF_ERROR(parser->Feed(Bytes(body.substr(at, n))));
    at += n;
  }
  return parser->Finish();
}

const std::string kBoundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";

// As Chromium sends a form with a field and two files, one of which holds text that looks like
// the boundary without being it.
std::string BrowserBody(const std::string& file1, const std::string& file2) {
  std::string b = "--" + kBoundary;
  return b + "\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntoken\r\n" + b +
         "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"le\\\"çon.pdf\"\r\n"
         "Content-Type: application/pdf\r\n\r\n" + file1 + "\r\n" + b +
         "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"photo.jpg\"\r\n"
         "Content-Type: image/jpeg\r\n\r\n" + file2 + "\r\n" + b + "--\r\n";
}

TEST(MultipartTest, PartsArriveWholeHoweverTheBodyIsCut) {
  // Nearly the delimiter, twice (a browser never lets the whole one occur in a file).
  std::string file1 = "%PDF\r\n--" + kBoundary.substr(0, 10) + "\r\n--" +
                      kBoundary.substr(0, kBoundary.size() - 1) + "X" +
                      testing::RandomBytes(100000, 1);
  std::string file2 = testing::RandomBytes(3000, 2) + "\r\n-";
  std::string body = BrowserBody(file1, file2);
  for (std::vector<size_t> sizes : {std::vector<size_t>{body.size()}, {1}, {2, 3, 5, 7},
                                    {kBoundary.size() + 3}, {65536, 17}}) {
    Collect seen;
    MultipartParser parser(kBoundary, &seen);
    Status s = FeedInPieces(&parser, body, sizes);
    ASSERT_TRUE(s.ok()) << s.ToString() << " in pieces of " << sizes[0];
    ASSERT_EQ(seen.parts.size(), 3u);
    EXPECT_EQ(seen.parts[0].part.name, "csrf");
    EXPECT_FALSE(seen.parts[0].part.filename);
    EXPECT_EQ(seen.parts[0].data, "token");
    EXPECT_EQ(seen.parts[1].part.filename, "le\"çon.pdf");
    EXPECT_EQ(seen.parts[1].part.content_type, "application/pdf");
    EXPECT_TRUE(seen.parts[1].data == file1);
    EXPECT_TRUE(seen.parts[2].data == file2);
    for (const Seen& p : seen.parts) EXPECT_TRUE(p.ended);
  }
}

TEST(MultipartTest, ABodyCutShortOrMalformedIsRefused) {
  std::string body = BrowserBody("abc", "def");
  for (size_t cut : {size_t{0}, size_t{10}, body.size() / 2, body.size() - 5}) {
    Collect seen;
    MultipartParser parser(kBoundary, &seen);
    Status s = FeedInPieces(&parser, std::string_view(body).substr(0, cut), {100});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "cut at " << cut;
  }
  std::string b = "--" + kBoundary;
  for (std::string bad : {b + "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n" + b + "--",
                          b + "\r\nContent-Type: text/plain\r\n\r\nx\r\n" + b + "--",
                          b + "\r\nno colon here\r\n\r\nx\r\n" + b + "--",
                          b + "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n" + b + "--",
                          b + "XX" + "\r\n\r\n",
                          b + "\r\n" + std::string(10000, 'h')}) {
    Collect seen;
    MultipartParser parser(kBoundary, &seen);
    Status s = FeedInPieces(&parser, bad, {bad.size()});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad.substr(0, 120);
  }
}

TEST(MultipartTest, TooManyPartsAreRefused) {
  std::string b = "--" + kBoundary, body;
  for (int i = 0; i <= MultipartParser::kMaxParts; ++i) {
    body += b + "\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n";
  }
  body += b + "--\r\n";
  Collect seen;
  MultipartParser parser(kBoundary, &seen);
  EXPECT_EQ(FeedInPieces(&parser, body, {4096}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(seen.parts.size(), static_cast<size_t>(MultipartParser::kMaxParts));
}

TEST(MultipartTest, TheBoundaryIsReadFromTheContentType) {
  EXPECT_EQ(MultipartParser::BoundaryOf("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(MultipartParser::BoundaryOf("Multipart/Form-Data;boundary=\"a b;c\""), "a b;c");
  EXPECT_EQ(MultipartParser::BoundaryOf("multipart/form-data; charset=x; boundary=z9"), "z9");
  EXPECT_FALSE(MultipartParser::BoundaryOf("application/json; boundary=abc"));
  EXPECT_FALSE(MultipartParser::BoundaryOf("multipart/form-data"));
  EXPECT_FALSE(MultipartParser::BoundaryOf("multipart/form-data; boundary="));
  EXPECT_FALSE(MultipartParser::BoundaryOf("multipart/form-data; boundary=" + std::string(71, 'a')));
  EXPECT_FALSE(MultipartParser::BoundaryOf("multipart/form-data; boundary=\"ab\x01\""));
}

}  // namespace
}  // namespace outpost::http
