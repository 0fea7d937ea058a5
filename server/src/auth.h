// Auth: what each route lets through (Access, checked by routes.cc before any handler), the
// session cookie, and the limit on wrong logins per address. The accounts themselves, their
// passwords and sessions are outpost/server/accounts.h (docs/accounts.md).
//
// Thread-safety: LoginLimiter is thread-safe; the rest are plain functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "outpost/server/accounts.h"

namespace outpost {

// Who may use a route. Every route names one; the role walk test (routes_test.cc) asks every
// route as nobody, a learner, a teacher, a disabled teacher, a coordinator, a publisher and a
// hub admin and checks each answer against it, and fails on a route left kUnset.
enum class Access {
  kUnset,        // no rule: a mistake, refused to everyone and failed by the test
  kAnyone,       // learners, with no account
  kLoggedIn,     // a teacher or a coordinator (a box's accounts)
  kCoordinator,  // a coordinator only
  kAccount,      // any account, a box's or a hub's (logging out, "who am I")
  kPublisher,    // a publisher or a hub admin (the hub console: channels, publish, review)
  kHubAdmin,     // a hub admin only (enrolment, revoking a school)
};
std::string_view AccessName(Access access);
// Whether a live session of `role` may use a route of `access` (kAnyone: everyone; kUnset: no one).
bool RoleMayUse(Access access, Role role);

// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page
// sends it), Path=/, for `max_age` seconds.
inline constexpr char kSessionCookie[] = "outpost_session";
std::string SessionCookie(std::string_view token, int64_t max_age);
std::string ClearedSessionCookie();

// Whether `given` is the session's CSRF token, compared in constant time.
bool SameToken(std::string_view given, std::string_view expected);

// Wrong logins per client address: kMaxFailures in a window of kWindow, then that address is
// refused until the window ends, whatever the account (the account's own lockout is
// AccountStore's). At most kMaxAddresses are tracked; past that the oldest windows go first.
class LoginLimiter {
 public:
  static constexpr int kMaxFailures = 10;
  static constexpr std::chrono::seconds kWindow{15 * 60};
  static constexpr size_t kMaxAddresses = 4096;

  // Seconds until `address` may try again; 0: it may now.
  int64_t WaitFor(const std::string& address, int64_t now);
  // A wrong password (or setup code) from `address`. A right one does not clear the count:
  // a guesser with an account of their own could otherwise reset it between guesses.
  void Failed(const std::string& address, int64_t now);

 private:
  struct Window {
    int64_t start = 0;
    int failures = 0;
  };
  std::mutex mu_;
  std::map<std::string, Window> windows_;  // guarded by mu_
};

}  // namespace outpost
