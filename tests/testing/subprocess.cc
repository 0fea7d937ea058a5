#include "testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace outpost::testing {

namespace {

std::vector<std::string> Environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
          const char* out_path, const char* err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args = argv, env = Environment(extra_env);
  auto arg_ptrs = Pointers(args), env_ptrs = Pointers(env);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, arg_ptrs[0], &actions, nullptr, arg_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + strerror(rc));
  return pid;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TempName(int pid, const char* what) {
  const char* base = getenv("TMPDIR");
  return std::string(base && *base ? base : "/tmp") + "/outpost-proc-" + std::to_string(getpid()) +
         "-" + std::to_string(pid) + what;
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env) {
  static int counter = 0;
  int id = ++counter;
  std::string out = TempName(id, ".out"), err = TempName(id, ".err");
  int pid = Spawn(argv, extra_env, out.c_str(), err.c_str());
  ProcessResult r = WaitProcess(pid);
  r.out = Slurp(out);
  r.err = Slurp(err);
  unlink(out.c_str());
  unlink(err.c_str());
  return r;
}

int StartProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) {
  return Spawn(argv, extra_env, "/dev/null", "/dev/null");
}

ProcessResult WaitProcess(int pid) {
  ProcessResult r;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

LoggedProcess::LoggedProcess(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<std::string> args = argv, env = Environment({});
  auto arg_ptrs = Pointers(args), env_ptrs = Pointers(env);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, arg_ptrs[0], &actions, nullptr, arg_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + strerror(rc));
  }
  pid_ = pid;
  fd_ = pipe_fds[0];
}

LoggedProcess::~LoggedProcess() {
  if (pid_ > 0) (void)Stop();
}

bool LoggedProcess::WaitForLineAnywhere(const std::string& needle) {
  size_t scanned = scanned_;
  scanned_ = 0;
  bool found = WaitForLine(needle);
  scanned_ = std::max(scanned_, scanned);
  return found;
}

bool LoggedProcess::WaitForLine(const std::string& needle) {
  char buf[4096];
  while (true) {
    size_t found = log_.find(needle, scanned_);
    if (found != std::string::npos) {
      size_t end = log_.find('\n', found);
      if (end != std::string::npos) {
        scanned_ = end + 1;
        return true;
      }
    }
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    log_.append(buf, static_cast<size_t>(n));
  }
}

ProcessResult LoggedProcess::Stop() {
  ProcessResult r;
  if (pid_ <= 0) return r;
  kill(pid_, SIGTERM);
  char buf[4096];
  ssize_t n = 0;
  while ((n = read(fd_, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) log_.append(buf, static_cast<size_t>(n));
  }
  close(fd_);
  r = WaitProcess(pid_);
  pid_ = -1;
  r.out = log_;
  return r;
}

}  // namespace outpost::testing
