// Rank 0's sinks as one (harness/sinks/fan_out.hpp).
#include "harness/sinks/fan_out.hpp"

#include <exception>
#include <thread>

#include "harness/job.hpp"

namespace fb {

void FanOutSink::begin(const RunMeta& m) {
  std::lock_guard lock(mutex_);
  for (auto& s : sinks_) s->begin(m);
}

void FanOutSink::row(const Record& r) {
  std::lock_guard lock(mutex_);
  for (auto& s : sinks_) s->row(r);
}

void FanOutSink::soak(const SoakSummary& s) {
  std::lock_guard lock(mutex_);
  for (auto& x : sinks_) x->soak(s);
}

void FanOutSink::end(const std::string& status) {
  // try_lock polling, not a timed mutex, for ThreadSanitizer (harness/sinks/guard.hpp).
  std::unique_lock lock(mutex_, std::defer_lock);
  const auto deadline = std::chrono::steady_clock::now() + end_wait_;
  while (!lock.try_lock() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (auto& s : sinks_) {
    try {
      s->end(status);
    } catch (const std::exception& e) {
      error_line(std::string("writing results: ") + e.what());
    }
  }
}

}  // namespace fb
