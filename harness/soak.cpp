// run --cycles / --duration (harness/soak.hpp).
#include "harness/soak.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <map>

#include "harness/compare.hpp"
#include "harness/sinks/guard.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

std::string SoakOptions::canonical() const {
  return fmt::format("soak: cycles={} given={} duration_s={} drift_pct={} fail_on_drift={}\n", cycles,
                     cycles_given, duration_s, drift_pct, fail_on_drift);
}

double parse_duration_s(const std::string& text) {
  const auto s = parse_number(text, {{'s', 1}, {'m', 60}, {'h', 3600}});
  if (!s || !(*s > 0) || *s > 366.0 * 24 * 3600)
    throw UsageError("command line: duration: expected a time > 0 such as 90s, 30m or 2h, got '" + text +
                     "'");
  return *s;
}

DriftSink::DriftSink(Sink& next, const SoakOptions& o, std::ostream& events) : next_(next), events_(events) {
  summary_.cycles_requested = o.cycles;
  summary_.duration_s = o.duration_s;
  summary_.drift_pct = o.drift_pct;
}

void DriftSink::start_cycle(int cycle) {
  cycle_ = cycle;
  if (cycle == 1) next_.soak(summary_);
}

void DriftSink::finish_cycle(double elapsed_s) {
  summary_.cycles_done = cycle_;
  summary_.elapsed_s = elapsed_s;
  next_.soak(summary_);
}

void DriftSink::begin(const RunMeta& m) {
  next_.begin(m);
}

void DriftSink::row(const Record& measured) {
  Record r = measured;
  r.cycle = cycle_;
  next_.row(r);
  const std::string key = key_text(r);
  const auto first = first_.find(key);
  if (first == first_.end()) {
    first_.emplace(key, std::move(r));
    return;
  }
  // As compare judges a row of a candidate against its baseline: a change beyond the threshold,
  // significant under the U test where both rows have enough samples.
  CompareOptions o;
  o.metric = "time_p50";
  o.threshold_pct = summary_.drift_pct;
  const CompareRow c = compare_pair(first->second, r, o);
  if (c.verdict == Verdict::same || !c.change_pct) return;
  DriftEvent e;
  e.cycle = cycle_;
  e.key = key;
  e.direction = verdict_name(c.verdict);
  e.first_p50_us = first->second.time_p50_us;
  e.p50_us = r.time_p50_us;
  e.change_pct = *c.change_pct;
  e.p_value = c.p_value;
  events_ << fmt::format(
                 "fabricbench: drift: cycle {}: {}: p50 {:.6g} us -> {:.6g} us ({:+.1f}%{}), {} than "
                 "cycle 1 (threshold {}%)\n",
                 e.cycle, e.key, e.first_p50_us, e.p50_us, e.change_pct,
                 e.p_value ? fmt::format(", p={:.2g}", *e.p_value) : std::string(), e.direction,
                 summary_.drift_pct)
          << std::flush;
  summary_.drifts.push_back(std::move(e));
  next_.soak(summary_);
}

std::string soak_summary_text(const SoakSummary& s) {
  std::string limit;
  if (s.cycles_requested > 0) limit += fmt::format("--cycles {}", s.cycles_requested);
  if (s.cycles_requested == 0 && s.duration_s <= 0) limit = "--cycles 0: until stopped";
  if (s.duration_s > 0) limit += fmt::format("{}--duration {:g}s", limit.empty() ? "" : ", ", s.duration_s);
  std::string out = fmt::format("# soak: {} cycles in {:.1f} s ({}); drift: time_p50 beyond {}% of cycle 1\n",
                                s.cycles_done, s.elapsed_s, limit, s.drift_pct);
  if (s.drifts.empty()) return out + "# drift: none\n";
  // Per row: the cycles it drifted in and its largest move.
  struct PerRow {
    std::string cycles;
    const DriftEvent* worst = nullptr;
  };
  std::vector<std::string> order;
  std::map<std::string, PerRow> rows;
  for (const auto& d : s.drifts) {
    auto [it, fresh] = rows.try_emplace(d.key);
    if (fresh) order.push_back(d.key);
    it->second.cycles += (it->second.cycles.empty() ? "" : ",") + std::to_string(d.cycle);
    if (!it->second.worst || std::abs(d.change_pct) > std::abs(it->second.worst->change_pct))
      it->second.worst = &d;
  }
  out += fmt::format("# drift: {} rows drifted, {} times in all:\n", order.size(), s.drifts.size());
  for (const auto& key : order) {
    const PerRow& p = rows[key];
    out += fmt::format("#   {}: cycles {}: worst {:+.1f}% (p50 {:.6g} -> {:.6g} us, {})\n", key, p.cycles,
                       p.worst->change_pct, p.worst->first_p50_us, p.worst->p50_us, p.worst->direction);
  }
  return out;
}

namespace {

class SoakConsoleSink final : public Sink {
 public:
  explicit SoakConsoleSink(std::ostream& out) : out_(out) {}
  void begin(const RunMeta&) override {}
  void row(const Record& r) override {
    if (r.cycle == cycle_) return;
    cycle_ = r.cycle;
    out_ << "#\n# cycle " << cycle_ << '\n' << std::flush;
  }
  void soak(const SoakSummary& s) override { summary_ = s; }
  void end(const std::string&) override { out_ << "#\n" << soak_summary_text(summary_) << std::flush; }

 private:
  std::ostream& out_;
  int cycle_ = 0;
  SoakSummary summary_;
};

}  // namespace

std::unique_ptr<Sink> make_soak_console_sink(std::ostream& out) {
  return make_guarded_sink<SoakConsoleSink>(out);
}

SoakOutcome run_soak(transports::World& world, const std::vector<PreparedTest>& tests, DriftSink& drift,
                     Watchdog* watchdog, int progress_mode, const SoakOptions& o) {
  SoakOutcome total;
  const bool root = world.rank() == 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int cycle = 1;; ++cycle) {
    if (root) drift.start_cycle(cycle);
    total.wrong += run_tests(world, tests, {&drift}, watchdog, progress_mode).wrong;
    total.cycles = cycle;
    bool more = false;
    if (root) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      drift.finish_cycle(elapsed);
      more = !(o.cycles > 0 && cycle >= o.cycles) && !(o.duration_s > 0 && elapsed >= o.duration_s);
      if (!o.active()) more = false;  // a plain run: one cycle
    }
    if (world.broadcast_string(more ? "1" : "0", 0) != "1") break;
  }
  total.drifts =
      std::stoi(world.broadcast_string(root ? std::to_string(drift.summary().drifts.size()) : "", 0));
  return total;
}

}  // namespace fb
