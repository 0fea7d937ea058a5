// The hub's sync port against strangers (issue #12, finding 4): a deadline for the handshake
// however slowly its bytes come, a cap on one address's connections, and no offer built for a
// replayed first message. The first two run the accept loop on loopback TCP, the connections
// coming from other addresses of 127.0.0.0/8 (all local on Linux); the last over memory links.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "protocol.h"
#include "session/memory_link.h"
#include "session/secure_channel.h"
#include "session/session_fixture.h"

namespace outpost::testing {
namespace {

using namespace std::chrono_literals;

// A bound on waiting for an event that should come at once, so that a broken build fails
// instead of hanging; never reached when the code works.
constexpr auto kSafety = 20s;

// A TCP connection to 127.0.0.1:`port` from `local_address`.
int ConnectFrom(const char* local_address, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, local_address, &local.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
  sockaddr_in hub{};
  hub.sin_family = AF_INET;
  hub.sin_port = htons(static_cast<uint16_t>(port));
  hub.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&hub), sizeof hub), 0);
  return fd;
}

// Whether the hub closes `fd` (end of stream or a reset) within kSafety.
bool ClosedByHub(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kSafety).count())) <= 0) {
    return false;
  }
  char c;
  return ::recv(fd, &c, 1, 0) <= 0;
}

// Sends `bytes` one at a time, `every` apart, until the hub closes the connection; how many it
// sent.
size_t TrickleUntilClosed(int fd, std::string_view bytes, std::chrono::milliseconds every) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (::send(fd, &bytes[i], 1, MSG_NOSIGNAL) != 1) return i;
    pollfd p{fd, POLLIN, 0};
    char c;
    if (::poll(&p, 1, static_cast<int>(every.count())) > 0 && ::recv(fd, &c, 1, 0) <= 0) {
      return i + 1;
    }
  }
  return bytes.size();
}

class SyncPortTest : public SessionTest {
 protected:
  // The hub's accept loop on 127.0.0.1, with `limits`.
  void ServeTcp(SessionLimits limits) {
    server_ = std::make_unique<SyncServer>(hub_->paths, hub_->store.get(), hub_->catalog.get(),
                                           hub_->db.get(), limits);
    ASSERT_TRUE(server_->Bind("127.0.0.1:0").ok());
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    tcp_ = true;
    serving_ = std::thread([this] { (void)server_->Serve(); });
  }
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
    if (serving_.joinable()) {
      server_->Stop();
      serving_.join();
    }
    SessionTest::TearDown();
  }
  // A connection from `from` that sends nothing.
  int Open(const char* from) {
    fds_.push_back(ConnectFrom(from, server_->port()));
    return fds_.back();
  }

  // The site's first bytes of a sync (its preamble and IK message 1), as an eavesdropper
  // records them; the site's sync fails, as nobody answers.
  std::string CaptureFirstMessage() {
    std::string captured;
    Listen(address_, [&captured](sync::Link* link) -> Status {
      uint8_t preamble[8];
      OUTPOST_RETURN_IF_ERROR(link->ReadExact(preamble));
      auto m1 = sync::ReadHandshakeFrame(link);
      if (!m1) return m1.error();
      captured.assign(reinterpret_cast<const char*>(preamble), sizeof preamble);
      captured += static_cast<char>(m1->size() >> 8);
      captured += static_cast<char>(m1->size() & 0xff);
      captured.append(m1->begin(), m1->end());
      return Status::Ok();
    });
    EXPECT_FALSE(Sync().has_value());
    Listen(address_, [this](sync::Link* link) { return server_->ServeSession(link); });
    return captured;
  }
  // Plays `first` to the hub on a new link, reads its handshake answer (which only the site
  // could decrypt) and hangs up; how the hub's session ended.
  Status Replay(const std::string& first) {
    auto [ours, hubs] = sync::MemoryLink::Pair();
    Status ended;
    std::thread session([&ended, this, hub = hubs.get()] {
      ended = server_->ServeSession(hub);
      hub->Close();
    });
    EXPECT_TRUE(ours->Write({reinterpret_cast<const uint8_t*>(first.data()), first.size()}).ok());
    EXPECT_TRUE(sync::ReadHandshakeFrame(ours.get()).has_value());
    ours->Close();
    session.join();
    return ended;
  }

  // Enrols the site over TCP from 127.0.0.1, and waits until the hub has let that connection go,
  // so that the site's next connection is not counted against its address's cap beside it.
  void JoinReleased() {
    Join();
    server_->WaitUntilNoConnectionFrom("127.0.0.1");
  }

  std::thread serving_;
  std::vector<int> fds_;
};

