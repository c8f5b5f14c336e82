// The pieces of `fabricbench model --against`: which fabric, placement and algorithm a row maps
// to, the error summary, and its options.
#include <gtest/gtest.h>

#include "harness/commands/model_against.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

Record nccl_row() {
  Record r;
  r.source = "published";
  r.backend = "nccl";
  r.op = "allreduce";
  r.nranks = 16;
  r.nnodes = 2;
  r.ranks_per_node = 8;
  r.requested_bytes = r.bytes = 1 << 20;
  return r;
}

TEST(ModelAgainst, RowTargetPrefersTheRowsOwnFabric) {
  Record r = nccl_row();
  Provenance p;
  p.fabric = "hgx-h200";
  p.fabric_set = "x.y=1";
  p.ranks_per_domain = 4;
  RowTarget t = row_target(r, &p, "hgx-h100", {"z=2"});
  EXPECT_EQ(t.fabric, "hgx-h200");
  EXPECT_EQ(t.sets, (std::vector<std::string>{"x.y=1", "z=2"}));
  EXPECT_EQ(t.ranks_per_domain, 4u);
  r.model_fabric = "gb200-nvl72";
  p.fabric.clear();
  p.ranks_per_domain = 0;
  t = row_target(r, &p, "hgx-h100", {});
  EXPECT_EQ(t.fabric, "gb200-nvl72");
  EXPECT_EQ(t.ranks_per_domain, 8u);  // ranks_per_node
  r.model_fabric.clear();
  t = row_target(r, nullptr, "hgx-h100", {});
  EXPECT_EQ(t.fabric, "hgx-h100");
  EXPECT_TRUE(t.sets.empty());
}

// A row's stated NCCL release is modelled (nccl_version), before the row's fabric_set and the
// command line's --set, which can override it.
TEST(ModelAgainst, RowTargetModelsTheRowsNcclRelease) {
  Record r = nccl_row();
  Provenance p;
  p.fabric = "aws-p4d";
  p.nccl_version = "2.9.9";
  p.fabric_set = "x.y=1";
  RowTarget t = row_target(r, &p, "", {"z=2"});
  EXPECT_EQ(t.sets, (std::vector<std::string>{"nccl_version=2.9.9", "x.y=1", "z=2"}));
  p.nccl_version = "2.21.5+cuda12.4";  // as NCCL prints it: the release it starts with
  EXPECT_EQ(row_target(r, &p, "", {}).sets, (std::vector<std::string>{"nccl_version=2.21.5", "x.y=1"}));
  for (const char* none : {"", "not stated", "v2.9"}) {
    p.nccl_version = none;
    EXPECT_EQ(row_target(r, &p, "", {}).sets, (std::vector<std::string>{"x.y=1"})) << none;
  }
}

TEST(ModelAgainst, AlgorithmOfAForcedNcclRowOrAModelRow) {
  Record r = nccl_row();
  r.algo = "RING";
  EXPECT_EQ(against_algorithm(r), (std::pair<std::string, std::string>{"nccl_ring", "auto"}));
  r.algo = "RING/SIMPLE";
  EXPECT_EQ(against_algorithm(r), (std::pair<std::string, std::string>{"nccl_ring", "simple"}));
  r.algo = "";
  EXPECT_EQ(against_algorithm(r).first, "nccl_auto");
  r.algo = "RING/LL+TREE/SIMPLE";
  EXPECT_EQ(against_algorithm(r).first, "nccl_auto");
  r.source = r.backend = "model";
  r.algo = "nccl_tree/ll128";
  EXPECT_EQ(against_algorithm(r), (std::pair<std::string, std::string>{"nccl_tree", "ll128"}));
}

TEST(ModelAgainst, SummaryIsMedianAndMaxOfAbsoluteErrors) {
  const ErrorSummary odd = summarize({-30, 10, 5});
  EXPECT_EQ(odd.rows, 3u);
  EXPECT_DOUBLE_EQ(odd.median_abs, 10);
  EXPECT_DOUBLE_EQ(odd.max_abs, 30);
  EXPECT_DOUBLE_EQ(summarize({-4, 2, 8, -1}).median_abs, 3);
  EXPECT_EQ(summarize({}).rows, 0u);
}

TEST(ModelAgainst, OptionsParseAndRefuseBadInput) {
  AgainstOptions a;
  a.files = {"x.csv"};
  parse_against_options({"A, B", "32M", "", "20%"}, {"--trust", "--min-bytes", "--max-error"}, a);
  EXPECT_EQ(a.trust, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(a.min_bytes, 32u << 20);
  EXPECT_EQ(a.max_bytes, 0u);
  ASSERT_TRUE(a.max_error_pct);
  EXPECT_DOUBLE_EQ(*a.max_error_pct, 20);
  auto refused = [](AgainstTexts t, std::vector<std::string> given, bool with_files) {
    AgainstOptions b;
    if (with_files) b.files = {"x.csv"};
    EXPECT_THROW(parse_against_options(t, given, b), UsageError);
  };
  refused({"A,D", "", "", ""}, {"--trust"}, true);
  refused({"", "12X", "", ""}, {"--min-bytes"}, true);
  refused({"", "2M", "1M", ""}, {"--min-bytes", "--max-bytes"}, true);
  refused({"", "", "", "-3"}, {"--max-error"}, true);
  refused({"", "", "", ""}, {"--gpus"}, true);     // a sweep option with --against
  refused({"A", "", "", ""}, {"--trust"}, false);  // an --against option without it
}

}  // namespace
}  // namespace fb
