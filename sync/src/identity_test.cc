#include "outpost/sync/identity.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

#include "testing/temp_dir.h"
#include "wire.h"

namespace outpost {
namespace {

using testing::ReadFile;
using testing::TempDir;
namespace fs = std::filesystem;

std::array<uint8_t, 32> Bytes32(std::string_view hex) {
  std::array<uint8_t, 32> out{};
  auto h = Hash::FromHex(hex);
  EXPECT_TRUE(h.has_value()) << hex;
  if (h) out = h->bytes;
  return out;
}

unsigned ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

Identity NewIdentity() {
  auto id = Identity::Generate();
  EXPECT_TRUE(id.has_value()) << id.error().ToString();
  return std::move(*id);
}

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
  // A valid key file's bytes.
  std::string ValidKeyFile() {
    fs::path p = dir_.path() / "valid.key";
    if (!fs::exists(p)) {
      auto id = LoadOrCreateIdentity(p);
      EXPECT_TRUE(id.has_value()) << id.error().ToString();
    }
    return ReadFile(p);
  }
  // Writes `content` to a new file of mode `mode`.
  fs::path WriteKey(std::string_view name, std::string_view content, unsigned mode = 0600) {
    fs::path p = dir_.Write(name, content);
    fs::permissions(p, static_cast<fs::perms>(mode));
    return p;
  }
  TempDir dir_;
};

// ---- keys ----

TEST_F(IdentityTest, SeedGivesTheStandardEd25519KeyAndSignature) {
  // RFC 8032, section 7.1, test 1: Outpost's keys are plain Ed25519.
  auto id = Identity::FromSeed(
      Bytes32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->public_key().Hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  Signature sig = id->Sign(std::string_view());
  std::string hex;
  for (uint8_t b : sig) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
  EXPECT_EQ(hex,
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
            "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(VerifySignature(id->public_key(), std::string_view(), sig));
  EXPECT_FALSE(VerifySignature(id->public_key(), std::string_view("x"), sig));
}

TEST_F(IdentityTest, PublicKeysPrintAsHexWithAShortFingerprint) {
  Identity id = NewIdentity();
  std::string hex = id.public_key().Hex();
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(id.public_key().Fingerprint(), hex.substr(0, 16));
  EXPECT_EQ(PublicKey::FromHex(hex), id.public_key());
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(PublicKey::FromHex(upper), id.public_key());
  EXPECT_FALSE(PublicKey::FromHex(hex.substr(1)).has_value());
  EXPECT_FALSE(PublicKey::FromHex(hex + "0").has_value());
  EXPECT_FALSE(PublicKey::FromHex(std::string(63, '0') + "g").has_value());
  std::ostringstream os;
  os << id.public_key();
  EXPECT_EQ(os.str(), hex);
}

TEST_F(IdentityTest, SignaturesVerifyOnlyForTheirKeyAndMessage) {
  Identity a = NewIdentity(), b = NewIdentity();
  Signature sig = a.Sign(std::string_view("version 3"));
  EXPECT_TRUE(VerifySignature(a.public_key(), std::string_view("version 3"), sig));
  EXPECT_FALSE(VerifySignature(b.public_key(), std::string_view("version 3"), sig));
  EXPECT_FALSE(VerifySignature(a.public_key(), std::string_view("version 4"), sig));
  sig[10] ^= 1;
  EXPECT_FALSE(VerifySignature(a.public_key(), std::string_view("version 3"), sig));
}

TEST_F(IdentityTest, DerivedX25519KeysAgreeBothWays) {
  Identity a = NewIdentity(), b = NewIdentity();
  // A peer's X25519 key follows from its Ed25519 key alone.
  auto bx = X25519FromEd25519(b.public_key());
  auto ax = X25519FromEd25519(a.public_key());
  ASSERT_TRUE(ax.has_value() && bx.has_value());
  EXPECT_EQ(*bx, b.x25519_public_key());
  EXPECT_EQ(*ax, a.x25519_public_key());
  // The derived secret's public point is the derived public key.
  X25519PublicKey from_secret;
  ASSERT_EQ(crypto_scalarmult_base(from_secret.bytes.data(), a.x25519_secret_key().data()), 0);
  EXPECT_EQ(from_secret, a.x25519_public_key());
  // Diffie-Hellman agrees.
  std::array<uint8_t, 32> ab{}, ba{}, zero{};
  ASSERT_EQ(crypto_scalarmult(ab.data(), a.x25519_secret_key().data(), bx->bytes.data()), 0);
  ASSERT_EQ(crypto_scalarmult(ba.data(), b.x25519_secret_key().data(), ax->bytes.data()), 0);
  EXPECT_EQ(ab, ba);
  EXPECT_NE(ab, zero);
}

TEST_F(IdentityTest, AnInvalidEd25519KeyHasNoX25519Key) {
  PublicKey small_order{};  // the all-zero point has small order
  EXPECT_EQ(X25519FromEd25519(small_order).error().code(), StatusCode::kInvalidArgument);
}

// ---- key files ----

TEST_F(IdentityTest, KeyFileIsCreatedPrivateAndReloadsTheSameKey) {
  fs::path p = dir_.path() / "keys" / "site.key";  // the folder is created too
  mode_t old_umask = ::umask(0);  // the mode comes from open(), not from the umask or a chmod
  auto created = LoadOrCreateIdentity(p);
  ::umask(old_umask);
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  EXPECT_EQ(ModeOf(p), 0600u);
  EXPECT_EQ(fs::file_size(p), kKeyFileSize);
  // Nothing left beside it (no temporary file).
  EXPECT_EQ(std::distance(fs::directory_iterator(p.parent_path()), fs::directory_iterator()), 1);

  auto again = LoadOrCreateIdentity(p);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->public_key(), created->public_key());
  EXPECT_EQ(again->x25519_public_key(), created->x25519_public_key());
  EXPECT_TRUE(std::equal(again->x25519_secret_key().begin(), again->x25519_secret_key().end(),
                         created->x25519_secret_key().begin()));
  Signature sig = again->Sign(std::string_view("hello"));
  EXPECT_EQ(sig, created->Sign(std::string_view("hello")));  // Ed25519 is deterministic
  auto loaded = LoadIdentity(p);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->public_key(), created->public_key());
}

TEST_F(IdentityTest, KeyFileHasTheDocumentedLayout) {
  std::array<uint8_t, 32> seed;
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i);
  auto id = Identity::FromSeed(seed);
  ASSERT_TRUE(id.has_value());
  fs::path p = dir_.path() / "root.key";
  ASSERT_TRUE(SaveIdentity(*id, p).ok());
  EXPECT_EQ(ReadFile(p),
            "outpost-key v1\n"
            "ed25519-public " +
                id->public_key().Hex() +
                "\n"
                "ed25519-seed 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
}

TEST_F(IdentityTest, AKeyFileIsNeverOverwritten) {
  fs::path p = dir_.path() / "site.key";
  Identity first = NewIdentity(), second = NewIdentity();
  ASSERT_TRUE(SaveIdentity(first, p).ok());
  Status st = SaveIdentity(second, p);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  auto loaded = LoadOrCreateIdentity(p);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->public_key(), first.public_key());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator()), 1);
}

