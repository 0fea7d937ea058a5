// Private to sync/'s tests: a hub and a site in one process, for the session tests
// (session_test.cc, session_faults_test.cc). By default they talk over in-memory links
// (memory_link.h): each session the site dials runs the hub's side on a thread of its own, and
// a test may set faults on the next link. SessionOverTcpTest runs the hub's accept loop on
// loopback TCP instead. The same paths run as separate processes through the link simulator in
// tests/e2e/sync_e2e_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "outpost/sync/node.h"
#include "outpost/sync/publish.h"
#include "outpost/sync/site_sync.h"
#include "outpost/sync/sync_server.h"
#include "outpost/sync/trust_store.h"
#include "protocol.h"
#include "session/memory_link.h"
#include "session/secure_channel.h"
#include "test_node.h"
#include "testing/temp_dir.h"

namespace outpost::testing {

inline std::string Page(int n, const std::string& extra = "") {
  std::string body;
  for (int i = 0; i < 300; ++i) {
    body += "<p>Lesson " + std::to_string(n) + ", paragraph " + std::to_string(i) +
            ": water evaporates, condenses and falls as rain.</p>\n";
  }
  return "<!DOCTYPE html><html><head><title>Lesson " + std::to_string(n) + "</title></head><body>" +
         body + extra + "</body></html>\n";
}

// A video's bytes: the file type box, then incompressible noise.
inline std::string Video(size_t n, uint64_t seed) {
  return std::string("\0\0\0\x18" "ftypisom", 12) + RandomBytes(n, seed);
}

using Node = TestNode;

// A logical clock for the site's pacing (pacer.h): time moves only when the pacer waits.
class StepClock : public sync::PaceClock {
 public:
  time_point Now() override { return now; }
  void SleepUntil(time_point when) override { now = std::max(now, when); }
  time_point now{};
};

class SessionTest : public ::testing::Test {
 protected:
  using Serve = std::function<Status(sync::Link*)>;

  void SetUp() override {
    hub_ = std::make_unique<Node>(hub_dir_.path());
    site_ = std::make_unique<Node>(site_dir_.path());
    ASSERT_TRUE(InitHub(hub_->paths).has_value());
    folder_.Write("outpost.toml", "[channel]\nid = \"water\"\ntitle = \"Water\"\nlanguage = \"en\"\n");
    for (int i = 0; i < 6; ++i) folder_.Write("lesson-" + std::to_string(i) + ".html", Page(i));
    folder_.Write("media/clip.mp4", Video(600000, 3));
    Publish();
    server_ = std::make_unique<SyncServer>(hub_->paths, hub_->store.get(), hub_->catalog.get(),
                                           hub_->db.get(), Limits());
    Listen(address_, [this](sync::Link* link) { return server_->ServeSession(link); });
  }
  void TearDown() override { JoinSessions(); }

  void Publish() {
    auto published = outpost::Publish(hub_->paths, hub_->store.get(), hub_->catalog.get(),
                                      folder_.path(), "");
    ASSERT_TRUE(published.has_value()) << published.error().message();
  }
  static SessionLimits Limits() {
    SessionLimits limits;
    limits.io_timeout = std::chrono::seconds(10);
    limits.rekey_interval = 8;  // rekey often, so the tests cross many rekeys
    return limits;
  }
  std::string Code() {
    auto code = hub_->db->NewEnrolCode("ecole-1", 3600);
    EXPECT_TRUE(code.has_value());
    return code ? *code : "";
  }

  // In memory: a site dialling `address` reaches `serve`.
  void Listen(const std::string& address, Serve serve) { endpoints_[address] = std::move(serve); }
  // The next link dialled carries these faults.
  void FailNext(sync::MemoryLink::Countdown site_sends, sync::MemoryLink::Countdown hub_sends) {
    next_site_sends_ = site_sends;
    next_hub_sends_ = hub_sends;
  }
  // The hub's end of the last link dialled (it outlives the session, for its counters).
  sync::MemoryLink* last_link() { return hub_ends_.empty() ? nullptr : hub_ends_.back().get(); }
  // Waits for the hub's side of every session dialled.
  void JoinSessions() {
    for (auto& t : sessions_) t.join();
    sessions_.clear();
  }
  // How the site reaches the hub: in memory, or TCP once tcp_ is set.
  SyncDialer Dial() {
    if (tcp_) return {};
    return [this](const std::string& address, std::chrono::milliseconds timeout) {
      return Connect(address, timeout);
    };
  }
  Result<std::unique_ptr<sync::Link>> Connect(const std::string& address,
                                              std::chrono::milliseconds timeout) {
    auto it = endpoints_.find(address);
    if (it == endpoints_.end()) return IoError("cannot connect to " + address);
    auto [site_end, hub_end] = sync::MemoryLink::Pair(next_site_sends_, next_hub_sends_, timeout);
    next_site_sends_ = next_hub_sends_ = {};
    if (pace_clock_) site_end->set_pace_clock(pace_clock_);
    sync::MemoryLink* hub = hub_end.get();
    hub_ends_.push_back(std::move(hub_end));
    sessions_.emplace_back([serve = it->second, hub] {
      (void)serve(hub);
      hub->Close();  // as the accept loop's thread does when a session ends
    });
    return std::unique_ptr<sync::Link>(std::move(site_end));
  }

