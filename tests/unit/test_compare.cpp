// fabricbench compare: matching, classification (U test and threshold), summaries, warnings and
// formats, on the fixtures in tests/fixtures/compare/ (written by generate.py there) and on rows
// built here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "harness/compare.hpp"
#include "harness/results_reader.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

std::string fixture(const std::string& name) {
  return std::string(FB_SOURCE_DIR) + "/tests/fixtures/compare/" + name;
}

CompareReport compare_files(const std::string& a, const std::string& b, CompareOptions o = {}) {
  o.base = fixture(a);
  o.cand = fixture(b);
  return compare_results(read_results(o.base), read_results(o.cand), o);
}

const CompareRow& find_row(const CompareReport& r, const std::string& op, std::uint64_t bytes) {
  auto it = std::find_if(r.rows.begin(), r.rows.end(),
                         [&](const CompareRow& x) { return x.op == op && x.bytes == bytes; });
  if (it == r.rows.end()) throw std::runtime_error("no row " + op + " " + std::to_string(bytes));
  return *it;
}

int count(const CompareReport& r, Verdict v) {
  return static_cast<int>(
      std::count_if(r.rows.begin(), r.rows.end(), [&](const CompareRow& x) { return x.verdict == v; }));
}

constexpr std::uint64_t MiB = 1 << 20;

TEST(Compare, KnownRegressionWithSamples) {
  const auto r = compare_files("base.json", "regression.json");
  ASSERT_EQ(r.rows.size(), 5u);
  const auto& row = find_row(r, "allreduce", 4 * MiB);
  EXPECT_EQ(row.verdict, Verdict::slower);
  ASSERT_TRUE(row.p_value.has_value());
  EXPECT_LT(*row.p_value, 0.001);
  EXPECT_LT(*row.change_pct, -15);  // busbw ~20 % lower
  EXPECT_EQ(r.slower, 1);
  EXPECT_EQ(r.same, 4);
  EXPECT_TRUE(r.regression());
  EXPECT_EQ(r.u_applied, 5);
  EXPECT_TRUE(r.u_not_applied.empty());
  EXPECT_TRUE(r.warnings.empty());
}

TEST(Compare, KnownImprovementWithSamples) {
  const auto r = compare_files("base.json", "improvement.json");
  EXPECT_EQ(find_row(r, "allreduce", 16 * MiB).verdict, Verdict::faster);
  EXPECT_EQ(r.faster, 1);
  EXPECT_EQ(r.slower, 0);
  EXPECT_FALSE(r.regression());
}

TEST(Compare, PureNoiseIsSame) {
  for (const char* b : {"noise.json", "noise.csv"}) {
    const auto r = compare_files(std::string(b).ends_with("json") ? "base.json" : "base.csv", b);
    EXPECT_EQ(count(r, Verdict::same), 5) << b;
    EXPECT_FALSE(r.regression()) << b;
  }
}

TEST(Compare, NoiseBeyondTheThresholdNeedsSignificance) {
  // At a 0.1 % threshold every noise row moves by more than the threshold: the threshold alone
  // (CSV) calls rows slower, the U test on the samples (JSON) keeps them `same` and says why.
  CompareOptions o;
  o.threshold_pct = 0.1;
  const auto with_u = compare_files("base.json", "noise.json", o);
  EXPECT_EQ(with_u.slower + with_u.faster, 0);
  for (const auto& row : with_u.rows) {
    EXPECT_GT(std::abs(*row.change_pct), 0.1);
    EXPECT_NE(row.note.find("not significant (p >= 0.05)"), std::string::npos) << row.note;
  }
  EXPECT_EQ(compare_files("base.csv", "noise.csv", o).slower, 5);
}

