// Rank 0's sinks as one (harness/sinks/fan_out.hpp).
#include "harness/sinks/fan_out.hpp"

#include <exception>

#include "harness/job.hpp"

namespace fb {

void FanOutSink::begin(const RunMeta& m) {
  for (auto& s : sinks_) s->begin(m);
}

void FanOutSink::row(const Record& r) {
  for (auto& s : sinks_) s->row(r);
}

void FanOutSink::soak(const SoakSummary& s) {
  for (auto& x : sinks_) x->soak(s);
}

void FanOutSink::end(const std::string& status) {
  for (auto& s : sinks_) {
    try {
      s->end(status);
    } catch (const std::exception& e) {
      error_line(std::string("writing results: ") + e.what());
    }
  }
}

}  // namespace fb
