// The test vectors of docs/sync-protocol.md ("Test vectors"): a sync with the hub (mode 2, Noise
// IK) and an enrolment (mode 4, Noise XXpsk3) with fixed keys, every handshake message's bytes
// as they go on the wire, a Hello and an Offer as plaintext and encrypted, and the first
// transport messages each way. The code must make exactly the bytes the document prints: the
// expected values below are the document's blocks, and each is also looked up there.
// tests/reference/sync_vectors_reference.py rebuilds them from the document alone.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "outpost/base/hash.h"
#include "outpost/sync/identity.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/noise.h"
#include "outpost/sync/sync_db.h"
#include "protocol.h"
#include "session/secure_channel.h"

namespace outpost::sync {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}
std::string Hex(std::span<const uint8_t> bytes) {
  return Hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}
std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }
std::string Text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

// 32 bytes counting up from `first`: the seeds and ephemeral keys of the vectors.
std::array<uint8_t, 32> Counting(uint8_t first) {
  std::array<uint8_t, 32> out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(first + i);
  return out;
}

// A Link that keeps what is written and reads what a test put in.
class TapeLink : public Link {
 public:
  Status Write(std::span<const uint8_t> bytes) override {
    written.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return Status::Ok();
  }
  Status ReadExact(std::span<uint8_t> out) override {
    if (out.size() > to_read.size()) return IoError("the tape ended");
    std::copy_n(to_read.begin(), out.size(), out.begin());
    to_read.erase(0, out.size());
    return Status::Ok();
  }
  void Close() override {}
  void Linger(std::chrono::milliseconds) override {}
  void set_deadline(Clock::time_point) override {}
  void set_rate_limit_kbps(uint64_t) override {}
  uint64_t bytes_sent() const override { return written.size(); }
  uint64_t bytes_received() const override { return 0; }
  std::string peer() const override { return "tape"; }
  std::string written, to_read;
};

// One record as the sender's SecureChannel seals it: the frames it writes.
std::string Sealed(SecureChannel* channel, TapeLink* link, uint8_t type, std::string_view body) {
  link->written.clear();
  EXPECT_TRUE(channel->Send(type, body).ok());
  EXPECT_TRUE(channel->Flush().ok());
  return link->written;
}

// The record the receiver reads from `frames`.
Record Opened(SecureChannel* channel, TapeLink* link, const std::string& frames) {
  link->to_read = frames;
  auto record = channel->Receive();
  EXPECT_TRUE(record.has_value()) << record.error().message();
  EXPECT_TRUE(link->to_read.empty());
  return record ? *record : Record{};
}

std::string Preamble(Mode mode) {
  std::string p(kPreambleMagic, 4);
  p += static_cast<char>(mode);
  return p + std::string(3, '\0');
}

struct Keys {
  Identity site = Identity::FromSeed(Counting(0x60)).value();
  Identity hub = Identity::FromSeed(Counting(0x40)).value();
  noise::KeyPair site_static = noise::KeyPair::FromPrivateKey(site.x25519_secret_key()).value();
  noise::KeyPair hub_static = noise::KeyPair::FromPrivateKey(hub.x25519_secret_key()).value();
};

noise::HandshakeState Side(noise::Pattern pattern, noise::Role role, Mode mode,
                           const noise::KeyPair& local, const noise::KeyPair& ephemeral,
                           std::optional<noise::PublicKey> remote = std::nullopt) {
  noise::HandshakeConfig config;
  config.pattern = pattern;
  config.role = role;
  config.prologue = Bytes(std::string(kPrologue) + Preamble(mode));
  config.local_static = &local;
  config.remote_static = remote;
  config.ephemeral_for_testing = &ephemeral;
  return noise::HandshakeState::Create(config).value();
}

// The worked example of docs/manifest.md, signed by the publisher key of seed 00 01 ... 1f.
std::string WorkedExampleEnvelope() {
  VersionDraft d;
  d.channel_id = "demo";
  d.meta.title = "Démo";
  d.meta.language = "fr";
  d.root.meta.title = "Démo";
  DraftNode a;
  a.path = "a.txt";
  a.kind = NodeKind::kDocument;
  a.meta.title = "A";
  a.blob = Hash::Of("abc");
  a.size = 3;
  a.mime = "text/plain";
  d.root.children.push_back(a);
  return SignManifest(d, 1, Identity::FromSeed(Counting(0x00)).value()).value();
}