TEST(Compare, CsvWithoutSamplesUsesTheThresholdAndSaysSo) {
  const auto r = compare_files("base.csv", "regression.csv");
  EXPECT_EQ(find_row(r, "allreduce", 4 * MiB).verdict, Verdict::slower);
  EXPECT_FALSE(find_row(r, "allreduce", 4 * MiB).p_value.has_value());
  EXPECT_NE(find_row(r, "allreduce", MiB).note.find("U test not applied: no per-iteration samples"),
            std::string::npos);
  EXPECT_EQ(r.u_applied, 0);
  ASSERT_EQ(r.u_not_applied.size(), 1u);
  EXPECT_EQ(r.u_not_applied[0], "5 rows: no per-iteration samples");
  // JSON against CSV: samples on one side only.
  const auto mixed = compare_files("base.json", "regression.csv");
  EXPECT_EQ(mixed.slower, 1);
  EXPECT_NE(mixed.u_not_applied.at(0).find("no per-iteration samples in cand"), std::string::npos);
}

TEST(Compare, TooFewSamples) {
  const auto r = compare_files("base.json", "few-samples.json");
  EXPECT_EQ(r.u_applied, 0);
  EXPECT_NE(r.rows[0].note.find("fewer than 8 samples (20 and 5)"), std::string::npos) << r.rows[0].note;
  CompareOptions o;
  o.min_samples = 5;
  EXPECT_EQ(compare_files("base.json", "few-samples.json", o).u_applied, 5);
}

TEST(Compare, MissingAndNewRows) {
  const auto r = compare_files("base.csv", "missing-new.csv");
  EXPECT_EQ(r.missing, 1);
  EXPECT_EQ(r.added, 1);
  EXPECT_EQ(find_row(r, "broadcast", MiB).verdict, Verdict::missing);
  EXPECT_EQ(find_row(r, "allreduce", 64 * MiB).verdict, Verdict::added);
  EXPECT_STREQ(verdict_name(Verdict::added), "new");
  EXPECT_FALSE(r.regression());
  EXPECT_TRUE(r.failed());  // the missing row fails the gate
  EXPECT_TRUE(r.gate_failed("missing"));
  EXPECT_EQ(r.rows.back().op, "allreduce");  // new rows come last
}

