// Enrolment by code against a man in the middle (issue #12, finding 1): one that relays the
// bytes of a `join` both ways, and one that answers the site itself with its own hub keys and
// root. Neither may learn the code, use it at the real hub, or make the site trust it.
#include <gtest/gtest.h>

#include <thread>

#include "outpost/base/file.h"
#include "outpost/sync/node.h"
#include "protocol.h"
#include "session/link.h"
#include "session/memory_link.h"
#include "session/secure_channel.h"
#include "session/session_fixture.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

std::string Text(const Bytes& b) { return {b.begin(), b.end()}; }
Bytes FromText(std::string_view s) { return {s.begin(), s.end()}; }

// Whether `code` shows in `seen`, as typed or without its dashes, in either case.
bool ShowsCode(const std::string& seen, const std::string& code) {
  std::string bare;
  for (char c : code) {
    if (c != '-') bare += c;
  }
  std::string upper = bare;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return seen.find(code) != std::string::npos || seen.find(bare) != std::string::npos ||
         seen.find(upper) != std::string::npos;
}

// One frame (2-byte length, message) from `from`, copied to `to` and to *seen.
Status RelayFrame(sync::Link* from, sync::Link* to, std::string* seen) {
  auto frame = sync::ReadHandshakeFrame(from);
  if (!frame) return frame.error();
  seen->append(Text(*frame));
  return sync::WriteHandshakeFrame(to, *frame);
}

// Relays an enrolment between the site (`site`) and the hub (`hub`), turn by turn as the
// handshake goes, then every frame the hub sends until it hangs up. Records all it saw.
Status RelayEnrolment(sync::Link* site, sync::Link* hub, std::string* seen) {
  uint8_t preamble[8];
  OUTPOST_RETURN_IF_ERROR(site->ReadExact(preamble));
  seen->append(reinterpret_cast<const char*>(preamble), sizeof preamble);
  OUTPOST_RETURN_IF_ERROR(hub->Write(preamble));
  OUTPOST_RETURN_IF_ERROR(RelayFrame(site, hub, seen));  // message 1
  OUTPOST_RETURN_IF_ERROR(RelayFrame(hub, site, seen));  // message 2
  OUTPOST_RETURN_IF_ERROR(RelayFrame(site, hub, seen));  // message 3
  while (RelayFrame(hub, site, seen).ok()) {
  }
  return Status::Ok();
}

// A hub of its own (its own node key, root and trust list) that answers whoever dials it as
// the real hub would. It keeps every byte it received and any code it could read.
class Impostor {
 public:
  explicit Impostor(const fs::path& dir) : node_(dir) {
    EXPECT_TRUE(InitHub(node_.paths).has_value());
  }

  Status Serve(sync::Link* link) {
    using namespace sync;
    uint8_t preamble[8];
    OUTPOST_RETURN_IF_ERROR(link->ReadExact(preamble));
    received_.append(reinterpret_cast<const char*>(preamble), sizeof preamble);
    auto identity = LoadIdentity(node_.paths.node_key);
    if (!identity) return identity.error();
    auto key = noise::KeyPair::FromPrivateKey(identity->x25519_secret_key());
    if (!key) return key.error();
    auto hs = Responder(preamble, *key);
    if (!hs) return hs.error();
    auto m1 = Read(link);
    if (!m1) return m1.error();
    if (auto p = hs->ReadMessage(*m1); !p) return p.error();
    auto m2 = hs->WriteMessage(FromText(Tagged(kHubInfo, EncodeHubInfo(identity->public_key()))));
    if (!m2) return m2.error();
    OUTPOST_RETURN_IF_ERROR(WriteHandshakeFrame(link, *m2));
    auto m3 = Read(link);
    if (!m3) return m3.error();
    auto payload = hs->ReadMessage(*m3);
    if (!payload) return payload.error();
    received_ += Text(*payload);
    if (payload->empty()) return Corrupt("an empty message 3");
    if (auto request = DecodeEnrol(Text(*payload).substr(1))) stolen_code_ = request->code;
    return Answer(link, &*hs, identity->public_key());
  }

  const std::string& received() const { return received_; }
  const std::string& stolen_code() const { return stolen_code_; }
  TestNode& node() { return node_; }