Hello VectorHello(const Keys& keys) {
  Hello hello;
  hello.protocol = 1;  // the vectors are a session in version 1 (still spoken)
  hello.node_key = keys.site.public_key();
  hello.trust_sequence = 1;
  hello.held = {{"water", 3, 0}};
  hello.counter = 1765000000000000;
  return hello;
}

Offer VectorOffer() {
  Offer offer;
  OfferedVersion v;
  v.channel_id = "demo";
  v.packing = kRaw;
  v.packed = WorkedExampleEnvelope();
  v.envelope_size = v.packed.size();
  v.files.push_back({Hash::Of("abc"), 3, {{Hash::Of("abc"), 3}}, std::nullopt});
  offer.versions.push_back(v);
  offer.uploads = true;
  offer.yours.push_back({"ecole-1-notes", 2, 0});
  return offer;
}

// Runs the sync vector: every value the document prints, by name.
std::map<std::string, std::string> SyncVector() {
  std::map<std::string, std::string> got;
  Keys keys;
  auto site_e = noise::KeyPair::FromPrivateKey(Counting(0x80)).value();
  auto hub_e = noise::KeyPair::FromPrivateKey(Counting(0xa0)).value();
  got["site_x25519_public"] = Hex(keys.site_static.public_key());
  got["hub_x25519_public"] = Hex(keys.hub_static.public_key());
  got["site_ephemeral_public"] = Hex(site_e.public_key());
  got["hub_ephemeral_public"] = Hex(hub_e.public_key());
  auto site = Side(noise::Pattern::kIK, noise::Role::kInitiator, Mode::kSync, keys.site_static,
                   site_e, keys.hub_static.public_key());
  auto hub = Side(noise::Pattern::kIK, noise::Role::kResponder, Mode::kSync, keys.hub_static, hub_e);
  std::string hello = Tagged(kHello, EncodeHello(VectorHello(keys)));
  got["hello_payload"] = Hex(hello);
  auto m1 = site.WriteMessage(Bytes(hello)).value();
  got["sync_first_write"] = Hex(Preamble(Mode::kSync) + Text(noise::EncodeFrame(m1).value()));
  EXPECT_EQ(Text(hub.ReadMessage(m1).value()), hello);
  std::string accept = Tagged(kAccept, EncodeAccept({1, 4096}));
  got["accept_payload"] = Hex(accept);
  auto m2 = hub.WriteMessage(Bytes(accept)).value();
  got["sync_message_2"] = Hex(Text(noise::EncodeFrame(m2).value()));
  EXPECT_EQ(Text(site.ReadMessage(m2).value()), accept);
  got["sync_handshake_hash"] = Hex(site.GetHandshakeHash());
  EXPECT_EQ(Hex(hub.GetHandshakeHash()), got["sync_handshake_hash"]);

  auto site_split = site.Split().value();
  auto hub_split = hub.Split().value();
  TapeLink site_link, hub_link;
  SecureChannel site_channel(&site_link, std::move(site_split.first), std::move(site_split.second),
                             1 << 16, 16 << 20);
  SecureChannel hub_channel(&hub_link, std::move(hub_split.second), std::move(hub_split.first),
                            1 << 16, 16 << 20);
  std::string offer = EncodeOffer(VectorOffer());
  got["offer_body"] = Hex(offer);
  std::string offer_frame = Sealed(&hub_channel, &hub_link, kOffer, offer);
  got["offer_frame"] = Hex(offer_frame);
  EXPECT_EQ(Opened(&site_channel, &site_link, offer_frame).body, offer);
  std::string ask = EncodeHashes({Hash::Of("abc")});
  std::string ask_frame = Sealed(&site_channel, &site_link, kGetChunks, ask);
  got["get_chunks_frame"] = Hex(ask_frame);
  EXPECT_EQ(Opened(&hub_channel, &hub_link, ask_frame).body, ask);
  std::string bye_frame = Sealed(&site_channel, &site_link, kBye, "");
  got["bye_frame"] = Hex(bye_frame);
  EXPECT_EQ(Opened(&hub_channel, &hub_link, bye_frame).type, kBye);
  return got;
}

