// LinkSim's proxy: one io_context on one thread; per connection a Session with two Pipes, each
// run by a reader coroutine (socket -> delay queue) and a writer coroutine (delay queue ->
// socket, at each chunk's due time). Everything but the counters and the connection records
// lives on the io thread, so the session state needs no locks.
//
// Wake-ups between a reader and a writer use steady_timers as signals: a coroutine that must
// wait for the other one waits on its timer, and the other cancels that timer when there is
// something new. A missed signal is harmless because every waiter re-checks its condition in a
// loop before waiting again, and nothing runs concurrently with it.
#include "linksim/link_sim.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "linksim/asio.h"

namespace outpost::linksim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;

namespace {

constexpr size_t kReadSize = 64 * 1024;
constexpr std::chrono::milliseconds kPieceTime{10};  // pacing granularity under a rate cap

// SplitMix64's output function: a good 64-bit mix, so that (seed, k) and (seed, k + 1) give
// unrelated streams.
uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// An exponential draw with mean `mean` from the generator of (seed, connection), rounded, >= 1.
uint64_t ExponentialCut(uint64_t seed, uint64_t connection, uint64_t mean) {
  uint64_t bits = Mix(Mix(seed) ^ Mix(connection ^ 0x5851f42d4c957f2dULL));
  double uniform = static_cast<double>(bits >> 11) * 0x1.0p-53;  // [0, 1)
  double draw = std::min(-static_cast<double>(mean) * std::log1p(-uniform), 9e18);
  return std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(draw)));
}

// Closes a socket abruptly: SO_LINGER 0 makes close() send RST instead of FIN.
void Reset(tcp::socket& socket) {
  if (!socket.is_open()) return;
  error_code ec;
  socket.set_option(asio::socket_base::linger(true, 0), ec);
  socket.close(ec);
}

// Bytes in the socket's send queue not yet acknowledged by the peer (Linux SIOCOUTQ).
int UnsentBytes(tcp::socket& socket) {
  int queued = 0;
  if (!socket.is_open() || ::ioctl(socket.native_handle(), TIOCOUTQ, &queued) != 0) return 0;
  return queued;
}

// Sleeps on `timer` until `until`, or until someone cancels the timer.
awaitable<void> WaitOn(asio::steady_timer& timer, Clock::time_point until) {
  timer.expires_at(until);
  error_code ec;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
}

std::string EndpointText(const tcp::endpoint& endpoint) {
  std::string address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

}  // namespace

Status ParseHostPort(std::string_view text, std::string* host, uint16_t* port) {
  auto bad = [&] {
    return InvalidArgument("expected HOST:PORT, got \"" + std::string(text) + "\"");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad();
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  bool bracketed = h.size() >= 2 && h.front() == '[' && h.back() == ']';
  if (bracketed) h = h.substr(1, h.size() - 2);
  if (h.empty() || (!bracketed && h.find(':') != std::string_view::npos)) return bad();
  uint16_t value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size()) return bad();
  *host = std::string(h);
  *port = value;
  return Status::Ok();
}

std::optional<uint64_t> CutPoint(const Config& config, uint64_t connection) {
  std::optional<uint64_t> point;
  if (config.cut_after > 0) point = config.cut_after;
  if (config.cut_random_mean > 0) {
    uint64_t draw = ExponentialCut(config.seed, connection, config.cut_random_mean);
    point = point ? std::min(*point, draw) : draw;
  }
  return point;
}

std::string FormatLogLine(const ConnectionRecord& r) {
  std::string line = "conn=" + std::to_string(r.index) +
                     " to_target=" + std::to_string(r.bytes_to_target) +
                     " to_client=" + std::to_string(r.bytes_to_client);
  line += r.cut ? " end=cut" : r.error.empty() ? " end=closed" : " end=error";
  if (r.cut_point) line += " cut_point=" + std::to_string(*r.cut_point);
  line += " ms=" + std::to_string(r.duration.count());
  if (!r.error.empty()) line += " error=\"" + r.error + "\"";
  return line;
}

class Session;

// ---- LinkSim::Impl: the listener, the shared counters, the records ----

class LinkSim::Impl {
 public:
  explicit Impl(const Config& config) : config_(config) {}
  ~Impl();

  Status Bind();
  void Run();  // starts the io thread
  void Stop() {
    asio::post(io_, [this] { Shutdown(); });
  }

  uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }
  Counters counters() const;
  std::vector<ConnectionRecord> connections() const;
  bool WaitForClosed(uint64_t n, std::chrono::milliseconds timeout) const;
  void Wait() const;

  // For sessions, on the io thread.
  const Config& config() const { return config_; }
  asio::io_context& io() { return io_; }
  void Delivered(bool to_target, uint64_t n) { (to_target ? to_target_ : to_client_) += n; }
  void Queued(uint64_t n);
  void Cutting() { ++cuts_; }
  void Finished(Session* session, ConnectionRecord record);

 private:
  awaitable<void> Listen();
  void Shutdown();

  asio::io_context io_{1};  // first: destroyed last, after everything that uses it
  Config config_;
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::string address_;
  std::FILE* log_ = nullptr;
  std::thread thread_;
  std::unordered_map<Session*, std::shared_ptr<Session>> live_;  // io thread only
  uint64_t closed_ = 0;                                          // io thread only
  std::atomic<uint64_t> accepted_{0}, cuts_{0}, to_target_{0}, to_client_{0}, peak_queued_{0};
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<ConnectionRecord> records_;  // guarded by mu_
  bool stopped_ = false;                   // guarded by mu_
};

// ---- Session: one proxied connection ----

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(LinkSim::Impl& sim, tcp::socket client, uint64_t index)
      : sim_(sim),
        config_(sim.config()),
        client_(std::move(client)),
        target_(sim.io()),
        resolver_(sim.io()),
        drain_timer_(sim.io()),
        up_(sim.io(), client_, target_, true),
        down_(sim.io(), target_, client_, false),
        started_(Clock::now()) {
    record_.index = index;
    record_.cut_point = cut_point_ = CutPoint(config_, index);
  }

  // Connects to the target, then runs the two pipes; calls sim.Finished at the end.
  static awaitable<void> Run(std::shared_ptr<Session> self) { co_await self->Connect(); }

  // Ends the connection at once with RST on both sides (a failure, or the simulator stopping).
  void Abort(const std::string& why) {
    if (closing_) return;
    closing_ = true;
    record_.error = why;
    CloseAbruptly();
  }

 private:
  struct Chunk {
    std::vector<char> bytes;  // empty with `eof`
    size_t sent = 0;          // bytes of `bytes` already written
    Clock::time_point due;    // when it may be written
    bool eof = false;         // the end of the stream, not data
  };

  // One direction: reads `from`, holds what it read in a delay queue, writes it to `to`.
  struct Pipe {
    Pipe(asio::io_context& io, tcp::socket& from_socket, tcp::socket& to_socket, bool up)
        : from(from_socket), to(to_socket), to_target(up), writer_wake(io), reader_wake(io) {}
    tcp::socket& from;
    tcp::socket& to;
    bool to_target;
    std::deque<Chunk> queue;
    size_t queued = 0;            // bytes in `queue` not yet written
    Clock::time_point link_free;  // when the modelled link has sent all it was given
    uint64_t delivered = 0;
    uint64_t read_total = 0;  // bytes read from `from` so far
    asio::steady_timer writer_wake, reader_wake;
    std::vector<char> buffer = std::vector<char>(kReadSize);
  };

  awaitable<void> Connect();
  void StartPipes();
  awaitable<void> Read(std::shared_ptr<Session> self, Pipe& pipe);
  void Enqueue(Pipe& pipe, const char* data, size_t n);
  Clock::time_point Schedule(Pipe& pipe, size_t n);
  size_t PieceSize() const;
  awaitable<void> Write(std::shared_ptr<Session> self, Pipe& pipe);
  awaitable<bool> WriteFront(Pipe& pipe);
  size_t Claim(size_t wanted);
  bool CutDue() const { return cut_point_ && claimed_ >= *cut_point_ && writes_in_flight_ == 0; }
  awaitable<void> Cut();
  void WakeAll();
  void CloseAbruptly();
  void TaskDone();
  void Finish();

  LinkSim::Impl& sim_;
  const Config& config_;
  tcp::socket client_, target_;
  tcp::resolver resolver_;
  asio::steady_timer drain_timer_;
  Pipe up_, down_;  // up_: client -> target; down_: target -> client
  Clock::time_point started_;
  std::optional<uint64_t> cut_point_;
  uint64_t claimed_ = 0;  // bytes given to writes so far, both directions
  int writes_in_flight_ = 0;
  int tasks_ = 0;         // pipe coroutines still running
  bool closing_ = false;  // cut or aborted: every coroutine winds down
  ConnectionRecord record_;
};

