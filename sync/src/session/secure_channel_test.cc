#include "session/secure_channel.h"

#include <gtest/gtest.h>

#include <array>

#include "session/memory_link.h"

namespace outpost::sync {
namespace {

using Fault = MemoryLink::Fault;

// Two channels facing each other over a memory link, keyed as a handshake's split would.
struct Pair {
  explicit Pair(MemoryLink::Countdown a_sends = {}, uint64_t rekey = 2, size_t max_record = 1 << 20) {
    auto links = MemoryLink::Pair(a_sends, {});
    a_link = std::move(links.first);
    b_link = std::move(links.second);
    std::array<uint8_t, noise::kKeySize> k1{}, k2{};
    k1.fill(1);
    k2.fill(2);
    a.emplace(a_link.get(), noise::CipherState(k1), noise::CipherState(k2), rekey, max_record);
    b.emplace(b_link.get(), noise::CipherState(k2), noise::CipherState(k1), rekey, max_record);
  }
  std::unique_ptr<MemoryLink> a_link, b_link;
  std::optional<SecureChannel> a, b;
};

TEST(SecureChannelTest, RecordsSpanFramesAndSurviveRekeys) {
  Pair p;
  std::string big(200000, 'x');
  big[123456] = 'y';
  ASSERT_TRUE(p.a->Send(5, "small").ok());
  ASSERT_TRUE(p.a->Send(6, big).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(p.a->Send(7, std::to_string(i)).ok());
  ASSERT_TRUE(p.a->Flush().ok());
  auto first = p.b->Receive();
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(first->type, 5);
  EXPECT_EQ(first->body, "small");
  auto second = p.b->Receive();
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_EQ(second->body, big);
  for (int i = 0; i < 20; ++i) {
    auto r = p.b->Receive();
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->body, std::to_string(i));
  }
}

TEST(SecureChannelTest, AChangedByteFailsAuthenticationAndNothingOfItIsKept) {
  Pair p({Fault::kCorrupt, 30});
  ASSERT_TRUE(p.a->Send(5, std::string(100, 'a')).ok());
  ASSERT_TRUE(p.a->Flush().ok());
  auto r = p.b->Receive();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kCorrupt);
}

TEST(SecureChannelTest, ARecordOverTheLimitIsRefused) {
  Pair sender({}, 2, 1 << 20);
  std::string body(5000, 'z');
  ASSERT_TRUE(sender.a->Send(5, body).ok());
  ASSERT_TRUE(sender.a->Flush().ok());
  // The receiving side allows less than the sender sent.
  std::array<uint8_t, noise::kKeySize> k1{};
  k1.fill(1);
  SecureChannel strict(sender.b_link.get(), noise::CipherState(), noise::CipherState(k1), 2, 4096);
  auto r = strict.Receive();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("over the limit"), std::string::npos) << r.error().message();
  EXPECT_FALSE(sender.a->Send(5, std::string((1 << 20) + 1, 'z')).ok());
}

TEST(SecureChannelTest, ACutLinkIsAnErrorNotAHang) {
  Pair p({Fault::kCut, 100});
  ASSERT_TRUE(p.a->Send(5, std::string(40, 'a')).ok());
  ASSERT_TRUE(p.a->Flush().ok());  // one frame of 2 + 45 + 16 bytes
  ASSERT_TRUE(p.a->Send(5, std::string(100000, 'b')).ok());
  EXPECT_FALSE(p.a->Flush().ok());
  auto first = p.b->Receive();
  ASSERT_TRUE(first.has_value()) << first.error().message();  // the first frame was whole
  EXPECT_FALSE(p.b->Receive().has_value());
}

TEST(SecureChannelTest, HandshakeFramesCarryTheirLength) {
  auto [a, b] = MemoryLink::Pair();
  std::vector<uint8_t> message(300, 9);
  ASSERT_TRUE(WriteHandshakeFrame(a.get(), message).ok());
  auto got = ReadHandshakeFrame(b.get());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, message);
  EXPECT_EQ(a->bytes_sent(), 302u);
}

}  // namespace
}  // namespace outpost::sync
