#include "outpost/sync/sync_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <regex>
#include <set>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;

PublicKey Key(uint8_t fill) {
  PublicKey k;
  k.bytes.fill(fill);
  return k;
}

unsigned ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class SyncDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    Reopen();
  }
  void Reopen() {
    db_.reset();
    auto db = SyncDb::Open(path_);
    ASSERT_TRUE(db.has_value()) << db.error().ToString();
    db_ = std::move(*db);
    db_->set_clock([this] { return now_; });
  }
  std::string NewCode(const std::string& name, int64_t ttl = kDefaultEnrolCodeTtl) {
    auto code = db_->NewEnrolCode(name, ttl);
    EXPECT_TRUE(code.has_value()) << code.error().ToString();
    return code ? *code : "";
  }
  static PeerInfo Site(uint8_t fill, std::string name) {
    PeerInfo p;
    p.key = Key(fill);
    p.name = std::move(name);
    p.role = "site";
    return p;
  }

  TempDir dir_;
  fs::path path_ = dir_.path() / "sync" / "sync.db";
  int64_t now_ = 1'800'000'000;
  std::unique_ptr<SyncDb> db_;
};

TEST_F(SyncDbTest, OpensPrivateInWalModeAtTheCurrentSchemaVersion) {
  EXPECT_EQ(db_->schema_version(), SyncDb::kSchemaVersion);
  EXPECT_EQ(ModeOf(path_), 0600u);
  ASSERT_TRUE(db_->AddPeer(Site(1, "a")).ok());  // makes the -wal file
  ASSERT_TRUE(fs::exists(path_.string() + "-wal"));
  EXPECT_EQ(ModeOf(path_.string() + "-wal"), 0600u);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(raw);
}

TEST_F(SyncDbTest, ReopeningKeepsEverythingAndADatabaseFromTheFutureIsRefused) {
  ASSERT_TRUE(db_->AddPeer(Site(1, "a")).ok());
  Reopen();
  EXPECT_EQ(db_->Peers().size(), 1u);
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  std::string future_version =
      "PRAGMA user_version=" + std::to_string(SyncDb::kSchemaVersion + 1);
  sqlite3_exec(raw, future_version.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  auto future = SyncDb::Open(path_);
  ASSERT_FALSE(future.has_value());
  EXPECT_EQ(future.error().code(), StatusCode::kCorrupt);
  EXPECT_NE(future.error().message().find("newer"), std::string::npos);
}

// A sync.db at schema 9 (before site reports), with a site seen: opening it migrates to schema 10,
// keeps the site (seen by an unknown way), and its reports are kept from then on.
TEST_F(SyncDbTest, ADatabaseAtSchemaNineMigratesToSiteReports) {
  ASSERT_TRUE(db_->AddPeer(Site(1, "school-a")).ok());
  ASSERT_TRUE(db_->TouchPeer(Key(1)).ok());
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TABLE site_reports; DROP TABLE site_usage; ALTER TABLE peers DROP COLUMN last_via; "
                         "DROP TABLE link_policy; DROP TABLE link_usage; DROP TABLE console_jobs; PRAGMA user_version = 9;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  Reopen();
  EXPECT_EQ(db_->schema_version(), SyncDb::kSchemaVersion);
  auto peer = db_->Peer(Key(1));
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->last_seen, now_);
  EXPECT_EQ(peer->last_via, "");
  SiteReport report;
  report.site = Key(1);
  report.reported_at = 5;
  ASSERT_TRUE(db_->NoteSiteReport(report, kViaStick).value());
  EXPECT_EQ(db_->SiteReportOf(Key(1))->via, "stick");
}

