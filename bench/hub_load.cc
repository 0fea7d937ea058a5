// hub_load: many simulated schools against one running hub (bench/hub_scale.sh drives it).
//
//   hub_load enrol --hub-data HUB --hub ADDR --schools DIR --count N [--concurrency C]
//   hub_load sync  --hub ADDR --schools DIR --count N [--first I] [--concurrency C] --label L
//                  [--hub-pid PID] [--hub-log FILE] [--expect-version V] [--deadline S]
//                  [--retry-ms MS] [--strangers-one K] [--strangers-many K]
//                  [--stranger-mode idle|preamble] [--stranger-reconnect 0|1]
//
// Each school is a data folder DIR/sNNNNN (the script copies the catalog of a site that holds
// the hub's first version into each, with its blobs hard-linked) with its own node key, its
// own sync.db and its own source address (127.1.x.y), so a hub that caps connections per
// address sees a thousand addresses, as it would from a thousand schools.
//
// `enrol` makes a real one-time code per school in the hub's sync.db (enrolment.h's Enrol, as
// `outpost hub enrol` does) and each school presents its code over the enrolment handshake
// (EnrolWithHub, as `outpost join` does), C at a time.
//
// `sync` runs SyncWithHub (as `outpost sync` does) for schools [I, I+N), C at once. A school
// whose session fails retries after MS milliseconds until S seconds have passed since the phase
// began (a school's scheduler would run the sync again). Meanwhile strangers hold TCP
// connections to the sync port without authenticating: K from one address (127.2.0.1) and K
// from as many addresses (127.3.x.y), each sending nothing (idle) or only the 8-byte preamble,
// and connecting again when the hub drops them (reconnect 1). A sampler reads the hub's
// /proc/PID every 100 ms: CPU time, RSS, threads and what each thread waits in (wchan). It
// prints one report block for the phase.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "outpost/base/hash.h"
#include "outpost/content/blob_store.h"
#include "outpost/content/catalog.h"
#include "outpost/sync/enrolment.h"
#include "outpost/sync/node.h"
#include "outpost/sync/site_sync.h"
#include "outpost/sync/sync_db.h"
#include "session/link.h"  // the Link interface (header only): a dialer from a chosen address

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// ---------------------------------------------------------------------------------------------
// Options.

struct Options {
  std::string command, hub, hub_data, schools, label = "sync", hub_log, stranger_mode = "idle";
  int count = 0, first = 0, concurrency = 64, hub_pid = 0, strangers_one = 0, strangers_many = 0;
  int64_t expect_version = 0;
  double deadline_s = 300, retry_ms = 200;
  bool stranger_reconnect = true;
};

bool ParseOptions(int argc, char** argv, Options* o) {
  if (argc < 2) return false;
  o->command = argv[1];
  std::map<std::string, std::string*> strings{{"--hub", &o->hub}, {"--hub-data", &o->hub_data},
      {"--schools", &o->schools}, {"--label", &o->label}, {"--hub-log", &o->hub_log},
      {"--stranger-mode", &o->stranger_mode}};
  std::map<std::string, int*> ints{{"--count", &o->count}, {"--first", &o->first},
      {"--concurrency", &o->concurrency}, {"--hub-pid", &o->hub_pid},
      {"--strangers-one", &o->strangers_one}, {"--strangers-many", &o->strangers_many}};
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (strings.count(k)) *strings[k] = v;
    else if (ints.count(k)) *ints[k] = std::atoi(v.c_str());
    else if (k == "--expect-version") o->expect_version = std::atoll(v.c_str());
    else if (k == "--deadline") o->deadline_s = std::atof(v.c_str());
    else if (k == "--retry-ms") o->retry_ms = std::atof(v.c_str());
    else if (k == "--stranger-reconnect") o->stranger_reconnect = v != "0";
    else return std::fprintf(stderr, "hub_load: unknown option %s\n", k.c_str()), false;
  }
  if (argc % 2 != 0) return false;
  return !o->hub.empty() && !o->schools.empty() && o->count > 0 && o->concurrency > 0 &&
         (o->stranger_mode == "idle" || o->stranger_mode == "preamble");
}