awaitable<void> Session::Connect() {
  error_code ec;
  auto results =
      co_await resolver_.async_resolve(config_.target_host, std::to_string(config_.target_port),
                                       asio::redirect_error(use_awaitable, ec));
  if (!ec && !closing_) {
    co_await asio::async_connect(target_, results, asio::redirect_error(use_awaitable, ec));
  }
  if (ec || closing_) {
    Abort("connect to target: " + (ec ? ec.message() : std::string("stopped")));
    Finish();
    co_return;
  }
  error_code ignored;  // Nagle would add its own delay to small messages
  client_.set_option(tcp::no_delay(true), ignored);
  target_.set_option(tcp::no_delay(true), ignored);
  StartPipes();
}

void Session::StartPipes() {
  auto self = shared_from_this();
  auto done = [self](std::exception_ptr e) {  // the catch-all at the coroutines' edge
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        self->Abort(std::string("internal error: ") + ex.what());
      } catch (...) {
        self->Abort("internal error");
      }
    }
    self->TaskDone();
  };
  tasks_ = 4;
  for (Pipe* pipe : {&up_, &down_}) {
    asio::co_spawn(sim_.io(), Read(self, *pipe), done);
    asio::co_spawn(sim_.io(), Write(self, *pipe), done);
  }
}

awaitable<void> Session::Read(std::shared_ptr<Session> /*keep alive*/, Pipe& pipe) {
  while (!closing_) {
    if (pipe.queued >= config_.max_queued_bytes) {  // backpressure: wait for the writer
      co_await WaitOn(pipe.reader_wake, Clock::time_point::max());
      continue;
    }
    size_t room = std::min(pipe.buffer.size(), config_.max_queued_bytes - pipe.queued);
    error_code ec;
    size_t n = co_await pipe.from.async_read_some(asio::buffer(pipe.buffer.data(), room),
                                                  asio::redirect_error(use_awaitable, ec));
    if (closing_) break;
    if (ec == asio::error::eof) {
      Enqueue(pipe, nullptr, 0);
      break;
    }
    if (ec) {
      Abort(std::string(pipe.to_target ? "client" : "target") + " read: " + ec.message());
      break;
    }
    if (!pipe.to_target && config_.flip_to_client_at > pipe.read_total &&
        config_.flip_to_client_at <= pipe.read_total + n) {
      pipe.buffer[config_.flip_to_client_at - 1 - pipe.read_total] ^= 1;
    }
    pipe.read_total += n;
    Enqueue(pipe, pipe.buffer.data(), n);
  }
}

// Queues `n` bytes (n == 0: the end of the stream) in pieces, each with its due time.
void Session::Enqueue(Pipe& pipe, const char* data, size_t n) {
  bool was_empty = pipe.queue.empty();
  if (n == 0) pipe.queue.push_back({{}, 0, Schedule(pipe, 0), true});
  for (size_t at = 0, piece = PieceSize(); at < n; at += piece) {
    size_t len = std::min(piece, n - at);
    pipe.queue.push_back({std::vector<char>(data + at, data + at + len), 0, Schedule(pipe, len)});
    pipe.queued += len;
  }
  sim_.Queued(pipe.queued);
  if (was_empty) pipe.writer_wake.cancel();  // the writer may be idle; else it has a due time
}

// When `n` more bytes are all at the far end: serialized after whatever the link is still
// sending (at the rate cap), then carried for the latency.
Clock::time_point Session::Schedule(Pipe& pipe, size_t n) {
  auto now = Clock::now();
  auto latency = std::chrono::milliseconds(config_.latency_ms);
  if (config_.rate_kbps == 0) return now + latency;
  auto start = std::max(now, pipe.link_free);
  // n bytes at rate_kbps take n * 8 / (rate_kbps * 1000) s = n * 8e6 / rate_kbps ns.
  pipe.link_free = start + std::chrono::nanoseconds(n * 8'000'000 / config_.rate_kbps);
  return pipe.link_free + latency;
}

// Under a rate cap data moves in pieces of about kPieceTime of link time, so that the far side
// sees a steady trickle rather than bursts; without one, whole reads move at once.
size_t Session::PieceSize() const {
  if (config_.rate_kbps == 0) return kReadSize;
  uint64_t bytes_per_second = config_.rate_kbps * 125;
  uint64_t piece = bytes_per_second * kPieceTime.count() / 1000;
  return static_cast<size_t>(std::clamp<uint64_t>(piece, 64, kReadSize));
}

