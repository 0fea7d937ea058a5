#include "outpost/server/accounts.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <thread>

#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::ReadFile;
using testing::TempDir;

class AccountStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto store = AccountStore::Open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    store_->set_clock([this] { return now_; });
  }
  Session LogIn(std::string_view name, std::string_view password) {
    auto session = store_->Login(name, password);
    EXPECT_TRUE(session.has_value()) << session.error().ToString();
    return session ? *session : Session{};
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "accounts.db";
  int64_t now_ = 1'800'000'000;
  std::unique_ptr<AccountStore> store_;
};

TEST_F(AccountStoreTest, TheFileIsPrivateAndHoldsNoPasswordNorToken) {
  ASSERT_TRUE(store_->Add("amira", Role::kTeacher, "tableau noir 5").ok());
  Session s = LogIn("amira", "tableau noir 5");
  store_.reset();  // checkpoints the WAL into the file
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string bytes = ReadFile(path_);
  EXPECT_EQ(bytes.find("tableau noir 5"), std::string::npos);
  EXPECT_EQ(bytes.find(s.token), std::string::npos);
  EXPECT_NE(bytes.find("$argon2id$"), std::string::npos);
}

TEST_F(AccountStoreTest, ARightPasswordOpensASessionThatTheCookieFindsAgain) {
  ASSERT_TRUE(store_->Add("amira", Role::kTeacher, "tableau noir 5").ok());
  Session s = LogIn("amira", "tableau noir 5");
  EXPECT_EQ(s.token.size(), 64u);
  EXPECT_EQ(s.csrf.size(), 64u);
  EXPECT_NE(s.token, s.csrf);
  auto found = store_->FindSession(s.token);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "amira");
  EXPECT_EQ(found->role, Role::kTeacher);
  EXPECT_EQ(found->csrf, s.csrf);
  EXPECT_TRUE(found->token.empty());  // the store does not have it
  EXPECT_FALSE(store_->FindSession(s.csrf).has_value());
  EXPECT_FALSE(store_->FindSession("").has_value());
  store_->Logout(s.token);
  EXPECT_FALSE(store_->FindSession(s.token).has_value());
}

TEST_F(AccountStoreTest, AWrongPasswordAndAnUnknownNameGetTheSameAnswer) {
  ASSERT_TRUE(store_->Add("amira", Role::kTeacher, "tableau noir 5").ok());
  auto wrong = store_->Login("amira", "tableau noir 6");
  auto unknown = store_->Login("nobody", "tableau noir 5");
  ASSERT_FALSE(wrong.has_value());
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(wrong.error().code(), StatusCode::kDenied);
  EXPECT_EQ(wrong.error().message(), unknown.error().message());
  EXPECT_FALSE(store_->Login("Amira", "tableau noir 5").has_value());
}

TEST_F(AccountStoreTest, FiveWrongPasswordsLockTheAccountForAQuarterOfAnHour) {
  ASSERT_TRUE(store_->Add("amira", Role::kTeacher, "tableau noir 5").ok());
  for (int i = 0; i < AccountStore::kMaxFailures; ++i) {
    EXPECT_FALSE(store_->Login("amira", "guess " + std::to_string(i)).has_value());
  }
  auto locked = store_->Login("amira", "tableau noir 5");  // even the right one
  ASSERT_FALSE(locked.has_value());
  EXPECT_NE(locked.error().message().find("too many wrong passwords"), std::string::npos)
      << locked.error().message();
  now_ += AccountStore::kLockout.count();
  LogIn("amira", "tableau noir 5");
}

TEST_F(AccountStoreTest, ARightPasswordClearsEarlierFailures) {
  ASSERT_TRUE(store_->Add("amira", Role::kTeacher, "tableau noir 5").ok());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i + 1 < AccountStore::kMaxFailures; ++i) {
      EXPECT_FALSE(store_->Login("amira", "guess").has_value());
    }
    LogIn("amira", "tableau noir 5");
  }
}

TEST_F(AccountStoreTest, ADisabledAccountCannotLogInAndItsSessionsEnd) {
  ASSERT_TRUE(store_->Add("amira", Role::kTeacher, "tableau noir 5").ok());
  Session s = LogIn("amira", "tableau noir 5");
  ASSERT_TRUE(store_->Disable("amira").ok());
  EXPECT_FALSE(store_->FindSession(s.token).has_value());
  auto again = store_->Login("amira", "tableau noir 5");
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message().find("disabled"), std::string::npos);
  EXPECT_EQ(store_->Disable("nobody").code(), StatusCode::kNotFound);
}

