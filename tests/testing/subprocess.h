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

// A process whose standard output and error go to one pipe the test reads: a server and its
// log. The destructor stops it (SIGTERM) and waits for it.
class LoggedProcess {
 public:
  explicit LoggedProcess(const std::vector<std::string>& argv);
  ~LoggedProcess();
  LoggedProcess(const LoggedProcess&) = delete;
  LoggedProcess& operator=(const LoggedProcess&) = delete;

  // Reads the log until a line holding `needle` has been read (true) or the process closed it
  // (false: it exited). Blocks until then: the wait is for the event, not for a time.
  bool WaitForLine(const std::string& needle);
  // The same, for a line anywhere in the log, also before the lines waited for already (what
  // another thread of the process logs at its own pace).
  bool WaitForLineAnywhere(const std::string& needle);
  // Stops the process (SIGTERM), reads the rest of its log and waits for it; its exit.
  ProcessResult Stop();
  // Everything read from the log so far.
  const std::string& log() const { return log_; }

 private:
  int pid_ = -1;
  int fd_ = -1;
  std::string log_;
  size_t scanned_ = 0;  // log_ before this offset holds no wanted line
};

}  // namespace outpost::testing