// A sync.db at schema 7 (before the review of sites' channels), with a site owning a channel:
// opening it migrates to schema 8, keeps them, and the review tables work.
TEST_F(SyncDbTest, ADatabaseAtSchemaSevenMigratesToTheReviewTables) {
  ASSERT_TRUE(db_->AddPeer(Site(1, "school-a")).ok());
  ASSERT_TRUE(db_->ClaimChannel("school-a", Key(1)).ok());
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TABLE review_items; DROP TABLE review_channels; DROP TABLE review_outcomes; "
                         "DROP TABLE hub_heads; DROP TABLE sync_runs; "
                         "DROP TABLE site_reports; DROP TABLE site_usage; ALTER TABLE peers DROP COLUMN last_via; "
                         "DROP TABLE link_policy; DROP TABLE link_usage; DROP TABLE console_jobs; "
                         "PRAGMA user_version = 7;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  Reopen();
  EXPECT_EQ(db_->schema_version(), SyncDb::kSchemaVersion);
  EXPECT_EQ(db_->ChannelOwner("school-a"), Key(1));
  EXPECT_EQ(db_->ReviewedVersion("school-a"), 0);
  ReviewItem item;
  item.path = "a.txt";
  item.kind = "document";
  item.fingerprint = Hash::Of("a");
  ASSERT_TRUE(db_->NoteReviewVersion("school-a", 1, {item}).ok());
  auto items = db_->ReviewItems(false);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].site_name, "school-a");
  EXPECT_EQ(items[0].state, ReviewState::kPending);
  EXPECT_EQ(db_->ReviewedVersion("school-a"), 1);
  EXPECT_FALSE(db_->NoteReviewVersion("nobodys", 1, {item}).ok());
}

// A sync.db at schema 8 (before the site kept its hub's heads and its last sync), with a
// pinned hub: opening it migrates to schema 9, keeps the pin, and nothing is known of the hub's
// offer or of a sync until one is noted.
TEST_F(SyncDbTest, ADatabaseAtSchemaEightMigratesToTheHubsHeadsAndTheLastSync) {
  HubPin pin;
  pin.address = "hub.example:7300";
  pin.node_key = Key(2);
  pin.root_key = Key(3);
  ASSERT_TRUE(db_->SetHub(pin).ok());
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TABLE hub_heads; DROP TABLE sync_runs; DROP TABLE site_reports; "
                         "DROP TABLE site_usage; ALTER TABLE peers DROP COLUMN last_via; "
                         "DROP TABLE link_policy; DROP TABLE link_usage; DROP TABLE console_jobs; PRAGMA user_version = 8;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  Reopen();
  EXPECT_EQ(db_->schema_version(), SyncDb::kSchemaVersion);
  ASSERT_TRUE(db_->Hub().has_value());
  EXPECT_EQ(db_->Hub()->address, "hub.example:7300");
  EXPECT_TRUE(db_->HubHeads().empty());
  EXPECT_FALSE(db_->LastSyncRun().has_value());
}

// The hub's heads: a channel offered again replaces its row, one not offered keeps its older
// row; the last sync replaces the one before. Both survive reopening.
TEST_F(SyncDbTest, TheHubsHeadsAndTheLastSyncAreKeptAndReplaced) {
  ASSERT_TRUE(db_->NoteHubHeads({{"maths", 3, 5'000'000, 0}, {"water", 7, 1200, 0}}).ok());
  now_ += 60;
  ASSERT_TRUE(db_->NoteHubHeads({{"maths", 4, 2'000'000, 0}}).ok());
  ASSERT_TRUE(db_->NoteSyncRun({100, 160, false, false, 0, "the link dropped"}).ok());
  ASSERT_TRUE(db_->NoteSyncRun({200, 260, true, true, 4096, ""}).ok());
  Reopen();
  auto heads = db_->HubHeads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0].channel_id, "maths");
  EXPECT_EQ(heads[0].version, 4u);
  EXPECT_EQ(heads[0].bytes, 2'000'000u);
  EXPECT_EQ(heads[0].noted_at, now_);
  EXPECT_EQ(heads[1].channel_id, "water");
  EXPECT_EQ(heads[1].version, 7u);
  EXPECT_EQ(heads[1].noted_at, now_ - 60);
  auto run = db_->LastSyncRun();
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->started_at, 200);
  EXPECT_EQ(run->finished_at, 260);
  EXPECT_TRUE(run->ok && run->complete);
  EXPECT_EQ(run->bytes_received, 4096u);
  EXPECT_EQ(run->message, "");
}

