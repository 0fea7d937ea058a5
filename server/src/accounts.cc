// Accounts, passwords and sessions (accounts.h).
#include "outpost/server/accounts.h"

#include <sodium.h>

#include <algorithm>
#include <ctime>

#include "outpost/base/db.h"
#include "outpost/base/hash.h"
#include "outpost/base/text.h"

namespace outpost {

namespace {

const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE accounts (
  name          TEXT PRIMARY KEY,
  role          TEXT NOT NULL CHECK (role IN ('coordinator', 'teacher')),
  password      TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  disabled_at   INTEGER NOT NULL DEFAULT 0,
  last_login    INTEGER NOT NULL DEFAULT 0,
  failures      INTEGER NOT NULL DEFAULT 0,
  locked_until  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE sessions (
  token_hash  BLOB PRIMARY KEY,
  name        TEXT NOT NULL,
  csrf        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  last_used   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_name ON sessions(name);
CREATE TABLE setup (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  code_hash   BLOB NOT NULL,
  created_at  INTEGER NOT NULL
);
)sql",
    // 1 -> 2: the hub's roles (a CHECK cannot be altered: the table is made again).
    R"sql(
CREATE TABLE accounts_2 (
  name          TEXT PRIMARY KEY,
  role          TEXT NOT NULL
                CHECK (role IN ('coordinator', 'teacher', 'publisher', 'hub-admin')),
  password      TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  disabled_at   INTEGER NOT NULL DEFAULT 0,
  last_login    INTEGER NOT NULL DEFAULT 0,
  failures      INTEGER NOT NULL DEFAULT 0,
  locked_until  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO accounts_2 SELECT name, role, password, created_at, disabled_at, last_login,
                              failures, locked_until FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_2 RENAME TO accounts;
)sql",
};
static_assert(std::size(kMigrations) == AccountStore::kSchemaVersion);

constexpr std::string_view kCodeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
constexpr int64_t kTouchEvery = 300;  // a session's last use is written at most this often

// 256 random bits as 64 hex digits (a session token, a CSRF token).
std::string RandomToken() {
  Hash bits;
  randombytes_buf(bits.bytes.data(), bits.bytes.size());
  return bits.Hex();
}

// What a secret is stored as: its BLAKE2b-256, never the secret.
Hash SecretHash(std::string_view domain, std::string_view secret) {
  std::string message(domain);
  message += '\0';
  message += secret;
  return Hash::Of(message);
}

// A setup code as typed: case, spaces and dashes do not matter.
std::string NormalCode(std::string_view typed) {
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  return out;
}

Account AccountAt(const db::Stmt& s) {
  Account a;
  a.name = s.Text(0);
  a.role = RoleFromName(s.Text(1)).value_or(Role::kTeacher);
  a.created_at = s.Int(2);
  a.disabled_at = s.Int(3);
  a.last_login = s.Int(4);
  a.locked_until = s.Int(5);
  return a;
}

constexpr char kAccountColumns[] =
    "SELECT name, role, created_at, disabled_at, last_login, locked_until, password FROM accounts";

}  // namespace

std::string_view AccountState(const Account& a, int64_t now) {
  if (a.disabled_at != 0) return "disabled";
  if (a.locked_until > now) return "locked";
  return "active";
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kCoordinator: return "coordinator";
    case Role::kTeacher: return "teacher";
    case Role::kPublisher: return "publisher";
    case Role::kHubAdmin: return "hub-admin";
  }
  return "teacher";
}

std::optional<Role> RoleFromName(std::string_view name) {
  for (Role role : {Role::kCoordinator, Role::kTeacher, Role::kPublisher, Role::kHubAdmin}) {
    if (name == RoleName(role)) return role;
  }
  return std::nullopt;
}

bool IsHubRole(Role role) { return role == Role::kPublisher || role == Role::kHubAdmin; }

Result<std::unique_ptr<AccountStore>> AccountStore::Open(const std::filesystem::path& path) {
  if (sodium_init() < 0) return Internal("libsodium did not start");
  auto db = db::OpenPrivate(path);
  if (!db) return db.error();
  std::unique_ptr<AccountStore> store(new AccountStore(*db));
  Status st = db::Migrate(*db, kMigrations, "accounts.db");
  if (!st.ok()) return st.WithContext("opening " + path.string());
  return store;
}

AccountStore::AccountStore(sqlite3* db) : db_(db) {}

