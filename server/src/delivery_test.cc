// A real server (the transport of http_transport.h) on port 0 serving files from a temp folder through ServeFile and
// ServeMemory, asked with raw HTTP/1.1 so that every header and byte on the wire is checked.
#include "delivery.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "http/http_transport.h"
#include "testing/archives.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::Gunzip;
using testing::Unzstd;

using testing::RandomBytes;
using testing::TempDir;

// ---- A raw client: what the server really sends.

struct Reply {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
  size_t Count(const std::string& lower_name) const { return headers.count(lower_name); }
};

using Fields = std::vector<std::pair<std::string, std::string>>;

Reply Ask(int port, const std::string& method, const std::string& path, const Fields& fields = {}) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: box\r\nConnection: close\r\n";
  for (const auto& [name, value] : fields) request += name + ": " + value + "\r\n";
  request += "\r\n";
  EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string raw;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);

  Reply reply;
  size_t end = raw.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos) << raw;
  if (end == std::string::npos) return reply;
  reply.body = raw.substr(end + 4);
  std::string head = raw.substr(0, end);
  reply.status = std::atoi(head.c_str() + head.find(' ') + 1);
  for (size_t pos = head.find("\r\n"); pos != std::string::npos;) {
    size_t next = head.find("\r\n", pos + 2);
    std::string line = head.substr(pos + 2, next == std::string::npos ? next : next - pos - 2);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers.emplace(name, line.substr(line.find_first_not_of(' ', colon + 1)));
    pos = next;
  }
  return reply;
}

std::string Prose(size_t n) {
  static const char* kWords[] = {"<p>L'élève ", "observe ", "le ", "cycle ", "de ", "l'eau. ",
                                 "دورة ", "الماء ", "evaporation ", "</p>\n"};
  std::string out;
  for (size_t i = 0; out.size() < n; ++i) out += kWords[(i * 7 + i / 3) % 10];
  return out;
}

long PeakRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// ---- The server under test.

struct Served {
  std::filesystem::path path;
  Hash hash;
  std::string mime;
  bool immutable = false;
  std::string download_name;
};

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    video_ = std::string("\0\0\0\x18" "ftypisom", 12) + RandomBytes(300000, 5);
    page_ = Prose(60000);
    Add("clip.mp4", video_, "video/mp4");
    Add("page.html", page_, "text/html; charset=utf-8");
    Add("noise.txt", RandomBytes(20000, 9), "text/plain; charset=utf-8");
    Add("empty.txt", "", "text/plain; charset=utf-8");
    Add("blob", video_, "", /*immutable=*/true);
    Add("lecon.pdf", "%PDF-1.4 leçon", "application/pdf", false, "Leçon d'été \"1\".pdf");
    Add("dars.pdf", "%PDF-1.4 dars", "application/pdf", false, "درس الماء.pdf");
    auto cache = CompressionCache::Open(data_.path() / "cache");
    ASSERT_TRUE(cache.has_value());
    cache_ = std::move(*cache);
    css_ = Prose(20000);
    css_variants_ = CompressedVariants::Make(css_, "text/css");

    http_.Get(R"(/f/(.+))", [this](const http::Request& req, http::Response& res) {
      ++handled_;
      auto it = files_.find(req.matches[1]);
      if (it == files_.end()) {
        res.status = 404;
        return;
      }
      const Served& s = it->second;
      last_status_ =
          ServeFile(req, res, {s.path, s.hash, s.mime, s.immutable, s.download_name}, cache_.get());
    });
    http_.Get("/raw/page.html", [this](const http::Request& req, http::Response& res) {
      const Served& s = files_.at("page.html");
      (void)ServeFile(req, res, {.path = s.path, .hash = s.hash, .mime = s.mime},
                      /*cache=*/nullptr);
    });
    http_.Get("/m/app.css", [this](const http::Request& req, http::Response& res) {
      // The bytes live only as long as `owner`, which the handler drops at once.
      auto owned = std::make_shared<const std::string>(css_);
      ServeMemory(req, res, {*owned, Hash::Of(css_).Hex(), "text/css", true, {}, owned},
                  &css_variants_);
    });
    http_.Get("/m/empty", [](const http::Request& req, http::Response& res) {
      ServeMemory(req, res, {"", "e", "text/plain", false, {}, nullptr}, nullptr);
    });
    ASSERT_TRUE(http_.Bind("127.0.0.1", 0).ok());
    port_ = http_.port();
    thread_ = std::thread([this] { (void)http_.Serve(); });
  }
  void TearDown() override {
    http_.Stop();
    thread_.join();
  }
  static http::TransportOptions Config() {
    http::TransportOptions config;
    config.threads = 2;
    config.io_threads = 1;
    return config;
  }

  void Add(const std::string& name, std::string_view content, std::string mime,
           bool immutable = false, std::string download_name = {}) {
    files_[name] = {files_dir_.Write(name, content), Hash::Of(content), std::move(mime),
                    immutable, std::move(download_name)};
  }
  Reply Get(const std::string& path, const Fields& fields = {}) {
    return Ask(port_, "GET", path, fields);
  }
  std::string Etag(const std::string& name, std::string_view suffix = "") {
    return "\"" + files_.at(name).hash.Hex() + std::string(suffix) + "\"";
  }
  void ExpectPartial(const std::string& range, uint64_t first, uint64_t last) {
    SCOPED_TRACE(range);
    Reply r = Get("/f/clip.mp4", {{"Range", range}});
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.Header("content-range"), "bytes " + std::to_string(first) + "-" +
                                             std::to_string(last) + "/" +
                                             std::to_string(video_.size()));
    EXPECT_EQ(r.Header("content-length"), std::to_string(last - first + 1));
    EXPECT_EQ(r.body, video_.substr(first, last - first + 1));
    EXPECT_EQ(r.Header("content-type"), "video/mp4");
  }
  void ExpectUnsatisfiable(const std::string& path, const std::string& range, size_t size) {
    SCOPED_TRACE(range);
    Reply r = Get(path, {{"Range", range}});
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(r.Header("content-range"), "bytes */" + std::to_string(size));
    EXPECT_EQ(r.Header("content-length"), "0");
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  }

  TempDir data_, files_dir_;
  std::map<std::string, Served> files_;
  std::string video_, page_, css_;
  CompressedVariants css_variants_;
  std::unique_ptr<CompressionCache> cache_;
  http::Transport http_{Config()};
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> handled_{0};
  Status last_status_;
};

