// run --cycles/--duration (harness/soak.hpp): durations, the cycle stamp, drift against the first
// cycle as compare judges it, the summary, and the JSON's "soak" object.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/results_reader.hpp"
#include "harness/soak.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

TEST(Soak, Durations) {
  EXPECT_EQ(parse_duration_s("90"), 90);
  EXPECT_EQ(parse_duration_s("90s"), 90);
  EXPECT_EQ(parse_duration_s("30m"), 1800);
  EXPECT_EQ(parse_duration_s("2h"), 7200);
  EXPECT_EQ(parse_duration_s("1.5h"), 5400);
  EXPECT_EQ(parse_duration_s("0.5s"), 0.5);
  for (const char* bad : {"", "h", "0", "-5m", "2d", "2hh", "1 h", "nan", "1e9h"})
    EXPECT_THROW(parse_duration_s(bad), UsageError) << bad;
}

// What a DriftSink hands on.
struct Capture final : Sink {
  std::vector<Record> rows;
  std::vector<SoakSummary> soaks;
  std::string status;
  void begin(const RunMeta&) override {}
  void row(const Record& r) override { rows.push_back(r); }
  void end(const std::string& s) override { status = s; }
  void soak(const SoakSummary& s) override { soaks.push_back(s); }
};

Record row(std::uint64_t bytes, double p50_us) {
  Record r;
  r.backend = "mpi", r.op = "allreduce", r.algo = "native", r.dtype = "float32", r.redop = "sum";
  r.nranks = 2, r.ranks_per_node = 2, r.bytes = bytes;
  r.time_p50_us = r.time_us = p50_us;
  return r;
}

TEST(Soak, RowsCarryTheirCycleAndDriftIsAgainstCycleOne) {
  Capture next;
  std::ostringstream events;
  SoakOptions o;
  o.cycles = 3;
  o.drift_pct = 10;
  DriftSink drift(next, o, events);
  drift.start_cycle(1);
  ASSERT_EQ(next.soaks.size(), 1u);  // the JSON holds the soak from the start
  EXPECT_EQ(next.soaks[0].cycles_done, 0);
  drift.row(row(8, 10));
  drift.row(row(16, 20));
  drift.finish_cycle(1.5);
  drift.start_cycle(2);
  drift.row(row(8, 10.9));  // +9 %: within 10 %
  drift.row(row(16, 25));   // +25 %: drift
  drift.finish_cycle(3.0);
  drift.start_cycle(3);
  drift.row(row(8, 8.5));  // -15 % against cycle 1 (not against cycle 2): drift, faster
  drift.row(row(16, 21));  // +5 % against cycle 1
  drift.finish_cycle(4.5);

  ASSERT_EQ(next.rows.size(), 6u);
  EXPECT_EQ(next.rows[0].cycle, 1);
  EXPECT_EQ(next.rows[3].cycle, 2);
  EXPECT_EQ(next.rows[5].cycle, 3);
  const SoakSummary& s = drift.summary();
  EXPECT_EQ(s.cycles_done, 3);
  EXPECT_EQ(s.cycles_requested, 3);
  EXPECT_EQ(s.elapsed_s, 4.5);
  ASSERT_EQ(s.drifts.size(), 2u);
  EXPECT_EQ(s.drifts[0].cycle, 2);
  EXPECT_EQ(s.drifts[0].key, "mpi allreduce native host float32 sum n=2 rpn=2 16 B");
  EXPECT_EQ(s.drifts[0].direction, "slower");
  EXPECT_DOUBLE_EQ(s.drifts[0].change_pct, 25);
  EXPECT_EQ(s.drifts[1].cycle, 3);
  EXPECT_EQ(s.drifts[1].direction, "faster");
  EXPECT_DOUBLE_EQ(s.drifts[1].first_p50_us, 10);
  EXPECT_DOUBLE_EQ(s.drifts[1].p50_us, 8.5);
  // Reported as they happen: one line each, and the state handed on after each.
  EXPECT_EQ(
      events.str(),
      "fabricbench: drift: cycle 2: mpi allreduce native host float32 sum n=2 rpn=2 16 B: p50 20 us -> 25 us "
      "(+25.0%), slower than cycle 1 (threshold 10%)\n"
      "fabricbench: drift: cycle 3: mpi allreduce native host float32 sum n=2 rpn=2 8 B: p50 10 us -> 8.5 us "
      "(-15.0%), faster than cycle 1 (threshold 10%)\n");
  EXPECT_EQ(next.soaks.back().drifts.size(), 2u);
  EXPECT_EQ(next.soaks.back().cycles_done, 3);

  const std::string text = soak_summary_text(s);
  EXPECT_EQ(
      text,
      "# soak: 3 cycles in 4.5 s (--cycles 3); drift: time_p50 beyond 10% of cycle 1\n"
      "# drift: 2 rows drifted, 2 times in all:\n"
      "#   mpi allreduce native host float32 sum n=2 rpn=2 16 B: cycles 2: worst +25.0% (p50 20 -> 25 us, "
      "slower)\n"
      "#   mpi allreduce native host float32 sum n=2 rpn=2 8 B: cycles 3: worst -15.0% (p50 10 -> 8.5 us, "
      "faster)\n");
}

