// SyncDb: what a node remembers for sync beside its catalog, in DATA/sync/sync.db (SQLite, WAL).
//
// The workload is tiny and mostly reads: a hub enrols a few sites a day and touches a peer row
// per session (10,000 sites, a few sessions a month each); a site holds one hub pin. So one
// connection behind a mutex, statements prepared per call, and every write in its own
// transaction. The schema (docs/sync.md) is versioned with PRAGMA user_version like the
// catalog's. The file is created 0600 before SQLite opens it (SQLite gives its -wal and -shm
// files the database's mode): a site's pending enrolment code is a secret.
//
// Enrolment codes are never stored: only BLAKE2b-256("outpost enrol code v1\0" || the 16
// characters), and, for enrolment over the network (Noise XXpsk3, docs/sync-protocol.md), the
// code's identifier and pre-shared key (EnrolCodeKeys). Both are one-way functions of ~80 bits,
// so sync.db never gives the code back; but the psk of a pending code is what a site proves it
// holds, so a copy of a hub's sync.db could use its pending codes (they expire in days).
#include "outpost/sync/sync_db.h"

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <iterator>
#include <mutex>

#include "outpost/base/db.h"
#include "outpost/base/file.h"
#include "outpost/base/text.h"
#include "outpost/sync/error_log.h"
#include "outpost/sync/node.h"

namespace outpost {

namespace {

// Migrations, applied in order; entry i takes the schema from version i to i+1. Never edit a
// migration that has shipped: add a new one.
const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE peers (
  key          BLOB PRIMARY KEY,
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('site', 'hub', 'relay')),
  enrolled_at  INTEGER NOT NULL,
  revoked_at   INTEGER NOT NULL DEFAULT 0,
  last_seen    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX peers_by_name ON peers(name);
CREATE TABLE enrol_codes (
  code_hash     BLOB PRIMARY KEY,
  site_name     TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  used_at       INTEGER NOT NULL DEFAULT 0,
  used_by       BLOB,
  cancelled_at  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE hub (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  address       TEXT NOT NULL,
  node_key      BLOB NOT NULL,
  root_key      BLOB NOT NULL,
  pending_code  TEXT NOT NULL,
  site_name     TEXT NOT NULL
);
CREATE TABLE self (
  name   TEXT PRIMARY KEY,
  value  BLOB NOT NULL
) WITHOUT ROWID;
)sql",
    // 1 -> 2: channels that sites publish and the hub serves (the upward path).
    R"sql(
CREATE TABLE peer_channels (
  channel_id  TEXT PRIMARY KEY,
  peer_key    BLOB NOT NULL,
  claimed_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX peer_channels_by_peer ON peer_channels(peer_key);
)sql",
    // 2 -> 3: what each peer is known to serve (from its syncs, and later its receipts), so that
    // a USB bundle carries only what it lacks.
    R"sql(
CREATE TABLE peer_versions (
  peer_key    BLOB NOT NULL,
  channel_id  TEXT NOT NULL,
  version     INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (peer_key, channel_id)
) WITHOUT ROWID;
)sql",
    // 3 -> 4: the highest Hello counter accepted from each peer (replays of IK message 1).
    R"sql(
ALTER TABLE peers ADD COLUMN last_hello INTEGER NOT NULL DEFAULT 0;
)sql",
    // 4 -> 5: enrolment over Noise XXpsk3: the code's identifier (how the hub finds the code a
    // site means) and its pre-shared key. Codes made before have neither and cannot be used
    // over the network.
    R"sql(
ALTER TABLE enrol_codes ADD COLUMN code_id BLOB;
ALTER TABLE enrol_codes ADD COLUMN psk BLOB;
CREATE UNIQUE INDEX enrol_codes_by_id ON enrol_codes(code_id);
)sql",
    // 5 -> 6: whether a code went into an enrolment file (`hub enrol --to FILE`): a bundle can
    // then be sealed to the key derived from it, for a site that has not enrolled yet.
    R"sql(
ALTER TABLE enrol_codes ADD COLUMN to_file INTEGER NOT NULL DEFAULT 0;
)sql",
    // 6 -> 7: per site and channel, the version a hub last sent by stick and not yet known to
    // be served there, and the bundle that carried it: the next stick is packed against it.
    R"sql(
CREATE TABLE sent_versions (
  peer_key    BLOB NOT NULL,
  channel_id  TEXT NOT NULL,
  version     INTEGER NOT NULL,
  bundle_id   BLOB NOT NULL,
  written_at  INTEGER NOT NULL,
  PRIMARY KEY (peer_key, channel_id)
) WITHOUT ROWID;
)sql",
    // 7 -> 8: a hub's review of what sites send up (docs/review.md): every new or changed
    // resource of a site's channel, its preview, the publisher's decision and whether it
    // reached the site; per channel the version whose items were recorded last; and, on a
    // site, the decisions its hub sent.
    R"sql(
CREATE TABLE review_items (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  channel_id       TEXT NOT NULL,
  path             TEXT NOT NULL,
  peer_key         BLOB NOT NULL,
  version          INTEGER NOT NULL,
  fingerprint      BLOB NOT NULL,
  kind             TEXT NOT NULL,
  title            TEXT NOT NULL,
  description      TEXT NOT NULL,
  language         TEXT NOT NULL,
  grade            TEXT NOT NULL,
  subject          TEXT NOT NULL,
  license          TEXT NOT NULL,
  author           TEXT NOT NULL,
  size             INTEGER NOT NULL,
  mime             TEXT NOT NULL,
  blob             BLOB NOT NULL,
  thumbnail        BLOB,
  excerpt          TEXT NOT NULL,
  seen_at          INTEGER NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'adopted', 'declined', 'superseded')),
  decided_at       INTEGER NOT NULL DEFAULT 0,
  reason           TEXT NOT NULL DEFAULT '',
  adopted_channel  TEXT NOT NULL DEFAULT '',
  adopted_topic    TEXT NOT NULL DEFAULT '',
  adopted_path     TEXT NOT NULL DEFAULT '',
  adopted_version  INTEGER NOT NULL DEFAULT 0,
  sent_written_at  INTEGER NOT NULL DEFAULT 0,
  delivered_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX review_items_by_path ON review_items(channel_id, path, id);
CREATE INDEX review_items_by_state ON review_items(state, id);
CREATE TABLE review_channels (
  channel_id  TEXT PRIMARY KEY,
  version     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE review_outcomes (
  id               INTEGER PRIMARY KEY,
  channel_id       TEXT NOT NULL,
  path             TEXT NOT NULL,
  blob             BLOB NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('adopted', 'declined')),
  decided_at       INTEGER NOT NULL,
  reason           TEXT NOT NULL,
  adopted_channel  TEXT NOT NULL,
  adopted_topic    TEXT NOT NULL,
  adopted_version  INTEGER NOT NULL,
  received_at      INTEGER NOT NULL
);
)sql",
    // 8 -> 9: a site's memory of its hub's last offer (the heads it offered and what they
    // cost) and of its last sync, for the coordinator's console and `outpost status`.
    R"sql(
CREATE TABLE hub_heads (
  channel_id  TEXT PRIMARY KEY,
  version     INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  noted_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE sync_runs (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  started_at      INTEGER NOT NULL,
  finished_at     INTEGER NOT NULL,
  ok              INTEGER NOT NULL,
  complete        INTEGER NOT NULL,
  bytes_received  INTEGER NOT NULL,
  message         TEXT NOT NULL
);
)sql",
    // 9 -> 10: a hub's view of its sites (site_report.h): how each was last seen (link or
    // stick), its newest signed report, and its usage counts per day, channel and resource.
    R"sql(
ALTER TABLE peers ADD COLUMN last_via TEXT NOT NULL DEFAULT '';
CREATE TABLE site_reports (
  peer_key       BLOB PRIMARY KEY,
  reported_at    INTEGER NOT NULL,
  received_at    INTEGER NOT NULL,
  via            TEXT NOT NULL CHECK (via IN ('link', 'stick')),
  software       TEXT NOT NULL,
  disk_total     INTEGER NOT NULL,
  disk_free      INTEGER NOT NULL,
  served         TEXT NOT NULL,
  errors_logged  INTEGER NOT NULL,
  errors         TEXT NOT NULL
);
CREATE TABLE site_usage (
  day         TEXT NOT NULL,
  channel_id  TEXT NOT NULL,
  resource    TEXT NOT NULL,
  peer_key    BLOB NOT NULL,
  views       INTEGER NOT NULL,
  PRIMARY KEY (day, channel_id, resource, peer_key)
) WITHOUT ROWID;
)sql",
    // 10 -> 11: a site's link policy (link_policy.h; one row) and the bytes its syncs used per
    // local day (the budget's remainder).
    R"sql(
