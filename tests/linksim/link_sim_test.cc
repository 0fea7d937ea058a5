// Tests of the link simulator: real sockets on loopback, an echo, sink or stalling server run
// in-process on its own thread, and blocking clients in the test's thread. The last tests drive
// the outpost-linksim binary as a subprocess.
//
// Time on a shared, loaded machine only ever runs long, so a test may check that a delay is at
// least what the link promises (a slow machine adds to it, it cannot take from it), never that
// something was quick. Tests wait for the event itself (bytes arrived, a connection ended, the
// queue filled) and give up only after kSafety, which no working simulator comes near. How long
// things take on a given machine is bench/linksim.py's business.
#include "linksim/link_sim.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <regex>
#include <thread>

#include "linksim/asio.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace outpost::linksim {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string kBinary = LINKSIM_BINARY;

// How long a test waits for an event before it fails: a safety net, never a measure.
constexpr std::chrono::seconds kSafety{60};

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Polls `condition` until it holds; false if kSafety passed first.
bool WaitUntil(const std::function<bool()>& condition) {
  auto deadline = Clock::now() + kSafety;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// ---- a server to put behind the simulator ----

// What a test server saw on one connection.
struct Received {
  std::string bytes;
  bool ended = false;
  bool reset = false;  // ended by RST (ECONNRESET), not by a clean close
};

// An echo, sink or stalling server on 127.0.0.1, running on a thread of its own.
class TestServer {
 public:
  enum class Mode {
    kEcho,   // sends back what it receives, closes after the client's FIN
    kSink,   // keeps what it receives
    kStall,  // accepts, then never reads
  };

  explicit TestServer(Mode mode) : mode_(mode) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::address_v4::loopback(), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }

  // Waits until `n` connections have ended; returns every connection, in accept order.
  std::vector<Received> WaitEnded(size_t n, std::chrono::milliseconds timeout = kSafety) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, timeout, [&] { return ended_ >= n; });
    return connections_;
  }
  // Waits until `total` bytes have arrived over all connections; false on timeout.
  bool WaitBytes(size_t total, std::chrono::milliseconds timeout = kSafety) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return received_ >= total; });
  }

 private:
  awaitable<void> Accept() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(use_awaitable);
      size_t index;
      {
        std::lock_guard lock(mu_);
        index = connections_.size();
        connections_.emplace_back();
      }
      asio::co_spawn(io_, Serve(std::move(socket), index), asio::detached);
    }
  }

  awaitable<void> Serve(tcp::socket socket, size_t index) {
    error_code ec;
    if (mode_ == Mode::kStall) {
      asio::steady_timer forever(io_, Clock::time_point::max());
      co_await forever.async_wait(asio::redirect_error(use_awaitable, ec));
      co_return;
    }
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      size_t n = co_await socket.async_read_some(asio::buffer(buffer),
                                                 asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      Add(index, buffer.data(), n);
      if (mode_ == Mode::kEcho) {
        co_await asio::async_write(socket, asio::buffer(buffer.data(), n),
                                   asio::redirect_error(use_awaitable, ec));
        if (ec) break;
      }
    }
    std::lock_guard lock(mu_);
    connections_[index].ended = true;
    connections_[index].reset = ec == asio::error::connection_reset;
    ++ended_;
    changed_.notify_all();
  }

  void Add(size_t index, const char* data, size_t n) {
    std::lock_guard lock(mu_);
    connections_[index].bytes.append(data, n);
    received_ += n;
    changed_.notify_all();
  }

  Mode mode_;
  asio::io_context io_;  // before the acceptor: destroyed after it
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Received> connections_;  // guarded by mu_
  size_t ended_ = 0, received_ = 0;    // guarded by mu_
};

// ---- clients ----

std::unique_ptr<LinkSim> StartSim(Config config) {
  auto sim = LinkSim::Start(config);
  if (!sim) ADD_FAILURE() << sim.error().ToString();
  return sim ? std::move(*sim) : nullptr;
}

Config ConfigFor(const TestServer& server) {
  Config config;
  config.target_port = server.port();
  return config;
}

