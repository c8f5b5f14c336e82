// The console, CSV and JSON sinks against golden files, and the durability promises: a CSV line is
// on disk when row() returns, and the JSON on disk parses after every call.
//
// Golden files live in tests/golden/ (FB_GOLDEN_DIR). To regenerate them after an intended change
// of format, run the tests with FB_UPDATE_GOLDEN=1, e.g.
//   FB_UPDATE_GOLDEN=1 build/tests/fb_unit_tests --gtest_filter='Sinks*Golden*'
// then review the diff of tests/golden/ and keep results/SCHEMA.md in step.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness/record_fields.hpp"
#include "harness/sinks/fan_out.hpp"
#include "harness/sinks/guard.hpp"
#include "harness/sinks/sink.hpp"

namespace fb {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

std::string fmt_shortest(double v) {
  return fmt::format("{}", v);
}

// ---- fixtures ---------------------------------------------------------------------------------

RunMeta fixed_meta() {
  RunMeta m;
  m.fabricbench_version = "0.1.0";
  m.git_describe = "v0.1.0-3-gabcdef0";
  m.command_line = "fabricbench -b 1K -e 1K -o allreduce,alltoall --csv out.csv";
  m.started_utc = "2025-01-02T03:04:05Z";
  m.mpi_library = "Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022";
  m.backend_versions = {"mpi: Open MPI v4.1.4"};
  m.nranks = 4;
  m.nnodes = 2;
  m.ranks_per_node = 2;
  m.hosts = {"node0", "node1"};
  m.rank_hosts = {"node0", "node0", "node1", "node1"};
  m.environment = {{"OMPI_MCA_btl", "self,tcp"}, {"UCX_TLS", "rc,sm"}};
  return m;
}

Record base_record() {
  Record r;
  r.backend = "mpi";
  r.algo = "native";
  r.transport = "tcp";
  r.dtype = "float32";
  r.nranks = 4;
  r.nnodes = 2;
  r.ranks_per_node = 2;
  r.iters = 20;
  r.warmup = 5;
  r.check_iters = 1;
  return r;
}

std::vector<Record> fixed_records() {
  std::vector<Record> rows;

  Record a = base_record();  // allreduce, out of place
  a.op = "allreduce";
  a.redop = "sum";
  a.requested_bytes = a.bytes = 1024;
  a.count = 256;
  a.time_us = a.time_p50_us = 12.5;
  a.time_min_us = 11.25;
  a.time_mean_us = 12.75;
  a.time_p99_us = 19.5;
  a.time_max_us = 20;
  a.algbw_GBps = 0.08192;
  a.busbw_GBps = 0.12288;
  a.slowest_rank = 2;
  a.slowest_host = "node1";
  a.slowest_share = 0.45;
  a.skew = 1.0625;
  a.timestamp = "2025-01-02T03:04:06Z";
  a.samples_us = {11.25, 12.5, 20};
  rows.push_back(a);

  Record b = a;  // the same op in place: a new series
  b.inplace = true;
  b.time_us = b.time_p50_us = 12;
  b.time_p99_us = 150.25;
  b.algbw_GBps = 0.085333;
  b.busbw_GBps = 0.128;
  b.slowest_rank = 0;
  b.slowest_host = "node0";
  b.slowest_share = 1;
  b.timestamp = "2025-01-02T03:04:07Z";
  b.samples_us = {12};
  rows.push_back(b);

  Record c = base_record();  // alltoall, rounded down, batched, unchecked, a comma and a quote
  c.op = "alltoall";
  c.transport = "sm,tcp";
  c.requested_bytes = 1000;
  c.bytes = 992;
  c.count = 62;
  c.ops_per_sample = 4;
  c.check_iters = 0;
  c.time_us = c.time_p50_us = 0.875;
  c.time_min_us = 0.5;
  c.time_mean_us = 1.125;
  c.time_p99_us = 12345.75;
  c.time_max_us = 20000;
  c.algbw_GBps = 1133.7142857142857;
  c.busbw_GBps = 850.2857142857143;
  c.wrong = 0;
  c.slowest_rank = 3;
  c.slowest_host = "node\"1\"";
  c.slowest_share = 0.3;
  c.skew = 2.5;
  c.timestamp = "2025-01-02T03:04:08Z";
  c.samples_us = {0.5, 0.875, 20000};
  rows.push_back(c);

  Record d = base_record();  // a slow link: seconds and MB/s, the message rate, the model's bound
  d.op = "sendrecv";
  d.algo = d.algo_asked = "native";
  d.requested_bytes = d.bytes = 4 << 20;
  d.count = 1 << 20;
  d.time_us = d.time_p50_us = d.time_min_us = d.time_mean_us = 1916003;
  d.time_p99_us = d.time_max_us = 2100000.5;
  d.algbw_GBps = 0.0021891;
  d.busbw_GBps = 0.0021891;
  d.msg_rate_Mps = 5.2192e-7;
  d.slowest_rank = 1;
  d.slowest_host = "node0";
  d.slowest_share = 0.5;
  d.skew = 1;
  d.timestamp = "2025-01-02T03:04:09Z";
  d.model_fabric = "hgx-h100";
  d.model_algo = "native/auto";
  d.model_basis = "algorithm";
  d.model_time_us = 100.5;
  d.model_busbw_GBps = 41.734;
  d.model_err_pct = 100.0 * (1916003 - 100.5) / 100.5;
  d.model_bottleneck = "nic";
  d.samples_us = {1916003};
  rows.push_back(d);

  // --algo auto: one sweep whose algorithm changes with size stays one table, with an algo
  // column; a computed 25.0651 (25.065099999999997) is written as 25.0651.
  Record e = base_record();
  e.op = "allreduce";
  e.redop = "sum";
  e.algo_asked = "auto";
  e.algo = "recursive_doubling";
  e.requested_bytes = e.bytes = 8;
  e.count = 2;
  e.ops_per_sample = 32;
  e.time_us = e.time_p50_us = e.time_min_us = e.time_mean_us = 25.065099999999997;
  e.time_p99_us = e.time_max_us = 0.5;
  e.algbw_GBps = 8 / 25.065099999999997 / 1e3;
  e.busbw_GBps = e.algbw_GBps * 1.5;
  e.slowest_rank = 0;
  e.slowest_host = "node0";
  e.slowest_share = 1;
  e.skew = 1;
  e.timestamp = "2025-01-02T03:04:10Z";
  e.model_fabric = "hgx-h100";
  e.model_algo = "recursive_doubling/auto";
  e.model_basis = "algorithm";
  e.model_time_us = 20.0;
  e.model_busbw_GBps = 0.0006;
  e.model_err_pct = 100.0 * (e.time_us - 20.0) / 20.0;
  e.model_bottleneck = "latency";
  e.samples_us = {25.065099999999997};
  rows.push_back(e);
  Record f = e;
  f.algo = "ring";
  f.requested_bytes = f.bytes = 1 << 20;
  f.count = 1 << 18;
  f.ops_per_sample = 1;
  f.time_us = f.time_p50_us = f.time_min_us = f.time_mean_us = f.time_p99_us = f.time_max_us = 400;
  f.algbw_GBps = 2.62144;
  f.busbw_GBps = 3.93216;
  f.model_algo = "native/auto";
  f.model_basis = "best-modelled-bound";
  f.model_time_us = 200;
  f.model_busbw_GBps = 7.86432;
  f.model_err_pct = 100;
  f.model_bottleneck = "nic";
  f.timestamp = "2025-01-02T03:04:11Z";
  f.samples_us = {400};
  rows.push_back(f);
  return rows;
}

// ---- helpers ----------------------------------------------------------------------------------

// A fresh directory per test, removed afterwards.
class SinkFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("fb_sinks_") + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    return names;
  }
  fs::path dir_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool update_golden() {
  const char* v = std::getenv("FB_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) != "" && std::string(v) != "0";
}

std::string golden_path(const std::string& name) {
  return std::string(FB_GOLDEN_DIR) + "/" + name;
}

// Compares `actual` with the golden file byte for byte, or rewrites the golden file.
void expect_golden_text(const std::string& name, const std::string& actual) {
  if (update_golden()) {
    std::ofstream(golden_path(name), std::ios::binary) << actual;
    std::cout << "updated golden file " << golden_path(name) << '\n';
    return;
  }
  EXPECT_EQ(actual, read_file(golden_path(name)))
      << "differs from " << golden_path(name) << " (FB_UPDATE_GOLDEN=1 rewrites it)";
}

void render_all(Sink& sink) {
  sink.begin(fixed_meta());
  for (const auto& r : fixed_records()) sink.row(r);
  sink.end("ok");
}

// ---- golden files -----------------------------------------------------------------------------

TEST_F(SinkFiles, CsvMatchesGolden) {
  auto sink = make_csv_sink(path("out.csv"));
  render_all(*sink);
  expect_golden_text("sinks.csv", read_file(path("out.csv")));
}

TEST_F(SinkFiles, JsonMatchesGolden) {
  auto sink = make_json_sink(path("out.json"));
  render_all(*sink);
  const std::string actual = read_file(path("out.json"));
  if (update_golden()) {
    expect_golden_text("sinks.json", actual);
    return;
  }
  // Compared as documents (ordered: key order is part of the format), so a change in how the JSON
  // library spells a double does not fail the test, but any change of content or order does.
  EXPECT_EQ(json::parse(actual), json::parse(read_file(golden_path("sinks.json"))))
      << "differs from " << golden_path("sinks.json") << " (FB_UPDATE_GOLDEN=1 rewrites it)";
}

TEST(Sinks, ConsoleMatchesGolden) {
  std::ostringstream out;
  auto sink = make_console_sink(out);
  render_all(*sink);
  expect_golden_text("sinks_console.txt", out.str());
}

// run --fabric: the model's time and busbw, and the ratio model time / time, on the console.
TEST(Sinks, ConsoleWithModelMatchesGolden) {
  std::ostringstream out;
  auto sink = make_console_sink(out, ConsoleOptions{true});
  render_all(*sink);
  expect_golden_text("sinks_console_model.txt", out.str());
}

// Files hold doubles to 15 significant digits in shortest form: a computed 25.0651 is not
// 25.065099999999997, and the CSV and the JSON hold the same value.
TEST_F(SinkFiles, DoublesAreWrittenShort) {
  Record r = fixed_records()[4];
  ASSERT_EQ(fmt_shortest(r.time_us), "25.065099999999997");
  auto csv = make_csv_sink(path("out.csv"));
  auto js = make_json_sink(path("out.json"));
  for (Sink* sink : {csv.get(), js.get()}) {
    sink->begin(fixed_meta());
    sink->row(r);
    sink->end("ok");
  }
  const std::string text = read_file(path("out.csv"));
  EXPECT_NE(text.find(",25.0651,25.0651,25.0651,25.0651,0.5,0.5,"), std::string::npos) << text;
  EXPECT_EQ(text.find("25.065099"), std::string::npos) << text;
  const std::string doc = read_file(path("out.json"));
  EXPECT_NE(doc.find("\"time_us\":25.0651,"), std::string::npos) << doc;
  EXPECT_NE(doc.find("\"samples_us\":[25.0651]"), std::string::npos) << doc;
  EXPECT_EQ(file_double(0.1 + 0.2), 0.3);
  EXPECT_EQ(file_double(1916003.0), 1916003.0);
}

// ---- columns ----------------------------------------------------------------------------------

TEST(Sinks, CsvColumnsAreTheSchemaInOrder) {
  // The one place the list is spelt out again: it is the contract in results/SCHEMA.md.
  const std::vector<std::string> expected{"schema_version",
                                          "source",
                                          "timestamp",
                                          "backend",
                                          "op",
                                          "algo",
                                          "transport",
                                          "mem",
                                          "dtype",
                                          "redop",
                                          "root",
                                          "inplace",
                                          "nranks",
                                          "nnodes",
                                          "ranks_per_node",
                                          "requested_bytes",
                                          "bytes",
                                          "count",
                                          "iters",
                                          "warmup",
                                          "ops_per_sample",
                                          "check_iters",
                                          "timing",
                                          "cycle",
                                          "time_us",
                                          "time_min_us",
                                          "time_p50_us",
                                          "time_mean_us",
                                          "time_p99_us",
                                          "time_max_us",
                                          "algbw_GBps",
                                          "busbw_GBps",
                                          "msg_rate_Mps",
                                          "wrong",
                                          "slowest_rank",
                                          "slowest_host",
                                          "slowest_share",
                                          "skew",
                                          "model_fabric",
                                          "model_algo",
                                          "model_basis",
                                          "model_time_us",
                                          "model_busbw_GBps",
                                          "model_err_pct",
                                          "model_bottleneck",
                                          "max_rank_bytes",
                                          "load_imbalance",
                                          "group",
                                          "group_size",
                                          "ngroups",
                                          "total_bytes",
                                          "counts",
                                          "tokens_per_s"};
  EXPECT_EQ(csv_columns(), expected);
}

TEST(Sinks, SchemaDocumentsEveryColumn) {
  const std::string schema = read_file(std::string(FB_SOURCE_DIR) + "/results/SCHEMA.md");
  for (const auto& c : csv_columns()) {
    SCOPED_TRACE(c);
    EXPECT_NE(schema.find("`" + c + "`"), std::string::npos) << "results/SCHEMA.md does not document " << c;
  }
  for (const char* key :
       {"samples_us", "fabricbench_version", "git_describe", "command_line", "started_utc", "mpi_library",
        "backend_versions", "hosts", "rank_hosts", "environment", "status"}) {
    SCOPED_TRACE(key);
    EXPECT_NE(schema.find(std::string("`") + key + "`"), std::string::npos);
  }
}

TEST_F(SinkFiles, JsonRowKeysAreTheCsvColumnsThenSamples) {
  auto sink = make_json_sink(path("out.json"));
  render_all(*sink);
  const json doc = json::parse(read_file(path("out.json")));
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc["rows"][0].items()) keys.push_back(k);
  std::vector<std::string> expected = csv_columns();
  expected.push_back("samples_us");
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(doc["rows"][0]["inplace"], false);
  EXPECT_EQ(doc["rows"][1]["inplace"], true);
  EXPECT_EQ(doc["rows"][2]["requested_bytes"], 1000);
  EXPECT_EQ(doc["rows"][2]["bytes"], 992);
  EXPECT_EQ(doc["rows"][2]["root"], -1);
  EXPECT_DOUBLE_EQ(doc["rows"][2]["busbw_GBps"].get<double>(), 850.2857142857143);
  EXPECT_EQ(doc["rows"][2]["samples_us"], json::parse("[0.5, 0.875, 20000]"));
  EXPECT_EQ(doc["schema_version"], kSchemaVersion);
  EXPECT_EQ(doc["rows"][0]["schema_version"], kSchemaVersion);
}