// ---------------------------------------------------------------------------------------------
// Sockets from a chosen source address.

std::string SchoolAddress(int i) {
  return "127.1." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250);
}

bool SplitHostPort(const std::string& hp, sockaddr_in* to) {
  size_t colon = hp.rfind(':');
  if (colon == std::string::npos) return false;
  std::memset(to, 0, sizeof *to);
  to->sin_family = AF_INET;
  to->sin_port = htons(static_cast<uint16_t>(std::atoi(hp.c_str() + colon + 1)));
  return inet_pton(AF_INET, hp.substr(0, colon).c_str(), &to->sin_addr) == 1;
}

// A connected socket from `source` to `hub` ("A.B.C.D:PORT"), or -1 with errno.
int ConnectFrom(const std::string& source, const std::string& hub) {
  sockaddr_in from{}, to{};
  if (!SplitHostPort(hub, &to)) return errno = EINVAL, -1;
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

// A Link over a socket bound to the school's own address; reads and writes wait at most the
// timeout (poll), like TcpLink.
class SourceLink : public outpost::sync::Link {
 public:
  SourceLink(int fd, std::string peer, std::chrono::milliseconds timeout)
      : fd_(fd), peer_(std::move(peer)), timeout_(timeout) {}
  ~SourceLink() override { close(fd_); }

  outpost::Status Write(std::span<const uint8_t> bytes) override {
    size_t done = 0;
    while (done < bytes.size()) {
      if (!Wait(POLLOUT)) return outpost::IoError("write timed out or link closed");
      ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return outpost::IoError(std::string("write: ") + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    sent_ += bytes.size();
    return outpost::Status::Ok();
  }
  outpost::Status ReadExact(std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size()) {
      if (!Wait(POLLIN)) return outpost::IoError("read timed out or link closed");
      ssize_t n = recv(fd_, out.data() + done, out.size() - done, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return outpost::IoError("the hub closed the connection");
      if (n < 0) return outpost::IoError(std::string("read: ") + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    received_ += out.size();
    return outpost::Status::Ok();
  }
  void Close() override { shutdown(fd_, SHUT_RDWR); }
  void Linger(std::chrono::milliseconds at_most) override {
    shutdown(fd_, SHUT_WR);
    auto end = Clock::now() + at_most;
    char buf[4096];
    while (Clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0 && recv(fd_, buf, sizeof buf, 0) <= 0) break;
    }
  }
  void set_deadline(Clock::time_point deadline) override { deadline_ = deadline; }
  void set_rate_limit_kbps(uint64_t) override {}
  uint64_t bytes_sent() const override { return sent_; }
  uint64_t bytes_received() const override { return received_; }
  std::string peer() const override { return peer_; }

 private:
  bool Wait(short events) {
    pollfd p{fd_, events, 0};
    int r;
    do {
      auto wait = timeout_;
      if (deadline_ != Clock::time_point::max()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
        wait = std::clamp(left, std::chrono::milliseconds(0), wait);
      }
      r = poll(&p, 1, static_cast<int>(wait.count()));
    } while (r < 0 && errno == EINTR);
    return r > 0 && (p.revents & (events | POLLHUP | POLLERR));
  }
  int fd_;
  std::string peer_;
  std::chrono::milliseconds timeout_;
  Clock::time_point deadline_ = Clock::time_point::max();
  uint64_t sent_ = 0, received_ = 0;
};

outpost::SyncDialer DialerFrom(const std::string& source) {
  return [source](const std::string& address, std::chrono::milliseconds timeout)
             -> outpost::Result<std::unique_ptr<outpost::sync::Link>> {
    int fd = ConnectFrom(source, address);
    if (fd < 0) return outpost::IoError("connect " + address + ": " + std::strerror(errno));
    return std::unique_ptr<outpost::sync::Link>(new SourceLink(fd, address, timeout));
  };
}

// ---------------------------------------------------------------------------------------------
// Strangers: connections that never authenticate.

class Strangers {
 public:
  Strangers(const Options& o) : o_(o) {}
  void Start() {
    for (int i = 0; i < o_.strangers_one; ++i) threads_.emplace_back([this] { Hold("127.2.0.1"); });
    for (int i = 0; i < o_.strangers_many; ++i) {
      std::string a = "127.3." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250);
      threads_.emplace_back([this, a] { Hold(a); });
    }
  }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  std::string Report() const {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%d connects, %d refused by connect(2), %d dropped by the hub (%d of them within "
                  "1 s), longest hold %.1f s",
                  connects_.load(), failed_.load(), dropped_.load(), dropped_fast_.load(),
                  longest_ms_.load() / 1000.0);
    return buf;
  }

 private:
  void Hold(const std::string& source) {
    do {
      int fd = ConnectFrom(source, o_.hub);
      if (fd < 0) {
        ++failed_;
        std::this_thread::sleep_for(100ms);
        continue;
      }
      ++connects_;
      if (o_.stranger_mode == "preamble") (void)send(fd, "OPS1\x02\0\0\0", 8, MSG_NOSIGNAL);
      HoldOpen(fd);
      close(fd);
      if (!stop_) std::this_thread::sleep_for(100ms);
    } while (!stop_ && o_.stranger_reconnect);
    while (!stop_) std::this_thread::sleep_for(100ms);
  }
  // Until the hub closes the connection or Stop().
  void HoldOpen(int fd) {
    auto since = Clock::now();
    char buf[256];
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      if (recv(fd, buf, sizeof buf, 0) > 0) continue;
      int64_t ms = static_cast<int64_t>(Since(since) * 1000);
      ++dropped_;
      if (ms < 1000) ++dropped_fast_;
      int64_t seen = longest_ms_;
      while (ms > seen && !longest_ms_.compare_exchange_weak(seen, ms)) {}
      return;
    }
    int64_t ms = static_cast<int64_t>(Since(since) * 1000);
    int64_t seen = longest_ms_;
    while (ms > seen && !longest_ms_.compare_exchange_weak(seen, ms)) {}
  }
  const Options& o_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connects_{0}, failed_{0}, dropped_{0}, dropped_fast_{0};
  std::atomic<int64_t> longest_ms_{0};
};

// ---------------------------------------------------------------------------------------------
// The hub's /proc.

struct HubSample {
  double cpu_s = 0;  // utime + stime
  int64_t rss_kb = 0, hwm_kb = 0, threads = 0;
};

bool ReadHub(int pid, HubSample* s) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string f;
  std::vector<std::string> fields;
  while (rest >> f) fields.push_back(f);
  if (fields.size() < 13) return false;
  double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  s->cpu_s = (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / hz;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    auto value = [&] { return std::atoll(line.c_str() + line.find(':') + 1); };
    if (line.rfind("VmRSS:", 0) == 0) s->rss_kb = value();
    else if (line.rfind("VmHWM:", 0) == 0) s->hwm_kb = value();
    else if (line.rfind("Threads:", 0) == 0) s->threads = value();
  }
  return true;
}

// What a hub thread is doing: "running", "disk" (D state), or the kernel function it sleeps in.
std::string ThreadWait(const fs::path& task) {
  std::ifstream stat(task / "stat");
  std::string line;
  if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) return "";
  char state = line[line.rfind(')') + 2];
  if (state == 'R') return "running";
  if (state == 'D') return "disk";
  std::ifstream wchan(task / "wchan");
  std::string w;
  std::getline(wchan, w);
  if (w.rfind("futex", 0) == 0) return "lock (futex)";
  // In the hub only SQLite's busy handler sleeps (and the accept loop after EMFILE); in the
  // generator, retries and strangers do.
  if (w == "hrtimer_nanosleep" || w == "do_nanosleep") return "nanosleep";
  return w.empty() || w == "0" ? "other" : w;
}

