// Rank 0's sinks as one: the console and the files of run and validate. Each sink serialises its
// own calls and keeps the first end() (see harness/sinks/guard.hpp), so the watchdog's abort hook
// may call end() from its thread.
#pragma once

#include <memory>
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
};

}  // namespace fb
