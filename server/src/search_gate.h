// SearchGate: bounds how many searches run at once, so that a burst of searches (a class all
// typing at the same moment) never holds up page and video delivery for everyone else: a search
// waits briefly for its turn and otherwise gets a "busy, try again" answer at once.
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace outpost {

class SearchGate {
 public:
  explicit SearchGate(int max_running) : free_(max_running) {}

  class Ticket {
   public:
    explicit Ticket(SearchGate* gate) : gate_(gate) {}
    Ticket(Ticket&& o) noexcept : gate_(o.gate_) { o.gate_ = nullptr; }
    ~Ticket() {
      if (gate_) gate_->Leave();
    }
    explicit operator bool() const { return gate_ != nullptr; }

   private:
    SearchGate* gate_;
  };

  // A ticket that lets a search run, or an empty one if none came free within `wait`.
  Ticket Enter(std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, wait, [this] { return free_ > 0; })) return Ticket(nullptr);
    --free_;
    return Ticket(this);
  }

 private:
  void Leave() {
    {
      std::lock_guard lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
};

}  // namespace outpost