// ---- CSV --------------------------------------------------------------------------------------

TEST_F(SinkFiles, CsvHasHeaderAtOnceAndEveryRowWhenRowReturns) {
  auto sink = make_csv_sink(path("out.csv"));
  // The header is on disk before begin().
  EXPECT_EQ(lines_of(read_file(path("out.csv"))).size(), 1u);
  sink->begin(fixed_meta());
  const auto records = fixed_records();
  for (std::size_t n = 1; n <= records.size(); ++n) {
    sink->row(records[n - 1]);
    const std::string text = read_file(path("out.csv"));
    EXPECT_EQ(lines_of(text).size(), n + 1) << "after " << n << " rows";
    EXPECT_EQ(text.back(), '\n');
  }
  sink->end("ok");
  EXPECT_EQ(lines_of(read_file(path("out.csv"))).size(), records.size() + 1);
}

TEST_F(SinkFiles, CsvQuotesCommasQuotesAndLineBreaks) {
  Record r = base_record();
  r.op = "allreduce";
  r.transport = "a,b";
  r.algo = "say \"hi\"";
  r.slowest_host = "two\nlines";
  {
    auto sink = make_csv_sink(path("out.csv"));
    sink->row(r);
    sink->end("ok");
  }
  const std::string text = read_file(path("out.csv"));
  EXPECT_NE(text.find(",mpi,allreduce,\"say \"\"hi\"\"\",\"a,b\",host,"), std::string::npos) << text;
  EXPECT_NE(text.find(",\"two\nlines\","), std::string::npos) << text;
  EXPECT_NE(text.find(",,-1,0,"), std::string::npos) << text;  // empty redop, root -1, inplace 0
}