TEST_F(DeliveryTest, WholeFileCarriesEveryHeader) {
  Reply r = Get("/f/clip.mp4");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, video_);
  EXPECT_EQ(r.Header("content-length"), std::to_string(video_.size()));
  EXPECT_EQ(r.Header("content-type"), "video/mp4");
  EXPECT_EQ(r.Header("etag"), Etag("clip.mp4"));
  EXPECT_EQ(r.Header("accept-ranges"), "bytes");
  EXPECT_EQ(r.Header("cache-control"), "no-cache");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.Count("vary"), 0u);  // video is never compressed
  EXPECT_EQ(r.Count("content-encoding"), 0u);
  EXPECT_EQ(r.Count("content-range"), 0u);
}

TEST_F(DeliveryTest, ContentAddressedUrlsAreImmutable) {
  Reply r = Get("/f/blob");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(r.Header("content-type"), "application/octet-stream");
}

TEST_F(DeliveryTest, EachRangeFormGetsExactPartialContent) {
  uint64_t n = video_.size();
  ExpectPartial("bytes=1000-1999", 1000, 1999);
  ExpectPartial("bytes=0-0", 0, 0);
  ExpectPartial("bytes=0-", 0, n - 1);
  ExpectPartial("bytes=299990-", 299990, n - 1);
  ExpectPartial("bytes=-10", n - 10, n - 1);
  ExpectPartial("bytes=299990-400000", 299990, n - 1);  // clamped
  ExpectPartial("bytes=-400000", 0, n - 1);
  ExpectPartial("bytes=" + std::to_string(n - 1) + "-" + std::to_string(n - 1), n - 1, n - 1);
}

TEST_F(DeliveryTest, RangesPastTheEndAre416WithTheSize) {
  uint64_t n = video_.size();
  ExpectUnsatisfiable("/f/clip.mp4", "bytes=" + std::to_string(n) + "-", n);
  ExpectUnsatisfiable("/f/clip.mp4", "bytes=" + std::to_string(n + 50) + "-" +
                                         std::to_string(n + 60), n);
  ExpectUnsatisfiable("/f/clip.mp4", "bytes=-0", n);
  ExpectUnsatisfiable("/f/empty.txt", "bytes=0-", 0);
}

