#include "outpost/sync/node.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <numeric>

#include "outpost/sync/manifest.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;

unsigned ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

Identity Load(const fs::path& key_file) {
  auto id = LoadIdentity(key_file);
  EXPECT_TRUE(id.has_value()) << id.error().ToString();
  return std::move(*id);
}

Identity FromSeedStartingAt(uint8_t first) {
  std::array<uint8_t, 32> seed;
  std::iota(seed.begin(), seed.end(), first);
  auto id = Identity::FromSeed(seed);
  EXPECT_TRUE(id.has_value());
  return std::move(*id);
}

Identity NewIdentity() {
  auto id = Identity::Generate();
  EXPECT_TRUE(id.has_value());
  return std::move(*id);
}

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
  // A hub made by InitHub, with its library open.
  void MakeHub() {
    auto init = InitHub(paths_);
    ASSERT_TRUE(init.has_value()) << init.error().ToString();
    hub_ = *init;
    OpenLibrary();
  }
  void OpenLibrary() {
    auto store = BlobStore::Open(data_.path());
    ASSERT_TRUE(store.has_value());
    store_ = std::move(*store);
    auto catalog = Catalog::Open(data_.path() / "catalog.db");
    ASSERT_TRUE(catalog.has_value());
    catalog_ = std::move(*catalog);
  }
  std::unique_ptr<SyncDb> OpenDb() {
    auto db = SyncDb::Open(paths_.sync_db);
    EXPECT_TRUE(db.has_value()) << db.error().ToString();
    return db ? std::move(*db) : nullptr;
  }
  // A small channel folder, "science" (written the first time).
  fs::path Folder() {
    fs::path folder = src_.path() / "science";
    if (!fs::exists(folder)) {
      src_.Write("science/fr/evaporation.html", "<title>L'évaporation</title><p>Le soleil</p>");
      src_.Write("science/rain.txt", "rain");
    }
    return folder;
  }
  Result<PublishResult> PublishFolder(const std::string& channel = "") {
    return Publish(paths_, store_.get(), catalog_.get(), Folder(), channel);
  }
  TrustList HeldTrust() {
    auto list = LoadTrustList(paths_, hub_.root_key);
    EXPECT_TRUE(list.has_value()) << list.error().ToString();
    return list ? *list : TrustList{};
  }
  // Signs `list` with the hub's root and stores it as the held list.
  Status Issue(const TrustList& list) {
    auto doc = SignTrustList(list, Load(paths_.root_key));
    if (!doc) return doc.error();
    return StoreTrustList(paths_, hub_.root_key, *doc);
  }

  TempDir data_, src_;
  NodePaths paths_{data_.path()};
  HubInitResult hub_;
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(NodeTest, PathsLayOutTheDataFolder) {
  const fs::path d = data_.path();
  EXPECT_EQ(paths_.data, d);
  EXPECT_EQ(paths_.keys, d / "keys");
  EXPECT_EQ(paths_.node_key, d / "keys/node.key");
  EXPECT_EQ(paths_.root_key, d / "keys/root.key");
  EXPECT_EQ(paths_.publisher_key, d / "keys/publisher.key");
  EXPECT_EQ(paths_.sync_dir, d / "sync");
  EXPECT_EQ(paths_.trust_list, d / "sync/trust.optl");
  EXPECT_EQ(paths_.sync_db, d / "sync/sync.db");
  EXPECT_EQ(paths_.staging, d / "staging");
  EXPECT_EQ(paths_.trust_lock, d / "sync/trust.lock");
}

// ---- hub init and trust lists ----

TEST_F(NodeTest, HubInitMakesPrivateKeysAndAFirstTrustListForEveryChannel) {
  MakeHub();
  for (const fs::path& key : {paths_.node_key, paths_.root_key, paths_.publisher_key}) {
    EXPECT_EQ(ModeOf(key), 0600u) << key;
  }
  EXPECT_EQ(ModeOf(paths_.keys), 0700u);
  EXPECT_EQ(ModeOf(paths_.trust_list), 0644u);
  EXPECT_EQ(Load(paths_.node_key).public_key(), hub_.node_key);
  EXPECT_EQ(Load(paths_.root_key).public_key(), hub_.root_key);
  EXPECT_EQ(Load(paths_.publisher_key).public_key(), hub_.publisher_key);
  EXPECT_NE(hub_.node_key, hub_.root_key);
  EXPECT_NE(hub_.root_key, hub_.publisher_key);

  TrustList list = HeldTrust();
  EXPECT_EQ(list.root, hub_.root_key);
  EXPECT_EQ(list.sequence, 1u);
  ASSERT_EQ(list.entries.size(), 1u);
  EXPECT_EQ(list.entries[0].publisher, hub_.publisher_key);
  EXPECT_EQ(list.entries[0].state, KeyState::kActive);
  EXPECT_EQ(list.entries[0].channels, std::vector<std::string>{"*"});
  EXPECT_EQ(OpenDb()->OwnRoot(), hub_.root_key);
}

