#include "outpost/server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "outpost/content/importer.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::TempDir;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_.Write("ch/fr/eleve.html",
               "<html lang=fr><title>L'élève</title><p>Le soleil chauffe la mer.</p>"
               "<img src='../img/sun.svg'></html>");
    src_.Write("ch/img/sun.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    video_ = std::string("\0\0\0\x18" "ftypisom", 12) + testing::RandomBytes(500000, 3);
    src_.Write("ch/clip.mp4", video_);
    store_ = std::move(*BlobStore::Open(data_.path()));
    catalog_ = std::move(*Catalog::Open(data_.path() / "catalog.db"));
    Importer importer(store_.get(), catalog_.get());
    auto r = importer.Import(src_.path() / "ch", {});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    ServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.threads = 4;
    server_ = std::make_unique<HttpServer>(config, store_.get(), catalog_.get());
    ASSERT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { (void)server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    server_->Stop();
    thread_.join();
  }

  TempDir data_, src_;
  std::string video_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, HomeListsChannelsAndTopicsLinkToFiles) {
  auto res = client_->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("Ch"), std::string::npos);
  auto ch = catalog_->Channel("ch");
  auto topic = client_->Get(("/topic/" + std::to_string(ch->root_node)).c_str());
  ASSERT_TRUE(topic);
  EXPECT_NE(topic->body.find("href=\"/c/ch/clip.mp4\""), std::string::npos) << topic->body;
  EXPECT_EQ(client_->Get("/topic/999999")->status, 404);
  EXPECT_EQ(client_->Get("/topic/99999999999999999999999999")->status, 404);
}

TEST_F(HttpServerTest, FilesAreServedByPathWithTypeAndEtag) {
  auto res = client_->Get("/c/ch/fr/eleve.html");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  std::string etag = res->get_header_value("ETag");
  EXPECT_EQ(etag.size(), 66u);
  // The page's relative link resolves to a file of the channel.
  EXPECT_EQ(client_->Get("/c/ch/img/sun.svg")->get_header_value("Content-Type"), "image/svg+xml");
  auto again = client_->Get("/c/ch/fr/eleve.html", {{"If-None-Match", etag}});
  EXPECT_EQ(again->status, 304);
}

TEST_F(HttpServerTest, RangesReturnPartialContent) {
  auto res = client_->Get("/c/ch/clip.mp4", {{"Range", "bytes=1000-1999"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 206);
  EXPECT_EQ(res->body, video_.substr(1000, 1000));
  auto whole = client_->Get("/c/ch/clip.mp4");
  EXPECT_EQ(whole->body, video_);
}

TEST_F(HttpServerTest, TraversalFindsNothing) {
  for (const char* path : {"/c/ch/../ch/clip.mp4", "/c/ch/%2e%2e/%2e%2e/etc/passwd",
                           "/c/ch/..%2f..%2fcatalog.db", "/c/ch//etc/passwd", "/c/ch/fr\\..\\clip.mp4",
                           "/c/ch/clip.mp4%00.html", "/blob/../catalog.db"}) {
    auto res = client_->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
  }
}

TEST_F(HttpServerTest, BlobsAreImmutableAndSearchWorks) {
  auto node = catalog_->NodeByPath("ch", "clip.mp4");
  auto res = client_->Get(("/blob/" + node->blob->Hex()).c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Cache-Control").find("immutable"), std::string::npos);
  auto search = client_->Get("/search?q=eleve");
  ASSERT_TRUE(search);
  EXPECT_NE(search->body.find("/c/ch/fr/eleve.html"), std::string::npos);
  auto api = client_->Get("/api/v1/channels");
  EXPECT_NE(api->body.find("\"id\":\"ch\""), std::string::npos);
}

}  // namespace
}  // namespace outpost