class Sampler {
 public:
  explicit Sampler(int pid) : pid_(pid) {}
  void Start() {
    if (pid_ > 0) thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::map<std::string, int64_t> waits;  // thread samples by what they wait in
  int64_t samples = 0, max_rss_kb = 0, max_threads = 0;

 private:
  void Loop() {
    while (!stop_) {
      HubSample s;
      if (ReadHub(pid_, &s)) {
        max_rss_kb = std::max(max_rss_kb, s.rss_kb);
        max_threads = std::max(max_threads, s.threads);
      }
      std::error_code ec;
      for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid_) + "/task", ec)) {
        ++waits[ThreadWait(task.path())];
      }
      ++samples;
      std::this_thread::sleep_for(100ms);
    }
  }
  int pid_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

// Lines of the hub's log that contain `needle`.
int64_t CountLog(const std::string& file, const std::string& needle) {
  if (file.empty()) return 0;
  std::ifstream in(file);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Schools.

fs::path SchoolDir(const Options& o, int i) {
  char name[16];
  std::snprintf(name, sizeof name, "s%05d", i);
  return fs::path(o.schools) / name;
}

std::string SchoolName(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "school-%05d", i);
  return name;
}

// A failure's message with digits taken out, so that like failures count together.
std::string Reason(const std::string& message) {
  std::string r;
  for (char c : message) {
    if (c >= '0' && c <= '9') {
      if (r.empty() || r.back() != '#') r += '#';
    } else {
      r += c;
    }
  }
  return r.size() > 160 ? r.substr(0, 160) : r;
}