TEST(Compare, RefusesDifferentSchemaVersions) {
  try {
    compare_files("base.csv", "schema2.csv");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("schema_version"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

TEST(Compare, WarnsAboutHostsLibrariesAndTransport) {
  const auto r = compare_files("base.json", "other-host.json");
  ASSERT_EQ(r.warnings.size(), 4u);
  EXPECT_NE(r.warnings[0].find("hosts differ"), std::string::npos);
  EXPECT_NE(r.warnings[1].find("MPI library differs"), std::string::npos);
  EXPECT_NE(r.warnings[2].find("backend versions differ"), std::string::npos);
  EXPECT_NE(r.warnings[3].find("transport column differs in 5 matched rows"), std::string::npos);
  EXPECT_FALSE(r.regression());
}

TEST(Compare, TimeMetricsAreLowerIsBetter) {
  CompareOptions o;
  o.metric = "time_p50";
  const auto r = compare_files("base.json", "regression.json", o);
  const auto& row = find_row(r, "allreduce", 4 * MiB);
  EXPECT_EQ(row.verdict, Verdict::slower);
  EXPECT_GT(*row.change_pct, 15);
  o.metric = "time_p99";
  EXPECT_EQ(find_row(compare_files("base.json", "improvement.json", o), "allreduce", 16 * MiB).verdict,
            Verdict::faster);
}

Record row_with(const std::string& op, std::uint64_t bytes, double busbw) {
  Record r;
  r.backend = "mpi", r.op = op, r.algo = "native", r.dtype = "float32", r.nranks = 2, r.ranks_per_node = 2;
  r.bytes = bytes;
  r.busbw_GBps = busbw;
  r.time_p50_us = r.time_p99_us = 1000.0 / busbw;
  return r;
}

ResultsFile file_of(std::vector<Record> rows, const std::string& path) {
  ResultsFile f;
  f.path = path;
  f.format = "csv";
  f.schema_version = 1;
  f.rows = std::move(rows);
  return f;
}

TEST(Compare, GeometricMeanPerOp) {
  const auto base =
      file_of({row_with("allreduce", 8, 10), row_with("allreduce", 16, 10), row_with("alltoall", 8, 4)}, "a");
  const auto cand =
      file_of({row_with("allreduce", 8, 20), row_with("allreduce", 16, 5), row_with("alltoall", 8, 3)}, "b");
  const auto r = compare_results(base, cand, {});
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[0].op, "allreduce");
  EXPECT_EQ(r.ops[0].matched, 2);
  EXPECT_NEAR(r.ops[0].geomean_ratio, 1.0, 1e-12);  // sqrt(2 * 0.5)
  EXPECT_NEAR(r.ops[1].geomean_ratio, 0.75, 1e-12);
  EXPECT_EQ(r.slower, 2);
  EXPECT_EQ(r.faster, 1);
}

TEST(Compare, SignificantButSmallIsSame) {
  Record b = row_with("allreduce", 8, 10), c = row_with("allreduce", 8, 9.8);  // 2 % lower
  for (int i = 0; i < 10; ++i) b.samples_us.push_back(100 + i * 0.01), c.samples_us.push_back(102 + i * 0.01);
  const auto r = compare_results(file_of({b}, "a"), file_of({c}, "b"), {});
  ASSERT_TRUE(r.rows[0].p_value.has_value());
  EXPECT_LT(*r.rows[0].p_value, 0.001);
  EXPECT_EQ(r.rows[0].verdict, Verdict::same);
  CompareOptions o;
  o.threshold_pct = 1;
  EXPECT_EQ(compare_results(file_of({b}, "a"), file_of({c}, "b"), o).rows[0].verdict, Verdict::slower);
}

TEST(Compare, ModelRowsOnlyAgainstModelRows) {
  Record m = row_with("allreduce", 8, 10);
  m.source = "model";
  const auto measured = file_of({row_with("allreduce", 8, 10), m}, "a");
  const auto r = compare_results(measured, measured, {});
  EXPECT_EQ(r.rows.size(), 1u);
  const auto models = file_of({m}, "m");
  EXPECT_EQ(compare_results(models, models, {}).rows.size(), 1u);
  const auto mixed = compare_results(measured, models, {});
  EXPECT_EQ(mixed.missing, 1);
  EXPECT_EQ(mixed.warnings.size(), 1u);
}

TEST(Compare, ThresholdIsAPercentage) {
  EXPECT_EQ(parse_threshold_pct("5%"), 5);
  EXPECT_EQ(parse_threshold_pct("5"), 5);
  EXPECT_EQ(parse_threshold_pct("2.5"), 2.5);
  EXPECT_EQ(parse_threshold_pct("0"), 0);
  for (const char* bad : {"", "%", "x", "-1", "5%%", "nan", "5 %"})
    EXPECT_THROW(parse_threshold_pct(bad), UsageError) << bad;
  CompareOptions o;
  o.metric = "algbw";
  EXPECT_THROW(compare_results(file_of({}, "a"), file_of({}, "b"), o), UsageError);
  o = {};
  o.alpha = 1.5;
  EXPECT_THROW(compare_results(file_of({}, "a"), file_of({}, "b"), o), UsageError);
}

TEST(Compare, Formats) {
  Record b = row_with("allreduce", 8, 10), c = row_with("allreduce", 8, 5);
  b.algo = c.algo = "a<&>\"b,c";
  const auto r =
      compare_results(file_of({b, row_with("alltoall", 8, 1)}, "base.csv"), file_of({c}, "cand.csv"), {});
  const std::string junit = render_compare(r, "junit");
  EXPECT_EQ(junit.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", 0), 0u);
  EXPECT_NE(junit.find("a&lt;&amp;&gt;&quot;b,c"), std::string::npos);
  EXPECT_EQ(junit.find("a<&>"), std::string::npos);
  EXPECT_NE(junit.find("<failure type=\"regression\""), std::string::npos);
  // The slower row and the missing row each fail a testcase.
  EXPECT_NE(junit.find("tests=\"2\" failures=\"2\""), std::string::npos) << junit;
  EXPECT_NE(
      junit.find("name=\"mpi alltoall native host float32 n=2 rpn=2 8 B\">\n      <failure type=\"missing\""),
      std::string::npos)
      << junit;

  const std::string csv = render_compare(r, "csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "backend,op,algo,mem,dtype,redop,inplace,nranks,ranks_per_node,bytes,metric,base,cand,change_pct,"
            "p_value,verdict,note");
  EXPECT_NE(csv.find("mpi,allreduce,\"a<&>\"\"b,c\",host,float32,,0,2,2,8,busbw,10,5,-50,,slower,"),
            std::string::npos)
      << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);

  const std::string md = render_compare(r, "markdown");
  EXPECT_EQ(md.rfind("### fabricbench compare: :x: REGRESSION: 1 slower", 0), 0u) << md;
  EXPECT_NE(md.find("| **slower** |"), std::string::npos);

  const std::string text = render_compare(r, "text");
  EXPECT_NE(
      text.find("REGRESSION: 1 slower, 0 faster, 0 same, 1 missing, 0 new\nFAIL: 1 rows of base are missing"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("not applied to 1 rows: no per-iteration samples"), std::string::npos) << text;
  EXPECT_NE(text.find("allreduce         1 rows  0.5000 (-50.0%)"), std::string::npos) << text;
  EXPECT_THROW(render_compare(r, "html"), UsageError);
}

// ---- the gate (issue 23 item 1): what fails besides slower rows ----------------------------------

ResultsFile json_of(std::vector<Record> rows, const std::string& path, const std::string& status) {
  ResultsFile f = file_of(std::move(rows), path);
  f.format = "json";
  f.status = status;
  return f;
}

TEST(CompareGate, MissingRowsFailUnlessAllowed) {
  const auto base = file_of(
      {row_with("allreduce", 8, 10), row_with("allreduce", 16, 10), row_with("allreduce", 32, 10)}, "a");
  const auto cand = file_of({row_with("allreduce", 8, 10)}, "b");
  CompareOptions o;
  auto r = compare_results(base, cand, o);
  EXPECT_FALSE(r.regression());
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.gate_failures.size(), 1u);
  EXPECT_EQ(r.gate_failures[0].kind, "missing");
  EXPECT_NE(r.gate_failures[0].message.find("2 rows of base are missing from cand"), std::string::npos);
  o.allow_missing = -1;  // --allow-missing
  r = compare_results(base, cand, o);
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(find_row(r, "allreduce", 16).note, "not in cand (allowed by --allow-missing)");
  o.allow_missing = 2;  // --allow-missing=2: exactly enough
  EXPECT_FALSE(compare_results(base, cand, o).failed());
  o.allow_missing = 1;  // one short
  r = compare_results(base, cand, o);
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.gate_failures[0].message.find("more than --allow-missing=1"), std::string::npos);
}

TEST(CompareGate, NothingMatchedFailsEvenWhenMissingIsAllowed) {
  CompareOptions o;
  o.allow_missing = -1;
  const auto base = file_of({row_with("allreduce", 8, 10)}, "a");
  for (const auto& cand : {file_of({}, "empty.csv"), file_of({row_with("alltoall", 8, 10)}, "other.csv")}) {
    const auto r = compare_results(base, cand, o);
    EXPECT_TRUE(r.failed()) << cand.path;
    EXPECT_TRUE(r.gate_failed("no-match")) << cand.path;
  }
  // Two empty files: nothing compared is no pass either.
  EXPECT_TRUE(compare_results(file_of({}, "a"), file_of({}, "b"), o).gate_failed("no-match"));
}

TEST(CompareGate, CandidateStatusMustBeOk) {
  const auto base = json_of({row_with("allreduce", 8, 10)}, "a.json", "ok");
  EXPECT_FALSE(compare_results(base, json_of({row_with("allreduce", 8, 10)}, "b.json", "ok"), {}).failed());
  for (const char* status : {"interrupted (SIGTERM)", "timeout", "wrong-data", "error", "running", ""}) {
    const auto r = compare_results(base, json_of({row_with("allreduce", 8, 10)}, "b.json", status), {});
    EXPECT_TRUE(r.gate_failed("status")) << status;
    EXPECT_EQ(r.cand_status, status);
  }
  // A base that did not end ok is a warning, not a failure.
  const auto r = compare_results(json_of({row_with("allreduce", 8, 10)}, "a.json", "timeout"),
                                 file_of({row_with("allreduce", 8, 10)}, "b.csv"), {});
  EXPECT_FALSE(r.failed());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("base's status is 'timeout'"), std::string::npos);
}