tcp::socket Connect(asio::io_context& io, uint16_t port) {
  tcp::socket socket(io);
  socket.connect({asio::ip::address_v4::loopback(), port});
  socket.set_option(tcp::no_delay(true));
  return socket;
}

// Reads until `limit` bytes, end of stream or an error; `ec` says which ended it.
std::string ReadUpTo(tcp::socket& socket, size_t limit, error_code* ec) {
  std::string out;
  std::vector<char> buffer(64 * 1024);
  *ec = {};
  while (out.size() < limit) {
    size_t n = socket.read_some(
        asio::buffer(buffer.data(), std::min(buffer.size(), limit - out.size())), *ec);
    if (*ec) break;
    out.append(buffer.data(), n);
  }
  return out;
}

// Whether the simulator reset the connection, seen from a client that wrote (`wrote`) and then
// read (`read`). The kernel reports a received RST once: to the write if it was still going on
// (then the read sees a closed socket), else to the read.
bool WasReset(error_code wrote, error_code read) {
  return wrote == asio::error::connection_reset || wrote == asio::error::broken_pipe ||
         read == asio::error::connection_reset;
}

// Sends `data` through an echo server behind `config`'s simulator, from a second thread (on a
// dup of the socket) while this one reads, and checks that the same bytes come back.
void EchoRoundTrip(Config config, size_t size) {
  TestServer echo(TestServer::Mode::kEcho);
  config.target_port = echo.port();
  auto sim = StartSim(config);
  ASSERT_TRUE(sim);
  std::string data = testing::RandomBytes(size, 42);
  asio::io_context io;
  tcp::socket reader = Connect(io, sim->port());
  std::thread writer_thread([&] {
    tcp::socket writer(io, tcp::v4(), ::dup(reader.native_handle()));
    for (size_t at = 0, step = 1; at < data.size(); at += step, step = step * 7 % 70001 + 1) {
      step = std::min(step, data.size() - at);
      asio::write(writer, asio::buffer(data.data() + at, step));
    }
    writer.shutdown(tcp::socket::shutdown_send);
  });
  error_code ec;
  std::string back = ReadUpTo(reader, data.size() + 1, &ec);
  writer_thread.join();
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
  EXPECT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data) << "the bytes came back changed or reordered";
  reader.close();
  ASSERT_TRUE(sim->WaitForClosed(1, kSafety));
  ConnectionRecord record = sim->connections().at(0);
  EXPECT_EQ(record.bytes_to_target, size);
  EXPECT_EQ(record.bytes_to_client, size);
  EXPECT_FALSE(record.cut);
  EXPECT_EQ(record.error, "");
}

// ---- the link model ----

TEST(LinkSimTest, BytesArriveUnchangedAndInOrder) {
  Config config;
  config.latency_ms = 5;
  EchoRoundTrip(config, 3 << 20);
}

TEST(LinkSimTest, BytesArriveUnchangedAndInOrderUnderARateCap) {
  Config config;
  config.latency_ms = 20;
  config.rate_kbps = 40'000;  // 5 MB/s each way: 1 MiB takes about 0.2 s
  EchoRoundTrip(config, 1 << 20);
}

TEST(LinkSimTest, LatencyIsAddedToEachDirection) {
  TestServer echo(TestServer::Mode::kEcho);
  Config config = ConfigFor(echo);
  config.latency_ms = 200;
  auto sim = StartSim(config);
  ASSERT_TRUE(sim);
  asio::io_context io;
  tcp::socket client = Connect(io, sim->port());
  for (int round = 0; round < 2; ++round) {
    auto start = Clock::now();
    asio::write(client, asio::buffer("ping", 4));
    error_code ec;
    EXPECT_EQ(ReadUpTo(client, 4, &ec), "ping");
    // 200 ms each way at least; a loaded machine only adds to it, so there is no upper bound.
    EXPECT_GE(SecondsSince(start), 0.4) << "round " << round;
  }
}