TEST_F(NodeTest, HubInitNeverReplacesAHub) {
  MakeHub();
  std::string root_file = ReadFile(paths_.root_key), list = ReadFile(paths_.trust_list);
  auto again = InitHub(paths_);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(paths_.root_key), root_file);
  EXPECT_EQ(ReadFile(paths_.trust_list), list);
}

TEST_F(NodeTest, HubInitFinishesAnInitThatStoppedBeforeTheRootKey) {
  MakeHub();
  PublicKey publisher = hub_.publisher_key;
  fs::remove(paths_.root_key);  // as if killed just before saving it
  auto init = InitHub(paths_);
  ASSERT_TRUE(init.has_value()) << init.error().ToString();
  EXPECT_EQ(init->publisher_key, publisher);  // never trusted by anyone yet: kept
  EXPECT_EQ(OpenDb()->OwnRoot(), init->root_key);
  EXPECT_TRUE(LoadTrustList(paths_, init->root_key).has_value());
}

TEST_F(NodeTest, AJoinedSiteCannotBecomeAHub) {
  auto db = OpenDb();
  ASSERT_TRUE(
      db->SetHub({"hub:7600", NewIdentity().public_key(), NewIdentity().public_key(), "", "ecole"})
          .ok());
  db.reset();
  auto init = InitHub(paths_);
  ASSERT_FALSE(init.has_value());
  EXPECT_NE(init.error().message().find("site"), std::string::npos);
  EXPECT_FALSE(fs::exists(paths_.root_key));
}

TEST_F(NodeTest, ATrustListFromAnotherRootIsRefused) {
  MakeHub();
  auto other = LoadTrustList(paths_, NewIdentity().public_key());
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), StatusCode::kCorrupt);
  EXPECT_NE(other.error().message().find(hub_.root_key.Fingerprint()), std::string::npos);

  Identity stranger = NewIdentity();
  TrustList list;
  list.sequence = 9;
  list.entries = {{stranger.public_key(), {"*"}, KeyState::kActive}};
  auto forged = SignTrustList(list, stranger);
  ASSERT_TRUE(forged.has_value());
  Status st = StoreTrustList(paths_, hub_.root_key, *forged);
  EXPECT_EQ(st.code(), StatusCode::kCorrupt);
  EXPECT_EQ(HeldTrust().sequence, 1u);
  EXPECT_EQ(LoadTrustList(NodePaths(src_.path()), hub_.root_key).error().code(),
            StatusCode::kNotFound);
}

TEST_F(NodeTest, StoredTrustListsOnlyMoveForwardAndRevocationSticks) {
  MakeHub();
  Identity second = NewIdentity();
  TrustList two;
  two.sequence = 2;
  two.entries = {{hub_.publisher_key, {"*"}, KeyState::kRevoked},
                 {second.public_key(), {"science"}, KeyState::kActive}};
  ASSERT_TRUE(Issue(two).ok());
  EXPECT_EQ(HeldTrust().sequence, 2u);
  ASSERT_TRUE(Issue(two).ok());  // the same list again: nothing changes

  TrustList old;
  old.sequence = 1;
  old.entries = {{hub_.publisher_key, {"*"}, KeyState::kActive}};
  Status st = Issue(old);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  TrustList back = two;
  back.sequence = 3;
  back.entries[0].state = KeyState::kActive;
  EXPECT_EQ(Issue(back).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HeldTrust(), LoadTrustList(paths_, hub_.root_key).value());
  EXPECT_EQ(HeldTrust().sequence, 2u);

  // A damaged held list blocks replacement rather than letting any list in.
  testing::FlipByte(paths_.trust_list, 60);
  TrustList three = two;
  three.sequence = 3;
  st = Issue(three);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("delete"), std::string::npos) << st.message();
}

// ---- publishing ----

TEST_F(NodeTest, PublishSignsTheImportedVersionAndAnUnchangedFolderMakesNoNewOne) {
  MakeHub();
  auto first = PublishFolder();
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->channel_id, "science");
  EXPECT_EQ(first->version, 1);
  EXPECT_TRUE(first->new_version);
  auto channel = catalog_->Channel("science");
  EXPECT_EQ(channel->manifest_hash, first->manifest_hash);

  auto envelope = catalog_->ManifestEnvelope("science", 1);
  ASSERT_TRUE(envelope.has_value());
  auto manifest = VerifySignedManifest(*envelope, HeldTrust());
  ASSERT_TRUE(manifest.has_value()) << manifest.error().ToString();
  EXPECT_EQ(manifest->hash, first->manifest_hash);
  EXPECT_EQ(manifest->version, 1u);
  EXPECT_EQ(ParseSignedManifest(*envelope)->publisher, hub_.publisher_key);

  auto again = PublishFolder();
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->version, 1);
  EXPECT_FALSE(again->new_version);
  EXPECT_EQ(again->manifest_hash, first->manifest_hash);
  EXPECT_EQ(catalog_->ManifestEnvelope("science", 1), envelope);  // not even signed again

  src_.Write("science/rain.txt", "more rain");
  auto second = PublishFolder();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->version, 2);
  EXPECT_TRUE(second->new_version);
  EXPECT_NE(second->manifest_hash, first->manifest_hash);
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, second->manifest_hash);
}