TEST_F(IdentityTest, RefusesAKeyFileOthersCanRead) {
  std::string good = ValidKeyFile();
  for (unsigned mode : {0644u, 0640u, 0604u, 0660u}) {
    SCOPED_TRACE(mode);
    fs::path p = WriteKey("open.key", good, mode);
    auto id = LoadIdentity(p);
    ASSERT_FALSE(id.has_value());
    EXPECT_EQ(id.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(id.error().message().find("chmod 600"), std::string::npos) << id.error().message();
    // LoadOrCreate refuses too, and does not replace the file with a new key.
    EXPECT_FALSE(LoadOrCreateIdentity(p).has_value());
    EXPECT_EQ(ReadFile(p), good);
  }
  EXPECT_TRUE(LoadIdentity(WriteKey("owner-only.key", good, 0400)).has_value());
}

TEST_F(IdentityTest, RefusesATruncatedKeyFileAtEveryLength) {
  std::string good = ValidKeyFile();
  ASSERT_EQ(good.size(), kKeyFileSize);
  for (size_t n = 0; n < good.size(); ++n) {
    fs::path p = WriteKey("cut-" + std::to_string(n) + ".key", good.substr(0, n));
    auto id = LoadIdentity(p);
    ASSERT_FALSE(id.has_value()) << n;
    EXPECT_EQ(id.error().code(), StatusCode::kCorrupt) << n;
    EXPECT_NE(id.error().message().find("truncated"), std::string::npos) << id.error().message();
    EXPECT_FALSE(LoadOrCreateIdentity(p).has_value());  // and never replaced
  }
}

TEST_F(IdentityTest, RefusesMalformedKeyFiles) {
  std::string good = ValidKeyFile();
  auto refused = [&](std::string content, std::string_view expected) {
    fs::path p = WriteKey("bad.key", content);
    auto id = LoadIdentity(p);
    ASSERT_FALSE(id.has_value()) << content;
    EXPECT_EQ(id.error().code(), StatusCode::kCorrupt);
    EXPECT_NE(id.error().message().find(expected), std::string::npos) << id.error().message();
    fs::remove(p);
  };
  refused(good + "\n", "longer than");
  refused("outpost-key v2" + good.substr(14), "not an Outpost key file");
  refused("-----BEGIN OPENSSH PRIVATE KEY-----\n", "not an Outpost key file");
  std::string s = good;
  s[15] = 'E';  // "Ed25519-public"
  refused(s, "line 2");
  s = good;
  s[15 + 15] = 'x';  // not hex
  refused(s, "line 2");
  s = good;
  s[kKeyFileSize - 1] = ' ';  // no final newline
  refused(s, "line 3");
  s = good;
  s[15 + 15 + 63] = s[15 + 15 + 63] == '0' ? '1' : '0';  // another public key
  refused(s, "is not the one its seed makes");
  // A folder is not a key file.
  fs::create_directory(dir_.path() / "dir.key");
  fs::permissions(dir_.path() / "dir.key", fs::perms::owner_all);
  EXPECT_FALSE(LoadIdentity(dir_.path() / "dir.key").has_value());
}

// Whoever can write the key's folder could point the key file at another file (a key of their
// own, or a device); a key file is read only as itself.
TEST_F(IdentityTest, AKeyFileThatIsASymbolicLinkIsRefused) {
  fs::path target = WriteKey("real.key", ValidKeyFile());
  ASSERT_TRUE(LoadIdentity(target).has_value());
  for (const char* name : {"link.key", "dangling.key"}) {
    SCOPED_TRACE(name);
    fs::path link = dir_.path() / name;
    fs::create_symlink(std::string(name) == "link.key" ? target : dir_.path() / "gone.key", link);
    auto id = LoadIdentity(link);
    ASSERT_FALSE(id.has_value());
    EXPECT_EQ(id.error().code(), StatusCode::kInvalidArgument) << id.error().ToString();
    EXPECT_NE(id.error().message().find("symbolic link"), std::string::npos)
        << id.error().message();
    // LoadOrCreate refuses too, and neither replaces the link nor writes through it.
    EXPECT_FALSE(LoadOrCreateIdentity(link).has_value());
    EXPECT_TRUE(fs::is_symlink(link));
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "gone.key"));
}

