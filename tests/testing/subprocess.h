// Runs a program and collects its exit: for end-to-end tests that drive the real `outpost`
// binary the way a script or a coordinator would.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace outpost::testing {

struct ProcessResult {
  int exit_code = -1;    // -1 if killed by a signal
  int signal = 0;        // the signal that killed it, or 0
  std::string out, err;  // what it printed
};

// Runs argv[0] with argv, extra environment variables added ("NAME=value"), and waits.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env = {});

// Starts a process and returns its pid; output goes to /dev/null.
int StartProcess(const std::vector<std::string>& argv,
                 const std::vector<std::string>& extra_env = {});
// Waits for a started process.
ProcessResult WaitProcess(int pid);

}  // namespace outpost::testing