 private:
  // The responder's side of whatever handshake the site started: XX in mode 1; in mode 4,
  // XXpsk3 with a psk it can only guess.
  Result<noise::HandshakeState> Responder(const uint8_t (&preamble)[8], const noise::KeyPair& key) {
    noise::HandshakeConfig config;
    config.pattern = noise::Pattern::kXX;
    if (preamble[4] == static_cast<uint8_t>(sync::Mode::kEnrol)) {
      config.pattern = noise::Pattern::kXXpsk3;
      config.psk = noise::Psk{};
    }
    config.role = noise::Role::kResponder;
    std::string prologue = std::string(sync::kPrologue) +
                           std::string(reinterpret_cast<const char*>(preamble), 8);
    config.prologue = FromText(prologue);
    config.local_static = &key;
    return noise::HandshakeState::Create(config);
  }

  Result<Bytes> Read(sync::Link* link) {
    auto m = sync::ReadHandshakeFrame(link);
    if (m) received_ += Text(*m);
    return m;
  }

  // "Enrolled", with the impostor's own root and trust list.
  Status Answer(sync::Link* link, noise::HandshakeState* hs, const PublicKey& hub_key) {
    using namespace sync;
    auto split = hs->Split();
    if (!split) return split.error();
    SecureChannel channel(link, std::move(split->second), std::move(split->first), 8, 16 << 20);
    Enrolled answer;
    answer.site_name = "ecole-1";
    answer.hub_key = hub_key;
    answer.root_key = *node_.db->OwnRoot();
    answer.trust_list = *ReadWholeFile(node_.paths.trust_list, kMaxTrustListBytes);
    OUTPOST_RETURN_IF_ERROR(channel.Send(kEnrolled, EncodeEnrolled(answer)));
    return channel.Flush();
  }

  TestNode node_;
  std::string received_;
  std::string stolen_code_;
};

class EnrolMitmTest : public SessionTest {
 protected:
  Result<HubPin> JoinThrough(const std::string& address, const std::string& code) {
    auto pin = EnrolWithHub(site_->paths, site_->db.get(), address, code, "",
                            std::chrono::seconds(10), Dial());
    JoinSessions();
    return pin;
  }
  bool CodeIsPendingAtTheHub() {
    for (const PendingEnrolment& p : hub_->db->PendingEnrolments()) {
      if (p.site_name == "ecole-1") return true;
    }
    return false;
  }
  size_t HubPeers() { return hub_->db->Peers().size(); }
};

TEST_F(EnrolMitmTest, ARelayInTheMiddleNeverSeesTheCodeAndCannotReplayItsWayIn) {
  std::string seen;
  Listen("mitm:7000", [this, &seen](sync::Link* site) {
    auto [near, far] = sync::MemoryLink::Pair({}, {}, std::chrono::seconds(10));
    std::thread hub([this, far = far.get()] {
      (void)server_->ServeSession(far);
      far->Close();
    });
    Status st = RelayEnrolment(site, near.get(), &seen);
    near->Close();
    hub.join();
    return st;
  });
  std::string code = Code();
  auto pin = JoinThrough("mitm:7000", code);
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_FALSE(ShowsCode(seen, code)) << "the relay saw the code";

  // What the relay saw, played back to the hub from the start, enrols nobody new.
  size_t peers = HubPeers();
  auto [near, far] = sync::MemoryLink::Pair({}, {}, std::chrono::seconds(10));
  std::thread hub([this, far = far.get()] {
    (void)server_->ServeSession(far);
    far->Close();
  });
  Bytes replay(seen.begin(), seen.end());
  (void)near->Write(replay);
  uint8_t byte;
  while (near->ReadExact({&byte, 1}).ok()) {
  }
  near->Close();
  hub.join();
  EXPECT_EQ(HubPeers(), peers);
}

