// Published rows (configs/reference/published.csv): the provenance columns read back beside the
// results columns.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "harness/results_reader.hpp"
#include "harness/sinks/sink.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("fb_published_" + std::to_string(getpid()) + "_" + name))
      .string();
}

Record nccl_row() {
  Record r;
  r.source = "published";
  r.backend = "nccl";
  r.op = "allreduce";
  r.mem = "cuda";
  r.dtype = "float32";
  r.redop = "sum";
  r.nranks = 16;
  r.nnodes = 2;
  r.ranks_per_node = 8;
  r.requested_bytes = r.bytes = 1 << 20;
  r.count = r.bytes / 4;
  r.time_us = r.time_p50_us = 123.5;
  return r;
}

// A CSV as the sinks write it, with `extra_header` and `extra_fields` appended to every line.
std::string csv_with(const Record& r, const std::string& extra_header, const std::string& extra_fields) {
  const std::string path = temp_path("sink.csv");
  {
    auto sink = make_csv_sink(path);
    sink->begin(RunMeta{});
    sink->row(r);
    sink->end("ok");
  }
  std::ifstream in(path);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  std::filesystem::remove(path);
  return header + extra_header + "\n" + row + extra_fields + "\n";
}

TEST(PublishedRows, ProvenanceColumnsAreKeptBesideTheRow) {
  const std::string text =
      csv_with(nccl_row(), ",ref,system,fabric,fabric_set,ranks_per_domain,nccl_version,citation,trust,note",
               ",12,CoreWeave A100,hgx-a100,a.b=1; c.d=2,64,2.14.3,\"repo, commit\",B,a note");
  const ResultsFile f = parse_results(text, "pub.csv");
  ASSERT_EQ(f.rows.size(), 1u);
  ASSERT_EQ(f.provenance.size(), 1u);
  const Provenance& p = f.provenance[0];
  EXPECT_EQ(p.ref, "12");
  EXPECT_EQ(p.system, "CoreWeave A100");
  EXPECT_EQ(p.fabric, "hgx-a100");
  EXPECT_EQ(fabric_sets(p), (std::vector<std::string>{"a.b=1", "c.d=2"}));
  EXPECT_EQ(p.ranks_per_domain, 64);
  EXPECT_EQ(p.nccl_version, "2.14.3");
  EXPECT_EQ(p.citation, "repo, commit");
  EXPECT_EQ(p.trust, "B");
  EXPECT_EQ(p.note, "a note");
  EXPECT_EQ(f.rows[0].source, "published");
  EXPECT_DOUBLE_EQ(f.rows[0].time_us, 123.5);
}

TEST(PublishedRows, FilesWithoutProvenanceHaveNone) {
  EXPECT_TRUE(parse_results(csv_with(nccl_row(), "", ""), "run.csv").provenance.empty());
  EXPECT_TRUE(parse_results(csv_with(nccl_row(), ",unknown_column", ",x"), "run.csv").provenance.empty());
}

TEST(PublishedRows, JsonRowsCarryThemToo) {
  const std::string path = temp_path("rows.json");
  {
    auto sink = make_json_sink(path);
    sink->begin(RunMeta{});
    sink->row(nccl_row());
    sink->row(nccl_row());
    sink->end("ok");
  }
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::filesystem::remove(path);
  std::string text = s.str();
  // The first row gets a fabric, a grade and a domain size (a number in JSON); the second none.
  const auto at = text.find("{\"schema_version\":1,\"source\"");
  ASSERT_NE(at, std::string::npos) << text;
  text.insert(at + 1, "\"fabric\":\"hgx-h100\",\"trust\":\"A\",\"ranks_per_domain\":4,");
  const ResultsFile f = parse_results(text, "rows.json");
  ASSERT_EQ(f.provenance.size(), 2u);
  EXPECT_EQ(f.provenance[0].fabric, "hgx-h100");
  EXPECT_EQ(f.provenance[0].trust, "A");
  EXPECT_EQ(f.provenance[0].ranks_per_domain, 4);
  EXPECT_EQ(f.provenance[1].fabric, "");
  EXPECT_EQ(f.provenance[1].ranks_per_domain, 0);
}

TEST(PublishedRows, BadProvenanceValuesNameTheColumn) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {",trust", ",D", "column 'trust'"},
      {",ranks_per_domain", ",-4", "column 'ranks_per_domain'"},
      {",ranks_per_domain", ",eight", "eight"}};
  for (const auto& [cols, fields, needle] : cases) {
    try {
      parse_results(csv_with(nccl_row(), cols, fields), "pub.csv");
      ADD_FAILURE() << "accepted " << fields;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("pub.csv:2"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
}

// The shipped file: every row parses, carries its provenance, and a row published without a time
// (row 94: busbw 367.2 GB/s, 8 GPUs, 16 GiB) has the time that busbw implies.
TEST(PublishedRows, ShippedFileReadsWithDerivedTimes) {
  const ResultsFile f = read_results(std::string(FB_SOURCE_DIR) + "/configs/reference/published.csv");
  ASSERT_GE(f.rows.size(), 60u);
  ASSERT_EQ(f.provenance.size(), f.rows.size());
  std::size_t found = 0;
  for (std::size_t i = 0; i < f.rows.size(); ++i) {
    const Record& r = f.rows[i];
    const Provenance& p = f.provenance[i];
    EXPECT_EQ(r.source, "published");
    EXPECT_FALSE(p.ref.empty());
    EXPECT_FALSE(p.trust.empty()) << p.ref;
    EXPECT_FALSE(p.citation.empty()) << p.ref;
    EXPECT_GT(r.time_us, 0) << p.ref;
    if (p.ref == "94") {
      ++found;
      EXPECT_EQ(p.fabric, "hgx-h200");
      EXPECT_EQ(p.trust, "A");
      EXPECT_EQ(r.algo, "RING");
      EXPECT_NE(p.note.find("time derived from busbw"), std::string::npos);
      const double algbw = 367.2 / (2.0 * 7 / 8);
      EXPECT_NEAR(r.time_us, 17179869184.0 / algbw / 1e3, 1e-6);
      EXPECT_DOUBLE_EQ(r.busbw_GBps, 367.2);
    }
    if (p.ref == "13") {
      ++found;
      EXPECT_EQ(p.fabric_set, "scale_out.in_network_reduction=true");
      EXPECT_DOUBLE_EQ(r.time_us, 143927);  // published, not derived
    }
    if (p.ref == "79") {
      ++found;
      EXPECT_EQ(r.nranks, 128);
      EXPECT_EQ(r.ranks_per_node, 4);
      EXPECT_EQ(p.ranks_per_domain, 64);
    }
  }
  EXPECT_EQ(found, 3u);
}

}  // namespace
}  // namespace fb