TEST(CompareGate, WrongDataInCandidateFails) {
  Record bad = row_with("allreduce", 8, 10);
  bad.wrong = 3;
  const auto r = compare_results(file_of({row_with("allreduce", 8, 10)}, "a"), file_of({bad}, "b"), {});
  EXPECT_EQ(r.rows[0].verdict, Verdict::same);
  EXPECT_EQ(r.rows[0].cand_wrong, 3u);
  EXPECT_EQ(r.cand_wrong_rows, 1);
  ASSERT_TRUE(r.gate_failed("wrong-data"));
  const std::string junit = render_compare(r, "junit");
  EXPECT_NE(junit.find("<failure type=\"wrong-data\" message=\"wrong data: 3 wrong elements in cand\""),
            std::string::npos)
      << junit;
}

TEST(CompareGate, ReportsSayWhy) {
  const auto base = json_of({row_with("allreduce", 8, 10), row_with("alltoall", 8, 10)}, "a.json", "ok");
  const auto cand = json_of({row_with("allreduce", 8, 10)}, "b.json", "interrupted (SIGTERM)");
  const auto r = compare_results(base, cand, {});
  const std::string text = render_compare(r, "text");
  EXPECT_NE(text.find("FAIL: 0 slower, 0 faster, 1 same, 1 missing, 0 new\n"), std::string::npos) << text;
  EXPECT_NE(text.find("FAIL: cand's status is 'interrupted (SIGTERM)', not 'ok'"), std::string::npos) << text;
  const std::string md = render_compare(r, "markdown");
  EXPECT_EQ(md.rfind("### fabricbench compare: :x: FAIL: 0 slower", 0), 0u) << md;
  EXPECT_NE(md.find("- :x: **FAIL**: 1 rows of base are missing from cand"), std::string::npos) << md;
  EXPECT_NE(md.find("| **missing** |"), std::string::npos) << md;
  const std::string junit = render_compare(r, "junit");
  // The matched row passes; the missing row and the status fail a testcase each.
  EXPECT_NE(junit.find("<testsuites name=\"fabricbench compare\" tests=\"3\" failures=\"2\">"),
            std::string::npos)
      << junit;
  EXPECT_NE(junit.find("<testcase classname=\"fabricbench.compare.gate\" name=\"status\">"),
            std::string::npos);
  // Allowed missing rows are skipped testcases.
  CompareOptions o;
  o.allow_missing = -1;
  const std::string allowed = render_compare(
      compare_results(base, json_of({row_with("allreduce", 8, 10)}, "b.json", "ok"), o), "junit");
  EXPECT_NE(allowed.find("tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"1\""), std::string::npos)
      << allowed;
  EXPECT_NE(allowed.find("<skipped message=\"missing: not in cand, allowed by --allow-missing\"/>"),
            std::string::npos);
}