TEST_F(EnrolMitmTest, AnImpostorHubLearnsNoCodeAndTheSiteTrustsNothingItSaid) {
  TempDir impostor_dir;
  Impostor impostor(impostor_dir.path());
  Listen("mitm:7000", [&impostor](sync::Link* link) { return impostor.Serve(link); });
  std::string code = Code();
  auto pin = JoinThrough("mitm:7000", code);
  EXPECT_FALSE(pin.has_value()) << "the site joined an impostor";
  if (!pin) std::cout << "join said: " << pin.error().message() << "\n";
  EXPECT_FALSE(site_->db->Hub().has_value());
  EXPECT_FALSE(fs::exists(site_->paths.trust_list)) << "the site installed the impostor's trust list";
  EXPECT_FALSE(ShowsCode(impostor.received(), code)) << "the impostor received the code";

  // Whatever it learnt, it cannot enrol itself at the real hub with it.
  if (!impostor.stolen_code().empty()) {
    auto stolen = EnrolWithHub(impostor.node().paths, impostor.node().db.get(), address_,
                               impostor.stolen_code(), "", std::chrono::seconds(10), Dial());
    JoinSessions();
    EXPECT_FALSE(stolen.has_value()) << "the impostor enrolled itself with the site's code";
  }
  EXPECT_TRUE(CodeIsPendingAtTheHub()) << "the site's code was used up";
  // The site, with its code still good, then joins the real hub.
  auto real = JoinThrough(address_, code);
  EXPECT_TRUE(real.has_value()) << (real ? "" : real.error().message());
}

TEST_F(EnrolMitmTest, ASiteJoinedFromAFileRefusesAnotherHubKeyAndAnotherRoot) {
  auto hub_identity = LoadIdentity(hub_->paths.node_key);
  ASSERT_TRUE(hub_identity.has_value());
  TempDir impostor_dir;
  Impostor impostor(impostor_dir.path());
  Listen("mitm:7000", [&impostor](sync::Link* link) { return impostor.Serve(link); });
  HubPin from_file;
  from_file.address = "mitm:7000";
  from_file.node_key = hub_identity->public_key();
  from_file.root_key = *hub_->db->OwnRoot();
  from_file.pending_code = Code();
  from_file.site_name = "ecole-1";
  ASSERT_TRUE(site_->db->SetHub(from_file).ok());
  auto refused = Sync();
  ASSERT_FALSE(refused.has_value()) << "the site synced from a hub with another key";
  EXPECT_NE(refused.error().message().find("pinned"), std::string::npos) << refused.error().message();
  EXPECT_FALSE(ShowsCode(impostor.received(), from_file.pending_code));
  EXPECT_FALSE(fs::exists(site_->paths.trust_list));

  // The real hub's key, but the file named another root: the site refuses the answer.
  from_file.address = address_;
  from_file.root_key = *impostor.node().db->OwnRoot();
  ASSERT_TRUE(site_->db->SetHub(from_file).ok());
  auto other_root = Sync();
  ASSERT_FALSE(other_root.has_value()) << "the site took a root its enrolment file did not name";
  EXPECT_NE(other_root.error().message().find("root"), std::string::npos)
      << other_root.error().message();
  EXPECT_FALSE(fs::exists(site_->paths.trust_list));
  EXPECT_EQ(site_->db->Hub()->root_key, from_file.root_key);
}

TEST_F(EnrolMitmTest, AHubRefusesTheWithdrawnXxEnrolmentWithAClearMessage) {
  using namespace sync;
  auto [near, far] = MemoryLink::Pair({}, {}, std::chrono::seconds(10));
  Status served;
  std::thread hub([&, far = far.get()] {
    served = server_->ServeSession(far);
    far->Close();
  });
  std::string preamble(kPreambleMagic, 4);
  preamble += static_cast<char>(Mode::kEnrolXX);
  preamble += std::string(3, '\0');
  noise::KeyPair key = noise::KeyPair::Generate();
  noise::HandshakeConfig config;
  config.prologue = FromText(std::string(kPrologue) + preamble);
  config.local_static = &key;
  auto hs = noise::HandshakeState::Create(config);
  ASSERT_TRUE(hs.has_value());
  auto m1 = hs->WriteMessage({});
  ASSERT_TRUE(m1.has_value());
  ASSERT_TRUE(near->Write(FromText(preamble)).ok());
  ASSERT_TRUE(WriteHandshakeFrame(near.get(), *m1).ok());
  auto m2 = ReadHandshakeFrame(near.get());
  near->Close();
  hub.join();
  ASSERT_TRUE(m2.has_value()) << m2.error().message();
  auto payload = hs->ReadMessage(*m2);
  ASSERT_TRUE(payload.has_value());
  ASSERT_FALSE(payload->empty());
  EXPECT_EQ((*payload)[0], kError);
  auto error = DecodeError(Text(*payload).substr(1));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, 5);
  EXPECT_NE(error->message.find("withdrawn"), std::string::npos) << error->message;
  EXPECT_FALSE(served.ok());
  EXPECT_EQ(HubPeers(), 0u);
}

}  // namespace
}  // namespace outpost::testing