TEST_F(IdentityTest, AMissingKeyFileIsNotFound) {
  EXPECT_EQ(LoadIdentity(dir_.path() / "none.key").error().code(), StatusCode::kNotFound);
}

// ---- trust lists ----

TrustEntry Entry(const Identity& key, std::vector<std::string> channels,
                 KeyState state = KeyState::kActive) {
  return TrustEntry{key.public_key(), std::move(channels), state};
}

class TrustTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
  // Signs and verifies, as the hub and then a site would.
  TrustList RoundTrip(const TrustList& list) {
    auto doc = SignTrustList(list, root_);
    EXPECT_TRUE(doc.has_value()) << doc.error().ToString();
    auto parsed = VerifyTrustList(*doc, root_.public_key());
    EXPECT_TRUE(parsed.has_value()) << parsed.error().ToString();
    return parsed ? *parsed : TrustList{};
  }
  Identity root_ = NewIdentity();
  Identity ministry_ = NewIdentity();
  Identity ngo_ = NewIdentity();
};

TEST_F(TrustTest, ASignedListRoundTripsSortedAndAuthorizesWhatItSays) {
  TrustList list;
  list.sequence = 3;
  list.entries = {Entry(ngo_, {"water-cycle", "maths-5", "arabic"}), Entry(ministry_, {"*"})};
  TrustList got = RoundTrip(list);
  EXPECT_EQ(got.root, root_.public_key());
  EXPECT_EQ(got.sequence, 3u);
  ASSERT_EQ(got.entries.size(), 2u);
  EXPECT_LT(got.entries[0].publisher, got.entries[1].publisher);
  const TrustEntry* ngo = got.Find(ngo_.public_key());
  ASSERT_NE(ngo, nullptr);
  EXPECT_EQ(ngo->channels, (std::vector<std::string>{"arabic", "maths-5", "water-cycle"}));
  EXPECT_TRUE(got.Authorizes(ngo_.public_key(), "maths-5"));
  EXPECT_FALSE(got.Authorizes(ngo_.public_key(), "science"));
  EXPECT_TRUE(got.Authorizes(ministry_.public_key(), "science"));  // "*"
  EXPECT_FALSE(got.Authorizes(root_.public_key(), "science"));     // not listed
  // Signing is deterministic: the same list gives the same document.
  EXPECT_EQ(*SignTrustList(list, root_), *SignTrustList(got, root_));
}