CREATE TABLE link_policy (
  id                 INTEGER PRIMARY KEY CHECK (id = 1),
  rate_limit_kbps    INTEGER NOT NULL,
  day_budget_bytes   INTEGER NOT NULL,
  month_budget_bytes INTEGER NOT NULL,
  windows            TEXT NOT NULL,
  auto_sync          INTEGER NOT NULL,
  interval_minutes   INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
);
CREATE TABLE link_usage (
  day    TEXT PRIMARY KEY,
  bytes  INTEGER NOT NULL,
  syncs  INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
    // 11 -> 12: the console's last job of each slot (a sync; a stick written or read), so the
    // console still shows how it ended after `outpost serve` restarts (ConsoleJobRecord).
    R"sql(
CREATE TABLE console_jobs (
  slot        TEXT PRIMARY KEY CHECK (slot IN ('sync', 'stick')),
  id          INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  trigger     TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  ended_at    INTEGER NOT NULL,
  state       TEXT NOT NULL,
  sentence    TEXT NOT NULL,
  fields      TEXT NOT NULL
) WITHOUT ROWID;
)sql",
};
static_assert(std::size(kMigrations) == SyncDb::kSchemaVersion);

constexpr std::string_view kCodeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";  // no i l o 0 1
constexpr size_t kCodeChars = 16;
constexpr std::string_view kCodeDomain{"outpost enrol code v1\0", 22};
// The BLAKE2b keys of EnrolCodeKeys (docs/sync-protocol.md, "Enrolment").
constexpr std::string_view kEnrolIdDomain = "outpost enrol code id v1";
constexpr std::string_view kEnrolPskDomain = "outpost enrol code psk v1";

// A 32-byte key column; nullopt if the value has another size.
std::optional<PublicKey> KeyAt(const db::Stmt& s, int col) {
  std::string bytes = s.Blob(col);
  if (bytes.size() != PublicKey::kSize) return std::nullopt;
  PublicKey key;
  __builtin_memcpy(key.bytes.data(), bytes.data(), PublicKey::kSize);
  return key;
}

// What is stored of a code: the hash of its 16 characters, without the dashes.
Hash CodeHash(const std::string& normalized) {
  std::string message(kCodeDomain);
  for (char c : normalized) {
    if (c != '-') message += c;
  }
  return Hash::Of(message);
}

// Keyed BLAKE2b-256 of the code's 16 bare characters, with `key` (a domain string, 16 to 64
// bytes) as the BLAKE2b key.
std::array<uint8_t, 32> KeyedCodeHash(std::string_view key, const std::string& normalized) {
  std::string bare;
  for (char c : normalized) {
    if (c != '-') bare += c;
  }
  std::array<uint8_t, 32> out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const uint8_t*>(bare.data()),
                     bare.size(), reinterpret_cast<const uint8_t*>(key.data()), key.size());
  sodium_memzero(bare.data(), bare.size());
  return out;
}

PeerInfo ReadPeer(const db::Stmt& s) {
  PeerInfo p;
  p.key = KeyAt(s, 0).value_or(PublicKey{});
  p.name = s.Text(1);
  p.role = s.Text(2);
  p.enrolled_at = s.Int(3);
  p.revoked_at = s.Int(4);
  p.last_seen = s.Int(5);
  p.last_via = s.Text(6);
  return p;
}

constexpr const char* kPeerColumns =
    "SELECT key, name, role, enrolled_at, revoked_at, last_seen, last_via FROM peers ";

}  // namespace

std::optional<std::string> NormalizeEnrolCode(std::string_view typed) {
  std::string bare;
  for (char c : typed) {
    if (c == '-' || c == ' ' || c == '\t') continue;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (kCodeAlphabet.find(c) == std::string_view::npos) return std::nullopt;
    bare += c;
  }
  if (bare.size() != kCodeChars) return std::nullopt;
  std::string grouped;
  for (size_t i = 0; i < bare.size(); i += 4) {
    if (!grouped.empty()) grouped += '-';
    grouped += bare.substr(i, 4);
  }
  return grouped;
}

std::optional<EnrolCodeKeys> DeriveEnrolCodeKeys(std::string_view typed) {
  auto normalized = NormalizeEnrolCode(typed);
  if (!normalized) return std::nullopt;
  EnrolCodeKeys keys;
  keys.id = KeyedCodeHash(kEnrolIdDomain, *normalized);
  keys.psk = KeyedCodeHash(kEnrolPskDomain, *normalized);
  sodium_memzero(normalized->data(), normalized->size());
  return keys;
}

struct SyncDb::Impl {
  sqlite3* conn = nullptr;
  std::mutex mu;
  std::function<int64_t()> clock;

  int64_t Now() const { return clock ? clock() : static_cast<int64_t>(std::time(nullptr)); }
  // The same in microseconds (the test clock's seconds, times a million).
  int64_t NowMicros() const {
    if (clock) return clock() * 1'000'000;
    auto since = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::microseconds>(since).count();
  }
  Status Migrate();
  int SchemaVersion();
  // Checks `code` inside an open transaction; the code's row's site name, or why it is refused.
  Result<std::string> CheckCode(const std::string& code, Hash* hash);
  // The same for the code stored under `hash`.
  Result<std::string> CheckCodeHash(const Hash& hash);
  Status UseCode(const Hash& hash, const PublicKey* by);
  // True if the code stored under `hash` was used by `key` (and not cancelled since).
  bool CodeUsedBy(const Hash& hash, const PublicKey& key);
  // AdmitSite inside an open transaction, for the code stored under `hash`.
  Result<PeerInfo> Admit(const Hash& hash, const PublicKey& site_key);
  // kInvalidArgument if `site_key` is a revoked peer's: it cannot enrol again.
  Status CheckNotRevoked(const PublicKey& site_key);
  std::optional<PeerInfo> PeerRow(const PublicKey& key);
  // The peers revoked: by key, or (if none has that key) by name, with the codes pending for
  // that name cancelled; how many rows that touched, revoked before or not.
  Result<int> RevokeByKey(const PublicKey& key, int64_t now);
  Result<int> RevokeByName(const std::string& name, int64_t now);
};

int SyncDb::Impl::SchemaVersion() { return db::SchemaVersion(conn); }

Status SyncDb::Impl::Migrate() { return db::Migrate(conn, kMigrations, "sync.db"); }

Result<std::string> SyncDb::Impl::CheckCode(const std::string& code, Hash* hash) {
  auto normalized = NormalizeEnrolCode(code);
  if (!normalized) {
    return InvalidArgument(
        "that is not an enrolment code: a code is 16 letters and digits, "
        "like abcd-efgh-jkmn-pqrs");
  }
  *hash = CodeHash(*normalized);
  return CheckCodeHash(*hash);
}

Result<std::string> SyncDb::Impl::CheckCodeHash(const Hash& hash) {
  db::Stmt s(conn,
             "SELECT site_name, expires_at, used_at, cancelled_at FROM enrol_codes "
             "WHERE code_hash = ?");
  s.Bind(1, hash);
  if (!s.Step()) {
    OUTPOST_RETURN_IF_ERROR(s.StepStatus());
    return NotFound("unknown enrolment code: mistyped, or made by another hub");
  }
  const std::string name = s.Text(0);
  if (s.Int(3) != 0) {
    return NotFound("the enrolment code for " + name + " was cancelled when " + name +
                    " was revoked");
  }
  if (s.Int(2) != 0) {
    return NotFound("the enrolment code for " + name + " was already used on " + UtcMinute(s.Int(2)) +
                    "; a code works once: make a new one with outpost hub enrol");
  }
  if (Now() >= s.Int(1)) {
    return NotFound("the enrolment code for " + name + " expired on " + UtcMinute(s.Int(1)) +
                    "; make a new one with outpost hub enrol");
  }
  return name;
}