TEST_F(SyncPortTest, AConnectionTricklingItsHandshakeIsDroppedAtTheDeadline) {
  SessionLimits limits = Limits();
  limits.io_timeout = 30s;  // every byte comes well within it
  limits.handshake_timeout = 300ms;
  ServeTcp(limits);
  // A sync's preamble, then a frame of 400 bytes, a byte every 20 ms: 8 s for the whole.
  std::string first(sync::kPreambleMagic, 4);
  first += static_cast<char>(sync::Mode::kSync);
  first += std::string(3, '\0');
  first += "\x01\x90";
  first += std::string(400, 'x');
  size_t sent = TrickleUntilClosed(Open("127.0.1.5"), first, 20ms);
  EXPECT_LT(sent, first.size()) << "the hub read a handshake trickled over " << sent << " bytes";
}

TEST_F(SyncPortTest, ConnectionsOverTheCapOfOneAddressAreClosedWhileAnotherAddressSyncs) {
  SessionLimits limits = Limits();
  limits.max_sessions = 3;
  limits.max_sessions_per_address = 1;
  limits.io_timeout = 60s;         // the idle connections would be kept for the whole test
  limits.handshake_timeout = 60s;  // but for the cap
  ServeTcp(limits);
  JoinReleased();
  Open("127.0.1.7");  // kept: it may still be a site
  int over1 = Open("127.0.1.7"), over2 = Open("127.0.1.7");
  // The site, from 127.0.0.1, finds a slot.
  auto summary = Sync();
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  EXPECT_TRUE(ClosedByHub(over1));
  EXPECT_TRUE(ClosedByHub(over2));
}

TEST_F(SyncPortTest, StrangersFromManyAddressesWaitingInTheHandshakeLeaveTheSessionSlotsFree) {
  SessionLimits limits = Limits();
  limits.max_sessions = 2;
  limits.max_sessions_per_address = 1;
  limits.io_timeout = 60s;         // the idle connections would be kept for the whole test
  limits.handshake_timeout = 60s;  // but for the slots
  ServeTcp(limits);
  JoinReleased();
  // Three strangers, each from its own address and within its cap, more than the session slots.
  Open("127.0.1.8");
  Open("127.0.1.9");
  Open("127.0.1.10");
  auto summary = Sync();
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
}

TEST_F(SyncPortTest, ConnectionsOverTheHandshakeLimitAreClosedAtOnce) {
  SessionLimits limits = Limits();
  limits.max_handshakes = 2;
  limits.io_timeout = 60s;
  limits.handshake_timeout = 60s;
  ServeTcp(limits);
  Open("127.0.1.11");
  Open("127.0.1.12");
  EXPECT_TRUE(ClosedByHub(Open("127.0.1.13")));
}

TEST_F(SyncPortTest, ASiteAdmittedWhenEverySessionSlotIsTakenIsToldTheHubIsBusy) {
  SessionLimits limits = Limits();
  limits.max_sessions = 0;  // every slot taken
  ServeTcp(limits);
  JoinReleased();  // an enrolment ends within its handshake: it needs no session slot
  auto summary = Sync();
  ASSERT_FALSE(summary.has_value());
  EXPECT_NE(summary.error().message().find("busy"), std::string::npos) << summary.error().message();
}

TEST_F(SyncPortTest, AReplayedFirstMessageIsRefusedBeforeAnyOfferIsBuilt) {
  JoinReleased();
  std::string first = CaptureFirstMessage();
  ASSERT_FALSE(first.empty());
  // The first time these bytes reach the hub they are the site's own, only relayed.
  (void)Replay(first);
  EXPECT_EQ(server_->offers_built(), 1u);
  Status again = Replay(first);
  EXPECT_EQ(server_->offers_built(), 1u) << "the hub built an offer for a replayed first message";
  EXPECT_NE(again.message().find("replay"), std::string::npos) << again.message();
  // The site itself syncs on.
  auto summary = Sync();
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_TRUE(summary->complete);
  EXPECT_EQ(server_->offers_built(), 2u);
}

}  // namespace
}  // namespace outpost::testing