TEST_F(DeliveryTest, SeveralRangesGetTheWholeFile) {
  Reply r = Get("/f/clip.mp4", {{"Range", "bytes=0-1,5-6"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, video_);
  EXPECT_EQ(r.Count("content-range"), 0u);
  EXPECT_EQ(r.Header("content-type"), "video/mp4");  // not multipart/byteranges
}

TEST_F(DeliveryTest, ARangeThatDoesNotParseIsIgnored) {
  // RFC 9110 14.2: a server may ignore a Range header it cannot use; the whole file is sent.
  for (std::string range : {"bytes=5-1", "bytes=x-", "lines=1-2"}) {
    Reply r = Get("/f/clip.mp4", {{"Range", range}});
    EXPECT_EQ(r.status, 200) << range;
    EXPECT_EQ(r.body, video_) << range;
  }
}

TEST_F(DeliveryTest, IfRangeMustMatchTheEtagStrongly) {
  Reply same = Get("/f/clip.mp4", {{"Range", "bytes=10-19"}, {"If-Range", Etag("clip.mp4")}});
  EXPECT_EQ(same.status, 206);
  EXPECT_EQ(same.body, video_.substr(10, 10));
  for (std::string other : {std::string("\"old\""), "W/" + Etag("clip.mp4"),
                            std::string("Wed, 21 Oct 2015 07:28:00 GMT")}) {
    Reply r = Get("/f/clip.mp4", {{"Range", "bytes=10-19"}, {"If-Range", other}});
    EXPECT_EQ(r.status, 200) << other;
    EXPECT_EQ(r.body, video_) << other;
  }
}

TEST_F(DeliveryTest, HeadSendsTheHeadersOfGetAndNoBody) {
  Reply head = Ask(port_, "HEAD", "/f/clip.mp4");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), std::to_string(video_.size()));
  EXPECT_EQ(head.Header("etag"), Etag("clip.mp4"));
  EXPECT_EQ(head.Count("accept-ranges"), 1u);
  EXPECT_EQ(head.body, "");

  Reply ranged = Ask(port_, "HEAD", "/f/clip.mp4", {{"Range", "bytes=1000-1999"}});
  EXPECT_EQ(ranged.status, 206);
  EXPECT_EQ(ranged.Header("content-length"), "1000");
  EXPECT_EQ(ranged.Header("content-range"), "bytes 1000-1999/" + std::to_string(video_.size()));
  EXPECT_EQ(ranged.body, "");

  Reply zstd = Ask(port_, "HEAD", "/f/page.html", {{"Accept-Encoding", "zstd"}});
  Reply got = Get("/f/page.html", {{"Accept-Encoding", "zstd"}});
  EXPECT_EQ(zstd.Header("content-encoding"), "zstd");
  EXPECT_EQ(zstd.Header("content-length"), std::to_string(got.body.size()));
  EXPECT_EQ(zstd.body, "");
}

TEST_F(DeliveryTest, IfNoneMatchGives304WithTheLengthOfA200) {
  Reply r = Get("/f/clip.mp4", {{"If-None-Match", Etag("clip.mp4")}});
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("etag"), Etag("clip.mp4"));
  EXPECT_EQ(r.Header("cache-control"), "no-cache");
  EXPECT_EQ(r.Header("content-length"), std::to_string(video_.size()));
  for (std::string header : {"\"x\", " + Etag("clip.mp4"), "W/" + Etag("clip.mp4"),
                             std::string("*")}) {
    EXPECT_EQ(Get("/f/clip.mp4", {{"If-None-Match", header}}).status, 304) << header;
  }
  EXPECT_EQ(Get("/f/clip.mp4", {{"If-None-Match", "\"x\""}}).status, 200);
  // If-None-Match wins over Range.
  EXPECT_EQ(Get("/f/clip.mp4", {{"If-None-Match", Etag("clip.mp4")}, {"Range", "bytes=0-1"}})
                .status,
            304);
}