AccountStore::~AccountStore() { sqlite3_close(db_); }

void AccountStore::set_clock(std::function<int64_t()> now) { clock_ = std::move(now); }

int64_t AccountStore::Now() const {
  return clock_ ? clock_() : static_cast<int64_t>(std::time(nullptr));
}

Status AccountStore::CheckName(std::string_view name) {
  auto ok = [](char c, bool first) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    return alnum || (!first && (c == '.' || c == '-' || c == '_'));
  };
  bool good = !name.empty() && name.size() <= 32;
  for (size_t i = 0; good && i < name.size(); ++i) good = ok(name[i], i == 0);
  if (good) return Status::Ok();
  return InvalidArgument("a name is 1 to 32 of a-z, 0-9, '.', '-' and '_', starting with a "
                         "letter or digit (\"" + EscapeInvalidUtf8(name.substr(0, 40)) +
                         "\" is not)");
}

Status AccountStore::CheckPassword(std::string_view password) {
  if (password.size() < kMinPassword) {
    return InvalidArgument("a password has at least " + std::to_string(kMinPassword) +
                           " characters");
  }
  if (password.size() > kMaxPassword) {
    return InvalidArgument("a password has at most " + std::to_string(kMaxPassword) + " bytes");
  }
  if (!IsValidUtf8(password)) return InvalidArgument("a password must be UTF-8 text");
  return Status::Ok();
}

// ---- passwords

// One of kMaxHashing turns to hash: Argon2id takes kPasswordMemory for its time.
int AccountStore::peak_hashing() {
  std::lock_guard lock(hashing_mu_);
  return peak_hashing_;
}

class AccountStore::HashingTurn {
 public:
  explicit HashingTurn(AccountStore* store) : store_(store) {
    std::unique_lock wait(store_->hashing_mu_);
    store_->hashing_cv_.wait(wait, [&] { return store_->hashing_ < kMaxHashing; });
    ++store_->hashing_;
    store_->peak_hashing_ = std::max(store_->peak_hashing_, store_->hashing_);
  }
  ~HashingTurn() {
    {
      std::lock_guard done(store_->hashing_mu_);
      --store_->hashing_;
    }
    store_->hashing_cv_.notify_one();
  }
  HashingTurn(const HashingTurn&) = delete;
  HashingTurn& operator=(const HashingTurn&) = delete;

 private:
  AccountStore* store_;
};

Result<std::string> AccountStore::HashPassword(std::string_view password) {
  HashingTurn turn(this);
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kPasswordOps,
                            kPasswordMemory, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Internal("not enough memory to hash a password");
  }
  return std::string(out);
}

bool AccountStore::VerifyPassword(const std::string& stored, std::string_view password) {
  HashingTurn turn(this);
  return crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
}

// What an unknown name's password is checked against, so that it costs what a known one does.
const std::string& AccountStore::DecoyHash() {
  std::call_once(decoy_once_, [this] {
    auto hash = HashPassword(RandomToken());
    decoy_ = hash ? *hash : "";
  });
  return decoy_;
}

// ---- accounts

Status AccountStore::Add(std::string_view name, Role role, std::string_view password) {
  OUTPOST_RETURN_IF_ERROR(CheckName(name));
  OUTPOST_RETURN_IF_ERROR(CheckPassword(password));
  auto hash = HashPassword(password);
  if (!hash) return hash.error();
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "INSERT INTO accounts (name, role, password, created_at) VALUES (?, ?, ?, ?)");
  s.Bind(1, name).Bind(2, RoleName(role)).Bind(3, *hash).Bind(4, Now());
  Status st = s.Run();
  if (st.code() == StatusCode::kInvalidArgument) {
    return Status(StatusCode::kAlreadyExists, "there is already an account named " +
                                                  std::string(name));
  }
  // A coordinator made on the box's shell: the first-run page's code has no more use.
  if (st.ok() && (role == Role::kCoordinator || role == Role::kHubAdmin)) {
    st = db::Exec(db_, "DELETE FROM setup");
  }
  return st;
}

std::vector<Account> AccountStore::List() {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, std::string(kAccountColumns) + " ORDER BY role, name");
  std::vector<Account> out;
  while (s.Step()) out.push_back(AccountAt(s));
  return out;
}