// A site keeps its hub's decisions once per item, newest first; a hub hands out what has not
// reached a site, and forgets it once delivered, by sync or by a stick the site says it took.
TEST_F(SyncDbTest, ReviewOutcomesAreKeptOnceAndDeliveredOnce) {
  ReviewOutcome declined{7, "notes", "a.txt", Hash::Of("a"), ReviewState::kDeclined, 100,
                         "why", "", "", 0, 0};
  ReviewOutcome adopted{8, "notes", "b.txt", Hash::Of("b"), ReviewState::kAdopted, 200, "",
                        "science", "Grade 5", 3, 0};
  ASSERT_TRUE(db_->NoteReviewOutcomes({declined, adopted}).ok());
  now_ += 60;
  declined.reason = "changed on the way";
  ASSERT_TRUE(db_->NoteReviewOutcomes({declined}).ok());  // the same decision again: kept once
  auto kept = db_->ReviewOutcomes();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].id, 8);  // newest decision first
  EXPECT_EQ(kept[1].reason, "why");
  EXPECT_EQ(kept[1].received_at, now_ - 60);
  ReviewOutcome pending = adopted;
  pending.id = 9;
  pending.state = ReviewState::kPending;
  EXPECT_EQ(db_->NoteReviewOutcomes({pending}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->ReviewOutcomes().size(), 2u);

  // The hub's side.
  ASSERT_TRUE(db_->AddPeer(Site(1, "school-a")).ok());
  ASSERT_TRUE(db_->ClaimChannel("school-a", Key(1)).ok());
  std::vector<ReviewItem> items(3);
  for (int i = 0; i < 3; ++i) {
    items[i].path = std::to_string(i);
    items[i].fingerprint = Hash::Of(items[i].path);
  }
  ASSERT_TRUE(db_->NoteReviewVersion("school-a", 1, items).ok());
  auto listed = db_->ReviewItems(false);
  ASSERT_EQ(listed.size(), 3u);
  ReviewDecision decline;
  decline.reason = "no";
  for (const auto& item : listed) ASSERT_TRUE(db_->DecideReview(item.id, decline).ok());
  EXPECT_EQ(db_->UndeliveredOutcomes(Key(1)).size(), 3u);
  EXPECT_TRUE(db_->UndeliveredOutcomes(Key(2)).empty());
  ASSERT_TRUE(db_->NoteOutcomesDelivered(Key(1), {listed[0].id}).ok());  // a sync's Bye
  ASSERT_TRUE(db_->NoteOutcomesSent(Key(1), {listed[1].id, listed[2].id}, 5000).ok());
  ASSERT_TRUE(db_->NoteHubBundleSeenBySite(Key(1), 4999).ok());  // an older stick: not yet
  EXPECT_EQ(db_->UndeliveredOutcomes(Key(1)).size(), 2u);
  ASSERT_TRUE(db_->NoteHubBundleSeenBySite(Key(1), 5000).ok());
  EXPECT_TRUE(db_->UndeliveredOutcomes(Key(1)).empty());
}