// Runs the enrolment vector, with the code abcd-efgh-jkmn-pqrs.
std::map<std::string, std::string> EnrolVector() {
  std::map<std::string, std::string> got;
  Keys keys;
  auto site_e = noise::KeyPair::FromPrivateKey(Counting(0xc0)).value();
  auto hub_e = noise::KeyPair::FromPrivateKey(Counting(0xe0)).value();
  auto code = DeriveEnrolCodeKeys("abcd-efgh-jkmn-pqrs").value();
  got["code_id"] = Hex(code.id);
  got["psk"] = Hex(code.psk);
  auto site = Side(noise::Pattern::kXXpsk3, noise::Role::kInitiator, Mode::kEnrol,
                   keys.site_static, site_e);
  auto hub = Side(noise::Pattern::kXXpsk3, noise::Role::kResponder, Mode::kEnrol,
                  keys.hub_static, hub_e);
  EXPECT_TRUE(site.SetPsk(code.psk).ok());
  EXPECT_TRUE(hub.SetPsk(code.psk).ok());
  std::string id(code.id.begin(), code.id.end());
  auto m1 = site.WriteMessage(Bytes(Tagged(kEnrolId, id))).value();
  got["enrol_first_write"] = Hex(Preamble(Mode::kEnrol) + Text(noise::EncodeFrame(m1).value()));
  EXPECT_TRUE(hub.ReadMessage(m1).has_value());
  auto m2 = hub.WriteMessage(Bytes(Tagged(kHubInfo, EncodeHubInfo(keys.hub.public_key())))).value();
  got["enrol_message_2"] = Hex(Text(noise::EncodeFrame(m2).value()));
  EXPECT_TRUE(site.ReadMessage(m2).has_value());
  std::string enrol = Tagged(kEnrol, EncodeEnrol({keys.site.public_key(), "", "ecole-karantina"}));
  auto m3 = site.WriteMessage(Bytes(enrol)).value();
  got["enrol_message_3"] = Hex(Text(noise::EncodeFrame(m3).value()));
  EXPECT_EQ(Text(hub.ReadMessage(m3).value()), enrol);

  auto root = Identity::FromSeed(Counting(0x20)).value();
  auto publisher = Identity::FromSeed(Counting(0x00)).value();
  TrustList list{root.public_key(), 1, {{publisher.public_key(), {"*"}, KeyState::kActive}}};
  Enrolled answer{"ecole-karantina", keys.hub.public_key(), root.public_key(),
                  SignTrustList(list, root).value()};
  auto site_split = site.Split().value();
  auto hub_split = hub.Split().value();
  TapeLink site_link, hub_link;
  SecureChannel site_channel(&site_link, std::move(site_split.first), std::move(site_split.second),
                             1 << 16, 16 << 20);
  SecureChannel hub_channel(&hub_link, std::move(hub_split.second), std::move(hub_split.first),
                            1 << 16, 16 << 20);
  std::string enrolled = EncodeEnrolled(answer);
  std::string frame = Sealed(&hub_channel, &hub_link, kEnrolled, enrolled);
  got["enrolled_frame"] = Hex(frame);
  EXPECT_EQ(Opened(&site_channel, &site_link, frame).body, enrolled);
  return got;
}

// The document's block `name`: the hex lines after a line "name:" in docs/sync-protocol.md.
std::string DocumentBlock(const std::string& doc, const std::string& name) {
  size_t at = doc.find("\n" + name + ":\n");
  if (at == std::string::npos) return "(not in the document)";
  std::istringstream lines(doc.substr(at + name.size() + 3));
  std::string line, hex;
  while (std::getline(lines, line) && !line.empty() && line.find_first_not_of("0123456789abcdef ") == std::string::npos) {
    for (char c : line) {
      if (c != ' ') hex += c;
    }
  }
  return hex;
}

