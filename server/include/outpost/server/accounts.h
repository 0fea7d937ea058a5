// Accounts: the people who may do more than read on a box, their passwords and their sessions
// (docs/accounts.md).
//
// Roles: on a box, a coordinator looks after the box (accounts, sync, drives) and a teacher adds
// material; on a hub, a publisher publishes channels and reviews what schools send up, and a hub
// admin does that and enrols and revokes schools (docs/accounts.md). The store keeps any role;
// which roles a data folder takes (box roles on a box, hub roles on a hub) is checked where
// accounts are added (`outpost users add`, POST /api/v1/users). Learners have no account. There is no default password: while the box has no coordinator,
// the server makes a one-time setup code (printed on its console and in its log), and the
// first-run page creates the first coordinator with it; `outpost users add` on the box's own
// shell needs none (whoever can write the data folder already holds the box).
//
// Stored in DATA/accounts.db (created 0600; WAL): names, roles, Argon2id password hashes
// (libsodium's crypto_pwhash_str, parameters in the string, so they can be raised later),
// sessions and the setup code by their BLAKE2b-256 only. A session is a random 256-bit token
// (the cookie) with a CSRF token of its own; it ends after kSessionIdle of no use or
// kSessionMax in all, when its account is disabled or reset, and on logout.
//
// Wrong passwords: kMaxFailures in a row lock the account for kLockout, whoever tried; the
// server also limits attempts per address (not here: addresses are not stored).
//
// Thread-safety: thread-safe (one connection behind a mutex). Password hashing, the slow part,
// runs outside it, at most kMaxHashing at a time: Argon2id takes kPasswordMemory each.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"

namespace outpost {

enum class Role { kCoordinator, kTeacher, kPublisher, kHubAdmin };
std::string_view RoleName(Role role);  // "coordinator", "teacher", "publisher", "hub-admin"
std::optional<Role> RoleFromName(std::string_view name);
// The roles of a hub (publisher, hub admin); the others are a box's.
bool IsHubRole(Role role);

struct Account {
  std::string name;
  Role role = Role::kTeacher;
  int64_t created_at = 0;   // unix seconds
  int64_t disabled_at = 0;  // 0: active
  int64_t last_login = 0;   // 0: never
  int64_t locked_until = 0;  // after too many wrong passwords; 0 or past: not locked
};

// "active", "disabled" or "locked" (too many wrong passwords, until locked_until) at `now`.
std::string_view AccountState(const Account& account, int64_t now);

struct Session {
  std::string name;  // the account
  Role role = Role::kTeacher;
  std::string token;  // the cookie's value (only when just made: the store keeps its hash)
  std::string csrf;   // to send back as X-CSRF-Token with every change
  int64_t expires_at = 0;
};

class AccountStore {
 public:
  static constexpr uint64_t kPasswordOps = 3;               // Argon2id passes
  static constexpr size_t kPasswordMemory = 32u << 20;      // bytes per hash
  static constexpr int kMaxHashing = 2;                     // hashes at once
  static constexpr size_t kMinPassword = 8, kMaxPassword = 1024;  // bytes
  static constexpr int kMaxFailures = 5;
  static constexpr std::chrono::seconds kLockout{15 * 60};
  static constexpr std::chrono::seconds kSessionIdle{8 * 3600};
  static constexpr std::chrono::seconds kSessionMax{7 * 24 * 3600};
  static constexpr int kSchemaVersion = 2;

  static Result<std::unique_ptr<AccountStore>> Open(const std::filesystem::path& path);
  ~AccountStore();

  // Names: 1 to 32 of a-z, 0-9, '.', '-', '_', starting with a letter or digit.
  static Status CheckName(std::string_view name);
  // Passwords: kMinPassword to kMaxPassword bytes of valid UTF-8.
  static Status CheckPassword(std::string_view password);

  Status Add(std::string_view name, Role role, std::string_view password);
  std::vector<Account> List();
  std::optional<Account> Find(std::string_view name);
  // Whether an administrator account exists (a coordinator, or on a hub a hub admin), disabled
  // or not (a box whose coordinators are all disabled is recovered on its shell, `outpost users
  // reset`, not with a setup code).
  bool HasCoordinator();
  // Disabling ends the account's sessions; it can no longer log in.
  Status Disable(std::string_view name);
  // A new password: enables the account again, unlocks it, ends its sessions.
  Status Reset(std::string_view name, std::string_view password);

  // The session for `name` if `password` is its password and the account may log in; Denied
  // otherwise, saying why in words a person can act on (wrong name or password, disabled,
  // locked until when). An unknown name costs the same hash as a known one.
  Result<Session> Login(std::string_view name, std::string_view password);
  // The session whose cookie is `token`, if live (its idle time restarts); nullopt otherwise.
  std::optional<Session> FindSession(std::string_view token);
  void Logout(std::string_view token);

  // A one-time code for the first-run page while no coordinator exists (a new one each call:
  // the previous one stops working); nullopt once there is a coordinator.
  Result<std::optional<std::string>> NewSetupCode();
  // Creates the first administrator, a `role` (kCoordinator on a box, kHubAdmin on a hub), if
  // `code` is the live setup code; spends the code.
  Status SetUp(std::string_view code, std::string_view name, std::string_view password,
               Role role = Role::kCoordinator);

  // Tests: the clock (unix seconds).
  void set_clock(std::function<int64_t()> now);
  // The most password hashes that have run at once since the store opened (at most kMaxHashing:
  // the memory bound, kMaxHashing x kPasswordMemory, rests on it).
  int peak_hashing();

 private:
  explicit AccountStore(sqlite3* db);
  int64_t Now() const;
  // Argon2id of `password`, waiting for a turn among kMaxHashing.
  Result<std::string> HashPassword(std::string_view password);
  bool VerifyPassword(const std::string& stored, std::string_view password);
  Status NoteFailure(std::string_view name, int64_t now);
  const std::string& DecoyHash();
  Result<Session> StartSession(const Account& account, int64_t now);
  bool ExistsLocked(std::string_view name);         // mu_ held
  Status EndSessionsLocked(std::string_view name);  // mu_ held
  class HashingTurn;

  sqlite3* db_;
  std::mutex mu_;  // the connection
  std::function<int64_t()> clock_;
  std::mutex hashing_mu_;
  std::condition_variable hashing_cv_;
  int hashing_ = 0;  // guarded by hashing_mu_
  int peak_hashing_ = 0;  // guarded by hashing_mu_
  std::once_flag decoy_once_;
  std::string decoy_;
};

}  // namespace outpost