  // The site's side of a sync spoken by hand, up to the hub's offer: the IK message 1 carrying
  // `hello` (the site's node key and a counter above its last filled in), message 2 read, and
  // the offer decoded. A test then sends what a well-behaved site would not.
  struct HandSession {
    std::unique_ptr<sync::Link> link;
    std::optional<noise::HandshakeState> handshake;
    std::optional<sync::SecureChannel> channel;
    sync::Offer offer;
  };
  // Up to message 2: its payload (an Accept or an Error) in `answer`.
  void HelloByHand(sync::Hello hello, HandSession* s, std::vector<uint8_t>* answer) {
    auto node = LoadIdentity(site_->paths.node_key);
    ASSERT_TRUE(node.has_value());
    auto key = noise::KeyPair::FromPrivateKey(node->x25519_secret_key());
    auto link = Connect(address_, std::chrono::seconds(10));
    ASSERT_TRUE(link.has_value());
    s->link = std::move(*link);
    std::string preamble(sync::kPreambleMagic, 4);
    preamble += std::string{static_cast<char>(sync::Mode::kSync), 0, 0, 0};
    noise::HandshakeConfig config;
    config.pattern = noise::Pattern::kIK;
    config.role = noise::Role::kInitiator;
    std::string prologue = std::string(sync::kPrologue) + preamble;
    config.prologue.assign(prologue.begin(), prologue.end());
    config.local_static = &*key;
    config.remote_static = X25519FromEd25519(site_->db->Hub()->node_key)->bytes;
    auto hs = noise::HandshakeState::Create(config);
    ASSERT_TRUE(hs.has_value());
    hello.node_key = node->public_key();
    hello.counter = site_->db->NextHelloCounter().value();
    std::string tagged = sync::Tagged(sync::kHello, sync::EncodeHello(hello));
    auto m1 = hs->WriteMessage({reinterpret_cast<const uint8_t*>(tagged.data()), tagged.size()});
    auto frame = noise::EncodeFrame(*m1);
    std::vector<uint8_t> first(preamble.begin(), preamble.end());
    first.insert(first.end(), frame->begin(), frame->end());
    ASSERT_TRUE(s->link->Write(first).ok());
    auto m2 = sync::ReadHandshakeFrame(s->link.get());
    ASSERT_TRUE(m2.has_value());
    auto payload = hs->ReadMessage(*m2);
    ASSERT_TRUE(payload.has_value());
    *answer = std::move(*payload);
    s->handshake.emplace(std::move(*hs));
  }
  void OpenByHand(sync::Hello hello, HandSession* s) {
    std::vector<uint8_t> answer;
    const uint16_t protocol = hello.protocol;
    ASSERT_NO_FATAL_FAILURE(HelloByHand(std::move(hello), s, &answer));
    ASSERT_FALSE(answer.empty());
    ASSERT_EQ(answer[0], sync::kAccept);
    auto split = s->handshake->Split();
    s->channel.emplace(s->link.get(), std::move(split->first), std::move(split->second),
                       Limits().rekey_interval, 16 << 20);
    auto offer = s->channel->Receive();
    ASSERT_TRUE(offer.has_value()) << offer.error().message();
    ASSERT_EQ(offer->type, sync::kOffer);
    auto decoded = sync::DecodeOffer(offer->body);
    ASSERT_TRUE(decoded.has_value());
    s->offer = std::move(*decoded);
    if (protocol >= sync::kOutcomesProtocolVersion) {  // from version 2: the hub's Outcomes
      auto outcomes = s->channel->Receive();
      ASSERT_TRUE(outcomes.has_value()) << outcomes.error().message();
      ASSERT_EQ(outcomes->type, sync::kOutcomes);
      ASSERT_TRUE(sync::DecodeOutcomes(outcomes->body).has_value());
    }
  }

  Result<HubPin> Enrol(Node* node) {
    auto pin = EnrolWithHub(node->paths, node->db.get(), address_, Code(), "",
                            std::chrono::seconds(10), Dial());
    JoinSessions();
    return pin;
  }
  void Join() {
    auto pin = Enrol(site_.get());
    ASSERT_TRUE(pin.has_value()) << pin.error().message();
  }
  Result<SyncSummary> SyncNode(Node* node, SyncOptions options = {}) {
    options.limits = Limits();
    options.dial = Dial();
    auto summary = SyncWithHub(node->paths, node->store.get(), node->catalog.get(), node->db.get(),
                               options);
    JoinSessions();
    return summary;
  }
  Result<SyncSummary> Sync(uint64_t budget = 0, std::function<void(const SyncProgress&)> progress = {}) {
    SyncOptions options;
    options.budget_bytes = budget;
    options.progress = std::move(progress);
    return SyncNode(site_.get(), options);
  }

  TempDir hub_dir_, site_dir_, folder_;
  std::unique_ptr<Node> hub_, site_;
  std::unique_ptr<SyncServer> server_;
  std::string address_ = "hub:7000";  // in memory: a name for Listen(), shaped as SetHub wants
  bool tcp_ = false;
  sync::PaceClock* pace_clock_ = nullptr;  // the site's end paces on it

 private:
  std::map<std::string, Serve> endpoints_;
  sync::MemoryLink::Countdown next_site_sends_, next_hub_sends_;
  std::vector<std::unique_ptr<sync::MemoryLink>> hub_ends_;
  std::vector<std::thread> sessions_;
};

// The same over loopback TCP: the hub's accept loop on port 0.
class SessionOverTcpTest : public SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    ASSERT_TRUE(server_->Bind("127.0.0.1:0").ok());
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    tcp_ = true;
    serving_ = std::thread([this] { (void)server_->Serve(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (serving_.joinable()) serving_.join();
    SessionTest::TearDown();
  }
  std::thread serving_;
};

}  // namespace outpost::testing