void ExpectAsDocumented(const std::map<std::string, std::string>& got,
                        const std::map<std::string, std::string>& want) {
  std::ifstream in(OUTPOST_DOCS_DIR "/sync-protocol.md");
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(doc.empty());
  for (const auto& [name, hex] : got) {
    auto it = want.find(name);
    ASSERT_NE(it, want.end()) << name << ":\n" << hex;
    EXPECT_EQ(hex, it->second) << name;
    EXPECT_EQ(DocumentBlock(doc, name), it->second) << name;
  }
}

// ---- the vectors, as docs/sync-protocol.md prints them ----

const std::map<std::string, std::string> kSyncVector = {
    {"site_x25519_public", "e240f142b821efa128c8a1b1ee98c5c2d0d6186429edeedd3cccde89f7bf754a"},
    {"hub_x25519_public", "f14b5173130a1b80687f273d49e8f4740a793a949b83b105837f2a61e8fee14f"},
    {"site_ephemeral_public", "493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d"},
    {"hub_ephemeral_public", "605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c"},
    {"hello_payload",
     "010001174553b456dddfc6908ecab1c101fe6ab21e2baa0617795b7d43a63482"
     "993fd50000000000000001000000010000000577617465720000000000000003"
     "00000000000000000006454216075000"},
    {"accept_payload", "0a000100001000"},
    {"sync_first_write",
     "4f5053310200000000b0493e82fc74464a59268817623d2053c5eb8e2cc4a988"
     "b4fee179ec6b010d531dcf1f57624bfba262466a2c12f410bcaa221d33222104"
     "060970a662b2e95749ce9eca416316f16bdc5e909c7e28de37263d30661c0b57"
     "af20f46cfd9c5462685b2f32bd33ddcb7d12cf2afd2eccbb7c853bdc4ac97c83"
     "8d9c1bbd676e71c4b11c495b0e0487df4e671ca6766f2fe2ffd53d4696033970"
     "54882556a589b06b512c24913cfc4ddcabc43558d5b0863098f2"},
    {"sync_message_2",
     "0037605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805"
     "d23c15c647faa83b790f9de5cc669f64b11c84ccfc53afe467"},
    {"sync_handshake_hash",
     "b882c74eb2bd6315145c446a9b5d5b3371ed9203145f8fe0a96b2026b7ab1f36"
     "468aa6af67bbb05536f47ad5528abb9e3653800e7ada258c60db9e2c18a751d1"},
    {"offer_body",
     "00000000000000010000000464656d6f00000000000000000000000000000001"
     "39000001394f50534d0001000000cf4f504d4600010000000464656d6f000000"
     "00000000010000000544c3a96d6f000000000000000266720000000000000000"
     "000000000000010000000544c3a96d6f00000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000100000005612e"
     "7478740301000000014100000000000000000000000000000000000000000000"
     "00000001bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c0"
     "68d5231900000000000000030000000a746578742f706c61696e0000000003a1"
     "07bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b80432"
     "58dbf4e6c4b498edeed3ab0ad3f0ce4f323e3ca8e767937e11bef08b4a1675c7"
     "3a713b2ce611c8a97730ae8518f2fb184d07305cb9563bfd1e64019080030000"
     "0001bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d5"
     "231900000000000000030000000001bddd813c634239723171ef3fee98579b94"
     "964e3bb1cb3e427262c8c068d523190000000301000000010000000d65636f6c"
     "652d312d6e6f7465730000000000000002"},
    {"offer_frame",
     "01e662ea0a0140e42175ef8717d80ac986006af7322b5cdcd74e3152dca5c663"
     "9fefb7d7cb0ad139d9150a5f7e84c59157fb0089c99bb87a9734d199440aaf10"
     "721173815fb3f4ada59c67e3d5cfee5a007f6b557d86ec982aa5289dfabb018c"
     "9fe087f719b76696facf66e05f25cfd4d86b072de759fa5b55ffa8e5d9384484"
     "5fc33c632edcbaed5001842264107dbcbded3d09e52bf5d78e509cc35b4252a9"
     "5c5411f02314b6381f26e15ad81b188ab7fef44715bece2582ee9199c0cf65e1"
     "0b686da947c6504f3bc19ed36b3e8dd0db62fae2a3e1fc74c3ded0ccdd941821"
     "7dfbd94dcf0c295dc01c43fe751ab550bc7d18e4936343228e158100ef92de9b"
     "35a11cbd0675b28864daefc84e04fab5aab53e9987e8d9b7c8b1fcd300fce0b1"
     "e95b3e1125da859baff218857cd64d7a411d2c291cc89a8e605abf0c34b81a69"
     "a32bb3675e97652c9da7a6823620ebe3d602021632348b22fe29a119623d1db8"
     "1020f148300dc826eff11f79b54b1ecd019082d5a1d5ef7be7a7b47055db824f"
     "540101792ddd4f86fee53efc13a1b830253c547aadbd9f2951aba36bbf3548f2"
     "2843141b2cc8ce9866c3334cffb110b777b8e02119f43cf74c01cc3d4ab9444c"
     "98569c40ac688c67c21d173ac8822d9558f43a0028fd0def624dbbed866f502a"
     "8fc994ffed30cdd9"},
    {"get_chunks_frame",
     "0039acb2dd0101ee131f05bffef237db0c45b292d480dbaa368b12381fcad608"
     "f64e8e301c096cb8d486ed8e9b701224efbe0d9d3a2de09a021906"},
    {"bye_frame", "001515c808e997326631a79ba7afc2c75877a65022af7f"},
};