// The header read unverified: what a hub needs of its own list, even one signed by another
// root or with a damaged signature.
TEST_F(TrustTest, TheRootAndSequenceAreReadFromTheHeaderWithoutVerifying) {
  TrustList list;
  list.sequence = 0x0102030405060708;
  list.entries = {Entry(ngo_, {"maths-5"})};
  auto doc = SignTrustList(list, root_);
  ASSERT_TRUE(doc.has_value());
  doc->back() ^= 1;  // the signature no longer verifies
  EXPECT_EQ(TrustListRoot(*doc).value(), root_.public_key());
  EXPECT_EQ(TrustListSequence(*doc).value(), 0x0102030405060708u);
  EXPECT_EQ(TrustListSequence(doc->substr(0, 4 + 2 + 32 + 8)).value(), 0x0102030405060708u);
  for (const std::string& bad : {std::string(), doc->substr(0, 4 + 2 + 32 + 7),
                                 "OPTX" + doc->substr(4)}) {
    for (const Status& st : {TrustListRoot(bad).error(), TrustListSequence(bad).error()}) {
      EXPECT_EQ(st.code(), StatusCode::kCorrupt);
      EXPECT_EQ(st.message(), "not a trust list");
    }
  }
}

TEST_F(TrustTest, AnEmptyListAuthorizesNobody) {
  TrustList list;
  list.sequence = 1;
  TrustList got = RoundTrip(list);
  EXPECT_TRUE(got.entries.empty());
  EXPECT_FALSE(got.Authorizes(ministry_.public_key(), "water-cycle"));
}

TEST_F(TrustTest, AListFromAnotherRootIsRefused) {
  Identity other_root = NewIdentity();
  TrustList list;
  list.sequence = 1;
  list.entries = {Entry(ministry_, {"*"})};
  auto doc = SignTrustList(list, other_root);
  ASSERT_TRUE(doc.has_value());
  auto got = VerifyTrustList(*doc, root_.public_key());
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), StatusCode::kCorrupt);
  EXPECT_NE(got.error().message().find(other_root.public_key().Fingerprint()), std::string::npos);
  EXPECT_NE(got.error().message().find(root_.public_key().Fingerprint()), std::string::npos);

  // Nor does putting the pinned root's key in the document help a forger.
  std::string forged = *doc;
  std::copy(root_.public_key().bytes.begin(), root_.public_key().bytes.end(), forged.begin() + 6);
  got = VerifyTrustList(forged, root_.public_key());
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message().find("does not verify"), std::string::npos);
}

TEST_F(TrustTest, AnyChangedByteOrTruncationIsRefused) {
  TrustList list;
  list.sequence = 9;
  list.entries = {Entry(ministry_, {"water-cycle"}), Entry(ngo_, {"maths-5"}, KeyState::kRevoked)};
  std::string doc = *SignTrustList(list, root_);
  for (size_t i = 0; i < doc.size(); ++i) {
    std::string bad = doc;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_FALSE(VerifyTrustList(bad, root_.public_key()).has_value()) << "byte " << i;
  }
  for (size_t n = 0; n < doc.size(); ++n) {
    EXPECT_FALSE(VerifyTrustList(doc.substr(0, n), root_.public_key()).has_value()) << n;
  }
  EXPECT_FALSE(VerifyTrustList(doc + '\0', root_.public_key()).has_value());
}