TEST(CompareGate, AllowMissingValues) {
  EXPECT_EQ(parse_allow_missing(""), -1);
  EXPECT_EQ(parse_allow_missing("all"), -1);
  EXPECT_EQ(parse_allow_missing("true"), -1);
  EXPECT_EQ(parse_allow_missing("0"), 0);
  EXPECT_EQ(parse_allow_missing("12"), 12);
  for (const char* bad : {"-1", "x", "1.5", "3 ", "99999999999999"})
    EXPECT_THROW(parse_allow_missing(bad), UsageError) << bad;
}

TEST(CompareGate, ComparePairJudgesOneRow) {
  Record b = row_with("allreduce", 8, 10), c = row_with("allreduce", 8, 5);
  CompareOptions o;
  o.metric = "time_p50";
  const CompareRow row = compare_pair(b, c, o);
  EXPECT_EQ(row.verdict, Verdict::slower);
  EXPECT_DOUBLE_EQ(*row.change_pct, 100.0);
  EXPECT_EQ(row.u_skipped, "no per-iteration samples");
  EXPECT_EQ(key_text(row), "mpi allreduce native host float32 n=2 rpn=2 8 B");
  EXPECT_EQ(key_text(b), key_text(row));
}

// run --split: rows of two different splits with the same group size are different rows, so a
// candidate that ran another split misses the base's rows instead of being compared with them.
TEST(Compare, TheSplitIsPartOfTheKey) {
  Record b = row_with("allreduce", 8, 10), c = row_with("allreduce", 8, 10);
  b.group = "stride:2", c.group = "node";
  const auto r = compare_results(file_of({b}, "a"), file_of({c}, "b"), {});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].verdict, Verdict::missing);
  EXPECT_EQ(r.rows[1].verdict, Verdict::added);
  EXPECT_NE(key_text(r.rows[0]).find("split=stride:2"), std::string::npos) << key_text(r.rows[0]);
  c.group = "stride:2";
  EXPECT_EQ(compare_results(file_of({b}, "a"), file_of({c}, "b"), {}).rows[0].verdict, Verdict::same);
}