const std::map<std::string, std::string> kEnrolVector = {
    {"code_id", "ff088136e3969a9a54a901abccc3c626b7d222430466eb7608c155663e165dd4"},
    {"psk", "38b780bc13d06c0af59fdb6e2d4ed28a47284b0b8f35667890f5dabe8092bb8f"},
    {"enrol_first_write",
     "4f505331040000000051dc2cca31e8e43bbd91dff7e475cca3347eb478107d5b"
     "d765aba4ae4a30c35d44ee66d0ec2087f904c1065a2bc8e15533c4c0957743bd"
     "0d456ab9ec46038990aa86b46320d2f6310a28fdd47bfe1786e5ef"},
    {"enrol_message_2",
     "0083736845d54e87de09d6bb114aa7042c50a4a015bd9901d1a0026f5956533a"
     "15195df7e8f9f22cec4cc7637fc92a373c8026ac21762c722ee6cab8c5c9061e"
     "ea9f47d0ee82ce94ded131a7a9512a8af5f4ec04d4b0e76c89a9dd54a0f40cba"
     "f8f9879f4e80be0d72f304ab8ccc823654d9836e34a045b8b4d38c79ff02a14c"
     "27183e89f8"},
    {"enrol_message_3",
     "0078da13ed12885ff18fb87d0e46d1b89832dd96e810e2b993b2a993a9a0928c"
     "596a6d0c4490d722bc8e650bcc244eab4d217ef5d573d12e2d085f295781f765"
     "425b97564250e5196d9bfe71b6bd163444f4ae0891f041159be9eff6a268df1f"
     "1eaa38b6c31535f2a464257985d94ca1111ae4b88b73cc20f6d2"},
    {"enrolled_frame",
     "01087a4ac03bcdf0f2a3593772d3f31d2f95420cbbf5ed888040dfab80ff2d4c"
     "429b08b80f750754c95730c642ffad09d12b0db5d5b030b06692e4952da78695"
     "36d6653ff46a2f63a2aede087c6d848be191be0c76d3a0b161ecdd3e8143b282"
     "668d7d32877378dfdefffbf1fa7025470683beeb21ad7e2d5dac4ff59b219d90"
     "512ec8630637e2c398d7b2f7d4931673af08f3e00be054acdaae1df41677e90e"
     "84fe16641493ed596cc97213dd02fd563bbe45212a762a2bf511dc7a98b768b2"
     "ab219687f354c27c94ac9a40ee11614435401b3ace0fad80e68465f9d7a59df7"
     "71432b5b21a8567f5a7df37de21057b5f5bcc5b916c5d5bfad0343ed2b8c8905"
     "e004634ba10ec95ce2ab"},
};

TEST(WireVectors, TheSyncHandshakeHelloAndOfferAreTheDocumentsBytes) {
  ExpectAsDocumented(SyncVector(), kSyncVector);
}

TEST(WireVectors, TheEnrolmentHandshakeIsTheDocumentsBytes) {
  ExpectAsDocumented(EnrolVector(), kEnrolVector);
}

}  // namespace
}  // namespace outpost::sync
