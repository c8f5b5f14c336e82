// validate's verdict on GPU fabrics (issue 21, item 8): published healthy rows of one system,
// predicted on its shipped fabric, pass; the same rows with one node 30% slower fail and name it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/commands/model_against.hpp"
#include "harness/results_reader.hpp"
#include "harness/sinks/annotate.hpp"
#include "harness/validate_verdict.hpp"
#include "model/cost.hpp"
#include "model/fabric.hpp"

namespace fb {
namespace {

const std::string kSource = FB_SOURCE_DIR;

// The A rows of AWS p5 (aws-p5) of at least 2 GiB, each predicted on the shipped fabric as
// `model --against` does, with the hosts each ran on named p5-node-0 ... and the slowest host
// spread over them.
std::vector<Record> p5_rows() {
  const ResultsFile file = read_results(kSource + "/configs/reference/published.csv");
  const model::Fabric f = model::load_fabric(kSource + "/configs/fabrics/aws-p5.yaml");
  std::vector<Record> rows;
  for (std::size_t i = 0; i < file.rows.size(); ++i) {
    const Provenance& p = file.provenance.at(i);
    Record r = file.rows[i];
    if (p.fabric != "aws-p5" || p.trust != "A" || r.bytes < (2ull << 30)) continue;
    const RowTarget t = row_target(r, &p, "", {});
    const auto [algo, protocol] = against_algorithm(r);
    model::Placement pl;
    pl.nranks = static_cast<std::uint64_t>(r.nranks);
    pl.ranks_per_domain = t.ranks_per_domain;
    set_prediction(r, f.name, model::predict(f, r.op, algo, pl, static_cast<double>(r.bytes), protocol));
    r.slowest_host = "p5-node-" + std::to_string(i % static_cast<std::size_t>(r.nnodes));
    rows.push_back(r);
  }
  return rows;
}

std::vector<std::string> hosts(int nodes) {
  std::vector<std::string> h;
  for (int n = 0; n < nodes; ++n)
    for (int g = 0; g < 8; ++g) h.push_back("p5-node-" + std::to_string(n));
  return h;
}

TEST(ValidateVerdict, HealthyPublishedGpuRowsPass) {
  const std::vector<Record> rows = p5_rows();
  ASSERT_GE(rows.size(), 8u);  // all-reduce, all-gather, all-to-all on 2, 4 and 8 nodes
  const Verdict v = judge({}, rows, ValidateOptions{}, hosts(8));
  EXPECT_EQ(v.grade, Grade::pass) << v.line;
  EXPECT_EQ(v.coll_counts[2], 0) << v.line;
  EXPECT_EQ(v.line.rfind("validate: PASS: 0 pairs and ", 0), 0u) << v.line;
}

TEST(ValidateVerdict, OneNodeThirtyPercentSlowFailsAndIsNamed) {
  std::vector<Record> rows = p5_rows();
  int degraded = 0;
  for (Record& r : rows) {
    if (r.nnodes <= 3) continue;  // node 3 is in the 4- and 8-node jobs only
    r.time_us /= 0.7;             // its NICs deliver 70%: the ring and the all-to-all wait for it
    r.slowest_host = "p5-node-3";
    ++degraded;
  }
  ASSERT_GT(degraded, 0);
  const Verdict v = judge({}, rows, ValidateOptions{}, hosts(8));
  EXPECT_EQ(v.grade, Grade::fail) << v.line;
  ASSERT_EQ(v.suspects.size(), 1u) << v.line;
  EXPECT_EQ(v.suspects[0].host, "p5-node-3");
  EXPECT_TRUE(v.suspects_from_collectives);
  EXPECT_EQ(v.line.rfind("validate: FAIL: ", 0), 0u) << v.line;
  EXPECT_NE(v.line.find("suspect host p5-node-3 (the slowest in "), std::string::npos) << v.line;
  // The 2-node rows, which node 3 was not part of, still pass.
  for (const auto& c : v.collectives) {
    if (c.row->nnodes == 2) {
      EXPECT_EQ(c.grade, Grade::pass) << c.row->op << " " << c.ratio;
    }
  }
}

}  // namespace
}  // namespace fb
