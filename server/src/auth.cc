// Access rules, the session cookie and the per-address login limit (auth.h).
#include "auth.h"

#include <sodium.h>

#include <algorithm>

namespace outpost {

std::string_view AccessName(Access access) {
  switch (access) {
    case Access::kUnset: return "unset";
    case Access::kAnyone: return "anyone";
    case Access::kLoggedIn: return "logged in";
    case Access::kCoordinator: return "coordinator";
    case Access::kAccount: return "any account";
    case Access::kPublisher: return "publisher";
    case Access::kHubAdmin: return "hub admin";
  }
  return "?";
}

bool RoleMayUse(Access access, Role role) {
  switch (access) {
    case Access::kUnset: return false;
    case Access::kAnyone: return true;
    case Access::kAccount: return true;
    case Access::kLoggedIn: return role == Role::kTeacher || role == Role::kCoordinator;
    case Access::kCoordinator: return role == Role::kCoordinator;
    case Access::kPublisher: return role == Role::kPublisher || role == Role::kHubAdmin;
    case Access::kHubAdmin: return role == Role::kHubAdmin;
  }
  return false;
}

std::string SessionCookie(std::string_view token, int64_t max_age) {
  return std::string(kSessionCookie) + "=" + std::string(token) +
         "; Path=/; Max-Age=" + std::to_string(std::max<int64_t>(max_age, 0)) +
         "; HttpOnly; SameSite=Strict";
}

std::string ClearedSessionCookie() { return SessionCookie("", 0); }

bool SameToken(std::string_view given, std::string_view expected) {
  return !expected.empty() && given.size() == expected.size() &&
         sodium_memcmp(given.data(), expected.data(), given.size()) == 0;
}

int64_t LoginLimiter::WaitFor(const std::string& address, int64_t now) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(address);
  if (it == windows_.end()) return 0;
  int64_t ends = it->second.start + kWindow.count();
  if (now >= ends) {
    windows_.erase(it);
    return 0;
  }
  return it->second.failures >= kMaxFailures ? ends - now : 0;
}

void LoginLimiter::Failed(const std::string& address, int64_t now) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(address);
  if (it != windows_.end() && now >= it->second.start + kWindow.count()) {
    windows_.erase(it);
    it = windows_.end();
  }
  if (it == windows_.end()) {
    if (windows_.size() >= kMaxAddresses) {  // forget the oldest window
      auto oldest = std::min_element(windows_.begin(), windows_.end(), [](auto& a, auto& b) {
        return a.second.start < b.second.start;
      });
      windows_.erase(oldest);
    }
    it = windows_.emplace(address, Window{now, 0}).first;
  }
  ++it->second.failures;
}

}  // namespace outpost
