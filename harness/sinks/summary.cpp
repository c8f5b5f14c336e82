// The console's last lines: one verdict per op (backend and op) over the rows of the run
// (serialised and ended once by the guard, harness/sinks/guard.hpp).
#include <fmt/format.h>

#include <cmath>
#include <map>
#include <ostream>

#include "harness/sinks/guard.hpp"
#include "harness/sinks/sink.hpp"
#include "vocab/units.hpp"

namespace fb {

namespace {

struct OpTally {
  int rows = 0, checked = 0;
  std::uint64_t wrong = 0;
  // The row furthest from the model (measured / predicted time, by |log|), when any was predicted.
  double worst_ratio = 0;
  std::string worst_at;
};

class SummarySink final : public Sink {
 public:
  explicit SummarySink(std::ostream& out) : out_(out) {}

  void begin(const RunMeta&) override {}

  void row(const Record& r) override {
    const std::string key = r.backend + " " + r.op;
    auto it = tallies_.find(key);
    if (it == tallies_.end()) {
      order_.push_back(key);
      it = tallies_.emplace(key, OpTally{}).first;
    }
    OpTally& t = it->second;
    ++t.rows;
    if (r.check_iters > 0) ++t.checked;
    t.wrong += r.wrong;
    if (r.model_time_us && *r.model_time_us > 0 && r.time_us > 0) {
      const double ratio = r.time_us / *r.model_time_us;
      if (t.worst_at.empty() || std::fabs(std::log(ratio)) > std::fabs(std::log(t.worst_ratio))) {
        t.worst_ratio = ratio;
        t.worst_at = "size " + format_bytes(r.bytes) + (r.algo == "native" ? "" : " " + r.algo);
      }
    }
  }

  void end(const std::string&) override {
    for (const auto& key : order_) out_ << summary_line(key, tallies_.at(key)) << '\n';
    out_ << std::flush;
  }

 private:
  static std::string summary_line(const std::string& key, const OpTally& t) {
    const char* verdict = t.wrong > 0 ? "FAIL" : t.checked == 0 ? "UNCHECKED" : "PASS";
    std::string line =
        fmt::format("# summary {}: {}  {} row{}, {} wrong", key, verdict, t.rows, t.rows == 1 ? "" : "s",
                    t.checked == 0 ? std::string("N/A") : std::to_string(t.wrong));
    if (!t.worst_at.empty())
      line += fmt::format(", worst time/model {:.2f} at {}", t.worst_ratio, t.worst_at);
    return line;
  }

  std::ostream& out_;
  std::vector<std::string> order_;
  std::map<std::string, OpTally> tallies_;
};

}  // namespace

std::unique_ptr<Sink> make_summary_sink(std::ostream& out) {
  return make_guarded_sink<SummarySink>(out);
}

}  // namespace fb