TEST(LinkSimTest, ReadingGoesOnWhileBytesAreInFlight) {
  // Ten messages into an hour-long link, each written once the simulator has read the one
  // before: a delay queue reads them all while the first is still in flight; a link that waited
  // out a message's latency before reading on would never take the second.
  TestServer sink(TestServer::Mode::kSink);
  Config config = ConfigFor(sink);
  config.latency_ms = 3'600'000;
  auto sim = StartSim(config);
  ASSERT_TRUE(sim);
  asio::io_context io;
  tcp::socket client = Connect(io, sim->port());
  for (uint64_t i = 1; i <= 10; ++i) {
    asio::write(client, asio::buffer("0123456789", 10));
    ASSERT_TRUE(WaitUntil([&] { return sim->counters().peak_queued_bytes >= 10 * i; }))
        << "message " << i << " was never read";
  }
  EXPECT_EQ(sim->counters().peak_queued_bytes, 100u);
  EXPECT_EQ(sim->counters().bytes_to_target, 0u) << "bytes arrived before their latency";
}

TEST(LinkSimTest, RateCapHolds) {
  TestServer sink(TestServer::Mode::kSink);
  Config config = ConfigFor(sink);
  config.rate_kbps = 800;  // 100 kB/s: 200 kB take 2 s
  auto sim = StartSim(config);
  ASSERT_TRUE(sim);
  asio::io_context io;
  tcp::socket client = Connect(io, sim->port());
  std::string data = testing::RandomBytes(200'000, 1);
  auto start = Clock::now();
  asio::write(client, asio::buffer(data));
  ASSERT_TRUE(sink.WaitBytes(data.size()));
  // The link cannot deliver faster than its rate (the last piece leaves 2 s after the first is
  // read, which is after `start`): a lower bound only, since a loaded machine only adds time.
  EXPECT_GE(SecondsSince(start), 1.8);
  // The simulator counts a write once it completes, which may be just after the sink read it.
  EXPECT_TRUE(WaitUntil([&] { return sim->counters().bytes_to_target == data.size(); }))
      << sim->counters().bytes_to_target << " of " << data.size() << " counted";
}

TEST(LinkSimTest, FullQueueStopsReading) {
  // The target never reads. The simulator must fill its queue to max_queued_bytes and no
  // further; then it stops reading and TCP flow control holds the client's writes back. The
  // client offers 256 MiB, far more than the queue and every kernel buffer on the way can hold,
  // so it can only finish writing if the simulator reads without bound.
  TestServer stall(TestServer::Mode::kStall);
  Config config = ConfigFor(stall);
  config.max_queued_bytes = 256 << 10;
  auto sim = StartSim(config);
  ASSERT_TRUE(sim);
  asio::io_context io;
  tcp::socket client = Connect(io, sim->port());
  std::atomic<bool> wrote_all{false};
  std::thread writer([&] {
    std::string block(1 << 20, 'x');
    error_code ec;
    for (int i = 0; i < 256 && !ec; ++i) asio::write(client, asio::buffer(block), ec);
    wrote_all = !ec;
  });
  EXPECT_TRUE(WaitUntil([&] {
    return sim->counters().peak_queued_bytes >= config.max_queued_bytes;
  })) << "the queue never filled";
  EXPECT_EQ(sim->counters().peak_queued_bytes, config.max_queued_bytes);
  EXPECT_FALSE(wrote_all) << "the client could write 256 MiB into a stalled link";
  sim->Stop();  // resets the connection, which ends the blocked write
  writer.join();
}

// ---- cuts ----

TEST(LinkSimTest, CutAfterDeliversExactlyThatManyBytesThenResets) {
  TestServer sink(TestServer::Mode::kSink);
  Config config = ConfigFor(sink);
  config.cut_after = 12'345;
  auto sim = StartSim(config);
  ASSERT_TRUE(sim);
  asio::io_context io;
  tcp::socket client = Connect(io, sim->port());
  std::string data = testing::RandomBytes(100'000, 2);
  error_code wrote, read;
  asio::write(client, asio::buffer(data), wrote);  // may fail once the link is cut
  EXPECT_EQ(ReadUpTo(client, 1, &read), "");
  EXPECT_TRUE(WasReset(wrote, read)) << wrote.message() << ", " << read.message();

  std::vector<Received> got = sink.WaitEnded(1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(got[0].ended);
  EXPECT_TRUE(got[0].reset);
  EXPECT_EQ(got[0].bytes.size(), 12'345u);
  EXPECT_TRUE(got[0].bytes == data.substr(0, 12'345));

  ASSERT_TRUE(sim->WaitForClosed(1, kSafety));
  Counters counters = sim->counters();
  EXPECT_EQ(counters.cuts, 1u);
  EXPECT_EQ(counters.bytes_to_target, 12'345u);
  EXPECT_EQ(counters.bytes_to_client, 0u);
  ConnectionRecord record = sim->connections().at(0);
  EXPECT_TRUE(record.cut);
  EXPECT_EQ(record.cut_point, 12'345u);
  EXPECT_EQ(record.error, "");
}

TEST(LinkSimTest, CutAfterCountsBothDirections) {
  // 6000 bytes out, echoed back, cut at 10001: all 6000 reach the echo server and exactly 4001
  // come back before the reset.
  TestServer echo(TestServer::Mode::kEcho);
  Config config = ConfigFor(echo);
  config.cut_after = 10'001;
  config.latency_ms = 5;
  auto sim = StartSim(config);
  ASSERT_TRUE(sim);
  asio::io_context io;
  tcp::socket client = Connect(io, sim->port());
  std::string data = testing::RandomBytes(6'000, 3);
  asio::write(client, asio::buffer(data));
  error_code ec;
  std::string back = ReadUpTo(client, data.size(), &ec);
  EXPECT_EQ(ec, asio::error::connection_reset) << ec.message();
  EXPECT_EQ(back.size(), 4'001u);
  EXPECT_TRUE(back == data.substr(0, back.size()));

  std::vector<Received> got = echo.WaitEnded(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes.size(), 6'000u);
  ASSERT_TRUE(sim->WaitForClosed(1, kSafety));
  ConnectionRecord record = sim->connections().at(0);
  EXPECT_EQ(record.bytes_to_target, 6'000u);
  EXPECT_EQ(record.bytes_to_client, 4'001u);
  EXPECT_TRUE(record.cut);
  std::string line = FormatLogLine(record);
  EXPECT_TRUE(line.starts_with("conn=0 to_target=6000 to_client=4001 end=cut cut_point=10001 ms="))
      << line;
}

TEST(LinkSimTest, CutPointsComeFromTheSeedAndConnectionNumber) {
  Config config;
  config.cut_random_mean = 10'000;
  config.seed = 99;
  Config other = config;
  other.seed = 100;
  double sum = 0;
  const int kDraws = 4000;
  for (int k = 0; k < kDraws; ++k) {
    std::optional<uint64_t> point = CutPoint(config, k);
    ASSERT_TRUE(point.has_value());
    EXPECT_GE(*point, 1u);
    EXPECT_EQ(point, CutPoint(config, k));
    sum += static_cast<double>(*point);
  }
  EXPECT_NEAR(sum / kDraws, 10'000, 1'000);  // the standard error is 10000 / sqrt(4000) = 158
  EXPECT_NE(CutPoint(config, 0), CutPoint(config, 1));
  EXPECT_NE(CutPoint(config, 0), CutPoint(other, 0));
  config.cut_after = 5;  // the smaller of the two wins
  EXPECT_EQ(CutPoint(config, 0), 5u);
  EXPECT_EQ(CutPoint(Config{}, 0), std::nullopt);
}

// Runs three connections, one after the other, each sending 200 kB into a sink behind a link
// with random cuts; returns how many bytes each delivered before its cut.
std::vector<size_t> RandomCutOffsets(uint64_t seed) {
  TestServer sink(TestServer::Mode::kSink);
  Config config = ConfigFor(sink);
  config.cut_random_mean = 20'000;
  config.seed = seed;
  auto sim = StartSim(config);
  if (!sim) return {};
  std::string data = testing::RandomBytes(200'000, seed);
  asio::io_context io;
  for (size_t k = 0; k < 3; ++k) {
    tcp::socket client = Connect(io, sim->port());
    error_code wrote, read;
    asio::write(client, asio::buffer(data), wrote);
    ReadUpTo(client, 1, &read);  // until the reset
    EXPECT_TRUE(WasReset(wrote, read)) << wrote.message() << ", " << read.message();
    sink.WaitEnded(k + 1);
  }
  std::vector<size_t> offsets;
  for (const Received& r : sink.WaitEnded(3)) {
    EXPECT_TRUE(r.bytes == data.substr(0, r.bytes.size()));
    offsets.push_back(r.bytes.size());
  }
  return offsets;
}

TEST(LinkSimTest, RandomCutsRepeatForASeedAndDifferForAnother) {
  std::vector<size_t> first = RandomCutOffsets(7);
  std::vector<size_t> again = RandomCutOffsets(7);
  std::vector<size_t> other = RandomCutOffsets(8);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  Config config;
  config.cut_random_mean = 20'000;
  config.seed = 7;
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(first[k], CutPoint(config, k)) << "connection " << k;
}

// ---- configuration ----

TEST(LinkSimTest, FlipChangesExactlyOneByteTowardTheClient) {
  TestServer echo(TestServer::Mode::kEcho);
  Config config;
  config.target_port = echo.port();
  config.flip_to_client_at = 70000;  // past the first read, so offsets count across reads
  auto sim = StartSim(config);
  ASSERT_TRUE(sim);
  std::string data = testing::RandomBytes(200000, 9);
  asio::io_context io;
  tcp::socket socket = Connect(io, sim->port());
  std::thread writer([&] {
    tcp::socket w(io, tcp::v4(), ::dup(socket.native_handle()));
    asio::write(w, asio::buffer(data));
    w.shutdown(tcp::socket::shutdown_send);
  });
  error_code ec;
  std::string back = ReadUpTo(socket, data.size() + 1, &ec);
  writer.join();
  ASSERT_EQ(back.size(), data.size());
  size_t differences = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (back[i] != data[i]) {
      ++differences;
      EXPECT_EQ(i, 69999u);
      EXPECT_EQ(back[i] ^ data[i], 1);
    }
  }
  EXPECT_EQ(differences, 1u);
}

TEST(LinkSimTest, ParsesHostAndPort) {
  std::string host;
  uint16_t port = 1;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:0", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseHostPort("[::1]:8443", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8443);
  ASSERT_TRUE(ParseHostPort("localhost:80", &host, &port).ok());
  EXPECT_EQ(host, "localhost");
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", ":80", "host:65536", "host:8o", "::1:80"}) {
    EXPECT_FALSE(ParseHostPort(bad, &host, &port).ok()) << bad;
  }
}

TEST(LinkSimTest, ATargetThatRefusesIsResetAndLogged) {
  uint16_t closed_port;
  {
    asio::io_context io;  // a port that was free a moment ago: nothing listens there
    tcp::acceptor probe(io, {asio::ip::address_v4::loopback(), 0});
    closed_port = probe.local_endpoint().port();
  }
  testing::TempDir dir;
  Config config;
  config.target_port = closed_port;
  config.log_path = (dir.path() / "links.log").string();
  config.max_connections = 1;
  auto sim = StartSim(config);
  ASSERT_TRUE(sim);
  asio::io_context io;
  tcp::socket client = Connect(io, sim->port());
  error_code ec;
  ReadUpTo(client, 1, &ec);
  EXPECT_EQ(ec, asio::error::connection_reset) << ec.message();
  sim->Wait();  // max_connections reached
  ConnectionRecord record = sim->connections().at(0);
  EXPECT_NE(record.error.find("connect to target"), std::string::npos) << record.error;
  std::string log = testing::ReadFile(dir.path() / "links.log");
  EXPECT_TRUE(log.starts_with("conn=0 to_target=0 to_client=0 end=error ms=")) << log;
  EXPECT_NE(log.find(" error=\"connect to target: "), std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1);
}

// ---- the binary ----

struct Child {
  int pid = -1;
  int out = -1;  // the read end of its stdout
};

Child SpawnWithStdoutPipe(std::vector<std::string> args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);  // dup2 clears O_CLOEXEC on fd 1
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child child;
  if (posix_spawn(&child.pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    child.pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  child.out = fds[0];
  return child;
}

// The first line the child prints, without the newline; "" if none within `timeout`.
std::string ReadLine(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = Clock::now() + timeout;
  char c = 0;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if (::read(fd, &c, 1) != 1 || c == '\n') break;
    line += c;
  }
  return line;
}

// The child's exit code, or -1 if it had to be killed after `timeout`.
int WaitExit(Child& child, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  int status = 0;
  while (::waitpid(child.pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(child.pid, SIGKILL);
      ::waitpid(child.pid, &status, 0);
      ::close(child.out);
      return -1;
    }
    std::this_thread::sleep_for(10ms);
  }
  ::close(child.out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

uint16_t ListeningPort(const std::string& line) {
  std::smatch m;
  if (!std::regex_match(line, m, std::regex(R"(listening 127\.0\.0\.1:(\d+))"))) return 0;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

TEST(LinkSimBinaryTest, PrintsItsPortForwardsAndExitsAfterMaxConnections) {
  TestServer echo(TestServer::Mode::kEcho);
  testing::TempDir dir;
  auto log = dir.path() / "links.log";
  Child child = SpawnWithStdoutPipe({kBinary, "--listen", "127.0.0.1:0", "--target",
                                     "127.0.0.1:" + std::to_string(echo.port()), "--latency-ms",
                                     "10", "--max-connections", "1", "--log", log.string()});
  ASSERT_GT(child.pid, 0);
  std::string line = ReadLine(child.out, kSafety);
  uint16_t port = ListeningPort(line);
  ASSERT_NE(port, 0) << "first line: " << line;
  {
    asio::io_context io;
    tcp::socket client = Connect(io, port);
    asio::write(client, asio::buffer("hello", 5));
    error_code ec;
    EXPECT_EQ(ReadUpTo(client, 5, &ec), "hello");
    client.shutdown(tcp::socket::shutdown_send);
    EXPECT_EQ(ReadUpTo(client, 1, &ec), "");
    EXPECT_EQ(ec, asio::error::eof);
  }
  EXPECT_EQ(WaitExit(child, kSafety), 0);
  std::string logged = testing::ReadFile(log);
  EXPECT_TRUE(logged.starts_with("conn=0 to_target=5 to_client=5 end=closed ms=")) << logged;
}

TEST(LinkSimBinaryTest, StopsCleanlyOnSigterm) {
  TestServer echo(TestServer::Mode::kEcho);
  Child child =
      SpawnWithStdoutPipe({kBinary, "--target", "127.0.0.1:" + std::to_string(echo.port())});
  ASSERT_GT(child.pid, 0);
  ASSERT_NE(ListeningPort(ReadLine(child.out, kSafety)), 0);
  ::kill(child.pid, SIGTERM);
  EXPECT_EQ(WaitExit(child, kSafety), 0);
}

TEST(LinkSimBinaryTest, ReportsBadUsageAndBusyPorts) {
  using testing::RunProcess;
  EXPECT_EQ(RunProcess({kBinary}).exit_code, 2);  // --target is required
  EXPECT_EQ(RunProcess({kBinary, "--target", "nowhere"}).exit_code, 2);
  EXPECT_EQ(RunProcess({kBinary, "--target", "127.0.0.1:1", "--rate-kbps", "fast"}).exit_code, 2);
  auto help = RunProcess({kBinary, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--cut-random-mean"), std::string::npos);

  TestServer busy(TestServer::Mode::kSink);
  auto r = RunProcess(
      {kBinary, "--listen", "127.0.0.1:" + std::to_string(busy.port()), "--target", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot listen"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace outpost::linksim