TEST_F(NodeTest, PublishSignsAVersionThatWasServedUnsigned) {
  MakeHub();
  // An import that stopped before its signature (or a plain `outpost import` on the hub).
  ASSERT_TRUE(Importer(store_.get(), catalog_.get()).Import(Folder(), {}).has_value());
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, std::nullopt);
  auto published = PublishFolder();
  ASSERT_TRUE(published.has_value()) << published.error().ToString();
  EXPECT_EQ(published->version, 1);
  EXPECT_FALSE(published->new_version);
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, published->manifest_hash);
}

TEST_F(NodeTest, AfterARotationPublishSignsTheSameManifestWithTheNewKey) {
  MakeHub();
  auto first = PublishFolder();
  ASSERT_TRUE(first.has_value());
  Identity next = NewIdentity();
  TrustList rotated;
  rotated.sequence = 2;
  rotated.entries = {{hub_.publisher_key, {"*"}, KeyState::kRevoked},
                     {next.public_key(), {"*"}, KeyState::kActive}};
  ASSERT_TRUE(Issue(rotated).ok());
  // The old key is refused before anything is imported.
  auto refused = PublishFolder();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("nothing was imported"), std::string::npos);

  fs::remove(paths_.publisher_key);
  ASSERT_TRUE(SaveIdentity(next, paths_.publisher_key).ok());
  auto resigned = PublishFolder();
  ASSERT_TRUE(resigned.has_value()) << resigned.error().ToString();
  EXPECT_EQ(resigned->version, 1);
  EXPECT_FALSE(resigned->new_version);
  EXPECT_EQ(resigned->manifest_hash, first->manifest_hash);  // same manifest, new envelope
  auto envelope = catalog_->ManifestEnvelope("science", 1);
  EXPECT_EQ(ParseSignedManifest(*envelope)->publisher, next.public_key());
  EXPECT_TRUE(VerifySignedManifest(*envelope, HeldTrust()).has_value());
}

TEST_F(NodeTest, RotatePublisherRevokesTheOldKeyAndSignsTheServedVersionsAgain) {
  MakeHub();
  auto first = PublishFolder();
  ASSERT_TRUE(first.has_value());
  auto change = RotatePublisher(paths_, catalog_.get());
  ASSERT_TRUE(change.has_value()) << change.error().ToString();
  EXPECT_EQ(change->trust_sequence, 2u);
  EXPECT_EQ(change->revoked, hub_.publisher_key);
  EXPECT_EQ(change->resigned, 1);
  ASSERT_TRUE(change->added);
  TrustList held = HeldTrust();
  EXPECT_EQ(held.sequence, 2u);
  EXPECT_EQ(held.Find(hub_.publisher_key)->state, KeyState::kRevoked);
  EXPECT_TRUE(held.Authorizes(*change->added, "science"));
  // The new key is the publisher key now, private; the old one is kept, revoked.
  EXPECT_EQ(Load(paths_.publisher_key).public_key(), *change->added);
  EXPECT_EQ(fs::status(paths_.publisher_key).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(fs::exists(paths_.keys / ("publisher-revoked-" + hub_.publisher_key.Fingerprint() + ".key")));
  EXPECT_FALSE(fs::exists(paths_.keys / "publisher.next.key"));
  // The served version: the same manifest, now signed by the new key.
  auto envelope = catalog_->ManifestEnvelope("science", 1);
  EXPECT_EQ(ParseSignedManifest(*envelope)->publisher, *change->added);
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, first->manifest_hash);
  EXPECT_TRUE(VerifySignedManifest(*envelope, held).has_value());
  // Publishing goes on with the new key.
  src_.Write("science/new.txt", "new");
  auto second = PublishFolder();
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(ParseSignedManifest(*catalog_->ManifestEnvelope("science", 2))->publisher, *change->added);

  // Revocation: the old key again changes nothing; the current key must be rotated instead.
  auto again = RevokePublisher(paths_, hub_.publisher_key.Hex());
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  auto current = RevokePublisher(paths_, change->added->Hex());
  ASSERT_FALSE(current.has_value());
  EXPECT_NE(current.error().message().find("rotate it"), std::string::npos);
  EXPECT_EQ(HeldTrust().sequence, 2u);
}