TEST_F(SinkFiles, CsvTruncatesAnOldFile) {
  std::ofstream(path("out.csv")) << "old,contents\n1,2\n3,4\n5,6\n";
  auto sink = make_csv_sink(path("out.csv"));
  const auto lines = lines_of(read_file(path("out.csv")));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("schema_version,source,timestamp,", 0), 0u);
}

TEST_F(SinkFiles, CsvUnopenablePathThrowsWithPathAndReason) {
  const std::string bad = path("no/such/dir/out.csv");
  try {
    make_csv_sink(bad);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
}

// ---- JSON -------------------------------------------------------------------------------------

TEST_F(SinkFiles, JsonOnDiskParsesAfterEveryCall) {
  auto sink = make_json_sink(path("out.json"));
  json doc = json::parse(read_file(path("out.json")));  // written at once, before begin()
  EXPECT_EQ(doc["status"], "running");
  EXPECT_EQ(doc["rows"].size(), 0u);

  sink->begin(fixed_meta());
  doc = json::parse(read_file(path("out.json")));
  EXPECT_EQ(doc["meta"]["nranks"], 4);
  EXPECT_EQ(doc["meta"]["hosts"], json::parse(R"(["node0", "node1"])"));
  EXPECT_EQ(doc["meta"]["environment"]["UCX_TLS"], "rc,sm");
  EXPECT_EQ(doc["rows"].size(), 0u);

  const auto records = fixed_records();
  for (std::size_t n = 1; n <= records.size(); ++n) {
    sink->row(records[n - 1]);
    doc = json::parse(read_file(path("out.json")));
    EXPECT_EQ(doc["rows"].size(), n);
    EXPECT_EQ(doc["status"], "running");
    EXPECT_EQ(doc["rows"][n - 1]["timestamp"], records[n - 1].timestamp);
  }
  sink->end("wrong-data");
  doc = json::parse(read_file(path("out.json")));
  EXPECT_EQ(doc["status"], "wrong-data");
  EXPECT_EQ(doc["rows"].size(), records.size());
  // Nothing left behind but the file itself: the temporary was renamed over it.
  EXPECT_EQ(files(), std::vector<std::string>{"out.json"});
}

TEST_F(SinkFiles, JsonReplacesAStaleFileAtOnce) {
  std::ofstream(path("out.json")) << "{\"rows\": [1, 2, 3], \"status\": \"ok\"}";
  auto sink = make_json_sink(path("out.json"));
  const json doc = json::parse(read_file(path("out.json")));
  EXPECT_EQ(doc["status"], "running");
  EXPECT_EQ(doc["rows"].size(), 0u);
}

TEST_F(SinkFiles, JsonSurvivesInvalidUtf8) {
  auto sink = make_json_sink(path("out.json"));
  RunMeta m = fixed_meta();
  m.environment["BROKEN"] = "\xff\xfe";
  sink->begin(m);
  Record r = fixed_records()[0];
  r.slowest_host = "host\xc3";
  sink->row(r);
  const json doc = json::parse(read_file(path("out.json")));
  EXPECT_EQ(doc["rows"].size(), 1u);
}

TEST_F(SinkFiles, JsonUnwritablePathThrowsWithPathAndReason) {
  const std::string bad = path("no/such/dir/out.json");
  try {
    make_json_sink(bad);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_json_sink(dir_.string()), std::runtime_error);  // a directory
}

// ---- console ----------------------------------------------------------------------------------

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(Sinks, ConsoleStartsATablePerRankCountAndSplit) {
  // run --ranks: each k gets its own table, named; run --split: the layout in the header.
  std::ostringstream out;
  auto sink = make_console_sink(out);
  const RunMeta meta = fixed_meta();
  sink->begin(meta);
  Record a = fixed_records()[0];
  a.nranks = meta.nranks;
  sink->row(a);
  a.nranks = 2;
  sink->row(a);
  EXPECT_EQ(count_of(out.str(), "(elements)"), 2u);
  EXPECT_NE(out.str().find("out-of-place nranks=2\n"), std::string::npos) << out.str();
  EXPECT_EQ(count_of(out.str(), "nranks="), 1u);  // not for the job's own rank count
  a.group = "stride:2";
  a.ngroups = meta.nranks / 2;
  sink->row(a);
  EXPECT_EQ(count_of(out.str(), "(elements)"), 3u);
  EXPECT_NE(out.str().find("out-of-place split=stride:2 (" + std::to_string(a.ngroups) + " groups of 2)\n"),
            std::string::npos)
      << out.str();
}

TEST(Sinks, ConsoleRepeatsTheColumnHeaderOnlyWhenTheSeriesChanges) {
  std::ostringstream out;
  auto sink = make_console_sink(out);
  sink->begin(fixed_meta());
  Record a = fixed_records()[0];
  for (int bytes : {8, 16, 32}) {
    a.requested_bytes = a.bytes = static_cast<std::uint64_t>(bytes);
    sink->row(a);
  }
  EXPECT_EQ(count_of(out.str(), "(elements)"), 1u);
  a.dtype = "float64";
  sink->row(a);
  EXPECT_EQ(count_of(out.str(), "(elements)"), 2u);
  EXPECT_NE(out.str().find("# mpi allreduce algo=native dtype=float64 redop=sum root=-1 out-of-place\n"),
            std::string::npos);
  a.root = 1;
  sink->row(a);
  a.redop = "max";
  sink->row(a);
  a.algo = "ring";
  sink->row(a);
  a.backend = "ucx";
  sink->row(a);
  a.op = "broadcast";
  sink->row(a);
  a.inplace = true;
  sink->row(a);
  sink->row(a);
  EXPECT_EQ(count_of(out.str(), "(elements)"), 8u);
  EXPECT_NE(out.str().find("# ucx broadcast algo=ring dtype=float64 redop=max root=1 in-place\n"),
            std::string::npos);
}

// --algo auto: the algorithm that ran changes with the size; the sweep stays one table and the
// algorithm becomes a column. A named algorithm has no such column.
TEST(Sinks, ConsoleKeepsAnAutoSweepInOneTable) {
  std::ostringstream out;
  auto sink = make_console_sink(out);
  Record r = fixed_records()[0];
  r.algo_asked = "auto";
  for (const char* algo : {"recursive_doubling", "rabenseifner", "ring"}) {
    r.algo = algo;
    sink->row(r);
  }
  EXPECT_EQ(count_of(out.str(), "(elements)"), 1u) << out.str();
  EXPECT_NE(out.str().find("# mpi allreduce algo=auto "), std::string::npos) << out.str();
  const auto lines = lines_of(out.str());
  EXPECT_NE(lines[2].find("  algo"), std::string::npos) << lines[2];
  EXPECT_NE(lines[5].find("  rabenseifner"), std::string::npos) << lines[5];
  std::ostringstream named;
  auto plain = make_console_sink(named);
  r.algo = r.algo_asked = "ring";
  plain->row(r);
  EXPECT_EQ(lines_of(named.str())[2].find("  algo"), std::string::npos) << named.str();
}

// Every cell ends where its column's name ends, whatever optional columns the sweep has; the algo
// column (last) starts where its name starts.
TEST(Sinks, ConsoleColumnsAlign) {
  for (bool model : {false, true}) {
    std::ostringstream out;
    auto sink = make_console_sink(out, ConsoleOptions{model});
    for (const Record& r : fixed_records())
      if (r.requested_bytes == r.bytes) sink->row(r);
    std::string header;
    std::size_t checked = 0;
    for (const auto& line : lines_of(out.str())) {
      if (line.rfind("#  ", 0) == 0 && line.find("size") != std::string::npos) header = line;
      if (line.empty() || line[0] == '#') continue;
      const std::size_t algo = header.find("  algo");
      if (algo == std::string::npos) {
        EXPECT_EQ(line.size(), header.size()) << line << "\n" << out.str();
      } else {
        EXPECT_EQ(line.substr(algo, 2), "  ") << line;
        EXPECT_NE(line[algo + 2], ' ') << line;
      }
      ++checked;
    }
    EXPECT_EQ(checked, 5u);
  }
}

TEST(Sinks, ConsoleNotesRoundingAndShowsTheBatch) {
  std::ostringstream out;
  auto sink = make_console_sink(out);
  Record r = fixed_records()[0];
  sink->row(r);
  const std::string plain = lines_of(out.str()).back();
  EXPECT_EQ(plain.find("asked"), std::string::npos);
  EXPECT_NE(lines_of(out.str())[2].find("slowest  batch"), std::string::npos) << out.str();
  EXPECT_NE(plain.find("       2      1"), std::string::npos) << plain;  // slowest rank, batch
  r.requested_bytes = 1000;
  r.bytes = 992;
  r.ops_per_sample = 8;
  sink->row(r);
  const std::string noted = lines_of(out.str()).back();
  EXPECT_NE(noted.find("      8  (asked 1000)"), std::string::npos) << noted;
}

// Slow links read in their own units: not "0.00" GB/s or 1916003 us.
TEST(Sinks, ConsoleScalesUnits) {
  std::ostringstream out;
  auto sink = make_console_sink(out);
  sink->row(fixed_records()[3]);
  const std::string line = lines_of(out.str()).back();
  EXPECT_NE(line.find("  1.92 s"), std::string::npos) << line;
  EXPECT_NE(line.find("  2.19 MB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("  2.10 s"), std::string::npos) << line;
  EXPECT_NE(line.find("  out-of-place"), std::string::npos) << line;
  EXPECT_NE(lines_of(out.str())[2].find("  rate"), std::string::npos) << out.str();
  EXPECT_NE(line.find("  0.52 msg/s"), std::string::npos) << line;
}

TEST(Sinks, ConsoleModelColumnsOnlyWhenAsked) {
  std::ostringstream with, without;
  auto a = make_console_sink(with, ConsoleOptions{true});
  auto b = make_console_sink(without);
  Record r = fixed_records()[4];
  r.algo_asked.clear();
  a->row(r);
  b->row(r);
  EXPECT_EQ(without.str().find("ratio"), std::string::npos) << without.str();
  EXPECT_NE(with.str().find("ratio"), std::string::npos) << with.str();
  // model 20 us, measured 25.07 us: 0.80 of the model's speed
  EXPECT_NE(lines_of(with.str()).back().find("  20.00 us   600.00 kB/s     0.80"), std::string::npos)
      << with.str();
  r.model_time_us.reset();
  r.model_busbw_GBps.reset();
  a->row(r);
  EXPECT_NE(lines_of(with.str()).back().find("           -             -        -"), std::string::npos)
      << with.str();
}

TEST(Sinks, ConsoleAverageBusBandwidthIsTheMeanOverRows) {
  std::ostringstream out;
  auto sink = make_console_sink(out);
  Record r = fixed_records()[0];
  for (double bw : {1.0, 2.0, 6.0}) {
    r.busbw_GBps = bw;
    sink->row(r);
  }
  sink->end("timeout");
  EXPECT_NE(out.str().find("# Avg bus bandwidth: 3.00 GB/s\n# status: timeout\n"), std::string::npos)
      << out.str();
}

TEST(Sinks, ConsoleWithoutRows) {
  std::ostringstream out;
  auto sink = make_console_sink(out);
  sink->begin(fixed_meta());
  sink->end("ok");
  EXPECT_NE(out.str().find("# Avg bus bandwidth: n/a"), std::string::npos) << out.str();
  EXPECT_EQ(count_of(out.str(), "(elements)"), 0u);
}

TEST(Sinks, ConsoleHeaderLinesAllStartWithHash) {
  std::ostringstream out;
  auto sink = make_console_sink(out);
  RunMeta m = fixed_meta();
  m.mpi_library = "MPICH Version:\t4.0\nMPICH Release date:\tFri Jan 21 2022\n";
  m.hosts.clear();
  for (int i = 0; i < 20; ++i) m.hosts.push_back("n" + std::to_string(i));
  sink->begin(m);
  for (const auto& line : lines_of(out.str())) EXPECT_EQ(line.rfind('#', 0), 0u) << line;
  EXPECT_NE(out.str().find("#   MPICH Release date:"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(" n15 ... (4 more)\n"), std::string::npos) << out.str();
}

// ---- end is final, and safe from another thread ----------------------------------------------

TEST_F(SinkFiles, FirstEndWinsAndLateCallsAreDropped) {
  auto csv = make_csv_sink(path("out.csv"));
  auto js = make_json_sink(path("out.json"));
  std::ostringstream out;
  auto console = make_console_sink(out);
  const auto records = fixed_records();
  for (Sink* s : {csv.get(), js.get(), console.get()}) {
    s->begin(fixed_meta());
    s->row(records[0]);
    s->end("timeout");   // the watchdog
    s->row(records[1]);  // the main thread, not yet stopped
    s->end("error");
  }
  EXPECT_EQ(lines_of(read_file(path("out.csv"))).size(), 2u);
  const json doc = json::parse(read_file(path("out.json")));
  EXPECT_EQ(doc["status"], "timeout");
  EXPECT_EQ(doc["rows"].size(), 1u);
  EXPECT_EQ(count_of(out.str(), "# status:"), 1u);
  EXPECT_NE(out.str().find("# status: timeout\n"), std::string::npos);
}

TEST_F(SinkFiles, EndFromAnotherThread) {
  auto js = make_json_sink(path("out.json"));
  js->begin(fixed_meta());
  js->row(fixed_records()[0]);
  std::thread([&] { js->end("timeout"); }).join();
  EXPECT_EQ(json::parse(read_file(path("out.json")))["status"], "timeout");
}

// A sink whose row() blocks until released, like a write to a hung file system.
class StuckSink final : public Sink {
 public:
  explicit StuckSink(std::shared_future<void> release, std::promise<void>& entered)
      : release_(std::move(release)), entered_(entered) {}
  void begin(const RunMeta&) override {}
  void row(const Record&) override {
    entered_.set_value();
    release_.wait();
  }
  void end(const std::string& status) override { ended_with = status; }
  std::string ended_with;

 private:
  std::shared_future<void> release_;
  std::promise<void>& entered_;
};

TEST(Sinks, EndGivesUpOnASinkStuckInARow) {
  std::promise<void> release;
  std::promise<void> entered;
  auto stuck = std::make_unique<StuckSink>(release.get_future().share(), entered);
  StuckSink* raw = stuck.get();
  GuardedSink guarded(std::move(stuck), std::chrono::milliseconds(50));
  std::thread writer([&] { guarded.row(Record{}); });
  entered.get_future().wait();
  guarded.end("timeout");  // returns after 50 ms instead of waiting for the row
  EXPECT_EQ(raw->ended_with, "");
  release.set_value();
  writer.join();
  guarded.end("ok");  // no longer stuck: the end goes through
  EXPECT_EQ(raw->ended_with, "ok");
}

// Records the calls it gets, in order, into a log shared by the sinks of one fan-out.
class LoggingSink final : public Sink {
 public:
  LoggingSink(std::string name, std::vector<std::string>& log, std::mutex& m, std::promise<void>* entered,
              std::shared_future<void> release)
      : name_(std::move(name)), log_(log), m_(m), entered_(entered), release_(std::move(release)) {}
  void begin(const RunMeta&) override {}
  void row(const Record&) override {
    if (entered_) {  // the first sink stops in its row until released
      entered_->set_value();
      release_.wait();
    }
    add("row");
  }
  void end(const std::string&) override { add("end"); }

 private:
  void add(const std::string& what) {
    std::lock_guard lock(m_);
    log_.push_back(name_ + " " + what);
  }
  std::string name_;
  std::vector<std::string>& log_;
  std::mutex& m_;
  std::promise<void>* entered_;
  std::shared_future<void> release_;
};

// SIGTERM during a row: the interrupt guard's thread ends the sinks while the main thread is
// between the JSON and the CSV sink. The end waits for the row, so every sink has it (the CSV and
// the JSON of an interrupted run hold the same rows).
TEST(Sinks, FanOutEndWaitsForTheRowInProgressToReachEverySink) {
  std::vector<std::string> log;
  std::mutex m;
  std::promise<void> entered;
  std::promise<void> release;
  const auto released = release.get_future().share();
  FanOutSink fan;
  fan.add(std::make_unique<LoggingSink>("json", log, m, &entered, released));
  fan.add(std::make_unique<LoggingSink>("csv", log, m, nullptr, released));
  std::thread writer([&] { fan.row(Record{}); });
  entered.get_future().wait();
  std::thread ender([&] { fan.end("interrupted (SIGTERM)"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the end has started and waits
  release.set_value();
  writer.join();
  ender.join();
  EXPECT_EQ(log, (std::vector<std::string>{"json row", "csv row", "json end", "csv end"}));
}

}  // namespace
}  // namespace fb
