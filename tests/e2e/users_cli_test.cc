// `outpost users`: accounts made and looked after from the box's shell, as a coordinator or a
// script does it (the password on standard input).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "outpost_cli.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using testing::JsonOf;
using testing::OutpostOn;
using testing::ProcessResult;
using testing::TempDir;

class UsersCliTest : public ::testing::Test {
 protected:
  // `outpost users ARGS... --data DATA` with `input` on its standard input (not a terminal).
  ProcessResult Users(std::vector<std::string> args, const std::string& input) {
    std::vector<std::string> argv = {"/bin/sh", "-c", "printf '%s' \"$INPUT\" | \"$@\"", "sh",
                                     OUTPOST_BINARY, "users"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--data");
    argv.push_back(data_.path().string());
    return testing::RunProcess(argv, {"INPUT=" + input});
  }
  nlohmann::json List() { return JsonOf(OutpostOn(data_.path(), {"users", "list", "--json"})); }

  TempDir data_;
};

TEST_F(UsersCliTest, AScriptAddsACoordinatorAndATeacherWithPasswordsOnStandardInput) {
  ProcessResult r = Users({"add", "--role", "coordinator", "rana"}, "tableau noir 5\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "coordinator rana added\n");
  ASSERT_EQ(Users({"add", "--role", "teacher", "amira"}, "craie blanche 7").exit_code, 0);
  nlohmann::json list = List();
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_EQ(list[0]["name"], "rana");
  EXPECT_EQ(list[0]["role"], "coordinator");
  EXPECT_EQ(list[1]["name"], "amira");
  EXPECT_EQ(list[1]["role"], "teacher");
  EXPECT_EQ(list[1]["state"], "active");
  EXPECT_EQ(list[1]["last_login"], 0);
  struct stat st {};
  ASSERT_EQ(::stat((data_.path() / "accounts.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(testing::ReadFile(data_.path() / "accounts.db").find("craie blanche"),
            std::string::npos);
}

TEST_F(UsersCliTest, DisableAndResetChangeTheStateAndSayWhatTheyDid) {
  ASSERT_EQ(Users({"add", "--role", "teacher", "amira"}, "craie blanche 7").exit_code, 0);
  ProcessResult off = OutpostOn(data_.path(), {"users", "disable", "amira"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_NE(off.out.find("disabled"), std::string::npos);
  EXPECT_EQ(List()[0]["state"], "disabled");
  EXPECT_GT(List()[0]["disabled_at"].get<int64_t>(), 0);
  ProcessResult reset = Users({"reset", "amira"}, "nouveau mot 9\n");
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_EQ(List()[0]["state"], "active");
}

TEST_F(UsersCliTest, BadInputIsRefusedWithAReasonAndMakesNoAccount) {
  struct Case {
    std::vector<std::string> args;
    std::string input, says;
  };
  const std::vector<Case> cases = {
      {{"add", "--role", "teacher", "amira"}, "short\n", "at least 8"},
      {{"add", "--role", "teacher", "amira"}, "", "no password"},
      {{"add", "--role", "teacher", "amira"}, std::string(2000, 'x'), "at most 1024"},
      {{"add", "--role", "principal", "amira"}, "craie blanche 7\n", "coordinator or teacher"},
      {{"add", "--role", "teacher", "../amira"}, "craie blanche 7\n", "a-z, 0-9"},
      {{"reset", "nobody"}, "craie blanche 7\n", "no account is named nobody"},
      {{"disable", "nobody"}, "", "no account is named nobody"},
  };
  for (const Case& c : cases) {
    ProcessResult r = Users(c.args, c.input);
    EXPECT_EQ(r.exit_code, 1) << c.says;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  EXPECT_TRUE(List().empty());
  ASSERT_EQ(Users({"add", "--role", "teacher", "amira"}, "craie blanche 7").exit_code, 0);
  ProcessResult twice = Users({"add", "--role", "teacher", "amira"}, "craie blanche 7");
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("already an account named amira"), std::string::npos) << twice.err;
}

}  // namespace
}  // namespace outpost

namespace outpost {
namespace {

TEST_F(UsersCliTest, OnAHubTheRolesArePublisherAndHubAdminAndOnABoxTheyAreRefused) {
  ProcessResult on_box = Users({"add", "--role", "publisher", "paul"}, "carte du pays 9\n");
  EXPECT_NE(on_box.exit_code, 0);
  EXPECT_NE(on_box.err.find("not a hub"), std::string::npos) << on_box.err;
  EXPECT_NE(Users({"add", "--role", "hub-admin", "hala"}, "carte du pays 9\n").exit_code, 0);
  EXPECT_TRUE(List().empty());

  ASSERT_EQ(OutpostOn(data_.path(), {"hub", "init"}).exit_code, 0);
  ProcessResult publisher = Users({"add", "--role", "publisher", "paul"}, "carte du pays 9\n");
  ASSERT_EQ(publisher.exit_code, 0) << publisher.err;
  EXPECT_EQ(publisher.out, "publisher paul added\n");
  ASSERT_EQ(Users({"add", "--role", "hub-admin", "hala"}, "carte du pays 9\n").exit_code, 0);
  ProcessResult teacher = Users({"add", "--role", "teacher", "amira"}, "craie blanche 7\n");
  EXPECT_NE(teacher.exit_code, 0);
  EXPECT_NE(teacher.err.find("publisher or hub-admin"), std::string::npos) << teacher.err;
  nlohmann::json list = List();
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_EQ(list[0]["role"], "hub-admin");
  EXPECT_EQ(list[1]["role"], "publisher");
}

}  // namespace
}  // namespace outpost