Status SyncDb::Impl::UseCode(const Hash& hash, const PublicKey* by) {
  db::Stmt s(conn, "UPDATE enrol_codes SET used_at = ?, used_by = ? WHERE code_hash = ?");
  s.Bind(1, Now()).Bind(3, hash);
  if (by) s.BindBlob(2, by->bytes);
  return s.Run();
}

bool SyncDb::Impl::CodeUsedBy(const Hash& hash, const PublicKey& key) {
  db::Stmt used(conn,
                "SELECT used_by FROM enrol_codes WHERE code_hash = ? AND used_at != 0 AND "
                "cancelled_at = 0");
  used.Bind(1, hash);
  return used.Step() && KeyAt(used, 0) == key;
}

Status SyncDb::Impl::CheckNotRevoked(const PublicKey& site_key) {
  db::Stmt known(conn, "SELECT revoked_at FROM peers WHERE key = ?");
  known.BindBlob(1, site_key.bytes);
  if (known.Step() && known.Int(0) != 0) {
    return InvalidArgument("site key " + site_key.Fingerprint() + "… was revoked on " +
                           UtcMinute(known.Int(0)) + "; a revoked site cannot enrol again with it");
  }
  return known.StepStatus();
}

std::optional<PeerInfo> SyncDb::Impl::PeerRow(const PublicKey& key) {
  db::Stmt s(conn, std::string(kPeerColumns) + "WHERE key = ?");
  s.BindBlob(1, key.bytes);
  if (!s.Step()) return std::nullopt;
  return ReadPeer(s);
}

Result<int> SyncDb::Impl::RevokeByKey(const PublicKey& key, int64_t now) {
  int found = 0;
  db::Stmt count(conn, "SELECT COUNT(*) FROM peers WHERE key = ?");
  count.BindBlob(1, key.bytes);
  if (count.Step()) found = static_cast<int>(count.Int(0));
  db::Stmt s(conn, "UPDATE peers SET revoked_at = ? WHERE key = ? AND revoked_at = 0");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, now).BindBlob(2, key.bytes).Run());
  return found;
}

Result<int> SyncDb::Impl::RevokeByName(const std::string& name, int64_t now) {
  int found = 0;
  db::Stmt count(conn, "SELECT COUNT(*) FROM peers WHERE name = ?");
  count.Bind(1, name);
  if (count.Step()) found = static_cast<int>(count.Int(0));
  db::Stmt s(conn, "UPDATE peers SET revoked_at = ? WHERE name = ? AND revoked_at = 0");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, now).Bind(2, name).Run());
  db::Stmt codes(conn,
                 "UPDATE enrol_codes SET cancelled_at = ?1 WHERE site_name = ?2 AND "
                 "used_at = 0 AND cancelled_at = 0 AND expires_at > ?1");
  OUTPOST_RETURN_IF_ERROR(codes.Bind(1, now).Bind(2, name).Run());
  return found + sqlite3_changes(conn);
}

SyncDb::SyncDb(sqlite3* db) : impl_(new Impl) { impl_->conn = db; }

SyncDb::~SyncDb() { sqlite3_close(impl_->conn); }

bool IsHub(const NodePaths& paths) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(paths.sync_db, ec)) return false;
  auto db = SyncDb::Open(paths.sync_db);
  return db && (*db)->OwnRoot().has_value();
}

Result<std::unique_ptr<SyncDb>> SyncDb::Open(const std::filesystem::path& path) {
  auto db = db::OpenPrivate(path);
  if (!db) return db.error();
  std::unique_ptr<SyncDb> sync(new SyncDb(*db));
  Status st = sync->impl_->Migrate();
  if (!st.ok()) return st.WithContext("opening " + path.string());
  return sync;
}

int SyncDb::schema_version() {
  std::lock_guard lock(impl_->mu);
  return impl_->SchemaVersion();
}

void SyncDb::set_clock(std::function<int64_t()> now) { impl_->clock = std::move(now); }

int64_t SyncDb::Now() const { return impl_->Now(); }

// ---- enrolment codes ----

Result<std::string> SyncDb::NewEnrolCode(const std::string& site_name, int64_t ttl_seconds, bool to_file) {
  if (!IsValidSiteName(site_name)) {
    return InvalidArgument("site name \"" + EscapeInvalidUtf8(site_name) +
                           "\" must be 1 to 64 characters of a-z, 0-9 and '-', not starting "
                           "with '-'");
  }
  if (ttl_seconds <= 0) return InvalidArgument("an enrolment code must be valid for some time");
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  std::string bare(kCodeChars, ' ');
  for (char& c : bare) c = kCodeAlphabet[randombytes_uniform(kCodeAlphabet.size())];
  std::string code = *NormalizeEnrolCode(bare);
  std::lock_guard lock(impl_->mu);
  int64_t now = impl_->Now();
  EnrolCodeKeys keys = *DeriveEnrolCodeKeys(code);
  db::Stmt s(impl_->conn,
             "INSERT INTO enrol_codes (code_hash, site_name, created_at, expires_at, code_id, "
             "psk, to_file) VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, CodeHash(code)).Bind(2, site_name).Bind(3, now).Bind(4, now + ttl_seconds);
  s.BindBlob(5, keys.id).BindBlob(6, keys.psk).Bind(7, int64_t{to_file ? 1 : 0});
  OUTPOST_RETURN_IF_ERROR(s.Run());
  sodium_memzero(keys.psk.data(), keys.psk.size());
  return code;
}

Result<std::string> SyncDb::RedeemEnrolCode(const std::string& code) {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  Hash hash;
  auto name = impl_->CheckCode(code, &hash);
  if (!name) return name;
  OUTPOST_RETURN_IF_ERROR(impl_->UseCode(hash, nullptr));
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return name;
}

Result<PeerInfo> SyncDb::AdmitSite(const std::string& code, const PublicKey& site_key) {
  auto normalized = NormalizeEnrolCode(code);
  if (!normalized) {
    Hash unused;
    return impl_->CheckCode(code, &unused).error();  // says why it is not a code
  }
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  auto peer = impl_->Admit(CodeHash(*normalized), site_key);
  if (!peer) return peer;
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return peer;
}

Result<PeerInfo> SyncDb::AdmitSiteByCodeId(std::span<const uint8_t, 32> code_id,
                                           const PublicKey& site_key) {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt s(impl_->conn, "SELECT code_hash FROM enrol_codes WHERE code_id = ?");
  s.BindBlob(1, code_id);
  if (!s.Step()) {
    OUTPOST_RETURN_IF_ERROR(s.StepStatus());
    return NotFound("unknown enrolment code: mistyped, made by another hub, or made before "
                    "this hub could enrol over Noise XXpsk3");
  }
  auto hash = s.HashAt(0);
  if (!hash) return Corrupt("sync.db holds a malformed code hash");
  auto peer = impl_->Admit(*hash, site_key);
  if (!peer) return peer;
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return peer;
}

std::optional<noise::Psk> SyncDb::EnrolCodePsk(std::span<const uint8_t, 32> code_id) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT psk FROM enrol_codes WHERE code_id = ?");
  s.BindBlob(1, code_id);
  if (!s.Step()) return std::nullopt;
  std::string bytes = s.Blob(0);
  if (bytes.size() != noise::Psk{}.size()) return std::nullopt;
  noise::Psk psk;
  std::memcpy(psk.data(), bytes.data(), psk.size());
  sodium_memzero(bytes.data(), bytes.size());
  return psk;
}