// Why the hub's sessions ended early, from its log lines after the first `skip`: "sync: session
// with ADDR ended: WHY", counted by WHY (digits taken out).
std::map<std::string, int> HubEndings(const std::string& file, int64_t skip) {
  std::map<std::string, int> endings;
  if (file.empty()) return endings;
  std::ifstream in(file);
  std::string line;
  const std::string mark = " ended: ";
  for (int64_t n = 0; std::getline(in, line); ++n) {
    size_t at = line.find(mark);
    if (n < skip || line.find("sync: session with ") == std::string::npos || at == std::string::npos) continue;
    ++endings[Reason(line.substr(at + mark.size()))];
  }
  return endings;
}

struct Tally {
  std::mutex mu;
  int completed = 0, gave_up = 0, attempts = 0, wrong = 0;
  uint64_t sent = 0, received = 0, files = 0, chunks = 0, patches = 0;
  std::vector<double> seconds;  // of each completed session
  std::map<std::string, int> failures;

  void Fail(const std::string& why) {
    std::lock_guard lock(mu);
    ++failures[Reason(why)];
  }
};

// Runs `work(i)` for i in [first, first + count), `concurrency` at once.
void Pool(int first, int count, int concurrency, const std::function<void(int)>& work) {
  std::atomic<int> next{first};
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min(concurrency, count); ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < first + count;) work(i);
    });
  }
  for (auto& t : threads) t.join();
}

// ---------------------------------------------------------------------------------------------
// enrol

int Enrol(const Options& o) {
  if (o.hub_data.empty()) return std::fprintf(stderr, "hub_load enrol: --hub-data\n"), 2;
  outpost::NodePaths hub(o.hub_data);
  auto hub_db = outpost::SyncDb::Open(hub.sync_db);
  if (!hub_db) return std::fprintf(stderr, "hub_load: %s\n", hub_db.error().message().c_str()), 1;
  std::vector<std::string> codes(o.first + o.count);
  auto t0 = Clock::now();
  for (int i = o.first; i < o.first + o.count; ++i) {
    outpost::EnrolRequest request;
    request.site_name = SchoolName(i);
    request.address = o.hub;
    auto r = outpost::Enrol(hub, hub_db->get(), request);
    if (!r) return std::fprintf(stderr, "hub_load: code %d: %s\n", i, r.error().message().c_str()), 1;
    codes[i] = r->code;
  }
  double code_s = Since(t0);
  Tally tally;
  t0 = Clock::now();
  Pool(o.first, o.count, o.concurrency, [&](int i) {
    outpost::NodePaths paths(SchoolDir(o, i));
    for (;;) {  // a school turned away (max_sessions) tries again, as for a sync
      auto db = outpost::SyncDb::Open(paths.sync_db);
      auto pin = db ? outpost::EnrolWithHub(paths, db->get(), o.hub, codes[i], SchoolName(i), 60s,
                                            DialerFrom(SchoolAddress(i)))
                    : outpost::Result<outpost::HubPin>(db.error());
      if (pin) break;
      tally.Fail(pin.error().message());
      if (Since(t0) >= o.deadline_s) return;
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(o.retry_ms));
    }
    std::lock_guard lock(tally.mu);
    ++tally.completed;
  });
  double join_s = Since(t0);
  std::printf("enrol: %d codes made in %.2f s (%.0f/s); %d schools joined in %.2f s (%.1f/s), %d failed\n",
              o.count, code_s, o.count / code_s, tally.completed, join_s, tally.completed / join_s,
              o.count - tally.completed);
  for (const auto& [why, n] : tally.failures) std::printf("  failed attempts %d x: %s\n", n, why.c_str());
  return tally.completed == o.count ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// sync