TEST_F(DeliveryTest, TextIsSentCompressedWithItsOwnEtag) {
  Reply gz = Get("/f/page.html", {{"Accept-Encoding", "gzip, deflate, br"}});
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.Header("content-encoding"), "gzip");
  EXPECT_EQ(gz.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(gz.Header("etag"), Etag("page.html", "-gz"));
  EXPECT_EQ(gz.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(gz.Header("content-length"), std::to_string(gz.body.size()));
  EXPECT_LT(gz.body.size(), page_.size() / 3);
  EXPECT_EQ(Gunzip(gz.body), page_);

  Reply zst = Get("/f/page.html", {{"Accept-Encoding", "gzip, deflate, br, zstd"}});
  EXPECT_EQ(zst.Header("content-encoding"), "zstd");
  EXPECT_EQ(zst.Header("etag"), Etag("page.html", "-zst"));
  EXPECT_EQ(Unzstd(zst.body), page_);

  Reply plain = Get("/f/page.html");
  EXPECT_EQ(plain.body, page_);
  EXPECT_EQ(plain.Count("content-encoding"), 0u);
  EXPECT_EQ(plain.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(plain.Header("etag"), Etag("page.html"));
}

TEST_F(DeliveryTest, IfNoneMatchComparesWithTheVariantSent) {
  Fields gzip = {{"Accept-Encoding", "gzip"}};
  EXPECT_EQ(Get("/f/page.html", gzip).status, 200);  // makes the variant
  Reply r = Get("/f/page.html", {{"Accept-Encoding", "gzip"},
                                 {"If-None-Match", Etag("page.html", "-gz")}});
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.Header("etag"), Etag("page.html", "-gz"));
  EXPECT_EQ(r.Header("vary"), "Accept-Encoding");
  // The identity's tag does not match the gzip variant, and the reverse.
  EXPECT_EQ(Get("/f/page.html", {{"Accept-Encoding", "gzip"},
                                 {"If-None-Match", Etag("page.html")}})
                .status,
            200);
  EXPECT_EQ(Get("/f/page.html", {{"If-None-Match", Etag("page.html", "-gz")}}).status, 200);
  EXPECT_EQ(Get("/f/page.html", {{"If-None-Match", Etag("page.html")}}).status, 304);
}

TEST_F(DeliveryTest, SecondRequestIsServedFromTheCacheFile) {
  Reply first = Get("/f/page.html", {{"Accept-Encoding", "gzip"}});
  auto path = cache_->PathOf(files_.at("page.html").hash, ContentEncoding::kGzip);
  struct stat before;
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  EXPECT_EQ(static_cast<size_t>(before.st_size), first.body.size());
  Reply second = Get("/f/page.html", {{"Accept-Encoding", "gzip"}});
  struct stat after;
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

TEST_F(DeliveryTest, IncompressibleTextIsSentAsIsAndRemembered) {
  Reply r = Get("/f/noise.txt", {{"Accept-Encoding", "zstd"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Count("content-encoding"), 0u);
  EXPECT_EQ(r.Header("etag"), Etag("noise.txt"));
  auto marker = cache_->PathOf(files_.at("noise.txt").hash, ContentEncoding::kZstd);
  EXPECT_EQ(std::filesystem::file_size(marker), 0u);
  EXPECT_EQ(Get("/f/noise.txt", {{"Accept-Encoding", "zstd"}}).body, r.body);
}

TEST_F(DeliveryTest, RangeOnTextIsServedFromTheUncompressedBytes) {
  Reply r = Get("/f/page.html", {{"Accept-Encoding", "gzip, zstd"}, {"Range", "bytes=100-199"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.Count("content-encoding"), 0u);
  EXPECT_EQ(r.Header("etag"), Etag("page.html"));
  EXPECT_EQ(r.body, page_.substr(100, 100));
}

TEST_F(DeliveryTest, NoCacheMeansNoCompression) {
  Reply r = Get("/raw/page.html", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, page_);
  EXPECT_EQ(r.Count("content-encoding"), 0u);
  EXPECT_EQ(r.Count("vary"), 0u);
}

TEST_F(DeliveryTest, EmptyFileIsAnEmpty200) {
  Reply r = Get("/f/empty.txt", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-length"), "0");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Count("content-encoding"), 0u);
  EXPECT_EQ(Get("/f/empty.txt", {{"Range", "bytes=-5"}}).status, 200);
  Reply m = Get("/m/empty");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.Header("content-length"), "0");
}

TEST_F(DeliveryTest, DownloadsKeepTheirFrenchAndArabicNames) {
  Reply fr = Get("/f/lecon.pdf");
  EXPECT_EQ(fr.Header("content-disposition"),
            "attachment; filename=\"Le_on d'_t_ _1_.pdf\"; "
            "filename*=UTF-8''Le%C3%A7on%20d%27%C3%A9t%C3%A9%20%221%22.pdf");
  Reply ar = Get("/f/dars.pdf");
  EXPECT_EQ(ar.Header("content-disposition"),
            "attachment; filename=\"___ _____.pdf\"; "
            "filename*=UTF-8''%D8%AF%D8%B1%D8%B3%20%D8%A7%D9%84%D9%85%D8%A7%D8%A1.pdf");
  EXPECT_EQ(Get("/f/clip.mp4").Count("content-disposition"), 0u);
}

TEST_F(DeliveryTest, MissingBlobIsA500WithTheReason) {
  std::filesystem::remove(files_.at("clip.mp4").path);
  Reply r = Get("/f/clip.mp4");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(last_status_.code(), StatusCode::kNotFound);
}

TEST_F(DeliveryTest, MemoryFilesAreCompressedRangedAndRevalidated) {
  std::string tag = Hash::Of(css_).Hex();
  Reply zst = Get("/m/app.css", {{"Accept-Encoding", "gzip, zstd"}});
  EXPECT_EQ(zst.status, 200);
  EXPECT_EQ(zst.Header("content-encoding"), "zstd");
  EXPECT_EQ(zst.Header("etag"), "\"" + tag + "-zst\"");
  EXPECT_EQ(zst.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(zst.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Unzstd(zst.body), css_);
  Reply gz = Get("/m/app.css", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(Gunzip(gz.body), css_);
  EXPECT_EQ(Get("/m/app.css").body, css_);
  Reply part = Get("/m/app.css", {{"Accept-Encoding", "gzip"}, {"Range", "bytes=-7"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, css_.substr(css_.size() - 7));
  EXPECT_EQ(part.Header("content-range"), "bytes " + std::to_string(css_.size() - 7) + "-" +
                                              std::to_string(css_.size() - 1) + "/" +
                                              std::to_string(css_.size()));
  ExpectUnsatisfiable("/m/app.css", "bytes=" + std::to_string(css_.size()) + "-", css_.size());
  Reply not_modified =
      Get("/m/app.css", {{"Accept-Encoding", "gzip"}, {"If-None-Match", "\"" + tag + "-gz\""}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.Header("content-length"), std::to_string(gz.body.size()));
  Reply head = Ask(port_, "HEAD", "/m/app.css", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(head.Header("content-length"), std::to_string(gz.body.size()));
  EXPECT_EQ(head.body, "");
}

TEST_F(DeliveryTest, LargeFileStreamsInBoundedMemory) {
  constexpr size_t kSize = 50u << 20;
  auto path = files_dir_.path() / "big.mp4";
  Hasher hasher;
  {
    std::ofstream out(path, std::ios::binary);
    std::string piece = RandomBytes(1u << 20, 11);
    for (size_t done = 0; done < kSize; done += piece.size()) {
      piece[0] = static_cast<char>(done >> 20);
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      hasher.Update(piece);
    }
  }
  Hash hash = hasher.Final();
  files_["big.mp4"] = {path, hash, "video/mp4", false, {}};
  { std::ofstream("/proc/self/clear_refs") << "5"; }  // peak RSS := current RSS
  long before = PeakRssKiB();

  httplib::Client client("127.0.0.1", port_);
  Hasher received;
  size_t bytes = 0;
  auto res = client.Get("/f/big.mp4", [&](const char* data, size_t n) {
    received.Update(std::string_view(data, n));
    bytes += n;
    return true;
  });
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(kSize));
  EXPECT_EQ(bytes, kSize);
  EXPECT_EQ(received.Final(), hash);
  // Server and client share this process; neither holds the file.
  EXPECT_LT(PeakRssKiB() - before, 20 * 1024);
}

// ---- Pieces

TEST(EtagTest, IfNoneMatchListsAndWeakTags) {
  EXPECT_EQ(MakeEtag("abc", ContentEncoding::kIdentity), "\"abc\"");
  EXPECT_EQ(MakeEtag("abc", ContentEncoding::kGzip), "\"abc-gz\"");
  EXPECT_EQ(MakeEtag("abc", ContentEncoding::kZstd), "\"abc-zst\"");
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\",W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches(" \"x\" , \"abc\" ", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"a,b\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("*", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abc-gz\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("abc", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abc", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("", "\"abc\""));
}

TEST(ContentDispositionTest, FallbackIsSafeAsciiAndFullNameIsEncoded) {
  EXPECT_EQ(ContentDisposition("notes.txt"),
            "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt");
  EXPECT_EQ(ContentDisposition("a\\b/c%d\r\n.txt"),
            "attachment; filename=\"a_b_c_d__.txt\"; filename*=UTF-8''a%5Cb%2Fc%25d%0D%0A.txt");
}

}  // namespace
}  // namespace outpost