Result<PeerInfo> SyncDb::Impl::Admit(const Hash& hash, const PublicKey& site_key) {
  // The same site presenting its code again (by a USB bundle, then at its first sync): it is in.
  if (CodeUsedBy(hash, site_key)) {
    if (auto peer = PeerRow(site_key)) {
      if (peer->revoked_at != 0) return InvalidArgument("site key " + site_key.Fingerprint() + "… was revoked");
      return *peer;
    }
  }
  auto name = CheckCodeHash(hash);
  if (!name) return name.error();
  OUTPOST_RETURN_IF_ERROR(CheckNotRevoked(site_key));
  OUTPOST_RETURN_IF_ERROR(UseCode(hash, &site_key));
  db::Stmt add(conn,
               "INSERT INTO peers (key, name, role, enrolled_at) VALUES (?, ?, 'site', ?) "
               "ON CONFLICT (key) DO UPDATE SET name = excluded.name");
  OUTPOST_RETURN_IF_ERROR(add.BindBlob(1, site_key.bytes).Bind(2, *name).Bind(3, Now()).Run());
  db::Stmt read(conn, std::string(kPeerColumns) + "WHERE key = ?");
  read.BindBlob(1, site_key.bytes);
  if (!read.Step()) {
    return read.StepStatus().ok() ? Internal("sync.db lost a peer") : read.StepStatus();
  }
  return ReadPeer(read);
}

std::vector<PendingEnrolment> SyncDb::PendingEnrolments() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT site_name, created_at, expires_at FROM enrol_codes WHERE used_at = 0 AND "
             "cancelled_at = 0 AND expires_at > ? ORDER BY created_at, site_name");
  s.Bind(1, impl_->Now());
  std::vector<PendingEnrolment> out;
  while (s.Step()) out.push_back({s.Text(0), s.Int(1), s.Int(2)});
  return out;
}

std::vector<EnrolCodeInfo> SyncDb::EnrolCodes(const std::string& site_name) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT site_name, created_at, expires_at, used_at, cancelled_at, to_file, psk "
             "FROM enrol_codes WHERE ?1 = '' OR site_name = ?1 ORDER BY created_at, site_name");
  s.Bind(1, site_name);
  std::vector<EnrolCodeInfo> out;
  while (s.Step()) {
    EnrolCodeInfo c{s.Text(0), s.Int(1), s.Int(2), s.Int(3), s.Int(4), s.Int(5) != 0, std::nullopt};
    std::string psk = s.Blob(6);
    if (psk.size() == noise::Psk{}.size()) {
      c.psk.emplace();
      std::memcpy(c.psk->data(), psk.data(), psk.size());
      sodium_memzero(psk.data(), psk.size());
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ---- peers ----

Status SyncDb::AddPeer(const PeerInfo& peer) {
  if (!IsValidSiteName(peer.name)) {
    return InvalidArgument("peer name \"" + EscapeInvalidUtf8(peer.name) + "\" is not valid");
  }
  if (peer.role != "site" && peer.role != "hub" && peer.role != "relay") {
    return InvalidArgument("a peer's role is \"site\", \"hub\" or \"relay\", not \"" +
                           EscapeInvalidUtf8(peer.role) + "\"");
  }
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "INSERT INTO peers (key, name, role, enrolled_at, last_seen) VALUES (?, ?, ?, ?, ?) "
             "ON CONFLICT (key) DO UPDATE SET name = excluded.name");
  s.BindBlob(1, peer.key.bytes).Bind(2, peer.name).Bind(3, peer.role);
  s.Bind(4, peer.enrolled_at ? peer.enrolled_at : impl_->Now()).Bind(5, peer.last_seen);
  return s.Run();
}

std::optional<PeerInfo> SyncDb::Peer(const PublicKey& key) {
  std::lock_guard lock(impl_->mu);
  return impl_->PeerRow(key);
}

std::vector<PeerInfo> SyncDb::Peers() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, std::string(kPeerColumns) + "ORDER BY name, key");
  std::vector<PeerInfo> out;
  while (s.Step()) out.push_back(ReadPeer(s));
  return out;
}

Status SyncDb::RevokePeer(const std::string& name_or_key) {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  int64_t now = impl_->Now();
  int found = 0;
  if (auto key = PublicKey::FromHex(name_or_key)) {
    auto by_key = impl_->RevokeByKey(*key, now);
    if (!by_key) return by_key.error();
    found = *by_key;
  }
  if (found == 0) {
    auto by_name = impl_->RevokeByName(name_or_key, now);
    if (!by_name) return by_name.error();
    found = *by_name;
  }
  if (found == 0) {
    return NotFound("no site or pending enrolment is named or has the key \"" +
                    EscapeInvalidUtf8(name_or_key) + "\"");
  }
  return txn.Commit();
}

Status SyncDb::ClaimChannel(const std::string& channel_id, const PublicKey& peer) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "INSERT INTO peer_channels (channel_id, peer_key, claimed_at) VALUES (?, ?, ?) "
             "ON CONFLICT (channel_id) DO NOTHING");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, channel_id).BindBlob(2, peer.bytes).Bind(3, impl_->Now()).Run());
  db::Stmt owner(impl_->conn,
                 "SELECT c.peer_key, p.name FROM peer_channels c LEFT JOIN peers p "
                 "ON p.key = c.peer_key WHERE c.channel_id = ?");
  owner.Bind(1, channel_id);
  if (!owner.Step()) return owner.StepStatus().ok() ? Internal("a claimed channel vanished") : owner.StepStatus();
  if (KeyAt(owner, 0) != peer) {
    return InvalidArgument("channel " + channel_id + " belongs to another site (\"" +
                           owner.Text(1) + "\")");
  }
  return Status::Ok();
}

Status SyncDb::NotePeerVersion(const PublicKey& peer, const std::string& channel_id,
                               uint64_t version) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "INSERT INTO peer_versions (peer_key, channel_id, version, updated_at) "
             "VALUES (?, ?, ?, ?) ON CONFLICT (peer_key, channel_id) DO UPDATE SET "
             "version = max(version, excluded.version), updated_at = excluded.updated_at");
  s.BindBlob(1, peer.bytes).Bind(2, channel_id).Bind(3, static_cast<int64_t>(version));
  OUTPOST_RETURN_IF_ERROR(s.Bind(4, impl_->Now()).Run());
  // A version sent by stick and now known to be served (or overtaken) needs no record.
  db::Stmt sent(impl_->conn,
                "DELETE FROM sent_versions WHERE peer_key = ? AND channel_id = ? AND version <= ?");
  return sent.BindBlob(1, peer.bytes).Bind(2, channel_id).Bind(3, static_cast<int64_t>(version)).Run();
}

Status SyncDb::NoteSentVersions(const PublicKey& peer, const std::map<std::string, uint64_t>& versions,
                                std::span<const uint8_t, 16> bundle_id, int64_t written_at) {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  for (const auto& [id, version] : versions) {
    db::Stmt s(impl_->conn,
               "INSERT OR REPLACE INTO sent_versions (peer_key, channel_id, version, bundle_id, "
               "written_at) SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM peer_versions "
               "WHERE peer_key = ?1 AND channel_id = ?2 AND version >= ?3)");
    s.BindBlob(1, peer.bytes).Bind(2, id).Bind(3, static_cast<int64_t>(version));
    OUTPOST_RETURN_IF_ERROR(s.BindBlob(4, bundle_id).Bind(5, written_at).Run());
  }
  return txn.Commit();
}

std::map<std::string, SentVersion> SyncDb::SentVersions(const PublicKey& peer) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT channel_id, version, bundle_id, written_at FROM sent_versions WHERE peer_key = ?");
  s.BindBlob(1, peer.bytes);
  std::map<std::string, SentVersion> out;
  while (s.Step()) {
    SentVersion v;
    v.version = static_cast<uint64_t>(s.Int(1));
    std::string id = s.Blob(2);
    if (id.size() == v.bundle_id.size()) std::memcpy(v.bundle_id.data(), id.data(), id.size());
    v.written_at = s.Int(3);
    out[s.Text(0)] = v;
  }
  return out;
}

Status SyncDb::ForgetSentVersions(const PublicKey& peer, int64_t written_up_to) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "DELETE FROM sent_versions WHERE peer_key = ? AND written_at <= ?");
  return s.BindBlob(1, peer.bytes).Bind(2, written_up_to).Run();
}

std::map<std::string, uint64_t> SyncDb::PeerVersions(const PublicKey& peer) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT channel_id, version FROM peer_versions WHERE peer_key = ?");
  s.BindBlob(1, peer.bytes);
  std::map<std::string, uint64_t> out;
  while (s.Step()) out[s.Text(0)] = static_cast<uint64_t>(s.Int(1));
  return out;
}