// The bench-sync channel's served version in a school's catalog (0 if none).
int64_t ServedVersion(outpost::Catalog* catalog) {
  int64_t v = 0;
  for (const auto& c : catalog->Channels()) v = std::max(v, c.served_version);
  return v;
}

// One session of school `i`; true when it completed (recorded in `tally`), false to retry.
bool SyncOnce(const Options& o, int i, Tally* tally) {
  fs::path dir = SchoolDir(o, i);
  outpost::NodePaths paths(dir);
  auto store = outpost::BlobStore::Open(dir);
  if (!store) return tally->Fail("open: " + store.error().message()), false;
  auto catalog = outpost::Catalog::Open(dir / "catalog.db");
  if (!catalog) return tally->Fail("open: " + catalog.error().message()), false;
  auto db = outpost::SyncDb::Open(paths.sync_db);
  if (!db) return tally->Fail("open: " + db.error().message()), false;
  outpost::SyncOptions options;
  options.hub = o.hub;
  options.dial = DialerFrom(SchoolAddress(i));
  auto t0 = Clock::now();
  auto r = outpost::SyncWithHub(paths, store->get(), catalog->get(), db->get(), options);
  if (!r) return tally->Fail(r.error().message()), false;
  if (!r->complete) {
    tally->Fail("incomplete: " + (r->refused.empty() ? std::string("?") : r->refused.front()));
    return false;
  }
  bool wrong = o.expect_version > 0 && ServedVersion(catalog->get()) != o.expect_version;
  std::lock_guard lock(tally->mu);
  ++tally->completed;
  tally->wrong += wrong;
  tally->sent += r->bytes_sent;
  tally->received += r->bytes_received;
  tally->files += r->files_received;
  tally->chunks += r->chunks_received;
  tally->patches += r->patches_received;
  tally->seconds.push_back(Since(t0));
  return true;
}

void SyncSchool(const Options& o, int i, Clock::time_point start, Tally* tally) {
  for (;;) {
    {
      std::lock_guard lock(tally->mu);
      ++tally->attempts;
    }
    if (SyncOnce(o, i, tally)) return;
    if (Since(start) + o.retry_ms / 1000 >= o.deadline_s) break;
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(o.retry_ms));
  }
  std::lock_guard lock(tally->mu);
  ++tally->gave_up;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

struct PhaseClock {
  double wall = 0, hub_cpu = 0, own_cpu = 0;
  HubSample before, after;
  int64_t turned_away = 0;
  std::map<std::string, int> hub_endings;
};

double OwnCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

void PrintWaits(const char* who, const Sampler& idle, const Sampler& busy) {
  std::vector<std::pair<double, std::string>> rows;
  for (const auto& [what, n] : busy.waits) {
    double avg = busy.samples ? static_cast<double>(n) / busy.samples : 0;
    auto it = idle.waits.find(what);
    double base = it != idle.waits.end() && idle.samples ? double(it->second) / idle.samples : 0;
    rows.emplace_back(avg - base, what);
  }
  std::sort(rows.rbegin(), rows.rend());
  std::printf("  %s threads, average number in each state%s (%lld samples):", who,
              idle.samples ? " above the idle hub's" : "", static_cast<long long>(busy.samples));
  int shown = 0;
  for (const auto& [avg, what] : rows) {
    if (shown++ == 6) break;
    std::printf(" %s %+.1f;", what.c_str(), avg);
  }
  std::printf("\n");
}

