#include "users.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "outpost/base/text.h"
#include "outpost/server/accounts.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

Result<std::unique_ptr<AccountStore>> OpenAccounts(const fs::path& data) {
  return AccountStore::Open(data / "accounts.db");
}

// One line of standard input without its line ending, echo off on a terminal; at most
// kMaxPassword bytes (a longer line is refused, not cut).
Result<std::string> ReadLine(bool terminal) {
  termios saved{};
  bool hide = terminal && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (hide) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  char buf[AccountStore::kMaxPassword + 3];
  bool got = std::fgets(buf, sizeof buf, stdin) != nullptr;
  if (hide) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::fputc('\n', stderr);
  }
  if (!got) return InvalidArgument("no password given on standard input");
  std::string line(buf);
  bool ended = !line.empty() && line.back() == '\n';
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (!ended && !std::feof(stdin)) {
    return InvalidArgument("a password has at most " +
                           std::to_string(AccountStore::kMaxPassword) + " bytes");
  }
  return line;
}

// The new password: from standard input when it is not a terminal (scripts), else asked twice.
Result<std::string> NewPassword(const std::string& name) {
  bool terminal = ::isatty(STDIN_FILENO) == 1;
  if (terminal) std::fprintf(stderr, "password for %s: ", name.c_str());
  auto first = ReadLine(terminal);
  if (!first) return first;
  OUTPOST_RETURN_IF_ERROR(AccountStore::CheckPassword(*first));
  if (!terminal) return first;
  std::fprintf(stderr, "the same again: ");
  auto again = ReadLine(terminal);
  if (!again) return again;
  if (*again != *first) return InvalidArgument("the two passwords differ; nothing was changed");
  return first;
}

struct AddArgs {
  std::string name, role;
};

// A box's accounts are coordinators and teachers; a hub's, publishers and hub admins
// (docs/accounts.md): the other roles would have nothing to do there.
Status CheckRoleFits(const fs::path& data, Role role) {
  bool hub = IsHub(NodePaths(data));
  if (IsHubRole(role) == hub) return Status::Ok();
  return InvalidArgument(hub ? "this data folder is a hub: --role is publisher or hub-admin"
                             : "this data folder is not a hub: --role is coordinator or teacher "
                               "(publisher and hub-admin are a hub's roles)");
}

int UsersAdd(const fs::path& data, const AddArgs& args) {
  auto role = RoleFromName(args.role);
  if (!role) {
    return Fail(InvalidArgument("--role is coordinator or teacher (on a hub: publisher or "
                                "hub-admin)"));
  }
  if (Status fits = CheckRoleFits(data, *role); !fits.ok()) return Fail(fits);
  if (Status name = AccountStore::CheckName(args.name); !name.ok()) return Fail(name);
  auto store = OpenAccounts(data);
  if (!store) return Fail(store.error());
  auto password = NewPassword(args.name);
  if (!password) return Fail(password.error());
  Status st = (*store)->Add(args.name, *role, *password);
  if (!st.ok()) return Fail(st);
  std::printf("%s %s added\n", std::string(RoleName(*role)).c_str(), args.name.c_str());
  return kExitOk;
}

std::string Date(int64_t unix_seconds) {
  return unix_seconds == 0 ? "never" : UtcMinute(unix_seconds);
}

int UsersList(const fs::path& data, bool json) {
  auto store = OpenAccounts(data);
  if (!store) return Fail(store.error());
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto accounts = (*store)->List();
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : accounts) {
      list.push_back({{"name", a.name}, {"role", RoleName(a.role)}, {"state", AccountState(a, now)},
                      {"created_at", a.created_at}, {"last_login", a.last_login},
                      {"disabled_at", a.disabled_at}, {"locked_until", a.locked_until}});
    }
    PrintJson(list);
    return kExitOk;
  }
  if (accounts.empty()) std::printf("no accounts yet: outpost users add --role coordinator NAME\n");
  for (const auto& a : accounts) {
    std::printf("%-24s %-12s %-9s last login %s\n", a.name.c_str(),
                std::string(RoleName(a.role)).c_str(), std::string(AccountState(a, now)).c_str(),
                Date(a.last_login).c_str());
  }
  return kExitOk;
}

int UsersDisable(const fs::path& data, const std::string& name) {
  auto store = OpenAccounts(data);
  if (!store) return Fail(store.error());
  Status st = (*store)->Disable(name);
  if (!st.ok()) return Fail(st);
  std::printf("%s disabled: logged out everywhere, and cannot log in until reset\n",
              name.c_str());
  return kExitOk;
}

int UsersReset(const fs::path& data, const std::string& name) {
  auto store = OpenAccounts(data);
  if (!store) return Fail(store.error());
  if (!(*store)->Find(name)) return Fail(NotFound("no account is named " + name));
  auto password = NewPassword(name);
  if (!password) return Fail(password.error());
  Status st = (*store)->Reset(name, *password);
  if (!st.ok()) return Fail(st);
  std::printf("%s has a new password (enabled, unlocked, logged out everywhere)\n", name.c_str());
  return kExitOk;
}

}  // namespace

void AddUsersCommands(CLI::App& app, CommandTable& table) {
  auto* users = app.add_subcommand(
      "users", "accounts of coordinators and teachers (on a hub: publishers and hub admins)");
  users->require_subcommand(1);

  auto add = std::make_shared<AddArgs>();
  auto* add_cmd = table.Add(users, "add", "add an account (the password is read from standard "
                                          "input, or asked twice on a terminal)",
                            [add](const fs::path& data) { return UsersAdd(data, *add); });
  add_cmd->add_option("--role", add->role,
                      "coordinator or teacher; on a hub, publisher or hub-admin")
      ->required();
  add_cmd->add_option("NAME", add->name, "a-z, 0-9, '.', '-', '_'; at most 32")->required();

  auto json = std::make_shared<bool>(false);
  auto* list = table.Add(users, "list", "list the accounts",
                         [json](const fs::path& data) { return UsersList(data, *json); });
  list->add_flag("--json", *json, "print JSON");

  auto disable_name = std::make_shared<std::string>();
  auto* disable = table.Add(users, "disable", "disable an account and end its sessions",
                            [disable_name](const fs::path& data) {
                              return UsersDisable(data, *disable_name);
                            });
  disable->add_option("NAME", *disable_name, "the account")->required();

  auto reset_name = std::make_shared<std::string>();
  auto* reset = table.Add(users, "reset", "a new password: enables, unlocks, ends sessions",
                          [reset_name](const fs::path& data) {
                            return UsersReset(data, *reset_name);
                          });
  reset->add_option("NAME", *reset_name, "the account")->required();
}

}  // namespace outpost::cli