std::optional<PublicKey> SyncDb::ChannelOwner(const std::string& channel_id) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT peer_key FROM peer_channels WHERE channel_id = ?");
  s.Bind(1, channel_id);
  if (!s.Step()) return std::nullopt;
  return KeyAt(s, 0);
}

std::vector<std::string> SyncDb::ChannelsOf(const PublicKey& peer) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT channel_id FROM peer_channels WHERE peer_key = ? ORDER BY channel_id");
  s.BindBlob(1, peer.bytes);
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}

Status SyncDb::TouchPeer(const PublicKey& key) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "UPDATE peers SET last_seen = ? WHERE key = ?");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, impl_->Now()).BindBlob(2, key.bytes).Run());
  if (sqlite3_changes(impl_->conn) == 0)
    return NotFound("no peer has key " + key.Fingerprint() + "…");
  return Status::Ok();
}

Status SyncDb::TouchPeer(const PublicKey& key, std::string_view via) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "UPDATE peers SET last_seen = ?, last_via = ? WHERE key = ?");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, impl_->Now()).Bind(2, via).BindBlob(3, key.bytes).Run());
  if (sqlite3_changes(impl_->conn) == 0)
    return NotFound("no peer has key " + key.Fingerprint() + "…");
  return Status::Ok();
}

// ---- Hello counters ----

Result<bool> SyncDb::AcceptHelloCounter(const PublicKey& peer, uint64_t counter) {
  if (counter > static_cast<uint64_t>(INT64_MAX)) return false;
  auto value = static_cast<int64_t>(counter);
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "UPDATE peers SET last_hello = ? WHERE key = ? AND last_hello < ?");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, value).BindBlob(2, peer.bytes).Bind(3, value).Run());
  return sqlite3_changes(impl_->conn) == 1;
}

Result<uint64_t> SyncDb::NextHelloCounter() {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  int64_t last = 0;
  {
    db::Stmt s(impl_->conn, "SELECT value FROM self WHERE name = 'hello_counter'");
    if (s.Step()) last = s.Int(0);
  }
  if (last >= INT64_MAX - 1) return Corrupt("sync.db: the hello counter is at its end");
  int64_t next = std::max(last + 1, impl_->NowMicros());
  db::Stmt s(impl_->conn, "INSERT OR REPLACE INTO self (name, value) VALUES ('hello_counter', ?)");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, next).Run());
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return static_cast<uint64_t>(next);
}

// ---- the pinned hub (a site) ----

Status SyncDb::SetHub(const HubPin& pin) {
  if (!pin.address.empty() && !IsValidSyncAddress(pin.address)) {
    return InvalidArgument("\"" + EscapeInvalidUtf8(pin.address) + "\" is not HOST:PORT");
  }
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "INSERT OR REPLACE INTO hub (id, address, node_key, root_key, pending_code, "
             "site_name) VALUES (1, ?, ?, ?, ?, ?)");
  s.Bind(1, pin.address).BindBlob(2, pin.node_key.bytes).BindBlob(3, pin.root_key.bytes);
  s.Bind(4, pin.pending_code).Bind(5, pin.site_name);
  return s.Run();
}

std::optional<HubPin> SyncDb::Hub() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT address, node_key, root_key, pending_code, site_name FROM hub");
  if (!s.Step()) return std::nullopt;
  HubPin pin;
  pin.address = s.Text(0);
  pin.node_key = KeyAt(s, 1).value_or(PublicKey{});
  pin.root_key = KeyAt(s, 2).value_or(PublicKey{});
  pin.pending_code = s.Text(3);
  pin.site_name = s.Text(4);
  return pin;
}

Status SyncDb::NoteHubBundleSeen(const SeenHubBundle& seen) {
  if (HubBundleSeen().written_at > seen.written_at) return Status::Ok();
  std::string value(reinterpret_cast<const char*>(seen.bundle_id.data()), seen.bundle_id.size());
  for (int shift = 56; shift >= 0; shift -= 8) value += static_cast<char>((seen.written_at >> shift) & 0xff);
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "INSERT OR REPLACE INTO self (name, value) VALUES ('hub_bundle_seen', ?)");
  return s.BindBlob(1, std::string_view(value)).Run();
}

SeenHubBundle SyncDb::HubBundleSeen() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT value FROM self WHERE name = 'hub_bundle_seen'");
  SeenHubBundle seen;
  std::string value = s.Step() ? s.Blob(0) : std::string();
  if (value.size() != seen.bundle_id.size() + 8) return seen;
  std::memcpy(seen.bundle_id.data(), value.data(), seen.bundle_id.size());
  for (size_t i = seen.bundle_id.size(); i < value.size(); ++i) {
    seen.written_at = (seen.written_at << 8) | static_cast<uint8_t>(value[i]);
  }
  return seen;
}

// ---- the review of sites' channels (a hub) ----

const char* ReviewStateName(ReviewState state) {
  switch (state) {
    case ReviewState::kPending: return "pending";
    case ReviewState::kAdopted: return "adopted";
    case ReviewState::kDeclined: return "declined";
    case ReviewState::kSuperseded: return "superseded";
  }
  return "pending";
}

namespace {

std::optional<ReviewState> ReviewStateFromName(std::string_view name) {
  for (auto state : {ReviewState::kPending, ReviewState::kAdopted, ReviewState::kDeclined,
                     ReviewState::kSuperseded}) {
    if (name == ReviewStateName(state)) return state;
  }
  return std::nullopt;
}

constexpr const char* kReviewColumns =
    "SELECT r.id, r.channel_id, r.path, r.peer_key, coalesce(p.name, ''), r.version, "
    "r.fingerprint, r.kind, r.title, r.description, r.language, r.grade, r.subject, r.license, "
    "r.author, r.size, r.mime, r.blob, r.thumbnail, r.excerpt, r.seen_at, r.state, r.decided_at, "
    "r.reason, r.adopted_channel, r.adopted_topic, r.adopted_path, r.adopted_version "
    "FROM review_items r LEFT JOIN peers p ON p.key = r.peer_key ";

ReviewItem ReadReviewItem(const db::Stmt& s) {
  ReviewItem r;
  r.id = s.Int(0);
  r.channel_id = s.Text(1);
  r.path = s.Text(2);
  r.site = KeyAt(s, 3).value_or(PublicKey{});
  r.site_name = s.Text(4);
  r.version = s.Int(5);
  r.fingerprint = s.HashAt(6).value_or(Hash{});
  r.kind = s.Text(7);
  r.title = s.Text(8);
  r.description = s.Text(9);
  r.language = s.Text(10);
  r.grade = s.Text(11);
  r.subject = s.Text(12);
  r.license = s.Text(13);
  r.author = s.Text(14);
  r.size = static_cast<uint64_t>(s.Int(15));
  r.mime = s.Text(16);
  r.blob = s.HashAt(17).value_or(Hash{});
  r.thumbnail = s.HashAt(18);
  r.excerpt = s.Text(19);
  r.seen_at = s.Int(20);
  r.state = ReviewStateFromName(s.Text(21)).value_or(ReviewState::kPending);
  r.decided_at = s.Int(22);
  r.reason = s.Text(23);
  r.adopted_channel = s.Text(24);
  r.adopted_topic = s.Text(25);
  r.adopted_path = s.Text(26);
  r.adopted_version = s.Int(27);
  return r;
}

// Adds `item` of `channel_id` as a pending row (inside a transaction).
Status InsertReviewItem(sqlite3* conn, const std::string& channel_id, int64_t version,
                        const PublicKey& owner, const ReviewItem& item, int64_t now) {
  db::Stmt s(conn,
             "INSERT INTO review_items (channel_id, path, peer_key, version, fingerprint, kind, "
             "title, description, language, grade, subject, license, author, size, mime, blob, "
             "thumbnail, excerpt, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
             "?, ?, ?, ?)");
  s.Bind(1, channel_id).Bind(2, item.path).BindBlob(3, owner.bytes).Bind(4, version);
  s.Bind(5, item.fingerprint).Bind(6, item.kind).Bind(7, item.title).Bind(8, item.description);
  s.Bind(9, item.language).Bind(10, item.grade).Bind(11, item.subject).Bind(12, item.license);
  s.Bind(13, item.author).Bind(14, static_cast<int64_t>(item.size)).Bind(15, item.mime);
  s.Bind(16, item.blob).BindOptional(17, item.thumbnail).Bind(18, item.excerpt).Bind(19, now);
  return s.Run();
}

// The newest row of each path of `channel_id`: its id, fingerprint and state.
struct NewestReviewRow {
  int64_t id = 0;
  Hash fingerprint;
  std::string state;
};
std::map<std::string, NewestReviewRow> NewestReviewRows(sqlite3* conn,
                                                        const std::string& channel_id) {
  db::Stmt s(conn,
             "SELECT path, id, fingerprint, state FROM review_items WHERE channel_id = ? "
             "ORDER BY path, id");
  s.Bind(1, channel_id);
  std::map<std::string, NewestReviewRow> out;
  while (s.Step()) out[s.Text(0)] = {s.Int(1), s.HashAt(2).value_or(Hash{}), s.Text(3)};
  return out;
}

Status SupersedeReviewRow(sqlite3* conn, int64_t id, int64_t now) {
  db::Stmt s(conn,
             "UPDATE review_items SET state = 'superseded', decided_at = ? "
             "WHERE id = ? AND state = 'pending'");
  return s.Bind(1, now).Bind(2, id).Run();
}

}  // namespace