TEST_F(NodeTest, ARotationCutShortIsFinishedByRunningItAgain) {
  MakeHub();
  ASSERT_TRUE(PublishFolder().has_value());
  // A rotation that stopped after making its key and storing its trust list.
  Identity next = NewIdentity();
  ASSERT_TRUE(SaveIdentity(next, paths_.keys / "publisher.next.key").ok());
  TrustList list = HeldTrust();
  list.sequence = 2;
  list.entries = {{hub_.publisher_key, {"*"}, KeyState::kRevoked}, {next.public_key(), {"*"}, KeyState::kActive}};
  ASSERT_TRUE(Issue(list).ok());
  auto change = RotatePublisher(paths_, catalog_.get());
  ASSERT_TRUE(change.has_value()) << change.error().ToString();
  EXPECT_EQ(*change->added, next.public_key());
  EXPECT_EQ(change->trust_sequence, 2u);  // no third list
  EXPECT_EQ(Load(paths_.publisher_key).public_key(), next.public_key());
  EXPECT_EQ(change->resigned, 1);
}

TEST_F(NodeTest, TheRootKeyMayBeKeptOffline) {
  MakeHub();
  fs::path stick = src_.path() / "usb-root.key";
  fs::rename(paths_.root_key, stick);
  auto missing = RotatePublisher(paths_, catalog_.get());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("--root-key"), std::string::npos) << missing.error().ToString();
  // Another root is refused, and changes nothing.
  fs::path other = src_.path() / "other.key";
  ASSERT_TRUE(SaveIdentity(NewIdentity(), other).ok());
  auto wrong = RotatePublisher(paths_, catalog_.get(), other);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message().find("not this hub's root"), std::string::npos);
  EXPECT_EQ(HeldTrust().sequence, 1u);
  auto rotated = RotatePublisher(paths_, catalog_.get(), stick);
  ASSERT_TRUE(rotated.has_value()) << rotated.error().ToString();
  // A third key, made by hand and listed, can be revoked on its own.
  Identity extra = NewIdentity();
  TrustList list = HeldTrust();
  list.sequence = 3;
  list.entries.push_back({extra.public_key(), {"science"}, KeyState::kActive});
  auto doc = SignTrustList(list, Load(stick));
  ASSERT_TRUE(doc.has_value());
  ASSERT_TRUE(StoreTrustList(paths_, hub_.root_key, *doc).ok());
  auto revoked = RevokePublisher(paths_, extra.public_key().Hex(), stick);
  ASSERT_TRUE(revoked.has_value()) << revoked.error().ToString();
  EXPECT_EQ(revoked->trust_sequence, 4u);
  EXPECT_FALSE(HeldTrust().Authorizes(extra.public_key(), "science"));
}

TEST_F(NodeTest, PublishRefusesAChannelTheKeyMayNotSign) {
  MakeHub();
  TrustList maths_only;
  maths_only.sequence = 2;
  maths_only.entries = {{hub_.publisher_key, {"maths"}, KeyState::kActive}};
  ASSERT_TRUE(Issue(maths_only).ok());
  // Named up front: refused before the import.
  auto named = PublishFolder("science");
  ASSERT_FALSE(named.has_value());
  EXPECT_EQ(named.error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(catalog_->Channel("science").has_value());
  // Known only from the folder: imported, served unsigned, and said so.
  auto derived = PublishFolder();
  ASSERT_FALSE(derived.has_value());
  EXPECT_NE(derived.error().message().find("unsigned"), std::string::npos)
      << derived.error().message();
  EXPECT_EQ(catalog_->Channel("science")->manifest_hash, std::nullopt);
  // Allowed for maths: fine.
  auto maths = PublishFolder("maths");
  ASSERT_TRUE(maths.has_value()) << maths.error().ToString();
}

TEST_F(NodeTest, PublishOutsideAHubSaysHowToMakeOne) {
  OpenLibrary();
  auto r = PublishFolder();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_NE(r.error().message().find("hub init"), std::string::npos);
  EXPECT_FALSE(catalog_->Channel("science").has_value());
}

// ---- enrolment ----

TEST_F(NodeTest, EnrolMakesACodeAndRemembersTheAddress) {
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

TEST_F(NodeTest, EnrolOutsideAHubIsNotFound) {
  auto db = OpenDb();
  EnrolRequest request;
  request.site_name = "ecole";
  auto r = Enrol(paths_, db.get(), request);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db->PendingEnrolments().empty());
}

TEST_F(NodeTest, AnEnrolmentFileCarriesThePinTheCodeAndTheTrustList) {
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
