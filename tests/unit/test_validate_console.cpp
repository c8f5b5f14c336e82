// validate's upper bound (--max-ratio), its verdict on a hang, and its console's units and table
// lines (issue 23 items 4 and 5).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/validate.hpp"
#include "harness/validate_console.hpp"
#include "harness/validate_verdict.hpp"

namespace fb {
namespace {

Record collective(const std::string& op, double time_us, double model_time_us) {
  Record r;
  r.op = op;
  r.algo = "ring";
  r.bytes = 1u << 20;
  r.nranks = 4;
  r.nnodes = 2;
  r.time_us = time_us;
  r.busbw_GBps = 10;
  r.model_fabric = "test-fabric";
  r.model_algo = "ring";
  r.model_time_us = model_time_us;
  r.model_bottleneck = "scale_out";
  return r;
}

PairResult pair(int a, int b, const std::string& ha, const std::string& hb, double bw_ratio,
                Grade overall = Grade::pass) {
  PairResult p;
  p.a = a;
  p.b = b;
  p.host_a = ha;
  p.host_b = hb;
  p.tier = ha == hb ? 0 : 1;
  p.has_bw = p.has_lat = true;
  p.model_bw_GBps = 12.5;
  p.bw_GBps = 12.5 * bw_ratio;
  p.bw_ratio = bw_ratio;
  p.lat_us = 2;
  p.model_lat_us = 1.5;
  p.lat_ratio = 0.75;
  p.bw = p.overall = overall;
  p.bw_fast = bw_ratio > 1.25;
  return p;
}

const std::vector<std::string> kHosts{"h0", "h0", "h1", "h1", "h2", "h2"};

TEST(ValidateUnits, RatesFitTheMagnitudeAndTheLink) {
  // The example: 0.003538 GB/s on a link rated in Gbit/s.
  EXPECT_EQ(format_rate(0.003538, true), "28.3 Mbit/s");
  EXPECT_EQ(format_rate(0.003538, false), "3.54 MB/s");
  EXPECT_EQ(format_rate(12.5, true), "100 Gbit/s");
  EXPECT_EQ(format_rate(45.2, false), "45.2 GB/s");
  EXPECT_EQ(format_rate(450, true), "3.60 Tbit/s");
  EXPECT_EQ(format_rate(1500, false), "1500 GB/s");  // no TB/s: vocab's rates top out at GB/s
  EXPECT_EQ(format_rate(0, false), "0.00 GB/s");     // nothing, in the unit of the link's rating
  EXPECT_EQ(format_rate(0, true), "0.00 Gbit/s");
}

TEST(ValidateUnits, TimesFitTheMagnitude) {
  EXPECT_EQ(format_time_us(1916003), "1.92 s");  // the example
  EXPECT_EQ(format_time_us(0.85), "850 ns");
  EXPECT_EQ(format_time_us(12.34), "12.3 us");
  EXPECT_EQ(format_time_us(4560), "4.56 ms");
  EXPECT_EQ(format_time_us(1.5), "1.50 us");
}

TEST(ValidateMaxRatio, ACollectiveFasterThanTheModelWarnsAndNamesIt) {
  const std::vector<Record> rows{collective("allreduce", 100, 150), collective("alltoall", 100, 110)};
  const Verdict v = judge({}, rows, ValidateOptions{}, kHosts);
  EXPECT_EQ(v.grade, Grade::warn) << v.line;  // exit code 0: only fail exits 1
  EXPECT_EQ(v.fast, 1);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_EQ(v.warnings[0].rfind("WARN: allreduce/ring 1M: 100 us measured, the model predicts 150 us (x1.50 "
                                "faster, above --max-ratio 1.25): the model may be wrong",
                                0),
            0u)
      << v.warnings[0];
  EXPECT_EQ(v.line.rfind("validate: WARN: 0 pairs and 2 collective rows within the pass thresholds; 1 "
                         "measurement faster than the model by more than --max-ratio",
                         0),
            0u)
      << v.line;
}

TEST(ValidateMaxRatio, WithinTheBoundOrOffPasses) {
  ValidateOptions o;
  const std::vector<Record> rows{collective("allreduce", 100, 124)};
  EXPECT_EQ(judge({}, rows, o, kHosts).grade, Grade::pass);
  o.max_ratio = 0;  // off
  const std::vector<Record> fast{collective("allreduce", 100, 300)};
  const Verdict v = judge({}, fast, o, kHosts);
  EXPECT_EQ(v.grade, Grade::pass) << v.line;
  EXPECT_TRUE(v.warnings.empty());
}

TEST(ValidateMaxRatio, FastPairsWarnInOneLineAndAFailStaysAFail) {
  std::vector<PairResult> pairs{pair(0, 2, "h0", "h1", 1.6), pair(1, 3, "h0", "h1", 1.0),
                                pair(0, 1, "h0", "h0", 1.3)};
  Verdict v = judge(pairs, {}, ValidateOptions{}, kHosts);
  EXPECT_EQ(v.grade, Grade::warn);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_NE(
      v.warnings[0].find("2 of 3 pairs measured faster than the model by more than --max-ratio 1.25 (most: "
                         "h0:0 <-> h1:2, 160 Gbit/s against the model's 100 Gbit/s, x1.60)"),
      std::string::npos)
      << v.warnings[0];
  pairs.push_back(pair(2, 3, "h1", "h1", 0.1, Grade::fail));
  v = judge(pairs, {}, ValidateOptions{}, kHosts);
  EXPECT_EQ(v.grade, Grade::fail);
  EXPECT_EQ(v.line.rfind("validate: FAIL: 1 of 4 pairs fail", 0), 0u) << v.line;
  EXPECT_NE(v.line.find("2 measurements faster than the model"), std::string::npos) << v.line;
}

TEST(ValidateHang, SilentHostIsTheSuspect) {
  std::vector<PairResult> pairs{pair(0, 2, "h0", "h1", 1.0), pair(2, 4, "h1", "h2", 1.0)};
  HangFacts hang{
      "allreduce float32 sum out-of-place 1M: timed samples", {4, 5}, {0, 1, 2, 3}, {}, {}, 15, {}};
  const Verdict v = judge_hang(pairs, {collective("allreduce", 100, 100)}, ValidateOptions{}, kHosts, hang);
  EXPECT_EQ(v.grade, Grade::fail);
  EXPECT_EQ(
      v.line,
      "validate: FAIL: the job hung (no progress for 15 s) in allreduce float32 sum out-of-place 1M: timed "
      "samples; suspect host h2 (ranks 4,5: none of its ranks answered the watchdog: the host or its network "
      "link is down); 2 pairs measured before: 2 pass, 0 warn, 0 fail; 1 collective rows completed: 0 fail");
}

TEST(ValidateHang, AHostThatLostItsLinkIsTheSuspectFirst) {
  HangFacts hang{"allreduce", {5}, {0, 1, 2, 3, 4}, {}, {}, 15, {{4, "fab0"}, {5, "fab0"}}};
  const Verdict v = judge_hang({}, {}, ValidateOptions{}, kHosts, hang);
  EXPECT_NE(v.line.find("in allreduce; suspect host h2 (its link fab0 went down during the run; ranks 4,5)"),
            std::string::npos)
      << v.line;
}

TEST(ValidateHang, RanksStillInTheOpWhileTheOthersWaitAreTheSuspects) {
  HangFacts hang{"alltoall", {}, {2}, {0, 1, 3, 4, 5}, {}, 15, {}};
  const Verdict v = judge_hang({}, {}, ValidateOptions{}, kHosts, hang);
  EXPECT_NE(v.line.find("; suspect rank 2 on h1 (still inside the op while the other ranks waited for them)"),
            std::string::npos)
      << v.line;
}

TEST(ValidateHang, FailingPairsBeforeTheHangNameTheHost) {
  std::vector<PairResult> pairs{pair(0, 4, "h0", "h2", 0.2, Grade::fail),
                                pair(2, 4, "h1", "h2", 0.3, Grade::fail), pair(0, 2, "h0", "h1", 1.0)};
  HangFacts hang{"allreduce", {}, {0, 1, 2, 3, 4, 5}, {}, {}, 15, {}};
  const Verdict v = judge_hang(pairs, {}, ValidateOptions{}, kHosts, hang);
  EXPECT_NE(
      v.line.find("; suspect host h2 (2 of its 2 pairs failed before the hang); worst link before the hang "
                  "h0:0 <-> h2:4 (0.20 of the model's bandwidth)"),
      std::string::npos)
      << v.line;
}

TEST(ValidateHang, APairThatHungIsTheSuspectLink) {
  HangFacts hang{"bidir", {}, {1, 4}, {0, 2, 3, 5}, {{1, 4}}, 15, {}};
  const Verdict v = judge_hang({}, {}, ValidateOptions{}, kHosts, hang);
  EXPECT_NE(v.line.find("; suspect link h0:1 <-> h2:4 (its pair test hung)"), std::string::npos) << v.line;
}

TEST(ValidateHang, SaysWhenTheLinkCannotBeIsolated) {
  HangFacts hang{"allreduce", {}, {0, 1, 2, 3, 4, 5}, {}, {}, 15, {}};
  const Verdict v = judge_hang({pair(0, 2, "h0", "h1", 1.0)}, {}, ValidateOptions{}, kHosts, hang);
  EXPECT_NE(v.line.find("; the link could not be isolated: every rank answered and stalled together (ranks "
                        "0,1,2,3,4,5), and no pair failed before; run validate --no-collectives"),
            std::string::npos)
      << v.line;
}

TEST(ValidateConsoleTable, APairLineNamesRanksHostsAndUnitsOfItsLink) {
  const ValidateOptions o;
  const ValidateConsole c(o, kHosts);
  const std::string head = c.pair_header();
  for (const char* col :
       {"round", "pair", "hosts", "transport", "bandwidth", "model", "ratio", "latency", "verdict"})
    EXPECT_NE(head.find(col), std::string::npos) << col;
  PairResult between = pair(0, 2, "h0", "h1", 0.5, Grade::fail);
  between.transport = "tcp";
  const std::string line = c.pair_line(between);
  EXPECT_NE(line.find("0 <-> 2"), std::string::npos) << line;
  EXPECT_NE(line.find("h0 <-> h1"), std::string::npos) << line;
  EXPECT_NE(line.find("50.0 Gbit/s"), std::string::npos) << line;
  EXPECT_NE(line.find("100 Gbit/s"), std::string::npos) << line;
  EXPECT_NE(line.find("2.00 us"), std::string::npos) << line;
  EXPECT_NE(line.find("FAIL (bandwidth)"), std::string::npos) << line;
  const std::string inside = c.pair_line(pair(0, 1, "h0", "h0", 1.0));
  EXPECT_NE(inside.find("12.5 GB/s"), std::string::npos) << inside;
  EXPECT_NE(inside.find("pass"), std::string::npos) << inside;
  EXPECT_EQ(ValidateConsole::pair_verdict(pair(0, 1, "h0", "h0", 1.5), true), "WARN (faster than the model)");
}

TEST(ValidateConsoleTable, ACollectiveLine) {
  const ValidateOptions o;
  const ValidateConsole c(o, kHosts);
  const Record r = collective("allreduce", 1916003, 150);
  const std::string line = c.collective_line(grade_collective(r, o), true);
  EXPECT_NE(line.find("allreduce/ring"), std::string::npos) << line;
  EXPECT_NE(line.find("1.92 s"), std::string::npos) << line;
  EXPECT_NE(line.find("150 us"), std::string::npos) << line;
  EXPECT_NE(line.find("80.0 Gbit/s"), std::string::npos) << line;
  EXPECT_NE(line.find("FAIL"), std::string::npos) << line;
}

}  // namespace
}  // namespace fb
