// The two ends share one state under one mutex: a byte queue per direction with its countdown,
// which ends are closed or waiting, and whether the link was cut or went silent.
#include "session/memory_link.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

namespace outpost::sync {

struct MemoryLink::Shared {
  enum class State { kOpen, kCut, kSilent };
  struct Direction {
    std::deque<uint8_t> queue;  // written, not yet read
    uint64_t passed = 0;        // bytes written this way, lost ones included
    Countdown countdown;
    bool struck = false;
    bool ended = false;  // the writer shut down sending (Linger) or closed: EOF after the queue
    std::vector<uint64_t> write_offsets;
  };

  std::mutex mu;
  std::condition_variable changed;
  std::chrono::milliseconds timeout{};
  State state = State::kOpen;
  Direction way[2];  // way[i]: written by end i, read by end 1 - i
  bool closed[2] = {false, false};
  bool waiting[2] = {false, false};  // end i waits in a read for bytes that are not there
  uint64_t sent[2] = {0, 0}, received[2] = {0, 0};

  // Takes `bytes` from end `side` into its direction, applying the countdown. False when the
  // fault is a cut (the write fails).
  bool Take(int side, std::span<const uint8_t> bytes);
  // Waits for a change; false when the deadline passed. Marks the link silent if the other end
  // waits too: then nothing can ever come.
  bool Wait(std::unique_lock<std::mutex>& lock, int side, Clock::time_point deadline);
  // Something changed: whoever waits looks again (and is not counted as waiting meanwhile).
  void Wake() {
    waiting[0] = waiting[1] = false;
    changed.notify_all();
  }
};

bool MemoryLink::Shared::Take(int side, std::span<const uint8_t> bytes) {
  Direction& d = way[side];
  d.write_offsets.push_back(d.passed);
  size_t pass = bytes.size();
  const Countdown& c = d.countdown;
  bool strikes = !d.struck && c.fault != Fault::kNone && d.passed + bytes.size() > c.after;
  if (strikes) {
    d.struck = true;
    if (c.fault != Fault::kCorrupt) pass = static_cast<size_t>(c.after - d.passed);
  }
  if (state == State::kOpen) {
    size_t at = d.queue.size();
    d.queue.insert(d.queue.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(pass));
    if (strikes && c.fault == Fault::kCorrupt) d.queue[at + (c.after - d.passed)] ^= 0x01;
  }
  d.passed += strikes && c.fault == Fault::kCut ? pass : bytes.size();
  if (strikes && c.fault == Fault::kCut) state = State::kCut;
  if (strikes && c.fault == Fault::kStall) state = State::kSilent;
  Wake();
  return !(strikes && c.fault == Fault::kCut);
}

bool MemoryLink::Shared::Wait(std::unique_lock<std::mutex>& lock, int side,
                              Clock::time_point deadline) {
  if (waiting[1 - side]) {
    state = State::kSilent;
    Wake();
    return true;
  }
  waiting[side] = true;
  bool woke = changed.wait_until(lock, deadline) == std::cv_status::no_timeout;
  waiting[side] = false;
  return woke;
}

std::pair<std::unique_ptr<MemoryLink>, std::unique_ptr<MemoryLink>> MemoryLink::Pair(
    Countdown first_sends, Countdown second_sends, std::chrono::milliseconds timeout) {
  auto shared = std::make_shared<Shared>();
  shared->way[0].countdown = first_sends;
  shared->way[1].countdown = second_sends;
  shared->timeout = timeout;
  return {std::unique_ptr<MemoryLink>(new MemoryLink(shared, 0)),
          std::unique_ptr<MemoryLink>(new MemoryLink(shared, 1))};
}

MemoryLink::~MemoryLink() { Close(); }

namespace {

Status TimedOut(const char* what, std::chrono::milliseconds timeout) {
  return IoError(std::string(what) + " timed out after " + std::to_string(timeout.count() / 1000) +
                 " s (the link is down or stalled)");
}

}  // namespace

Status MemoryLink::Write(std::span<const uint8_t> bytes) {
  Shared& s = *shared_;
  std::lock_guard lock(s.mu);
  if (s.closed[side_]) return IoError("sending: the link is closed");
  if (Clock::now() >= deadline_) return IoError("sending: the peer did not finish in time");
  if (s.way[side_].ended) return IoError("sending: this side has shut down sending");
  if (s.state == Shared::State::kCut) return IoError("sending: the connection was reset");
  // On a silent link nothing comes back to tell the writer the peer is gone.
  if (s.state == Shared::State::kOpen && s.closed[1 - side_]) {
    return IoError("sending: the peer closed the connection");
  }
  if (!s.Take(side_, bytes)) return IoError("sending: the connection was reset");
  s.sent[side_] += bytes.size();
  return Status::Ok();
}

Status MemoryLink::ReadExact(std::span<uint8_t> out) {
  Shared& s = *shared_;
  {
    std::unique_lock lock(s.mu);
    Shared::Direction& in = s.way[1 - side_];
    auto deadline = std::min(Clock::now() + s.timeout, deadline_);
    for (;;) {
      if (s.closed[side_]) return IoError("receiving: the link is closed");
      if (in.queue.size() >= out.size()) break;
      if (s.state == Shared::State::kCut) return IoError("receiving: the connection was reset");
      if (s.state == Shared::State::kSilent) return TimedOut("receiving", s.timeout);
      if (in.ended) return IoError("receiving: the peer closed the connection");
      if (!s.Wait(lock, side_, deadline)) {
        if (deadline == deadline_) return IoError("receiving: the peer did not finish in time");
        return TimedOut("receiving", s.timeout);
      }
    }
    std::copy_n(in.queue.begin(), out.size(), out.begin());
    in.queue.erase(in.queue.begin(), in.queue.begin() + static_cast<ptrdiff_t>(out.size()));
    s.received[side_] += out.size();
  }
  pacer_.Received(out.size());
  return Status::Ok();
}

void MemoryLink::Close() {
  Shared& s = *shared_;
  std::lock_guard lock(s.mu);
  s.closed[side_] = true;
  s.way[side_].ended = true;
  s.Wake();
}

void MemoryLink::Linger(std::chrono::milliseconds at_most) {
  Shared& s = *shared_;
  std::unique_lock lock(s.mu);
  s.way[side_].ended = true;
  s.Wake();
  Shared::Direction& in = s.way[1 - side_];
  auto deadline = Clock::now() + at_most;
  for (;;) {
    s.received[side_] += in.queue.size();
    in.queue.clear();
    if (s.closed[side_] || in.ended || s.state != Shared::State::kOpen) return;
    if (!s.Wait(lock, side_, deadline)) return;
  }
}

uint64_t MemoryLink::bytes_sent() const {
  std::lock_guard lock(shared_->mu);
  return shared_->sent[side_];
}

uint64_t MemoryLink::bytes_received() const {
  std::lock_guard lock(shared_->mu);
  return shared_->received[side_];
}

bool MemoryLink::faulted() const {
  std::lock_guard lock(shared_->mu);
  return shared_->state != Shared::State::kOpen || shared_->way[0].struck || shared_->way[1].struck;
}

std::vector<uint64_t> MemoryLink::write_offsets() const {
  std::lock_guard lock(shared_->mu);
  return shared_->way[side_].write_offsets;
}

std::vector<uint64_t> MemoryLink::peer_write_offsets() const {
  std::lock_guard lock(shared_->mu);
  return shared_->way[1 - side_].write_offsets;
}

}  // namespace outpost::sync