std::map<std::string, PublicKey> SyncDb::SiteChannels() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT channel_id, peer_key FROM peer_channels ORDER BY channel_id");
  std::map<std::string, PublicKey> out;
  while (s.Step()) {
    if (auto key = KeyAt(s, 1)) out[s.Text(0)] = *key;
  }
  return out;
}

int64_t SyncDb::ReviewedVersion(const std::string& channel_id) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT version FROM review_channels WHERE channel_id = ?");
  s.Bind(1, channel_id);
  return s.Step() ? s.Int(0) : 0;
}

Status SyncDb::NoteReviewVersion(const std::string& channel_id, int64_t version,
                                 const std::vector<ReviewItem>& items) {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt seen(impl_->conn, "SELECT version FROM review_channels WHERE channel_id = ?");
  seen.Bind(1, channel_id);
  if (seen.Step() && seen.Int(0) >= version) return Status::Ok();
  db::Stmt owner(impl_->conn, "SELECT peer_key FROM peer_channels WHERE channel_id = ?");
  owner.Bind(1, channel_id);
  auto key = owner.Step() ? KeyAt(owner, 0) : std::nullopt;
  if (!key) return NotFound("channel " + channel_id + " is not a site's channel");
  const int64_t now = impl_->Now();
  auto newest = NewestReviewRows(impl_->conn, channel_id);
  for (const auto& item : items) {
    auto it = newest.find(item.path);
    if (it != newest.end()) {
      const NewestReviewRow row = it->second;
      newest.erase(it);
      // Unchanged since its last row, unless that row was dropped (the path had gone).
      if (row.fingerprint == item.fingerprint && row.state != "superseded") continue;
      OUTPOST_RETURN_IF_ERROR(SupersedeReviewRow(impl_->conn, row.id, now));
    }
    OUTPOST_RETURN_IF_ERROR(InsertReviewItem(impl_->conn, channel_id, version, *key, item, now));
  }
  for (const auto& [path, row] : newest) {  // paths gone from this version
    OUTPOST_RETURN_IF_ERROR(SupersedeReviewRow(impl_->conn, row.id, now));
  }
  db::Stmt note(impl_->conn,
                "INSERT OR REPLACE INTO review_channels (channel_id, version) VALUES (?, ?)");
  OUTPOST_RETURN_IF_ERROR(note.Bind(1, channel_id).Bind(2, version).Run());
  return txn.Commit();
}

std::vector<ReviewItem> SyncDb::ReviewItems(bool all, const std::optional<PublicKey>& site) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, std::string(kReviewColumns) +
                              "WHERE (?1 OR r.state = 'pending') AND (?2 IS NULL OR "
                              "r.peer_key = ?2) ORDER BY r.id");
  s.Bind(1, int64_t{all ? 1 : 0});
  if (site) s.BindBlob(2, site->bytes);
  else s.BindNull(2);
  std::vector<ReviewItem> out;
  while (s.Step()) out.push_back(ReadReviewItem(s));
  return out;
}

std::optional<ReviewItem> SyncDb::ReviewItemById(int64_t id) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, std::string(kReviewColumns) + "WHERE r.id = ?");
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadReviewItem(s);
}

namespace {

Status CheckDecision(const ReviewDecision& d) {
  if (d.state == ReviewState::kAdopted) {
    if (d.adopted_channel.empty()) return InvalidArgument("an adoption names its channel");
    return Status::Ok();
  }
  if (d.state != ReviewState::kDeclined) {
    return InvalidArgument("a decision adopts or declines");
  }
  if (d.reason.empty()) return InvalidArgument("a decline gives its reason (--reason TEXT)");
  if (d.reason.size() > kMaxReviewReason) {
    return InvalidArgument("the reason is " + std::to_string(d.reason.size()) +
                           " bytes long; at most " + std::to_string(kMaxReviewReason));
  }
  if (!IsValidUtf8(d.reason)) return InvalidArgument("the reason is not valid UTF-8");
  return Status::Ok();
}

}  // namespace

Status SyncDb::DecideReview(int64_t id, const ReviewDecision& d) {
  OUTPOST_RETURN_IF_ERROR(CheckDecision(d));
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt s(impl_->conn, "SELECT state, decided_at FROM review_items WHERE id = ?");
  s.Bind(1, id);
  if (!s.Step()) {
    OUTPOST_RETURN_IF_ERROR(s.StepStatus());
    return NotFound("no review item has id " + std::to_string(id) +
                    " (outpost hub review list shows them)");
  }
  std::string state = s.Text(0);
  if (state != "pending") {
    return InvalidArgument("review item " + std::to_string(id) + " is " + state +
                           (state == "superseded" ? " by a newer one from its site"
                                                  : " already, on " + UtcMinute(s.Int(1))));
  }
  db::Stmt u(impl_->conn,
             "UPDATE review_items SET state = ?, decided_at = ?, reason = ?, adopted_channel = ?, "
             "adopted_topic = ?, adopted_path = ?, adopted_version = ? WHERE id = ?");
  u.Bind(1, ReviewStateName(d.state)).Bind(2, impl_->Now()).Bind(3, d.reason);
  u.Bind(4, d.adopted_channel).Bind(5, d.adopted_topic).Bind(6, d.adopted_path);
  OUTPOST_RETURN_IF_ERROR(u.Bind(7, d.adopted_version).Bind(8, id).Run());
  return txn.Commit();
}

// ---- review outcomes: a hub's decisions on its way to the site, and on the site ----

namespace {

ReviewOutcome ReadOutcome(const db::Stmt& s) {
  ReviewOutcome o;
  o.id = s.Int(0);
  o.channel_id = s.Text(1);
  o.path = s.Text(2);
  o.blob = s.HashAt(3).value_or(Hash{});
  o.state = s.Text(4) == "adopted" ? ReviewState::kAdopted : ReviewState::kDeclined;
  o.decided_at = s.Int(5);
  o.reason = s.Text(6);
  o.adopted_channel = s.Text(7);
  o.adopted_topic = s.Text(8);
  o.adopted_version = s.Int(9);
  o.received_at = s.Int(10);
  return o;
}

}  // namespace

std::vector<ReviewOutcome> SyncDb::UndeliveredOutcomes(const PublicKey& site) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT id, channel_id, path, blob, state, decided_at, reason, adopted_channel, "
             "adopted_topic, adopted_version, 0 FROM review_items WHERE peer_key = ? AND "
             "state IN ('adopted', 'declined') AND delivered_at = 0 ORDER BY decided_at, id "
             "LIMIT ?");
  s.BindBlob(1, site.bytes).Bind(2, static_cast<int64_t>(kMaxOutcomesPerMessage));
  std::vector<ReviewOutcome> out;
  while (s.Step()) out.push_back(ReadOutcome(s));
  return out;
}

Status SyncDb::NoteOutcomesDelivered(const PublicKey& site, const std::vector<int64_t>& ids) {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  for (int64_t id : ids) {
    db::Stmt s(impl_->conn,
               "UPDATE review_items SET delivered_at = ? WHERE id = ? AND peer_key = ? AND "
               "delivered_at = 0");
    OUTPOST_RETURN_IF_ERROR(s.Bind(1, impl_->Now()).Bind(2, id).BindBlob(3, site.bytes).Run());
  }
  return txn.Commit();
}

