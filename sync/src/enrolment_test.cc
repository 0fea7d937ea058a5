#include "outpost/sync/enrolment.h"

#include <gtest/gtest.h>

#include "test_hub.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::FromSeedStartingAt;
using testing::ModeOf;
using testing::NewIdentity;
using testing::ReadFile;

using EnrolmentTest = testing::HubTest;

TEST_F(EnrolmentTest, EnrolMakesACodeAndRemembersTheAddress) {
  MakeHub();
  auto db = OpenDb();
  db->set_clock([] { return int64_t{1'800'000'000}; });
  EnrolRequest request;
  request.site_name = "ecole-karantina";
  request.address = "hub.example.org:7600";
  auto first = Enrol(paths_, db.get(), request);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->expires_at, 1'800'000'000 + kDefaultEnrolCodeTtl);
  EXPECT_EQ(first->address, "hub.example.org:7600");
  request.address.clear();
  request.site_name = "ecole-du-port";
  auto second = Enrol(paths_, db.get(), request);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->address, "hub.example.org:7600");
  EXPECT_EQ(db->RedeemEnrolCode(first->code).value(), "ecole-karantina");
  EXPECT_EQ(db->PendingEnrolments().size(), 1u);

  request.site_name = "Bad Name";
  EXPECT_EQ(Enrol(paths_, db.get(), request).error().code(), StatusCode::kInvalidArgument);
  request.site_name = "ok";
  request.address = "nowhere";
  EXPECT_EQ(Enrol(paths_, db.get(), request).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(EnrolmentTest, EnrolOutsideAHubIsNotFound) {
  auto db = OpenDb();
  EnrolRequest request;
  request.site_name = "ecole";
  auto r = Enrol(paths_, db.get(), request);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db->PendingEnrolments().empty());
}

TEST_F(EnrolmentTest, AnEnrolmentFileCarriesThePinTheCodeAndTheTrustList) {
  MakeHub();
  auto db = OpenDb();
  EnrolRequest request;
  request.site_name = "ecole-karantina";
  request.to_file = src_.path() / "usb" / "ecole-karantina.enrol";
  fs::create_directories(request.to_file.parent_path());
  auto made = Enrol(paths_, db.get(), request);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  EXPECT_EQ(made->address, "");
  EXPECT_EQ(ModeOf(request.to_file), 0600u);

  auto read = ReadEnrolmentFile(request.to_file);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(read->pin.node_key, hub_.node_key);
  EXPECT_EQ(read->pin.root_key, hub_.root_key);
  EXPECT_EQ(read->pin.address, "");
  EXPECT_EQ(read->pin.site_name, "ecole-karantina");
  EXPECT_EQ(read->pin.pending_code, made->code);
  EXPECT_EQ(read->trust_list, ReadFile(paths_.trust_list));
  EXPECT_EQ(read->trust, HeldTrust());
  // The code in the file is the code the hub holds.
  EXPECT_TRUE(db->AdmitSite(read->pin.pending_code, NewIdentity().public_key()).has_value());

  auto missing = ReadEnrolmentFile(src_.path() / "nope.enrol");
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

// The documented example (docs/sync.md): seeds 40..5f (hub node), 20..3f (root), 00..1f
// (publisher); trust list 1 with the publisher active for "*".
struct Example {
  Identity node = FromSeedStartingAt(0x40), root = FromSeedStartingAt(0x20),
           publisher = FromSeedStartingAt(0x00);
  std::string trust_list;
  HubPin pin;
  Example() {
    TrustList list;
    list.sequence = 1;
    list.entries = {{publisher.public_key(), {"*"}, KeyState::kActive}};
    trust_list = SignTrustList(list, root).value();
    pin = {"hub.example.org:7600", node.public_key(), root.public_key(), "abcd-efgh-jkmn-pqrs",
           "ecole-karantina"};
  }
  std::string Bytes() const { return EncodeEnrolment(pin, trust_list, node).value(); }
};

TEST(EnrolmentFileTest, TheFormatIsPinned) {
  ASSERT_TRUE(InitCrypto());
  Example ex;
  std::string bytes = ex.Bytes();
  ASSERT_EQ(bytes.size(), 360u);
  EXPECT_EQ(bytes.substr(0, 6), std::string("OPEF\0\x01", 6));
  EXPECT_EQ(bytes.substr(6, 32),
            std::string(reinterpret_cast<const char*>(ex.node.public_key().bytes.data()), 32));
  EXPECT_EQ(bytes.substr(70, 24), std::string("\0\0\0\x14hub.example.org:7600", 24));
  EXPECT_EQ(bytes.substr(94, 19), std::string("\0\0\0\x0f"
                                              "ecole-karantina",
                                              19));
  EXPECT_EQ(bytes.substr(113, 23), std::string("\0\0\0\x13"
                                               "abcd-efgh-jkmn-pqrs",
                                               23));
  EXPECT_EQ(bytes.substr(136, 4), std::string("\0\0\0\x9c", 4));
  EXPECT_EQ(bytes.substr(140, 156), ex.trust_list);
  // The signature: the hub node's, of "outpost enrolment v1\0" || BLAKE2b-256(body).
  std::string body = bytes.substr(0, bytes.size() - 64);
  Hash h = Hash::Of(body);
  std::string message("outpost enrolment v1\0", 21);
  message.append(reinterpret_cast<const char*>(h.bytes.data()), 32);
  Signature sig;
  std::copy(bytes.end() - 64, bytes.end(), reinterpret_cast<char*>(sig.data()));
  EXPECT_TRUE(VerifySignature(ex.node.public_key(), message, sig));
  EXPECT_EQ(Hash::Of(bytes).Hex(),
            "51ea8eb5b22890b457198e373036a6c8711804de89beef5e6b4a2c054d306f64");
  auto decoded = DecodeEnrolment(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_EQ(decoded->pin.address, ex.pin.address);
  EXPECT_EQ(decoded->trust.entries.size(), 1u);
}

// docs/sync.md, "A first stick with the enrolment file": the seal key of the worked example's
// code, from its psk; any other code gives another key.
TEST(EnrolSealTest, TheSealKeyOfACodeIsPinned) {
  auto seal = EnrolSealIdentityOfCode("ABCD efgh-jkmn-pqrs");
  ASSERT_TRUE(seal.has_value());
  EXPECT_EQ(seal->public_key().Hex(), "b447474397465649fb21475b89e2acf31025f4055cb50755a6abd08e7f1a5c87");
  auto keys = DeriveEnrolCodeKeys("abcd-efgh-jkmn-pqrs");
  EXPECT_EQ(EnrolSealIdentity(keys->psk)->public_key(), seal->public_key());
  EXPECT_NE(EnrolSealIdentityOfCode("abcd-efgh-jkmn-pqrt")->public_key(), seal->public_key());
  EXPECT_FALSE(EnrolSealIdentityOfCode("not a code").has_value());
}

// `hub enrol --to FILE` records that the code went into a file: only such a code is sealed to.
TEST_F(EnrolmentTest, ACodeWrittenToAFileIsRecordedAsSuch) {
  MakeHub();
  auto db = OpenDb();
  EnrolRequest request;
  request.site_name = "ecole-fichier";
  request.to_file = src_.path() / "ecole.opef";
  ASSERT_TRUE(Enrol(paths_, db.get(), request).has_value());
  request.site_name = "ecole-code";
  request.to_file.clear();
  ASSERT_TRUE(Enrol(paths_, db.get(), request).has_value());
  auto codes = db->EnrolCodes();
  ASSERT_EQ(codes.size(), 2u);
  for (const auto& c : codes) EXPECT_EQ(c.to_file, c.site_name == "ecole-fichier") << c.site_name;
  EXPECT_TRUE(codes[0].psk.has_value());
}

TEST(EnrolmentFileTest, AnyChangedByteTruncationOrTrailingByteIsRefused) {
  ASSERT_TRUE(InitCrypto());
  std::string bytes = Example().Bytes();
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = DecodeEnrolment(bad);
    ASSERT_FALSE(r.has_value()) << "byte " << i;
    EXPECT_EQ(r.error().code(), StatusCode::kCorrupt) << "byte " << i;
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeEnrolment(bytes.substr(0, n)).has_value()) << n;
  }
  EXPECT_FALSE(DecodeEnrolment(bytes + '\0').has_value());
}

TEST(EnrolmentFileTest, ATrustListOfAnotherRootIsRefusedEvenWhenTheFileIsSigned) {
  ASSERT_TRUE(InitCrypto());
  Example ex;
  Identity other_root = NewIdentity();
  TrustList list;
  list.sequence = 1;
  std::string foreign = SignTrustList(list, other_root).value();
  // Encoding refuses it...
  auto refused = EncodeEnrolment(ex.pin, foreign, ex.node);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  // ...and so does decoding a file made by hand that carries it under a valid signature.
  std::string bytes = ex.Bytes();
  std::string body = bytes.substr(0, 136);
  body += std::string("\0\0\0", 3) + static_cast<char>(foreign.size()) + foreign;
  Hash h = Hash::Of(body);
  std::string message("outpost enrolment v1\0", 21);
  message.append(reinterpret_cast<const char*>(h.bytes.data()), 32);
  Signature sig = ex.node.Sign(message);
  std::string forged = body + std::string(reinterpret_cast<const char*>(sig.data()), 64);
  auto r = DecodeEnrolment(forged);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.error().message().find("trust list"), std::string::npos) << r.error().message();
  // A pin whose node key is not the signer's is refused too.
  HubPin wrong = ex.pin;
  wrong.node_key = other_root.public_key();
  EXPECT_EQ(EncodeEnrolment(wrong, ex.trust_list, ex.node).error().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace outpost

namespace outpost {
namespace {

TEST_F(EnrolmentTest, AnEnrolmentFileMadeInMemoryIsTheFileAndIsRecordedAsOne) {
  MakeHub();
  auto db = OpenDb();
  EnrolRequest request;
  request.site_name = "ecole-console";
  request.file_bytes = true;
  auto made = Enrol(paths_, db.get(), request);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  auto read = DecodeEnrolment(made->file);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(read->pin.pending_code, made->code);
  EXPECT_EQ(read->pin.site_name, "ecole-console");
  EXPECT_EQ(read->pin.node_key, hub_.node_key);
  auto codes = db->EnrolCodes("ecole-console");
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_TRUE(codes[0].to_file);
  request.file_bytes = false;  // a plain code carries no file
  EXPECT_TRUE(Enrol(paths_, db.get(), request)->file.empty());
}

}  // namespace
}  // namespace outpost