TEST_F(AccountStoreTest, AResetSetsANewPasswordEnablesUnlocksAndEndsSessions) {
  ASSERT_TRUE(store_->Add("amira", Role::kTeacher, "tableau noir 5").ok());
  Session s = LogIn("amira", "tableau noir 5");
  ASSERT_TRUE(store_->Disable("amira").ok());
  for (int i = 0; i < AccountStore::kMaxFailures; ++i) (void)store_->Login("amira", "guess");
  ASSERT_TRUE(store_->Reset("amira", "craie blanche 7").ok());
  EXPECT_FALSE(store_->FindSession(s.token).has_value());
  EXPECT_FALSE(store_->Login("amira", "tableau noir 5").has_value());
  LogIn("amira", "craie blanche 7");
  EXPECT_EQ(store_->Reset("nobody", "craie blanche 7").code(), StatusCode::kNotFound);
}

TEST_F(AccountStoreTest, ASessionEndsAfterAnIdleWorkdayOrAWeekInAll) {
  ASSERT_TRUE(store_->Add("amira", Role::kTeacher, "tableau noir 5").ok());
  Session idle = LogIn("amira", "tableau noir 5");
  now_ += AccountStore::kSessionIdle.count();
  EXPECT_FALSE(store_->FindSession(idle.token).has_value());
  Session busy = LogIn("amira", "tableau noir 5");
  int64_t started = now_;
  while (now_ + 3600 < started + AccountStore::kSessionMax.count()) {
    now_ += 3600;  // used every hour
    ASSERT_TRUE(store_->FindSession(busy.token).has_value()) << (now_ - started);
  }
  now_ = started + AccountStore::kSessionMax.count();
  EXPECT_FALSE(store_->FindSession(busy.token).has_value());
}

TEST_F(AccountStoreTest, SessionsSurviveARestart) {
  ASSERT_TRUE(store_->Add("amira", Role::kCoordinator, "tableau noir 5").ok());
  Session s = LogIn("amira", "tableau noir 5");
  Reopen();
  auto found = store_->FindSession(s.token);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->role, Role::kCoordinator);
}