Status SyncDb::NoteOutcomesSent(const PublicKey& site, const std::vector<int64_t>& ids,
                                int64_t written_at) {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  for (int64_t id : ids) {
    db::Stmt s(impl_->conn,
               "UPDATE review_items SET sent_written_at = ? WHERE id = ? AND peer_key = ? AND "
               "delivered_at = 0 AND sent_written_at = 0");
    OUTPOST_RETURN_IF_ERROR(s.Bind(1, written_at).Bind(2, id).BindBlob(3, site.bytes).Run());
  }
  return txn.Commit();
}

Status SyncDb::NoteHubBundleSeenBySite(const PublicKey& site, int64_t written_at) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "UPDATE review_items SET delivered_at = ? WHERE peer_key = ? AND delivered_at = 0 "
             "AND sent_written_at != 0 AND sent_written_at <= ?");
  return s.Bind(1, impl_->Now()).BindBlob(2, site.bytes).Bind(3, written_at).Run();
}

Status SyncDb::NoteReviewOutcomes(const std::vector<ReviewOutcome>& outcomes) {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  for (const auto& o : outcomes) {
    if (o.state != ReviewState::kAdopted && o.state != ReviewState::kDeclined) {
      return InvalidArgument("an outcome is an adoption or a decline");
    }
    db::Stmt s(impl_->conn,
               "INSERT OR IGNORE INTO review_outcomes (id, channel_id, path, blob, state, "
               "decided_at, reason, adopted_channel, adopted_topic, adopted_version, "
               "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.Bind(1, o.id).Bind(2, o.channel_id).Bind(3, o.path).Bind(4, o.blob);
    s.Bind(5, ReviewStateName(o.state)).Bind(6, o.decided_at).Bind(7, o.reason);
    s.Bind(8, o.adopted_channel).Bind(9, o.adopted_topic).Bind(10, o.adopted_version);
    OUTPOST_RETURN_IF_ERROR(s.Bind(11, impl_->Now()).Run());
  }
  return txn.Commit();
}

std::vector<ReviewOutcome> SyncDb::ReviewOutcomes(const std::string& channel_id) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT id, channel_id, path, blob, state, decided_at, reason, adopted_channel, "
             "adopted_topic, adopted_version, received_at FROM review_outcomes "
             "WHERE ?1 = '' OR channel_id = ?1 ORDER BY decided_at DESC, id DESC");
  s.Bind(1, channel_id);
  std::vector<ReviewOutcome> out;
  while (s.Step()) out.push_back(ReadOutcome(s));
  return out;
}

// ---- the hub itself ----

Status SyncDb::SetOwnRoot(const PublicKey& root) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "INSERT OR REPLACE INTO self (name, value) VALUES ('root_key', ?)");
  return s.BindBlob(1, root.bytes).Run();
}

std::optional<PublicKey> SyncDb::OwnRoot() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT value FROM self WHERE name = 'root_key'");
  if (!s.Step()) return std::nullopt;
  return KeyAt(s, 0);
}

Status SyncDb::SetOwnAddress(const std::string& address) {
  if (!IsValidSyncAddress(address)) {
    return InvalidArgument("\"" + EscapeInvalidUtf8(address) +
                           "\" is not HOST:PORT (a port from 1 to 65535)");
  }
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "INSERT OR REPLACE INTO self (name, value) VALUES ('address', ?)");
  return s.Bind(1, std::string_view(address)).Run();
}

std::string SyncDb::OwnAddress() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT value FROM self WHERE name = 'address'");
  return s.Step() ? s.Text(0) : "";
}

// ---- a site: its hub's last offer, its last sync ----

Status SyncDb::NoteHubHeads(const std::vector<HubHead>& heads) {
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  for (const HubHead& h : heads) {
    db::Stmt s(impl_->conn,
               "INSERT OR REPLACE INTO hub_heads (channel_id, version, bytes, noted_at) "
               "VALUES (?, ?, ?, ?)");
    s.Bind(1, h.channel_id).Bind(2, static_cast<int64_t>(h.version));
    OUTPOST_RETURN_IF_ERROR(s.Bind(3, static_cast<int64_t>(h.bytes)).Bind(4, impl_->Now()).Run());
  }
  return txn.Commit();
}

std::vector<HubHead> SyncDb::HubHeads() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT channel_id, version, bytes, noted_at FROM hub_heads ORDER BY channel_id");
  std::vector<HubHead> out;
  while (s.Step()) {
    out.push_back({s.Text(0), static_cast<uint64_t>(s.Int(1)), static_cast<uint64_t>(s.Int(2)),
                   s.Int(3)});
  }
  return out;
}

Status SyncDb::NoteSyncRun(const SyncRun& run) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "INSERT OR REPLACE INTO sync_runs (id, started_at, finished_at, ok, complete, "
             "bytes_received, message) VALUES (1, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, run.started_at).Bind(2, run.finished_at).Bind(3, int64_t{run.ok});
  s.Bind(4, int64_t{run.complete}).Bind(5, static_cast<int64_t>(run.bytes_received));
  return s.Bind(6, run.message).Run();
}

std::optional<SyncRun> SyncDb::LastSyncRun() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT started_at, finished_at, ok, complete, bytes_received, message "
             "FROM sync_runs WHERE id = 1");
  if (!s.Step()) return std::nullopt;
  return SyncRun{s.Int(0), s.Int(1), s.Int(2) != 0, s.Int(3) != 0,
                 static_cast<uint64_t>(s.Int(4)), s.Text(5)};
}

Status SyncDb::NoteConsoleJob(const ConsoleJobRecord& job) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "INSERT OR REPLACE INTO console_jobs (slot, id, kind, trigger, started_at, ended_at, "
             "state, sentence, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, job.slot).Bind(2, static_cast<int64_t>(job.id)).Bind(3, job.kind);
  s.Bind(4, job.trigger).Bind(5, job.started_at).Bind(6, job.ended_at).Bind(7, job.state);
  return s.Bind(8, job.sentence).Bind(9, job.fields).Run();
}

std::vector<ConsoleJobRecord> SyncDb::ConsoleJobs() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT slot, id, kind, trigger, started_at, ended_at, state, sentence, fields "
             "FROM console_jobs ORDER BY slot");
  std::vector<ConsoleJobRecord> out;
  while (s.Step()) {
    out.push_back({s.Text(0), static_cast<uint64_t>(std::max<int64_t>(0, s.Int(1))), s.Text(2),
                   s.Text(3), s.Int(4), s.Int(5), s.Text(6), s.Text(7), s.Text(8)});
  }
  return out;
}

// ---- hub: its sites' reports ----

namespace {

// The lines of `text`, without their newlines; empty ones left out.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty()) out.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::string ServedText(const std::map<std::string, uint64_t>& served) {
  std::string out;
  for (const auto& [id, v] : served) out += id + " " + std::to_string(v) + "\n";
  return out;
}

std::map<std::string, uint64_t> ParseServed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (std::string_view line : SplitLines(text)) {
    size_t space = line.rfind(' ');
    if (space == std::string_view::npos) continue;
    out[std::string(line.substr(0, space))] = std::strtoull(std::string(line.substr(space + 1)).c_str(), nullptr, 10);
  }
  return out;
}

std::string ErrorsText(const std::vector<ReportedError>& errors) {
  std::string out;
  for (const auto& e : errors) out += ErrorLogLine(e.time, e.level, e.message);
  return out;
}

std::vector<ReportedError> ParseErrors(std::string_view text) {
  std::vector<ReportedError> out;
  for (std::string_view line : SplitLines(text)) {
    if (auto e = ParseErrorLogLine(line)) out.push_back({e->time, e->level, e->message});
  }
  return out;
}