std::optional<Account> AccountStore::Find(std::string_view name) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, std::string(kAccountColumns) + " WHERE name = ?");
  s.Bind(1, name);
  if (!s.Step()) return std::nullopt;
  return AccountAt(s);
}

bool AccountStore::HasCoordinator() {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "SELECT 1 FROM accounts WHERE role IN ('coordinator', 'hub-admin')");
  return s.Step();
}

bool AccountStore::ExistsLocked(std::string_view name) {
  db::Stmt s(db_, "SELECT 1 FROM accounts WHERE name = ?");
  s.Bind(1, name);
  return s.Step();
}

Status AccountStore::EndSessionsLocked(std::string_view name) {
  db::Stmt end(db_, "DELETE FROM sessions WHERE name = ?");
  return end.Bind(1, name).Run();
}

Status AccountStore::Disable(std::string_view name) {
  std::lock_guard lock(mu_);
  if (!ExistsLocked(name)) return NotFound("no account is named " + std::string(name));
  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt s(db_, "UPDATE accounts SET disabled_at = ? WHERE name = ? AND disabled_at = 0");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, Now()).Bind(2, name).Run());
  OUTPOST_RETURN_IF_ERROR(EndSessionsLocked(name));
  return txn.Commit();
}

Status AccountStore::Reset(std::string_view name, std::string_view password) {
  OUTPOST_RETURN_IF_ERROR(CheckPassword(password));
  if (!Find(name)) return NotFound("no account is named " + std::string(name));
  auto hash = HashPassword(password);
  if (!hash) return hash.error();
  std::lock_guard lock(mu_);
  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt s(db_, "UPDATE accounts SET password = ?, disabled_at = 0, failures = 0, "
                  "locked_until = 0 WHERE name = ?");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, *hash).Bind(2, name).Run());
  if (sqlite3_changes(db_) == 0) return NotFound("no account is named " + std::string(name));
  OUTPOST_RETURN_IF_ERROR(EndSessionsLocked(name));
  return txn.Commit();
}

// ---- logging in

Result<Session> AccountStore::Login(std::string_view name, std::string_view password) {
  const Status wrong = Denied("wrong name or password");
  if (!CheckName(name).ok() || password.size() > kMaxPassword) return wrong;
  std::optional<Account> account;
  std::string stored;
  {
    std::lock_guard lock(mu_);
    db::Stmt s(db_, std::string(kAccountColumns) + " WHERE name = ?");
    s.Bind(1, name);
    if (s.Step()) {
      account = AccountAt(s);
      stored = s.Text(6);
    }
  }
  int64_t now = Now();
  if (account && account->locked_until > now) {
    return Denied("too many wrong passwords: " + account->name + " can try again at " +
                  UtcMinute(account->locked_until) + ", or a coordinator can reset it now");
  }
  bool ok = VerifyPassword(account ? stored : DecoyHash(), password);
  if (!account) return wrong;
  if (!ok) {
    OUTPOST_RETURN_IF_ERROR(NoteFailure(name, now));
    return wrong;
  }
  if (account->disabled_at != 0) {
    return Denied("the account " + account->name + " is disabled; a coordinator can reset it");
  }
  return StartSession(*account, now);
}

Status AccountStore::NoteFailure(std::string_view name, int64_t now) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "UPDATE accounts SET failures = failures + 1 WHERE name = ?");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, name).Run());
  db::Stmt lock_out(db_, "UPDATE accounts SET failures = 0, locked_until = ? "
                         "WHERE name = ? AND failures >= ?");
  lock_out.Bind(1, now + kLockout.count()).Bind(2, name).Bind(3, int64_t{kMaxFailures});
  return lock_out.Run();
}

Result<Session> AccountStore::StartSession(const Account& account, int64_t now) {
  Session session;
  session.name = account.name;
  session.role = account.role;
  session.token = RandomToken();
  session.csrf = RandomToken();
  session.expires_at = now + kSessionIdle.count();
  std::lock_guard lock(mu_);
  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt gone(db_, "DELETE FROM sessions WHERE last_used <= ? OR created_at <= ?");
  OUTPOST_RETURN_IF_ERROR(
      gone.Bind(1, now - kSessionIdle.count()).Bind(2, now - kSessionMax.count()).Run());
  db::Stmt ins(db_, "INSERT INTO sessions (token_hash, name, csrf, created_at, last_used) "
                    "VALUES (?, ?, ?, ?, ?)");
  ins.Bind(1, SecretHash("outpost session v1", session.token)).Bind(2, account.name);
  OUTPOST_RETURN_IF_ERROR(ins.Bind(3, session.csrf).Bind(4, now).Bind(5, now).Run());
  db::Stmt seen(db_, "UPDATE accounts SET failures = 0, last_login = ? WHERE name = ?");
  OUTPOST_RETURN_IF_ERROR(seen.Bind(1, now).Bind(2, account.name).Run());
  OUTPOST_RETURN_IF_ERROR(txn.Commit());
  return session;
}

