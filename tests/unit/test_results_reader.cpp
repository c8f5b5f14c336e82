// Results written by the sinks read back field for field; bad files fail with FILE:LINE.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "harness/record_fields.hpp"
#include "harness/results_reader.hpp"
#include "harness/sinks/sink.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("fb_reader_" + std::to_string(getpid()) + "_" + name))
      .string();
}

Record sample_record(int i) {
  Record r;
  r.backend = "mpi";
  r.op = i % 2 ? "allreduce" : "alltoall";
  r.algo = "native";
  r.transport = "sm,tcp";
  r.dtype = "float32";
  r.redop = i % 2 ? "sum" : "";
  r.nranks = 4;
  r.nnodes = 1;
  r.ranks_per_node = 4;
  r.requested_bytes = 1000 + i;
  r.bytes = 992;
  r.count = 248;
  r.iters = 3;
  r.warmup = 1;
  r.ops_per_sample = 2;
  r.check_iters = 1;
  r.time_us = r.time_p50_us = 12.5 + i;
  r.time_min_us = 10.25;
  r.time_mean_us = 13.0625;
  r.time_p99_us = 20.5;
  r.time_max_us = 21;
  r.algbw_GBps = 0.0792;
  r.busbw_GBps = 0.1188;
  r.slowest_rank = 2;
  r.slowest_host = "node,7";  // a comma: quoted in CSV
  r.slowest_share = 0.5;
  r.skew = 1.125;
  r.timestamp = "2026-11-21T00:00:00Z";
  if (i == 1) {
    r.model_fabric = "localhost";
    r.model_algo = "ring";
    r.model_time_us = 11.0;
    r.model_busbw_GBps = 0.2;
    r.model_err_pct = 13.6;
    r.model_bottleneck = "latency";
  }
  r.samples_us = {10.25, 12.5, 21};
  return r;
}

void expect_same(const Record& a, const Record& b) {
  auto fa = record_fields(a);
  auto fb_ = record_fields(b);
  ASSERT_EQ(fa.size(), fb_.size());
  for (std::size_t k = 0; k < fa.size(); ++k) {
    SCOPED_TRACE(fa[k].name);
    EXPECT_TRUE(fa[k].value == fb_[k].value);
  }
}

TEST(ResultsReader, CsvAndJsonRoundTrip) {
  const std::string csv = temp_path("rt.csv"), js = temp_path("rt.json");
  {
    auto c = make_csv_sink(csv);
    auto j = make_json_sink(js);
    RunMeta m;
    m.nranks = 4;
    m.hosts = {"node,7"};
    m.mpi_library = "Open MPI v4.1.4";
    m.host_memory = HostMemoryProbe{1 << 20, 21.5, 17.25, 4, 8 << 20, 9.5, 8.25};
    m.stages = {{"--ranks k=2 --split stride:2", 2, "0-1", "stride:2", 2, 1, {"ucx: UCX 1.14.1"}},
                {"--ranks k=4 --split stride:2", 4, "0-3", "stride:2", 2, 2, {"ucx: UCX 1.14.1"}}};
    for (Sink* s : {c.get(), j.get()}) s->begin(m);
    for (int i = 0; i < 3; ++i)
      for (Sink* s : {c.get(), j.get()}) s->row(sample_record(i));
    for (Sink* s : {c.get(), j.get()}) s->end("ok");
  }
  const ResultsFile rc = read_results(csv);
  const ResultsFile rj = read_results(js);
  EXPECT_EQ(rc.format, "csv");
  EXPECT_EQ(rj.format, "json");
  ASSERT_EQ(rc.rows.size(), 3u);
  ASSERT_EQ(rj.rows.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    expect_same(rc.rows[i], sample_record(i));
    expect_same(rj.rows[i], sample_record(i));
  }
  EXPECT_EQ(rj.rows[0].samples_us, (std::vector<double>{10.25, 12.5, 21}));
  EXPECT_TRUE(rc.rows[0].samples_us.empty());
  EXPECT_TRUE(rj.has_meta);
  EXPECT_EQ(rj.meta.hosts, std::vector<std::string>{"node,7"});
  ASSERT_TRUE(rj.meta.host_memory.has_value());
  EXPECT_EQ(rj.meta.host_memory->bytes, std::size_t{1} << 20);
  EXPECT_EQ(rj.meta.host_memory->copy_GBps, 21.5);
  EXPECT_EQ(rj.meta.host_memory->reduce_GBps, 17.25);
  EXPECT_EQ(rj.meta.host_memory->ranks, 4);
  EXPECT_EQ(rj.meta.host_memory->spilled_bytes, std::size_t{8} << 20);
  EXPECT_EQ(rj.meta.host_memory->copy_spilled_GBps, 9.5);
  EXPECT_EQ(rj.meta.host_memory->reduce_spilled_GBps, 8.25);
  EXPECT_FALSE(rc.meta.host_memory.has_value());  // CSV carries no metadata
  ASSERT_EQ(rj.meta.stages.size(), 2u);           // run --ranks/--split: every stage's communicators
  EXPECT_EQ(rj.meta.stages[1].label, "--ranks k=4 --split stride:2");
  EXPECT_EQ(std::tie(rj.meta.stages[1].nranks, rj.meta.stages[1].ngroups, rj.meta.stages[1].group_size),
            std::make_tuple(4, 2, 2));
  EXPECT_EQ(std::tie(rj.meta.stages[0].ranks, rj.meta.stages[0].group), std::make_tuple("0-1", "stride:2"));
  EXPECT_EQ(rj.meta.stages[0].backends, std::vector<std::string>{"ucx: UCX 1.14.1"});
  EXPECT_TRUE(rc.meta.stages.empty());
  EXPECT_EQ(rj.status, "ok");
  EXPECT_FALSE(rc.rows[0].model_time_us.has_value());
  EXPECT_DOUBLE_EQ(*rc.rows[1].model_time_us, 11.0);
  std::remove(csv.c_str());
  std::remove(js.c_str());
}