// A sync.db as outpost wrote it at schema 5 (before enrolment files and stick packing), with a
// site, a pending code and a pinned hub: opening it migrates to the current schema, keeps all of
// it, and what the new schemas added works.
TEST_F(SyncDbTest, ADatabaseAtSchemaFiveMigratesKeepingItsPeersCodesAndHub) {
  db_.reset();
  fs::remove(path_);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  const char* schema5 = R"sql(
CREATE TABLE peers (key BLOB PRIMARY KEY, name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('site', 'hub', 'relay')), enrolled_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0,
  last_hello INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE INDEX peers_by_name ON peers(name);
CREATE TABLE enrol_codes (code_hash BLOB PRIMARY KEY, site_name TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER NOT NULL DEFAULT 0,
  used_by BLOB, cancelled_at INTEGER NOT NULL DEFAULT 0, code_id BLOB, psk BLOB) WITHOUT ROWID;
CREATE UNIQUE INDEX enrol_codes_by_id ON enrol_codes(code_id);
CREATE TABLE hub (id INTEGER PRIMARY KEY CHECK (id = 1), address TEXT NOT NULL,
  node_key BLOB NOT NULL, root_key BLOB NOT NULL, pending_code TEXT NOT NULL,
  site_name TEXT NOT NULL);
CREATE TABLE self (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE peer_channels (channel_id TEXT PRIMARY KEY, peer_key BLOB NOT NULL,
  claimed_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX peer_channels_by_peer ON peer_channels(peer_key);
CREATE TABLE peer_versions (peer_key BLOB NOT NULL, channel_id TEXT NOT NULL,
  version INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (peer_key, channel_id)) WITHOUT ROWID;
INSERT INTO peers (key, name, role, enrolled_at) VALUES (zeroblob(32), 'ecole-a', 'site', 5);
INSERT INTO peer_versions VALUES (zeroblob(32), 'water', 3, 7);
INSERT INTO enrol_codes (code_hash, site_name, created_at, expires_at)
  VALUES (x'01', 'ecole-b', 1, 4000000000);
INSERT INTO hub VALUES (1, 'hub.example:7000', zeroblob(32), zeroblob(32), '', 'ecole-a');
PRAGMA user_version = 5;
)sql";
  ASSERT_EQ(sqlite3_exec(raw, schema5, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  sqlite3_close(raw);

  Reopen();
  EXPECT_EQ(db_->schema_version(), SyncDb::kSchemaVersion);
  PublicKey site = Key(0);
  auto peer = db_->Peer(site);
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->name, "ecole-a");
  EXPECT_EQ(db_->PeerVersions(site).at("water"), 3u);
  ASSERT_EQ(db_->PendingEnrolments().size(), 1u);
  EXPECT_EQ(db_->PendingEnrolments()[0].site_name, "ecole-b");
  ASSERT_TRUE(db_->Hub().has_value());
  EXPECT_EQ(db_->Hub()->address, "hub.example:7000");
  // Schema 6: codes for enrolment files; schema 7: what a stick sent.
  auto code = db_->NewEnrolCode("ecole-c", 3600, /*to_file=*/true);
  ASSERT_TRUE(code.has_value()) << code.error().ToString();
  std::array<uint8_t, 16> bundle{};
  ASSERT_TRUE(db_->NoteSentVersions(site, {{"maths", 2}}, bundle, now_).ok());
  EXPECT_EQ(db_->SentVersions(site).at("maths").version, 2u);
}

// ---- enrolment codes ----

TEST_F(SyncDbTest, CodesAreSixteenUnambiguousCharactersInGroupsOfFour) {
  const std::regex shape(
      "[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}");
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string code = NewCode("ecole-karantina");
    EXPECT_TRUE(std::regex_match(code, shape)) << code;
    seen.insert(code);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST_F(SyncDbTest, OnlyACodesHashIsStored) {
  std::string code = NewCode("ecole-karantina");
  std::string bare = code;
  std::erase(bare, '-');
  db_.reset();  // closes cleanly: everything is in the main file
  std::string bytes = ReadFile(path_) + ReadFile(path_.string() + "-wal");
  EXPECT_NE(bytes.find("ecole-karantina"), std::string::npos);
  EXPECT_EQ(bytes.find(code), std::string::npos);
  EXPECT_EQ(bytes.find(bare), std::string::npos);
}

TEST_F(SyncDbTest, ACodeWorksOnceWhateverItsCaseAndSpacing) {
  std::string code = NewCode("ecole-karantina");
  std::string typed = code;
  std::erase(typed, '-');
  for (auto& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  typed.insert(8, " ");
  auto name = db_->RedeemEnrolCode(typed);
  ASSERT_TRUE(name.has_value()) << name.error().ToString();
  EXPECT_EQ(*name, "ecole-karantina");
  auto again = db_->RedeemEnrolCode(code);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kNotFound);
  EXPECT_NE(again.error().message().find("already used"), std::string::npos);
  EXPECT_TRUE(db_->PendingEnrolments().empty());
}

TEST_F(SyncDbTest, ACodeExpiresAfterItsTimeToLive) {
  std::string code = NewCode("ecole-karantina", 100);
  now_ += 99;
  ASSERT_EQ(db_->PendingEnrolments().size(), 1u);
  EXPECT_EQ(db_->PendingEnrolments()[0].expires_at, 1'800'000'100);
  now_ += 1;
  EXPECT_TRUE(db_->PendingEnrolments().empty());
  auto late = db_->RedeemEnrolCode(code);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), StatusCode::kNotFound);
  EXPECT_NE(late.error().message().find("expired"), std::string::npos) << late.error().message();
}

TEST_F(SyncDbTest, UnknownAndMalformedCodesAreRefused) {
  NewCode("ecole-karantina");
  auto unknown = db_->RedeemEnrolCode("abcd-efgh-jkmn-pqrs");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.error().message().find("unknown"), std::string::npos);
  for (const char* bad : {"", "abcd-efgh-jkmn", "abcd-efgh-jkmn-pqrs-tuvw", "abcd-efgh-jkmn-pqr0",
                          "abcd-efgh-jkmn-pqrl", "abcd-efgh-jkmn-pqr!"}) {
    auto r = db_->RedeemEnrolCode(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(db_->NewEnrolCode("Ecole Karantina", 100).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->NewEnrolCode("ok", 0).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeEnrolCode(" ABCDefgh-JKMN pqrs "), "abcd-efgh-jkmn-pqrs");
}

TEST_F(SyncDbTest, AdmitSiteUsesTheCodeAndEnrolsTheKeyUnderItsName) {
  std::string code = NewCode("ecole-karantina");
  now_ += 60;
  auto peer = db_->AdmitSite(code, Key(7));
  ASSERT_TRUE(peer.has_value()) << peer.error().ToString();
  EXPECT_EQ(peer->key, Key(7));
  EXPECT_EQ(peer->name, "ecole-karantina");
  EXPECT_EQ(peer->role, "site");
  EXPECT_EQ(peer->enrolled_at, now_);
  EXPECT_EQ(peer->revoked_at, 0);
  EXPECT_EQ(db_->AdmitSite(code, Key(8)).error().code(), StatusCode::kNotFound);  // used
  // The same key with a new code keeps its row under the new name.
  auto renamed = db_->AdmitSite(NewCode("ecole-du-port"), Key(7));
  ASSERT_TRUE(renamed.has_value());
  EXPECT_EQ(renamed->name, "ecole-du-port");
  EXPECT_EQ(renamed->enrolled_at, peer->enrolled_at);
  EXPECT_EQ(db_->Peers().size(), 1u);
}

TEST_F(SyncDbTest, ACodeIsFoundByItsIdentifierAndItsPskIsTheOneTheSiteDerives) {
  std::string code = NewCode("ecole-karantina");
  std::string typed = code;  // as a person might type it: upper case, spaces for dashes
  for (char& c : typed) c = c == '-' ? ' ' : static_cast<char>(std::toupper(c));
  auto keys = DeriveEnrolCodeKeys(typed);
  ASSERT_TRUE(keys.has_value());
  auto typed_otherwise = DeriveEnrolCodeKeys(code);
  EXPECT_EQ(keys->id, typed_otherwise->id);
  EXPECT_NE(keys->id, keys->psk);
  EXPECT_EQ(db_->EnrolCodePsk(keys->id), keys->psk);
  std::array<uint8_t, 32> unknown{};
  EXPECT_FALSE(db_->EnrolCodePsk(unknown).has_value());
  EXPECT_EQ(db_->AdmitSiteByCodeId(unknown, Key(7)).error().code(), StatusCode::kNotFound);
  auto peer = db_->AdmitSiteByCodeId(keys->id, Key(7));
  ASSERT_TRUE(peer.has_value()) << peer.error().ToString();
  EXPECT_EQ(peer->name, "ecole-karantina");
  EXPECT_TRUE(db_->AdmitSiteByCodeId(keys->id, Key(7)).has_value()) << "the same site again";
  EXPECT_EQ(db_->AdmitSiteByCodeId(keys->id, Key(8)).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->AdmitSite(code, Key(8)).error().code(), StatusCode::kNotFound);  // one code
  EXPECT_FALSE(DeriveEnrolCodeKeys("not-a-code").has_value());
}

TEST_F(SyncDbTest, ARevokedKeyCannotEnrolAgainAndDoesNotUseTheCode) {
  ASSERT_TRUE(db_->AdmitSite(NewCode("ecole-karantina"), Key(7)).has_value());
  ASSERT_TRUE(db_->RevokePeer(Key(7).Hex()).ok());
  std::string code = NewCode("ecole-karantina-2");
  auto refused = db_->AdmitSite(code, Key(7));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("revoked"), std::string::npos);
  EXPECT_TRUE(db_->AdmitSite(code, Key(9)).has_value());  // the code still works, once
  // AddPeer never un-revokes either.
  ASSERT_TRUE(db_->AddPeer(Site(7, "back-again")).ok());
  EXPECT_NE(db_->Peer(Key(7))->revoked_at, 0);
  EXPECT_EQ(db_->Peer(Key(7))->name, "back-again");
}

// ---- peers ----

TEST_F(SyncDbTest, PeersAreListedTouchedAndRevokedByNameOrKey) {
  ASSERT_TRUE(db_->AddPeer(Site(2, "b-school")).ok());
  ASSERT_TRUE(db_->AddPeer(Site(1, "a-school")).ok());
  PeerInfo hub = Site(3, "relay");
  hub.role = "hub";
  ASSERT_TRUE(db_->AddPeer(hub).ok());
  auto peers = db_->Peers();
  ASSERT_EQ(peers.size(), 3u);
  EXPECT_EQ(peers[0].name, "a-school");
  EXPECT_EQ(peers[0].enrolled_at, now_);
  EXPECT_EQ(peers[0].last_seen, 0);
  now_ += 5;
  ASSERT_TRUE(db_->TouchPeer(Key(1)).ok());
  EXPECT_EQ(db_->Peer(Key(1))->last_seen, now_);
  EXPECT_EQ(db_->TouchPeer(Key(9)).code(), StatusCode::kNotFound);
  EXPECT_FALSE(db_->Peer(Key(9)).has_value());

  ASSERT_TRUE(db_->RevokePeer("a-school").ok());
  EXPECT_EQ(db_->Peer(Key(1))->revoked_at, now_);
  ASSERT_TRUE(db_->RevokePeer(Key(2).Hex()).ok());
  EXPECT_EQ(db_->Peer(Key(2))->revoked_at, now_);
  now_ += 5;
  ASSERT_TRUE(db_->RevokePeer("a-school").ok());  // again: nothing changes
  EXPECT_EQ(db_->Peer(Key(1))->revoked_at, now_ - 5);
  EXPECT_EQ(db_->Peer(Key(3))->revoked_at, 0);
  EXPECT_EQ(db_->RevokePeer("nobody").code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->RevokePeer(Key(9).Hex()).code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->AddPeer(Site(4, "Bad Name")).code(), StatusCode::kInvalidArgument);
  PeerInfo odd = Site(4, "odd");
  odd.role = "admin";
  EXPECT_EQ(db_->AddPeer(odd).code(), StatusCode::kInvalidArgument);
}

TEST_F(SyncDbTest, RevokingANameCancelsItsPendingCodes) {
  std::string code = NewCode("ecole-karantina");
  ASSERT_TRUE(db_->RevokePeer("ecole-karantina").ok());  // no peer yet: the code is cancelled
  EXPECT_TRUE(db_->PendingEnrolments().empty());
  auto r = db_->AdmitSite(code, Key(5));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_NE(r.error().message().find("cancelled"), std::string::npos);
  EXPECT_FALSE(db_->Peer(Key(5)).has_value());
}

// ---- the hub pin and the hub itself ----

TEST_F(SyncDbTest, TheHubPinRoundTripsAndIsReplaced) {
  EXPECT_FALSE(db_->Hub().has_value());
  HubPin pin{"hub.example.org:7600", Key(1), Key(2), "abcd-efgh-jkmn-pqrs", "ecole-karantina"};
  ASSERT_TRUE(db_->SetHub(pin).ok());
  auto got = db_->Hub();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->address, pin.address);
  EXPECT_EQ(got->node_key, pin.node_key);
  EXPECT_EQ(got->root_key, pin.root_key);
  EXPECT_EQ(got->pending_code, pin.pending_code);
  EXPECT_EQ(got->site_name, pin.site_name);
  pin.pending_code = "";
  pin.address = "";
  ASSERT_TRUE(db_->SetHub(pin).ok());
  Reopen();
  EXPECT_EQ(db_->Hub()->pending_code, "");
  EXPECT_EQ(db_->Hub()->address, "");
  pin.address = "no port";
  EXPECT_EQ(db_->SetHub(pin).code(), StatusCode::kInvalidArgument);
}

TEST_F(SyncDbTest, TheHubRemembersItsRootAndAddress) {
  EXPECT_FALSE(db_->OwnRoot().has_value());
  EXPECT_EQ(db_->OwnAddress(), "");
  ASSERT_TRUE(db_->SetOwnRoot(Key(4)).ok());
  ASSERT_TRUE(db_->SetOwnAddress("[2001:db8::1]:7600").ok());
  Reopen();
  EXPECT_EQ(db_->OwnRoot(), Key(4));
  EXPECT_EQ(db_->OwnAddress(), "[2001:db8::1]:7600");
  EXPECT_EQ(db_->SetOwnAddress("hub:0").code(), StatusCode::kInvalidArgument);
}

TEST_F(SyncDbTest, PeerVersionsOnlyGrow) {
  PublicKey peer = Key(7);
  EXPECT_TRUE(db_->PeerVersions(peer).empty());
  ASSERT_TRUE(db_->NotePeerVersion(peer, "water", 3).ok());
  ASSERT_TRUE(db_->NotePeerVersion(peer, "water", 2).ok());  // an older report changes nothing
  ASSERT_TRUE(db_->NotePeerVersion(peer, "maths", 1).ok());
  auto held = db_->PeerVersions(peer);
  EXPECT_EQ(held, (std::map<std::string, uint64_t>{{"maths", 1}, {"water", 3}}));
  EXPECT_TRUE(db_->PeerVersions(Key(8)).empty());
}

// What a hub sent by stick is a base until the site is known to serve it (or a later version),
// or the site shows it took a later stick without it; a version it serves is never recorded.
TEST_F(SyncDbTest, WhatWasSentByStickIsForgottenOnceServedOrPassedOver) {
  PublicKey peer = Key(7);
  std::array<uint8_t, 16> first{}, second{};
  second[0] = 2;
  ASSERT_TRUE(db_->NotePeerVersion(peer, "maths", 4).ok());
  ASSERT_TRUE(db_->NoteSentVersions(peer, {{"water", 2}, {"maths", 4}}, first, 100).ok());
  auto sent = db_->SentVersions(peer);
  ASSERT_EQ(sent.size(), 1u);  // maths 4 is served already
  EXPECT_EQ(sent["water"].version, 2u);
  EXPECT_EQ(sent["water"].bundle_id, first);
  EXPECT_EQ(sent["water"].written_at, 100);
  ASSERT_TRUE(db_->NotePeerVersion(peer, "water", 1).ok());  // an older receipt: still on its way
  EXPECT_EQ(db_->SentVersions(peer).size(), 1u);
  ASSERT_TRUE(db_->NotePeerVersion(peer, "water", 2).ok());  // served: forgotten
  EXPECT_TRUE(db_->SentVersions(peer).empty());
  ASSERT_TRUE(db_->NoteSentVersions(peer, {{"water", 3}}, second, 200).ok());
  ASSERT_TRUE(db_->ForgetSentVersions(peer, 199).ok());  // the site took an older stick only
  EXPECT_EQ(db_->SentVersions(peer).size(), 1u);
  ASSERT_TRUE(db_->ForgetSentVersions(peer, 200).ok());  // it took this one, or a later one
  EXPECT_TRUE(db_->SentVersions(peer).empty());
}

// A site remembers the newest stick of its hub it took.
TEST_F(SyncDbTest, TheNewestHubStickSeenOnlyMovesForward) {
  EXPECT_EQ(db_->HubBundleSeen().written_at, 0);
  SeenHubBundle later{{1}, 300}, earlier{{2}, 200};
  ASSERT_TRUE(db_->NoteHubBundleSeen(later).ok());
  ASSERT_TRUE(db_->NoteHubBundleSeen(earlier).ok());
  Reopen();
  EXPECT_EQ(db_->HubBundleSeen().written_at, 300);
  EXPECT_EQ(db_->HubBundleSeen().bundle_id, later.bundle_id);
}

// Whether the hub accepts `counter` from the peer Key(fill): nullopt on an error.
std::optional<bool> Accepts(SyncDb* db, uint8_t fill, uint64_t counter) {
  auto accepted = db->AcceptHelloCounter(Key(fill), counter);
  return accepted ? std::optional<bool>(*accepted) : std::nullopt;
}

TEST_F(SyncDbTest, AHelloCounterIsAcceptedOnlyAboveTheLastOne) {
  ASSERT_TRUE(db_->AddPeer(Site(1, "a")).ok());
  EXPECT_EQ(Accepts(db_.get(), 1, 10), true);
  EXPECT_EQ(Accepts(db_.get(), 1, 10), false);  // the same: a replay
  EXPECT_EQ(Accepts(db_.get(), 1, 9), false);
  EXPECT_EQ(Accepts(db_.get(), 1, uint64_t{1} << 63), false);
  EXPECT_EQ(Accepts(db_.get(), 2, 11), false);  // not a peer
  Reopen();  // kept across a restart of the hub
  EXPECT_EQ(Accepts(db_.get(), 1, 10), false);
  EXPECT_EQ(Accepts(db_.get(), 1, 11), true);
}

TEST_F(SyncDbTest, TheNextHelloCounterGrowsEvenWhenTheClockGoesBack) {
  auto next = [this]() -> uint64_t {
    auto counter = db_->NextHelloCounter();
    EXPECT_TRUE(counter.has_value()) << counter.error().message();
    return counter ? *counter : 0;
  };
  uint64_t first = next();
  EXPECT_EQ(first, uint64_t(now_) * 1'000'000);
  now_ -= 3600;  // a box without a battery-backed clock boots in the past
  Reopen();
  EXPECT_EQ(next(), first + 1);
  now_ += 7200;
  EXPECT_EQ(next(), uint64_t(now_) * 1'000'000);
}

// The link policy and the bytes per day are kept across reopening (link_policy.h).
TEST_F(SyncDbTest, TheLinkPolicyAndItsUsageSurviveReopening) {
  EXPECT_EQ(db_->GetLinkPolicy(), LinkPolicy{});  // none stored: no limits, no automatic sync
  LinkPolicy policy;
  policy.rate_limit_kbps = 256;
  policy.day_budget_bytes = 50'000'000;
  policy.month_budget_bytes = 1'000'000'000;
  policy.windows = {{22 * 60, 6 * 60}, {12 * 60, 13 * 60}};
  policy.auto_sync = true;
  policy.interval_minutes = 30;
  ASSERT_TRUE(db_->SetLinkPolicy(policy).ok());
  ASSERT_TRUE(db_->NoteLinkUsage("2026-11-30", 7).ok());
  ASSERT_TRUE(db_->NoteLinkUsage("2026-12-07", 1000).ok());
  ASSERT_TRUE(db_->NoteLinkUsage("2026-12-07", 234).ok());
  Reopen();
  EXPECT_EQ(db_->GetLinkPolicy(), policy);
  DailyUsage december = {{"2026-12-07", 1234}};
  EXPECT_EQ(db_->LinkUsageSince("2026-12-01"), december);
  EXPECT_EQ(db_->LinkUsageSince("2026-11-01").size(), 2u);
}

TEST_F(SyncDbTest, AnInvalidLinkPolicyIsNotStored) {
  LinkPolicy policy;
  policy.auto_sync = true;
  ASSERT_TRUE(db_->SetLinkPolicy(policy).ok());
  LinkPolicy bad = policy;
  bad.interval_minutes = 0;
  EXPECT_EQ(db_->SetLinkPolicy(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->GetLinkPolicy(), policy);
}

// The console's last job of each slot survives reopening, and a later one replaces the slot's.
TEST_F(SyncDbTest, TheConsolesLastJobOfEachSlotSurvivesReopening) {
  EXPECT_TRUE(db_->ConsoleJobs().empty());
  ConsoleJobRecord sync{"sync", 3, "sync", "schedule", 100, 160, "incomplete", "stopped",
                        R"({"bytes_received":5})"};
  ASSERT_TRUE(db_->NoteConsoleJob(sync).ok());
  ASSERT_TRUE(db_->NoteConsoleJob({"stick", 4, "stick_export", "console", 200, 230, "done",
                                   "written", "{}"}).ok());
  sync.id = 5;
  sync.state = "done";
  ASSERT_TRUE(db_->NoteConsoleJob(sync).ok());
  Reopen();
  auto jobs = db_->ConsoleJobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].slot, "stick");
  EXPECT_EQ(jobs[0].kind, "stick_export");
  EXPECT_EQ(jobs[1].slot, "sync");
  EXPECT_EQ(jobs[1].id, 5u);
  EXPECT_EQ(jobs[1].trigger, "schedule");
  EXPECT_EQ(jobs[1].state, "done");
  EXPECT_EQ(jobs[1].ended_at, 160);
  EXPECT_EQ(jobs[1].fields, R"({"bytes_received":5})");
  EXPECT_FALSE(db_->NoteConsoleJob({"elsewhere", 1, "sync", "console", 1, 2, "done", "", "{}"}).ok());
}

}  // namespace
}  // namespace outpost