std::optional<Session> AccountStore::FindSession(std::string_view token) {
  if (token.size() != 64) return std::nullopt;
  Hash key = SecretHash("outpost session v1", token);
  int64_t now = Now();
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "SELECT s.name, a.role, s.csrf, s.created_at, s.last_used FROM sessions s "
                  "JOIN accounts a ON a.name = s.name "
                  "WHERE s.token_hash = ? AND a.disabled_at = 0");
  s.Bind(1, key);
  if (!s.Step()) return std::nullopt;
  int64_t created = s.Int(3), last_used = s.Int(4);
  int64_t ends = std::min(last_used + kSessionIdle.count(), created + kSessionMax.count());
  if (ends <= now) return std::nullopt;
  Session session{s.Text(0), RoleFromName(s.Text(1)).value_or(Role::kTeacher), "", s.Text(2),
                  std::min(now + kSessionIdle.count(), created + kSessionMax.count())};
  if (now - last_used >= kTouchEvery) {  // a card is not written on every request
    db::Stmt touch(db_, "UPDATE sessions SET last_used = ? WHERE token_hash = ?");
    (void)touch.Bind(1, now).Bind(2, key).Run();
  }
  return session;
}

void AccountStore::Logout(std::string_view token) {
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "DELETE FROM sessions WHERE token_hash = ?");
  (void)s.Bind(1, SecretHash("outpost session v1", token)).Run();
}

// ---- the first coordinator

Result<std::optional<std::string>> AccountStore::NewSetupCode() {
  if (HasCoordinator()) return std::optional<std::string>();
  std::string code;
  for (int i = 0; i < 16; ++i) {
    if (i > 0 && i % 4 == 0) code += '-';
    code += kCodeAlphabet[randombytes_uniform(static_cast<uint32_t>(kCodeAlphabet.size()))];
  }
  std::lock_guard lock(mu_);
  db::Stmt s(db_, "INSERT OR REPLACE INTO setup (id, code_hash, created_at) VALUES (1, ?, ?)");
  OUTPOST_RETURN_IF_ERROR(s.Bind(1, SecretHash("outpost setup code v1", NormalCode(code)))
                              .Bind(2, Now())
                              .Run());
  return std::optional<std::string>(code);
}

Status AccountStore::SetUp(std::string_view code, std::string_view name,
                           std::string_view password, Role role) {
  if (role != Role::kCoordinator && role != Role::kHubAdmin) {
    return InvalidArgument("the first account is a coordinator or a hub admin");
  }
  OUTPOST_RETURN_IF_ERROR(CheckName(name));
  OUTPOST_RETURN_IF_ERROR(CheckPassword(password));
  auto hash = HashPassword(password);
  if (!hash) return hash.error();
  std::lock_guard lock(mu_);
  db::Transaction txn(db_);
  OUTPOST_RETURN_IF_ERROR(txn.Begin());
  db::Stmt admin(db_, "SELECT 1 FROM accounts WHERE role IN ('coordinator', 'hub-admin')");
  if (admin.Step()) return Denied("this box has a coordinator already: ask them");
  db::Stmt live(db_, "SELECT 1 FROM setup WHERE id = 1 AND code_hash = ?");
  live.Bind(1, SecretHash("outpost setup code v1", NormalCode(code.substr(0, 64))));
  if (!live.Step()) return Denied("that is not the setup code this box printed last");
  db::Stmt ins(db_, "INSERT INTO accounts (name, role, password, created_at) "
                    "VALUES (?, ?, ?, ?)");
  OUTPOST_RETURN_IF_ERROR(
      ins.Bind(1, name).Bind(2, RoleName(role)).Bind(3, *hash).Bind(4, Now()).Run());
  OUTPOST_RETURN_IF_ERROR(db::Exec(db_, "DELETE FROM setup"));
  return txn.Commit();
}

}  // namespace outpost