TEST_F(AccountStoreTest, NamesAndPasswordsAreChecked) {
  for (const char* bad : {"", "Amira", "-amira", "am ira", "../x", "amira\n",
                          "abcdefghijabcdefghijabcdefghijabc"}) {
    EXPECT_EQ(store_->Add(bad, Role::kTeacher, "tableau noir 5").code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_TRUE(store_->Add("a.b-c_9", Role::kTeacher, "tableau noir 5").ok());
  EXPECT_EQ(store_->Add("short", Role::kTeacher, "1234567").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Add("long", Role::kTeacher, std::string(1025, 'x')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Add("bytes", Role::kTeacher, "caf\xe9 au lait").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Add("a.b-c_9", Role::kTeacher, "tableau noir 5").code(),
            StatusCode::kAlreadyExists);
  EXPECT_FALSE(store_->Login("long", std::string(100000, 'x')).has_value());
}

TEST_F(AccountStoreTest, TheSetupCodeMakesTheFirstCoordinatorOnce) {
  auto code = store_->NewSetupCode();
  ASSERT_TRUE(code.has_value() && code->has_value());
  EXPECT_EQ((*code)->size(), 19u);  // four groups of four
  auto newer = store_->NewSetupCode();
  ASSERT_TRUE(newer.has_value() && newer->has_value());
  EXPECT_EQ(store_->SetUp(**code, "rana", "tableau noir 5").code(), StatusCode::kDenied);
  std::string typed = **newer;
  for (char& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_TRUE(store_->SetUp(typed, "rana", "tableau noir 5").ok());  // as a person types it
  EXPECT_EQ(store_->Find("rana")->role, Role::kCoordinator);
  EXPECT_EQ(store_->SetUp(**newer, "other", "tableau noir 5").code(), StatusCode::kDenied);
  auto none = store_->NewSetupCode();
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

TEST_F(AccountStoreTest, NoSetupCodeWhileACoordinatorExistsEvenDisabled) {
  ASSERT_TRUE(store_->Add("rana", Role::kCoordinator, "tableau noir 5").ok());
  ASSERT_TRUE(store_->Disable("rana").ok());
  auto code = store_->NewSetupCode();
  ASSERT_TRUE(code.has_value());
  EXPECT_FALSE(code->has_value());
}

TEST_F(AccountStoreTest, ACoordinatorMadeOnTheShellRetiresTheSetupCode) {
  auto code = store_->NewSetupCode();
  ASSERT_TRUE(code.has_value() && code->has_value());
  ASSERT_TRUE(store_->Add("rana", Role::kCoordinator, "tableau noir 5").ok());
  EXPECT_EQ(store_->SetUp(**code, "intruder", "tableau noir 5").code(), StatusCode::kDenied);
  EXPECT_FALSE(store_->Find("intruder").has_value());
}

TEST_F(AccountStoreTest, ManyLoginsAtOnceAllSucceed) {
  ASSERT_TRUE(store_->Add("amira", Role::kTeacher, "tableau noir 5").ok());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] { ok += store_->Login("amira", "tableau noir 5").has_value(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 6);
  // Six wanted to hash at once; at most two did, so at most 2 x 32 MiB of Argon2id memory.
  EXPECT_GE(store_->peak_hashing(), 1);
  EXPECT_LE(store_->peak_hashing(), AccountStore::kMaxHashing);
}

TEST_F(AccountStoreTest, ADatabaseFromTheFutureIsRefused) {
  store_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "PRAGMA user_version=9", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  auto future = AccountStore::Open(path_);
  ASSERT_FALSE(future.has_value());
  EXPECT_EQ(future.error().code(), StatusCode::kCorrupt);
}

TEST_F(AccountStoreTest, TheHubsRolesAreStoredAndNamed) {
  for (Role role : {Role::kCoordinator, Role::kTeacher, Role::kPublisher, Role::kHubAdmin}) {
    EXPECT_EQ(RoleFromName(RoleName(role)), role) << RoleName(role);
  }
  EXPECT_EQ(RoleName(Role::kHubAdmin), "hub-admin");
  EXPECT_FALSE(RoleFromName("hub admin").has_value());
  EXPECT_TRUE(IsHubRole(Role::kPublisher) && IsHubRole(Role::kHubAdmin));
  EXPECT_FALSE(IsHubRole(Role::kCoordinator) || IsHubRole(Role::kTeacher));
  ASSERT_TRUE(store_->Add("paul", Role::kPublisher, "carte du pays 9").ok());
  ASSERT_TRUE(store_->Add("hala", Role::kHubAdmin, "carte du pays 9").ok());
  Reopen();
  EXPECT_EQ(store_->Find("paul")->role, Role::kPublisher);
  EXPECT_EQ(store_->Find("hala")->role, Role::kHubAdmin);
  EXPECT_EQ(LogIn("paul", "carte du pays 9").role, Role::kPublisher);
}

TEST_F(AccountStoreTest, OnAHubTheSetupCodeMakesTheFirstHubAdminAndAHubAdminRetiresIt) {
  auto code = store_->NewSetupCode();
  ASSERT_TRUE(code.has_value() && code->has_value());
  EXPECT_EQ(store_->SetUp(**code, "x", "carte du pays 9", Role::kPublisher).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->SetUp(**code, "hala", "carte du pays 9", Role::kHubAdmin).ok());
  EXPECT_EQ(store_->Find("hala")->role, Role::kHubAdmin);
  EXPECT_TRUE(store_->HasCoordinator());  // an administrator: no new setup code
  auto none = store_->NewSetupCode();
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

TEST_F(AccountStoreTest, ASchemaOneDatabaseKeepsItsAccountsAndTakesTheHubsRoles) {
  store_.reset();
  std::filesystem::remove(path_);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  const char* v1 =
      "CREATE TABLE accounts (name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN "
      "('coordinator', 'teacher')), password TEXT NOT NULL, created_at INTEGER NOT NULL, "
      "disabled_at INTEGER NOT NULL DEFAULT 0, last_login INTEGER NOT NULL DEFAULT 0, "
      "failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0) "
      "WITHOUT ROWID;"
      "CREATE TABLE sessions (token_hash BLOB PRIMARY KEY, name TEXT NOT NULL, csrf TEXT NOT "
      "NULL, created_at INTEGER NOT NULL, last_used INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE INDEX sessions_by_name ON sessions(name);"
      "CREATE TABLE setup (id INTEGER PRIMARY KEY CHECK (id = 1), code_hash BLOB NOT NULL, "
      "created_at INTEGER NOT NULL);"
      "INSERT INTO accounts (name, role, password, created_at, disabled_at) "
      "VALUES ('rana', 'coordinator', 'x', 5, 7);"
      "PRAGMA user_version=1;";
  ASSERT_EQ(sqlite3_exec(raw, v1, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  Reopen();
  auto rana = store_->Find("rana");
  ASSERT_TRUE(rana.has_value());
  EXPECT_EQ(rana->role, Role::kCoordinator);
  EXPECT_EQ(rana->created_at, 5);
  EXPECT_EQ(rana->disabled_at, 7);
  EXPECT_TRUE(store_->Add("paul", Role::kPublisher, "carte du pays 9").ok());
}

}  // namespace
}  // namespace outpost
