// The rules every sink keeps, in one place: calls are serialised (the watchdog thread may call
// end("timeout") while the main thread is writing a row), and a sink is final once ended: the first
// end() wins, and later end(), row() and begin() calls are dropped, so a late "error" cannot replace
// the "timeout" already on disk. end() waits at most `end_wait` for a call in progress; a sink stuck
// in I/O must not stop the job from ending. The make_*_sink factories return guarded sinks.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "harness/sinks/sink.hpp"

namespace fb {

class GuardedSink final : public Sink {
 public:
  explicit GuardedSink(std::unique_ptr<Sink> inner,
                       std::chrono::milliseconds end_wait = std::chrono::seconds(5))
      : inner_(std::move(inner)), end_wait_(end_wait) {}

  void begin(const RunMeta& meta) override {
    std::lock_guard lock(mutex_);
    if (!ended_) inner_->begin(meta);
  }
  void row(const Record& r) override {
    std::lock_guard lock(mutex_);
    if (!ended_) inner_->row(r);
  }
  void soak(const SoakSummary& s) override {
    std::lock_guard lock(mutex_);
    if (!ended_) inner_->soak(s);
  }
  void end(const std::string& status) override {
    // Polls try_lock rather than using a timed mutex: ThreadSanitizer does not understand
    // libstdc++'s timed locks and would report false races.
    std::unique_lock lock(mutex_, std::defer_lock);
    const auto deadline = std::chrono::steady_clock::now() + end_wait_;
    while (!lock.try_lock()) {
      if (std::chrono::steady_clock::now() >= deadline) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (ended_) return;
    ended_ = true;
    inner_->end(status);
  }

 private:
  std::unique_ptr<Sink> inner_;
  std::chrono::milliseconds end_wait_;
  std::mutex mutex_;
  bool ended_ = false;
};

template <typename S, typename... Args>
std::unique_ptr<Sink> make_guarded_sink(Args&&... args) {
  return std::make_unique<GuardedSink>(std::make_unique<S>(std::forward<Args>(args)...));
}

}  // namespace fb
