// Soak / burn-in (docs/ci-gate.md): `run --cycles K` (-N K) or `run --duration 2h` repeats the whole
// plan; every row carries its cycle; each row of a later cycle is held against the same row of the
// first cycle on time_p50 with compare's statistics (harness/compare.hpp compare_pair: change beyond
// --drift and, where both rows have the samples, significant under the U test); a drift is reported
// on stderr as it happens, kept in the JSON's "soak" object, and summarised at the end.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "harness/record.hpp"
#include "harness/runner.hpp"
#include "harness/sinks/sink.hpp"

namespace fb {

struct SoakOptions {
  int cycles = 0;              // --cycles / -N; 0: no limit (as nccl-tests' -N 0), or not given
  bool cycles_given = false;   // --cycles / -N was given
  double duration_s = 0;       // --duration; 0: not given
  double drift_pct = 10;       // --drift: a p50 move beyond this percentage is a drift
  bool fail_on_drift = false;  // --fail-on-drift: a drift makes the exit code 1
  // Without --cycles or --duration a run is one cycle and no drift is looked for.
  bool active() const { return cycles_given || duration_s > 0; }
  std::string canonical() const;
};

// --duration: "90" or "90s" seconds, "30m", "2h", "1.5h"; > 0 and at most a year. UsageError otherwise.
double parse_duration_s(const std::string& text);

// Stamps each row with its cycle, holds it against its first-cycle row, reports drifts (one line
// on `events` each, "fabricbench: drift: ..."), hands rows and the soak's state on to `next`.
class DriftSink final : public Sink {
 public:
  DriftSink(Sink& next, const SoakOptions& o, std::ostream& events);
  // Rows from now on are of `cycle` (1, 2, ...); the first call hands on the soak's initial state.
  void start_cycle(int cycle);
  // After a complete cycle: the summary's cycles_done and elapsed time, handed on.
  void finish_cycle(double elapsed_s);
  const SoakSummary& summary() const { return summary_; }

  void begin(const RunMeta& m) override;
  void row(const Record& r) override;
  void end(const std::string& status) override { next_.end(status); }
  void soak(const SoakSummary& s) override { next_.soak(s); }

 private:
  Sink& next_;
  std::ostream& events_;
  int cycle_ = 1;
  std::map<std::string, Record> first_;  // by key text: the row of cycle 1
  SoakSummary summary_;
};

// The soak's lines at the end of the console table (before its status line): keeps the latest
// summary it is given and prints it at end(). Add it to the outputs before the console sink.
std::unique_ptr<Sink> make_soak_console_sink(std::ostream& out);
// Those lines: the cycles, the drifts per row (worst change), or that none drifted.
std::string soak_summary_text(const SoakSummary& s);

struct SoakOutcome {
  std::uint64_t wrong = 0;  // wrong elements over every cycle
  int cycles = 0;           // complete cycles
  int drifts = 0;           // drift events (every rank knows it)
};

// Runs the prepared tests cycle after cycle until --cycles are done or --duration has passed (the
// cycle under way completes; at least one cycle runs). Rank 0 decides and every rank follows.
// Collective. `drift` receives the rows on rank 0.
SoakOutcome run_soak(transports::World& world, const std::vector<PreparedTest>& tests, DriftSink& drift,
                     Watchdog* watchdog, int progress_mode, const SoakOptions& o);

}  // namespace fb