// Writes `text` to a file and expects read_results to fail naming `where` and `what`.
void expect_error(const std::string& name, const std::string& text, const std::string& where,
                  const std::string& what) {
  const std::string p = temp_path(name);
  {
    std::ofstream o(p);
    o << text;
  }
  try {
    read_results(p);
    ADD_FAILURE() << name << ": no error";
  } catch (const UsageError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(p + where), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
  std::remove(p.c_str());
}

std::string good_csv() {
  const std::string csv = temp_path("good.csv");
  {
    auto c = make_csv_sink(csv);
    c->row(sample_record(0));
    c->row(sample_record(1));
    c->end("ok");
  }
  std::ifstream in(csv);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(csv.c_str());
  return s;
}

// Found by fb_fuzz_results (tests/fuzz/regressions/results/number-overflow.json): a number beyond a
// double's range made nlohmann throw out_of_range, not parse_error, and it escaped the reader.
TEST(ResultsReader, JsonNumberOverflowIsAUsageError) {
  expect_error("overflow.json", "{\"schema_version\": 1,\n \"rows\": [{\"bytes\": 1e400}]}\n", ":2",
               "number overflow");
  expect_error("overflow-top.json", "{\"schema_version\": 1e999, \"rows\": []}", ":1", "number overflow");
}

TEST(ResultsReader, BadCsvNamesFileAndLine) {
  const std::string good = good_csv();
  const auto nl1 = good.find('\n');
  const auto nl2 = good.find('\n', nl1 + 1);
  expect_error("empty.csv", "", ":1", "empty file");
  expect_error("trunc.csv", good.substr(0, good.size() - 40), ":3", "fields");
  expect_error("missingcol.csv", "schema_version,source\n1,measured\n", ":1", "missing column 'timestamp'");
  std::string nonnum = good;
  const auto pos = nonnum.find(",12.5,", nl1);
  ASSERT_NE(pos, std::string::npos);
  nonnum.replace(pos, 6, ",abc,");
  expect_error("nonnum.csv", nonnum, ":2", "expected a number, got 'abc'");
  (void)nl2;
}

TEST(ResultsReader, BadJsonNamesFileAndPlace) {
  expect_error("trunc.json", "{\n  \"schema_version\": 1,\n  \"rows\": [\n", ":4", "invalid JSON");
  expect_error("norows.json", "{\"schema_version\": 1}", ":1", "missing 'rows'");
  expect_error("noversion.json", "{\"rows\": []}", ":1", "schema_version");
  expect_error("badfield.json", "{\"schema_version\": 1, \"rows\": [{\"source\": 3}]}", ":1: rows[0].source",
               "expected a string");
  // The line of the offending row (the JSON sink writes one row per line); strings holding
  // brackets do not confuse the scan.
  expect_error(
      "badrow3.json",
      "{\n  \"schema_version\": 1,\n  \"meta\": {\"x\": \"[{\"},\n  \"rows\": [\n    {\"op\": \"a\"},\n"
      "    {\"source\": 3}\n  ]\n}\n",
      ":5: rows[0]", "missing field");
  expect_error("badprobe.json",
               "{\"schema_version\": 1, \"meta\": {\"host_memory\": {\"bytes\": 1024, \"copy_GBps\": -1, "
               "\"reduce_GBps\": 2, \"ranks\": 2}}, \"rows\": []}",
               ":1", "meta.host_memory.copy_GBps must be a positive number");
  // The spilled probe is optional (older files), but all three fields come together.
  expect_error("badspill.json",
               "{\"schema_version\": 1, \"meta\": {\"host_memory\": {\"bytes\": 1024, \"copy_GBps\": 1, "
               "\"reduce_GBps\": 2, \"ranks\": 2, \"spilled_bytes\": 4096}}, \"rows\": []}",
               ":1", "meta.host_memory.copy_spilled_GBps must be a positive number");
}

TEST(ResultsReader, RefusesWhatItCannotHold) {
  // A schema this fabricbench does not know, in either format.
  std::string v2 = good_csv();
  const auto row = v2.find('\n') + 1;
  ASSERT_EQ(v2.compare(row, 2, "1,"), 0);
  v2.replace(row, 1, "2");
  expect_error("v2.csv", v2, ":2", "schema_version 2 is not one");
  expect_error("v99.json", "{\"schema_version\": 99, \"rows\": []}", ":1", "schema_version 99 is not one");
  expect_error("vhuge.json", "{\"schema_version\": 4294967297, \"rows\": []}", ":1",
               "schema_version 4294967297");
  // A JSON integer the field cannot hold is refused, not wrapped (4294967298 as an int is 2).
  const std::string js = temp_path("good.json");
  {
    auto j = make_json_sink(js);
    j->begin(RunMeta{});
    j->row(sample_record(0));
    j->end("ok");
  }
  std::ifstream in(js);
  std::string big((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(js.c_str());
  const auto at = big.find("\"nranks\":4,");
  ASSERT_NE(at, std::string::npos) << big;
  big.replace(at, 11, "\"nranks\":4294967298,");
  expect_error("bignranks.json", big, ":", "rows[0].nranks: whole number out of range");
  // A top-level array is JSON (not a CSV header), and not the object a results file is.
  expect_error("array.json", "[{\"schema_version\": 1, \"rows\": []}]", ":1", "expected a JSON object");
}

}  // namespace
}  // namespace fb