// run --ranks with --split: k=4 and k=8 cut by div:2 give rows of 2 ranks in 2 and in 4 groups,
// different rows in one file (not a repeated key) matched with their own in the other.
TEST(Compare, TheNumberOfGroupsIsPartOfTheKey) {
  Record b4 = row_with("allreduce", 8, 10), b8 = row_with("allreduce", 8, 20);
  b4.group = b8.group = "div:2", b4.ngroups = 2, b8.ngroups = 4;
  const auto r = compare_results(file_of({b4, b8}, "a"), file_of({b4, b8}, "b"), {});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].verdict, Verdict::same);
  EXPECT_EQ(r.rows[1].verdict, Verdict::same);
  EXPECT_EQ(r.rows[1].ngroups, 4);
  EXPECT_NE(key_text(r.rows[1]).find("split=div:2 groups=4"), std::string::npos) << key_text(r.rows[1]);
  for (const auto& w : r.warnings) EXPECT_EQ(w.find("repeat the key"), std::string::npos) << w;
  Record c8 = b8;
  c8.ngroups = 2;  // another layout: base's 4-group row is missing, cand's is new
  const auto m = compare_results(file_of({b8}, "a"), file_of({c8}, "b"), {});
  ASSERT_EQ(m.rows.size(), 2u);
  EXPECT_EQ(m.rows[0].verdict, Verdict::missing);
  EXPECT_EQ(m.rows[1].verdict, Verdict::added);
}

// alltoallv and the MoE ops: rows of different counts distributions are different rows.
TEST(Compare, TheCountsDistributionIsPartOfTheKey) {
  Record b = row_with("alltoallv", 4096, 10), c = row_with("alltoallv", 4096, 10);
  b.counts = "uniform", c.counts = "zipf:1.2 seed=1";
  const auto r = compare_results(file_of({b}, "a"), file_of({c}, "b"), {});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].verdict, Verdict::missing);
  EXPECT_EQ(r.rows[1].verdict, Verdict::added);
  EXPECT_NE(key_text(r.rows[1]).find("counts=zipf:1.2 seed=1"), std::string::npos) << key_text(r.rows[1]);
  c.counts = "uniform";
  EXPECT_EQ(compare_results(file_of({b}, "a"), file_of({c}, "b"), {}).rows[0].verdict, Verdict::same);
}

}  // namespace
}  // namespace fb