awaitable<void> Session::Write(std::shared_ptr<Session> /*keep alive*/, Pipe& pipe) {
  while (!closing_) {
    if (CutDue()) {
      co_await Cut();
      break;
    }
    if (pipe.queue.empty()) {
      co_await WaitOn(pipe.writer_wake, Clock::time_point::max());
      continue;
    }
    Chunk& chunk = pipe.queue.front();
    if (Clock::now() < chunk.due) {
      co_await WaitOn(pipe.writer_wake, chunk.due);
      continue;
    }
    if (chunk.eof) {  // pass the clean close on
      error_code ignored;
      pipe.to.shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
    if (!co_await WriteFront(pipe)) break;
  }
}

// Writes what the cut budget allows of the due chunk at the front; false if the pipe must stop.
awaitable<bool> Session::WriteFront(Pipe& pipe) {
  Chunk& chunk = pipe.queue.front();  // a reference stays valid while the reader appends
  size_t n = Claim(chunk.bytes.size() - chunk.sent);
  if (n == 0) {  // the budget is spent; the write in flight in the other pipe will cut
    co_await WaitOn(pipe.writer_wake, Clock::time_point::max());
    co_return true;
  }
  ++writes_in_flight_;
  error_code ec;
  co_await asio::async_write(pipe.to, asio::buffer(chunk.bytes.data() + chunk.sent, n),
                             asio::redirect_error(use_awaitable, ec));
  --writes_in_flight_;
  if (ec) {
    Abort(std::string(pipe.to_target ? "target" : "client") + " write: " + ec.message());
    co_return false;
  }
  pipe.delivered += n;
  sim_.Delivered(pipe.to_target, n);
  chunk.sent += n;
  if (chunk.sent == chunk.bytes.size()) {
    pipe.queued -= chunk.bytes.size();
    pipe.queue.pop_front();
    pipe.reader_wake.cancel();  // room again, if the reader was held back
  }
  co_return !closing_;
}

// Takes up to `wanted` bytes from the cut budget.
size_t Session::Claim(size_t wanted) {
  if (!cut_point_) return wanted;
  uint64_t left = *cut_point_ - claimed_;
  size_t n = static_cast<size_t>(std::min<uint64_t>(wanted, left));
  claimed_ += n;
  return n;
}

// The cut point is reached and every claimed byte written: let the bytes leave the kernel's
// buffers (an RST discards what is still there), then reset both sides.
awaitable<void> Session::Cut() {
  closing_ = true;
  record_.cut = true;
  sim_.Cutting();
  WakeAll();  // the other coroutines see closing_ and wind down
  auto deadline = Clock::now() + kCutDrainTimeout;
  while ((UnsentBytes(client_) > 0 || UnsentBytes(target_) > 0) && Clock::now() < deadline) {
    co_await WaitOn(drain_timer_, Clock::now() + std::chrono::milliseconds(1));
  }
  CloseAbruptly();
}

void Session::WakeAll() {
  for (Pipe* pipe : {&up_, &down_}) {
    pipe->writer_wake.cancel();
    pipe->reader_wake.cancel();
  }
}

void Session::CloseAbruptly() {
  resolver_.cancel();
  drain_timer_.cancel();
  WakeAll();
  Reset(client_);
  Reset(target_);
}

void Session::TaskDone() {
  if (--tasks_ == 0) Finish();
}

void Session::Finish() {
  error_code ignored;
  client_.close(ignored);  // after a clean end both directions have passed their FIN on
  target_.close(ignored);
  record_.bytes_to_target = up_.delivered;
  record_.bytes_to_client = down_.delivered;
  record_.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
  sim_.Finished(this, record_);
}

// ---- LinkSim::Impl ----

LinkSim::Impl::~Impl() {
  if (thread_.joinable()) {
    Stop();
    thread_.join();
  }
  if (log_) std::fclose(log_);
}

Status LinkSim::Impl::Bind() {
  if (config_.target_port == 0) return InvalidArgument("no target port");
  if (config_.max_queued_bytes == 0) return InvalidArgument("max_queued_bytes must be > 0");
  error_code ec;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(config_.listen_host, std::to_string(config_.listen_port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return InvalidArgument("cannot resolve " + config_.listen_host + ": " + ec.message());
  }
  tcp::endpoint endpoint = *results.begin();
  if (acceptor_.open(endpoint.protocol(), ec) ||
      acceptor_.set_option(tcp::acceptor::reuse_address(true), ec) ||
      acceptor_.bind(endpoint, ec) ||
      acceptor_.listen(asio::socket_base::max_listen_connections, ec)) {
    return IoError("cannot listen on " + EndpointText(endpoint) + ": " + ec.message());
  }
  tcp::endpoint bound = acceptor_.local_endpoint(ec);
  port_ = bound.port();
  address_ = EndpointText(bound);
  if (!config_.log_path.empty() && !(log_ = std::fopen(config_.log_path.c_str(), "a"))) {
    return ErrnoStatus("opening the log " + config_.log_path, errno);
  }
  return Status::Ok();
}

void LinkSim::Impl::Run() {
  asio::co_spawn(io_, Listen(), asio::detached);
  thread_ = std::thread([this] {
    io_.run();  // returns when the listener and every session have ended
    std::lock_guard lock(mu_);
    stopped_ = true;
    changed_.notify_all();
  });
}

awaitable<void> LinkSim::Impl::Listen() {
  while (acceptor_.is_open()) {
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {  // out of file descriptors and the like: breathe, then go on
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    auto session = std::make_shared<Session>(*this, std::move(socket), accepted_++);
    live_.emplace(session.get(), session);
    asio::co_spawn(io_, Session::Run(session), asio::detached);
    // With max_connections, accept no more than will be waited for.
    if (config_.max_connections > 0 && accepted_ >= config_.max_connections) acceptor_.close(ec);
  }
}

void LinkSim::Impl::Queued(uint64_t n) {
  uint64_t peak = peak_queued_.load();
  while (n > peak && !peak_queued_.compare_exchange_weak(peak, n)) {
  }
}

void LinkSim::Impl::Finished(Session* session, ConnectionRecord record) {
  if (log_) {
    std::fprintf(log_, "%s\n", FormatLogLine(record).c_str());
    std::fflush(log_);
  }
  {
    std::lock_guard lock(mu_);
    records_.push_back(std::move(record));
    changed_.notify_all();
  }
  // The session is still running the caller: destroy it later, outside its own call stack.
  if (auto it = live_.find(session); it != live_.end()) {
    asio::post(io_, [keep = std::move(it->second)] {});
    live_.erase(it);
  }
  if (++closed_ == config_.max_connections) Shutdown();
}

void LinkSim::Impl::Shutdown() {
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& [raw, session] : live_) session->Abort("link simulator stopped");
}

Counters LinkSim::Impl::counters() const {
  Counters c;
  c.connections_accepted = accepted_;
  c.cuts = cuts_;
  c.bytes_to_target = to_target_;
  c.bytes_to_client = to_client_;
  c.peak_queued_bytes = peak_queued_;
  std::lock_guard lock(mu_);
  c.connections_closed = records_.size();
  return c;
}

std::vector<ConnectionRecord> LinkSim::Impl::connections() const {
  std::lock_guard lock(mu_);
  return records_;
}

bool LinkSim::Impl::WaitForClosed(uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return records_.size() >= n; });
}

void LinkSim::Impl::Wait() const {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return stopped_; });
}

// ---- LinkSim ----

Result<std::unique_ptr<LinkSim>> LinkSim::Start(const Config& config) {
  auto impl = std::make_unique<Impl>(config);
  OUTPOST_RETURN_IF_ERROR(impl->Bind());
  impl->Run();
  return std::unique_ptr<LinkSim>(new LinkSim(std::move(impl)));
}

LinkSim::LinkSim(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkSim::~LinkSim() = default;

uint16_t LinkSim::port() const { return impl_->port(); }
std::string LinkSim::listen_address() const { return impl_->address(); }
Counters LinkSim::counters() const { return impl_->counters(); }
std::vector<ConnectionRecord> LinkSim::connections() const { return impl_->connections(); }
bool LinkSim::WaitForClosed(uint64_t n, std::chrono::milliseconds timeout) const {
  return impl_->WaitForClosed(n, timeout);
}
void LinkSim::Wait() const { impl_->Wait(); }
void LinkSim::Stop() { impl_->Stop(); }

}  // namespace outpost::linksim