// Columns `at`.. of a site_reports row: reported_at, received_at, via, software, disk_total,
// disk_free, served, errors_logged, errors.
StoredSiteReport ReadStoredReport(const db::Stmt& s, int at) {
  StoredSiteReport r;
  r.reported_at = s.Int(at);
  r.received_at = s.Int(at + 1);
  r.via = s.Text(at + 2);
  r.software = s.Text(at + 3);
  r.disk_total = static_cast<uint64_t>(s.Int(at + 4));
  r.disk_free = static_cast<uint64_t>(s.Int(at + 5));
  r.served = ParseServed(s.Text(at + 6));
  r.errors_logged = static_cast<uint32_t>(s.Int(at + 7));
  r.errors = ParseErrors(s.Text(at + 8));
  return r;
}

constexpr const char* kReportColumns =
    "reported_at, received_at, via, software, disk_total, disk_free, served, errors_logged, errors";

Status ReplaceReport(sqlite3* conn, const SiteReport& r, std::string_view via, int64_t now) {
  db::Stmt s(conn, std::string("INSERT OR REPLACE INTO site_reports (peer_key, ") + kReportColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.BindBlob(1, r.site.bytes).Bind(2, r.reported_at).Bind(3, now).Bind(4, via).Bind(5, r.software);
  s.Bind(6, static_cast<int64_t>(std::min<uint64_t>(r.disk_total, INT64_MAX)));
  s.Bind(7, static_cast<int64_t>(std::min<uint64_t>(r.disk_free, INT64_MAX)));
  s.Bind(8, ServedText(r.served)).Bind(9, static_cast<int64_t>(r.errors_logged));
  OUTPOST_RETURN_IF_ERROR(s.Bind(10, ErrorsText(r.errors)).Run());
  db::Stmt u(conn,
             "INSERT INTO site_usage (day, channel_id, resource, peer_key, views) VALUES (?, ?, ?, ?, ?) "
             "ON CONFLICT (day, channel_id, resource, peer_key) DO UPDATE SET views = excluded.views");
  for (const ReportedUsage& c : r.usage) {
    u.Bind(1, c.day).Bind(2, c.channel_id).Bind(3, c.resource).BindBlob(4, r.site.bytes);
    OUTPOST_RETURN_IF_ERROR(u.Bind(5, static_cast<int64_t>(c.views)).Run());
  }
  return Status::Ok();
}

}  // namespace

Result<bool> SyncDb::NoteSiteReport(const SiteReport& report, std::string_view via) {
  if (via != kViaLink && via != kViaStick) return InvalidArgument("a report comes by link or stick");
  std::lock_guard lock(impl_->mu);
  db::Transaction txn(impl_->conn);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  if (!impl_->PeerRow(report.site)) return NotFound("no peer has key " + report.site.Fingerprint() + "…");
  db::Stmt stored(impl_->conn, "SELECT reported_at FROM site_reports WHERE peer_key = ?");
  stored.BindBlob(1, report.site.bytes);
  bool newer = !stored.Step() || report.reported_at > stored.Int(0);
  OUTPOST_RETURN_IF_ERROR(stored.StepStatus());
  int64_t now = impl_->Now();
  if (newer) {
    OUTPOST_RETURN_IF_ERROR(ReplaceReport(impl_->conn, report, via, now));
  } else {
    db::Stmt s(impl_->conn, "UPDATE site_reports SET received_at = ?, via = ? WHERE peer_key = ?");
    OUTPOST_RETURN_IF_ERROR(s.Bind(1, now).Bind(2, via).BindBlob(3, report.site.bytes).Run());
  }
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return newer;
}

std::optional<StoredSiteReport> SyncDb::SiteReportOf(const PublicKey& site) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, std::string("SELECT ") + kReportColumns + " FROM site_reports WHERE peer_key = ?");
  s.BindBlob(1, site.bytes);
  if (!s.Step()) return std::nullopt;
  return ReadStoredReport(s, 0);
}

std::vector<SiteRow> SyncDb::SiteRows() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT p.key, p.name, p.role, p.enrolled_at, p.revoked_at, p.last_seen, p.last_via, "
             "c.channels, r.peer_key IS NOT NULL, r.reported_at, r.received_at, r.via, r.software, "
             "r.disk_total, r.disk_free, r.served, r.errors_logged, r.errors FROM peers p "
             "LEFT JOIN site_reports r ON r.peer_key = p.key "
             "LEFT JOIN (SELECT peer_key, group_concat(channel_id, char(10)) AS channels FROM "
             "(SELECT peer_key, channel_id FROM peer_channels ORDER BY channel_id) GROUP BY peer_key) c "
             "ON c.peer_key = p.key ORDER BY p.name, p.key");
  std::vector<SiteRow> out;
  while (s.Step()) {
    SiteRow row;
    row.peer = ReadPeer(s);
    const std::string channels = s.Text(7);  // SplitLines' views point into it
    for (std::string_view id : SplitLines(channels)) row.channels.emplace_back(id);
    if (s.Int(8)) row.report = ReadStoredReport(s, 9);
    out.push_back(std::move(row));
  }
  return out;
}

int64_t SyncDb::DataVersion() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "PRAGMA data_version");
  return s.Step() ? s.Int(0) : -1;
}

std::vector<ReportedUsage> SyncDb::UsageAcrossSites(const std::string& first_day, const std::string& last_day) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT day, channel_id, resource, sum(views) FROM site_usage WHERE day BETWEEN ? AND ? "
             "GROUP BY day, channel_id, resource ORDER BY day, channel_id, resource");
  s.Bind(1, first_day).Bind(2, last_day);
  std::vector<ReportedUsage> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Text(2), static_cast<uint64_t>(s.Int(3))});
  return out;
}

// ---- site: the link policy ----

Status SyncDb::SetLinkPolicy(const LinkPolicy& policy) {
  OUTPOST_RETURN_IF_ERROR(ValidateLinkPolicy(policy));
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "INSERT OR REPLACE INTO link_policy (id, rate_limit_kbps, day_budget_bytes, "
             "month_budget_bytes, windows, auto_sync, interval_minutes, updated_at) "
             "VALUES (1, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, static_cast<int64_t>(policy.rate_limit_kbps));
  s.Bind(2, static_cast<int64_t>(policy.day_budget_bytes));
  s.Bind(3, static_cast<int64_t>(policy.month_budget_bytes));
  s.BindText(4, FormatWindows(policy.windows)).Bind(5, int64_t{policy.auto_sync});
  s.Bind(6, int64_t{policy.interval_minutes});
  return s.Bind(7, impl_->Now()).Run();
}

// A row that no longer parses (edited by hand) reads as the default policy, logged by nobody:
// SetLinkPolicy never writes one.
LinkPolicy SyncDb::GetLinkPolicy() {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "SELECT rate_limit_kbps, day_budget_bytes, month_budget_bytes, windows, auto_sync, "
             "interval_minutes FROM link_policy WHERE id = 1");
  LinkPolicy p;
  if (!s.Step()) return p;
  p.rate_limit_kbps = static_cast<uint64_t>(std::max<int64_t>(s.Int(0), 0));
  p.day_budget_bytes = static_cast<uint64_t>(std::max<int64_t>(s.Int(1), 0));
  p.month_budget_bytes = static_cast<uint64_t>(std::max<int64_t>(s.Int(2), 0));
  auto windows = ParseWindows(s.Text(3));
  if (windows) p.windows = std::move(*windows);
  p.auto_sync = s.Int(4) != 0;
  p.interval_minutes = static_cast<int>(s.Int(5));
  return ValidateLinkPolicy(p).ok() ? p : LinkPolicy{};
}

Status SyncDb::NoteLinkUsage(const std::string& day, uint64_t bytes) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn,
             "INSERT INTO link_usage (day, bytes, syncs) VALUES (?1, ?2, 1) ON CONFLICT (day) "
             "DO UPDATE SET bytes = bytes + ?2, syncs = syncs + 1");
  return s.BindText(1, day).Bind(2, static_cast<int64_t>(bytes)).Run();
}

DailyUsage SyncDb::LinkUsageSince(const std::string& first_day) {
  std::lock_guard lock(impl_->mu);
  db::Stmt s(impl_->conn, "SELECT day, bytes FROM link_usage WHERE day >= ? ORDER BY day");
  s.BindText(1, first_day);
  DailyUsage out;
  while (s.Step()) out[s.Text(0)] = static_cast<uint64_t>(std::max<int64_t>(s.Int(1), 0));
  return out;
}

}  // namespace outpost