double WaitAbove(const Sampler& idle, const Sampler& busy, const std::string& what) {
  auto avg = [&](const Sampler& s) {
    auto it = s.waits.find(what);
    return it == s.waits.end() || !s.samples ? 0.0 : double(it->second) / s.samples;
  };
  return avg(busy) - avg(idle);
}

// The line that says what bounded the phase.
void PrintVerdict(const PhaseClock& c, const Sampler& idle, const Sampler& busy,
                  const Sampler& self, const Tally& t) {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  double hub_pct = c.wall > 0 ? 100 * c.hub_cpu / c.wall : 0;
  double own_pct = c.wall > 0 ? 100 * c.own_cpu / c.wall : 0;
  std::vector<std::string> why;
  char buf[256];
  if (c.turned_away > 0) {
    std::snprintf(buf, sizeof buf, "sessions refused: max_sessions reached, %lld connections turned away",
                  static_cast<long long>(c.turned_away));
    why.push_back(buf);
  }
  // Threads runnable (R) on average, against the cores' worth of CPU the hub got: the rest
  // waited for a CPU that other processes (the generator, other jobs) held.
  double waiting = WaitAbove(idle, busy, "running") - hub_pct / 100;
  if (hub_pct >= 80.0 * cores) {
    std::snprintf(buf, sizeof buf, "CPU-bound: hub at %.0f%% CPU of %d cores", hub_pct, cores);
    why.push_back(buf);
  } else if (hub_pct + own_pct >= 85.0 * cores) {
    std::snprintf(buf, sizeof buf, "CPU-bound (machine): hub %.0f%% + schools' generator %.0f%% of %d%%",
                  hub_pct, own_pct, 100 * cores);
    why.push_back(buf);
  }
  double locks = WaitAbove(idle, busy, "lock (futex)"), sqlite = WaitAbove(idle, busy, "nanosleep");
  double disk = WaitAbove(idle, busy, "disk");
  if (waiting >= 0.5 && hub_pct < 80.0 * cores) {
    std::snprintf(buf, sizeof buf, "CPU (shared machine): hub threads waited for a CPU, %.1f runnable on average beyond the %.2f cores they got",
                  waiting, hub_pct / 100);
    why.push_back(buf);
  }
  if (locks >= 1) why.push_back("lock waits: " + std::to_string(locks).substr(0, 4) + " hub threads on average");
  if (sqlite >= 0.5) why.push_back("SQLite busy waits: " + std::to_string(sqlite).substr(0, 4) + " hub threads sleeping in the busy handler on average");
  if (disk >= 0.5) why.push_back("hub disk: " + std::to_string(disk).substr(0, 4) + " threads in D state");
  double school_disk = WaitAbove(Sampler(0), self, "disk");
  if (school_disk >= 0.5) {
    why.push_back("schools' disk: " + std::to_string(school_disk).substr(0, 4) +
                  " generator threads in D state (the schools' own SQLite, fsync and file writes)");
  }
  if (t.gave_up > 0 && why.empty()) why.push_back("schools gave up (see failures)");
  if (why.empty()) why.push_back("nothing saturated: latency-bound (each school's session is short; more concurrency would go faster)");
  std::printf("  where it stops:");
  for (size_t k = 0; k < why.size(); ++k) std::printf("%s %s", k ? ";" : "", why[k].c_str());
  std::printf("\n");
}