TEST(Soak, SamplesAreJudgedWithTheUTest) {
  // 30 % slower in the median but the same distribution of samples overall: not significant, no
  // drift (compare's rule); with samples clearly apart, drift.
  Capture next;
  std::ostringstream events;
  SoakOptions o;
  o.duration_s = 60;
  DriftSink drift(next, o, events);
  Record a = row(8, 10), b = row(8, 13), c = row(8, 13);
  for (int i = 0; i < 10; ++i) {
    a.samples_us.push_back(i % 2 ? 7 : 13);
    b.samples_us.push_back(i % 2 ? 7 : 13);
    c.samples_us.push_back(13 + i * 0.01);
  }
  drift.start_cycle(1);
  drift.row(a);
  drift.start_cycle(2);
  drift.row(b);
  EXPECT_TRUE(drift.summary().drifts.empty()) << events.str();
  drift.start_cycle(3);
  drift.row(c);
  ASSERT_EQ(drift.summary().drifts.size(), 1u);
  ASSERT_TRUE(drift.summary().drifts[0].p_value.has_value());
  EXPECT_LT(*drift.summary().drifts[0].p_value, 0.05);
  EXPECT_NE(soak_summary_text(drift.summary()).find("(--duration 60s)"), std::string::npos);
}

TEST(Soak, NoDriftSaysSo) {
  SoakSummary s;
  s.cycles_requested = 2, s.cycles_done = 2, s.drift_pct = 10, s.elapsed_s = 2;
  EXPECT_EQ(soak_summary_text(s),
            "# soak: 2 cycles in 2.0 s (--cycles 2); drift: time_p50 beyond 10% of cycle 1\n# drift: none\n");
  s.cycles_requested = 0;  // -N 0
  EXPECT_EQ(soak_summary_text(s).substr(0, 50), "# soak: 2 cycles in 2.0 s (--cycles 0: until stopp");
}

TEST(Soak, JsonHoldsTheSoakAndReadsBack) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("fb_soak_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "soak.json").string();
  {
    auto json = make_json_sink(path);
    SoakOptions o;
    o.cycles = 2;
    std::ostringstream events;
    DriftSink drift(*json, o, events);
    json->begin(RunMeta{});
    drift.start_cycle(1);
    drift.row(row(8, 10));
    drift.finish_cycle(1);
    drift.start_cycle(2);
    drift.row(row(8, 20));
    // Mid-run (as a SIGTERM would find it): the file parses and holds the drift already.
    const auto mid = nlohmann::json::parse(std::ifstream(path));
    EXPECT_EQ(mid["soak"]["drifts"].size(), 1u);
    EXPECT_EQ(mid["status"], "running");
    drift.finish_cycle(2);
    json->end("ok");
  }
  const auto doc = nlohmann::json::parse(std::ifstream(path));
  EXPECT_EQ(doc["soak"]["cycles_done"], 2);
  EXPECT_EQ(doc["soak"]["cycles_requested"], 2);
  EXPECT_TRUE(doc["soak"]["duration_s"].is_null());
  EXPECT_EQ(doc["soak"]["drift_metric"], "time_p50");
  EXPECT_EQ(doc["soak"]["drifts"][0]["cycle"], 2);
  EXPECT_EQ(doc["soak"]["drifts"][0]["change_pct"], 100.0);
  EXPECT_EQ(doc["rows"][1]["cycle"], 2);
  const ResultsFile f = read_results(path);  // compare, report and calibrate read it as before
  ASSERT_EQ(f.rows.size(), 2u);
  EXPECT_EQ(f.rows[1].cycle, 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fb
