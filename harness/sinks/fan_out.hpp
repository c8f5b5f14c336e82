// Rank 0's sinks as one: the console and the files of run and validate. Each sink serialises its
// own calls and keeps the first end() (see harness/sinks/guard.hpp), so the watchdog's abort hook
// and the interrupt guard may call end() from their threads. The fan-out serialises too: a row
// reaches every sink before an end() from another thread starts, so the CSV and the JSON of an
// interrupted run hold the same rows (end() waits for a row in progress at most 5 s, as a sink's
// guard does, then ends the sinks regardless).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "harness/sinks/sink.hpp"

namespace fb {

class FanOutSink final : public Sink {
 public:
  void add(std::unique_ptr<Sink> s) { sinks_.push_back(std::move(s)); }
  void begin(const RunMeta& m) override;
  void row(const Record& r) override;
  void soak(const SoakSummary& s) override;
  // Ends every sink; one that fails to finish its file is reported and does not stop the others.
  void end(const std::string& status) override;

 private:
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::mutex mutex_;
  std::chrono::milliseconds end_wait_ = std::chrono::seconds(5);
};

}  // namespace fb