void PrintPhase(const Options& o, const PhaseClock& c, const Sampler& idle, const Sampler& busy,
                const Sampler& self, const Tally& t, const std::string& strangers) {
  std::printf("phase %s: %d schools, %d at once, deadline %.0f s, retry after %.0f ms\n",
              o.label.c_str(), o.count, o.concurrency, o.deadline_s, o.retry_ms);
  std::printf("  sessions completed %d of %d in %.2f s: %.1f sessions/s; attempts %d; gave up %d%s\n",
              t.completed, o.count, c.wall, c.wall > 0 ? t.completed / c.wall : 0, t.attempts,
              t.gave_up, t.wrong ? (", NOT at the expected version: " + std::to_string(t.wrong)).c_str() : "");
  std::printf("  session seconds (completed): median %.3f, p90 %.3f, max %.3f\n",
              Percentile(t.seconds, 0.5), Percentile(t.seconds, 0.9), Percentile(t.seconds, 1.0));
  std::printf("  bytes: hub sent %llu, received %llu (TCP payload of completed sessions; %.0f per session); files %llu (%llu as patches), chunks %llu\n",
              (unsigned long long)t.received, (unsigned long long)t.sent,
              t.completed ? double(t.sent + t.received) / t.completed : 0.0, (unsigned long long)t.files,
              (unsigned long long)t.patches, (unsigned long long)t.chunks);
  std::printf("  failed attempts: %d", t.attempts - t.completed);
  for (const auto& [why, n] : t.failures) std::printf("\n    %d x %s", n, why.c_str());
  std::printf("\n  turned away by the hub (max_sessions reached, from its log): %lld\n",
              static_cast<long long>(c.turned_away));
  for (const auto& [why, n] : c.hub_endings) std::printf("  hub log: %d sessions ended: %s\n", n, why.c_str());
  std::printf("  hub: CPU %.2f s (%.0f%% of one core), peak RSS %.1f MB (VmHWM; %.1f MB at most during the phase), threads at most %lld\n",
              c.hub_cpu, c.wall > 0 ? 100 * c.hub_cpu / c.wall : 0, c.after.hwm_kb / 1000.0,
              busy.max_rss_kb / 1000.0, static_cast<long long>(busy.max_threads));
  std::printf("  schools' generator (this process): CPU %.2f s (%.0f%% of one core)\n", c.own_cpu,
              c.wall > 0 ? 100 * c.own_cpu / c.wall : 0);
  if (!strangers.empty()) std::printf("  strangers: %s\n", strangers.c_str());
  PrintWaits("hub", idle, busy);
  PrintWaits("schools' generator", Sampler(0), self);
  PrintVerdict(c, idle, busy, self, t);
}

int SyncPhase(const Options& o) {
  Sampler idle(o.hub_pid);  // the idle hub, for a baseline of its threads' states
  idle.Start();
  std::this_thread::sleep_for(1s);
  idle.Stop();
  Strangers strangers(o);
  strangers.Start();
  if (o.strangers_one + o.strangers_many > 0) std::this_thread::sleep_for(1s);  // they connect first
  PhaseClock c;
  ReadHub(o.hub_pid, &c.before);
  const std::string turned = "a connection is turned away";
  int64_t turned0 = CountLog(o.hub_log, turned), lines0 = CountLog(o.hub_log, "");
  double own0 = OwnCpu();
  Sampler busy(o.hub_pid), self(getpid());
  busy.Start();
  self.Start();
  Tally tally;
  auto start = Clock::now();
  Pool(o.first, o.count, o.concurrency, [&](int i) { SyncSchool(o, i, start, &tally); });
  c.wall = Since(start);
  busy.Stop();
  self.Stop();
  c.own_cpu = OwnCpu() - own0;
  ReadHub(o.hub_pid, &c.after);
  c.hub_cpu = c.after.cpu_s - c.before.cpu_s;
  c.turned_away = CountLog(o.hub_log, turned) - turned0;
  c.hub_endings = HubEndings(o.hub_log, lines0);
  strangers.Stop();
  bool any = o.strangers_one + o.strangers_many > 0;
  PrintPhase(o, c, idle, busy, self, tally, any ? strangers.Report() : "");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseOptions(argc, argv, &o) || (o.command != "enrol" && o.command != "sync")) {
    std::fprintf(stderr, "usage: see the comment at the top of bench/hub_load.cc\n");
    return 2;
  }
  if (!outpost::InitCrypto()) return std::fprintf(stderr, "hub_load: libsodium failed\n"), 1;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return o.command == "enrol" ? Enrol(o) : SyncPhase(o);
}
