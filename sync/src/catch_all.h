// Private to sync/: an exception turned into a Status, for the bodies of the threads a session
// or an import runs (a file builder) and for the public entry points of a site's sync and of
// bundles. No exception crosses a module boundary (status.h); one thrown from deep inside a
// library (a std::bad_alloc) on a thread of its own would end the process, every other session
// with it. The message is what the exception says (what()), never a key or a record's bytes.
//
// Thread-safety: stateless.
#pragma once

#include <exception>
#include <string>

#include "outpost/base/status.h"

namespace outpost::sync {

// The exception being handled, as an Internal status "`what`: <what()>". Only in a catch block.
inline Status CurrentException(const std::string& what) {
  try {
    throw;
  } catch (const std::exception& e) {
    return Internal(what + ": " + e.what());
  } catch (...) {
    return Internal(what + ": an exception that is not a std::exception");
  }
}

// f(), or the exception it throws as CurrentException(what). F returns a Status or a Result.
template <typename F>
auto CatchAll(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (...) {
    return CurrentException(what);
  }
}

}  // namespace outpost::sync