// Signs a hand-made body the way the root does, so that malformed but signed lists can be made.
std::string SignRawBody(const std::string& body, const Identity& root) {
  std::string msg("outpost trust list v1\0", 22);
  Hash h = Hash::Of(body);
  msg.append(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
  Signature sig = root.Sign(msg);
  return body + std::string(reinterpret_cast<const char*>(sig.data()), sig.size());
}

TEST_F(TrustTest, TheDocumentedLayoutVerifiesAndNonCanonicalListsAreRefusedEvenWhenSigned) {
  auto body = [&](std::vector<std::pair<const Identity*, uint8_t>> entries,
                  std::vector<std::string> channels, uint64_t sequence = 2) {
    wire::Writer w;
    w.Raw("OPTL");
    w.U16(1);
    w.Raw(root_.public_key().bytes);
    w.U64(sequence);
    w.U32(static_cast<uint32_t>(entries.size()));
    for (auto [id, state] : entries) {
      w.Raw(id->public_key().bytes);
      w.U8(state);
      w.U32(static_cast<uint32_t>(channels.size()));
      for (const auto& c : channels) w.String(c);
    }
    return w.Take();
  };
  const Identity* lo = &ministry_;
  const Identity* hi = &ngo_;
  if (hi->public_key() < lo->public_key()) std::swap(lo, hi);
  auto verify = [&](const std::string& b) {
    return VerifyTrustList(SignRawBody(b, root_), root_.public_key());
  };
  auto ok = verify(body({{lo, 1}, {hi, 2}}, {"maths-5", "water-cycle"}));
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_TRUE(ok->Authorizes(lo->public_key(), "water-cycle"));
  EXPECT_FALSE(ok->Authorizes(hi->public_key(), "water-cycle"));  // revoked

  for (auto [b, why] : std::vector<std::pair<std::string, std::string>>{
           {body({{hi, 1}, {lo, 1}}, {"maths-5"}), "out of order"},
           {body({{lo, 1}, {lo, 1}}, {"maths-5"}), "out of order"},
           {body({{lo, 3}}, {"maths-5"}), "key state is 3"},
           {body({{lo, 1}}, {"water-cycle", "maths-5"}), "out of order"},
           {body({{lo, 1}}, {"maths-5", "maths-5"}), "out of order"},
           {body({{lo, 1}}, {"*", "maths-5"}), "\"*\" next to other channels"},
           {body({{lo, 1}}, {"Maths"}), "invalid channel id"},
           {body({{lo, 1}}, {"maths-5"}, 0), "sequence number is 0"},
           {body({{lo, 1}}, {"maths-5"}) + "x", "unexpected bytes"},
       }) {
    auto got = verify(b);
    ASSERT_FALSE(got.has_value()) << why;
    EXPECT_EQ(got.error().code(), StatusCode::kCorrupt);
    EXPECT_NE(got.error().message().find(why), std::string::npos) << got.error().message();
  }
}

TEST_F(TrustTest, SigningRefusesAListThatCannotBeCanonical) {
  TrustList list;
  list.entries = {Entry(ministry_, {"water-cycle"})};
  EXPECT_EQ(SignTrustList(list, root_).error().code(), StatusCode::kInvalidArgument);  // seq 0
  list.sequence = 1;
  for (auto entries : std::vector<std::vector<TrustEntry>>{
           {Entry(ministry_, {"water-cycle"}), Entry(ministry_, {"maths-5"})},
           {Entry(ministry_, {"water-cycle", "water-cycle"})},
           {Entry(ministry_, {"*", "water-cycle"})},
           {Entry(ministry_, {"../etc"})},
           {Entry(ministry_, {""})},
       }) {
    list.entries = entries;
    auto doc = SignTrustList(list, root_);
    ASSERT_FALSE(doc.has_value());
    EXPECT_EQ(doc.error().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(TrustTest, TheFormatIsPinned) {
  // The example of docs/manifest.md, rebuilt by tests/reference/manifest_reference.py. If this
  // fails, the trust list format changed: bump kTrustListFormat and update the page instead.
  std::array<uint8_t, 32> root_seed, publisher_seed;
  for (size_t i = 0; i < 32; ++i) {
    publisher_seed[i] = static_cast<uint8_t>(i);
    root_seed[i] = static_cast<uint8_t>(32 + i);
  }
  auto root = Identity::FromSeed(root_seed);
  auto publisher = Identity::FromSeed(publisher_seed);
  ASSERT_TRUE(root.has_value() && publisher.has_value());
  TrustList list;
  list.sequence = 1;
  list.entries = {Entry(*publisher, {"maths-5", "demo"})};
  auto doc = SignTrustList(list, *root);
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->size(), 4u + 2 + 32 + 8 + 4 + (32 + 1 + 4 + (4 + 4) + (4 + 7)) + 64);
  EXPECT_EQ(Hash::Of(*doc).Hex(),
            "b077a0e3e643626e2110611107990fd11fed6130ab8a255953338eb9467e09ca");
  EXPECT_TRUE(VerifyTrustList(*doc, root->public_key()).has_value());
}

TEST_F(TrustTest, AnOlderListIsRefusedAndTheSameOneIsANoOp) {
  TrustList list;
  list.entries = {Entry(ministry_, {"water-cycle"})};
  list.sequence = 5;
  TrustList held = RoundTrip(list);
  list.sequence = 4;
  TrustList older = RoundTrip(list);
  list.sequence = 6;
  TrustList newer = RoundTrip(list);

  Status st = CheckTrustListUpdate(held, older);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("trust list 4 is older"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("(5)"), std::string::npos) << st.message();
  EXPECT_TRUE(CheckTrustListUpdate(held, held).ok());
  EXPECT_TRUE(CheckTrustListUpdate(held, newer).ok());

  list.sequence = 5;
  list.entries.push_back(Entry(ngo_, {"*"}));
  st = CheckTrustListUpdate(held, RoundTrip(list));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("two different trust lists carry sequence 5"), std::string::npos);
}

TEST_F(TrustTest, RotationActivatesTheNewKeyAndRevokedKeysStayRevoked) {
  Identity old_key = NewIdentity(), new_key = NewIdentity();
  TrustList v1;
  v1.sequence = 1;
  v1.entries = {Entry(old_key, {"water-cycle"})};
  v1 = RoundTrip(v1);
  EXPECT_TRUE(v1.Authorizes(old_key.public_key(), "water-cycle"));

  // Rotation, step 1: both keys active while the publisher switches over.
  TrustList v2;
  v2.sequence = 2;
  v2.entries = {Entry(old_key, {"water-cycle"}), Entry(new_key, {"water-cycle"})};
  v2 = RoundTrip(v2);
  EXPECT_TRUE(CheckTrustListUpdate(v1, v2).ok());
  EXPECT_TRUE(v2.Authorizes(new_key.public_key(), "water-cycle"));

  // Step 2: the old key revoked, and still listed.
  TrustList v3;
  v3.sequence = 3;
  v3.entries = {Entry(old_key, {"water-cycle"}, KeyState::kRevoked),
                Entry(new_key, {"water-cycle"})};
  v3 = RoundTrip(v3);
  EXPECT_TRUE(CheckTrustListUpdate(v2, v3).ok());
  EXPECT_FALSE(v3.Authorizes(old_key.public_key(), "water-cycle"));
  EXPECT_TRUE(v3.Authorizes(new_key.public_key(), "water-cycle"));
  ASSERT_NE(v3.Find(old_key.public_key()), nullptr);
  EXPECT_EQ(v3.Find(old_key.public_key())->state, KeyState::kRevoked);

  // A later list cannot bring the revoked key back.
  TrustList v4 = v3;
  v4.sequence = 4;
  v4.entries[0].state = v4.entries[1].state = KeyState::kActive;
  v4 = RoundTrip(v4);
  Status st = CheckTrustListUpdate(v3, v4);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("re-activates key " + old_key.public_key().Fingerprint()),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace outpost
