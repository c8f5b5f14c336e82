// validate's flow collisions (harness/validate_collisions.hpp): which pairs of a round shared a
// link beyond its rate, the report naming them, and the flow-paths file's errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "harness/validate_collisions.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

// Two leaves, two spines, links of one host's rate (0.05 Gbit/s): h0 and h1 on leaf0 send to h2
// and h3 on leaf1; h0's and h1's flows were hashed onto spine1, h2's and h3's onto spine0 and 1.
FlowPaths two_spines() {
  FlowPaths fp;
  fp.source = "test";
  for (const char* l : {"leaf0->spine0", "leaf0->spine1", "leaf1->spine0", "leaf1->spine1", "spine0->leaf0",
                        "spine1->leaf0", "spine0->leaf1", "spine1->leaf1"})
    fp.link_Gbps[l] = 0.05;
  fp.links[{"h0", "h2"}] = {"leaf0->spine1", "spine1->leaf1"};
  fp.links[{"h1", "h3"}] = {"leaf0->spine1", "spine1->leaf1"};
  fp.links[{"h2", "h0"}] = {"leaf1->spine0", "spine0->leaf0"};
  fp.links[{"h3", "h1"}] = {"leaf1->spine1", "spine1->leaf0"};
  return fp;
}

PairResult pair(int round, int a, int b, double ratio) {
  PairResult p;
  p.round = round;
  p.a = a;
  p.b = b;
  p.host_a = "h" + std::to_string(a);
  p.host_b = "h" + std::to_string(b);
  p.has_bw = true;
  p.model_bw_GBps = 0.05 * 0.956 / 8;  // one host link's goodput, GB/s
  p.bw_ratio = ratio;
  return p;
}

TEST(ValidateCollisions, NamesTheFlowsThatSharedALinkAndLostBandwidth) {
  const std::vector<PairResult> pairs{pair(0, 0, 2, 0.52), pair(0, 1, 3, 0.55)};
  const auto c = find_collisions(pairs, two_spines(), 0.85);
  // h0->h2 and h1->h3 share leaf0->spine1 and spine1->leaf1; the reverse flows share nothing.
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].link, "leaf0->spine1");
  EXPECT_EQ(c[1].link, "spine1->leaf1");
  EXPECT_EQ(c[0].flows, (std::vector<std::string>{"h0->h2", "h1->h3"}));
  EXPECT_EQ(c[0].pairs, (std::vector<std::size_t>{0, 1}));
  EXPECT_NEAR(c[0].demand_Gbps, 2 * 0.05 * 0.956, 1e-12);
  EXPECT_EQ(pairs_to_recheck(c, pairs, 0.85), (std::vector<std::size_t>{0, 1}));

  const auto lines = collision_report(c, pairs, {{0, 0.97}, {1, 0.99}}, 0.85);
  ASSERT_EQ(lines.size(), 2u) << "one line for the round's pairs, then the suggestion";
  EXPECT_EQ(
      lines[0],
      "collision: round 0: flows h0->h2 and h1->h3 shared links leaf0->spine1 and spine1->leaf1 (2 flows "
      "want 0.0956 Gbit/s of a 0.05 Gbit/s link): pair 0-2 52% of the model (alone 97%); pair 1-3 55% of "
      "the model (alone 99%)");
  EXPECT_NE(lines[1].find("pass alone"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("NCCL_IB_QPS_PER_CONNECTION"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("adaptive routing"), std::string::npos) << lines[1];
}

TEST(ValidateCollisions, NoCollisionWhenThePairsKeptTheirBandwidthOrTheLinkHoldsThem) {
  // The same sharing, but the pairs measured at the model's rate: not a loss, not reported.
  EXPECT_TRUE(find_collisions({pair(0, 0, 2, 0.95), pair(0, 1, 3, 0.97)}, two_spines(), 0.85).empty());
  // A link twice as fast carries both flows at the model's rate: no collision, even with a loss.
  FlowPaths wide = two_spines();
  for (auto& [link, g] : wide.link_Gbps) g = 0.1;
  EXPECT_TRUE(find_collisions({pair(0, 0, 2, 0.5), pair(0, 1, 3, 0.5)}, wide, 0.85).empty());
  // Different rounds never share a link.
  EXPECT_TRUE(find_collisions({pair(0, 0, 2, 0.5), pair(1, 1, 3, 0.5)}, two_spines(), 0.85).empty());
  EXPECT_TRUE(collision_report({}, {}, {}, 0.85).empty());
}

TEST(ValidateCollisions, InexactPathsSayMayHaveShared) {
  FlowPaths fp = two_spines();
  fp.exact = false;
  const std::vector<PairResult> pairs{pair(0, 0, 2, 0.5), pair(0, 1, 3, 0.5)};
  const auto c = find_collisions(pairs, fp, 0.85);
  ASSERT_FALSE(c.empty());
  const auto lines = collision_report(c, pairs, {}, 0.85);
  EXPECT_NE(lines[0].find("may have shared links leaf0->spine1"), std::string::npos) << lines[0];
  EXPECT_EQ(lines.back().find("pass alone"), std::string::npos) << "no pair was measured alone";
}

std::string write(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ValidateCollisions, LoadsTheFileAndRejectsBadOnesInOneLine) {
  const auto fp = load_flow_paths(write("fp_good.json", R"({"source": "emufab", "exact": false,
      "links": {"a->b": 0.05}, "flows": [{"src": "h0", "dst": "h1", "links": ["a->b"]}]})"));
  EXPECT_EQ(fp.source, "emufab");
  EXPECT_FALSE(fp.exact);
  EXPECT_EQ(fp.link_Gbps.at("a->b"), 0.05);
  EXPECT_EQ(fp.links.at({"h0", "h1"}), (std::vector<std::string>{"a->b"}));
  for (const char* bad :
       {R"({"links": {"a->b": 0.05}, "flows": [{"src": "h0", "dst": "h1", "links": ["x"]}]})",
        R"({"links": {"a->b": 0}, "flows": []})", R"({"flows": []})", "{not json"}) {
    const std::string path = write("fp_bad.json", bad);
    try {
      load_flow_paths(path);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const UsageError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_EQ(what.rfind("flow paths '" + path + "'", 0), 0u) << what;
    }
  }
  EXPECT_THROW(load_flow_paths("/nonexistent/fp.json"), UsageError);
}

}  // namespace
}  // namespace fb

namespace fb {
namespace {

// The verdict on a round whose pairs lost bandwidth to a collision: h0 and h1 on leaf0, h2 and h3
// on leaf1; round 0's pairs 0-2 and 1-3 shared leaf0->spine1 and spine1->leaf1 (two_spines()),
// the other rounds' pairs kept the model's bandwidth.
std::vector<PairResult> four_hosts(const ValidateOptions& o) {
  std::vector<PairResult> pairs{pair(0, 0, 2, 0.52), pair(0, 1, 3, 0.55), pair(1, 0, 1, 0.95),
                                pair(1, 2, 3, 0.95), pair(2, 0, 3, 0.96), pair(2, 1, 2, 0.96)};
  for (auto& p : pairs) {
    p.bw = classify(p.bw_ratio, o.bw_pass, o.bw_warn);
    p.overall = pair_grade(p, o);
  }
  return pairs;
}

const std::vector<std::string> kHosts{"h0", "h1", "h2", "h3"};

TEST(ValidateCollisions, PairsThatPassAloneAreACollisionNotABadHost) {
  const ValidateOptions o;
  std::vector<PairResult> pairs = four_hosts(o);
  EXPECT_EQ(judge(pairs, {}, o, kHosts).line.rfind("validate: FAIL: 2 of 6 pairs fail", 0), 0u)
      << "as measured in the rounds, before the collisions are known";
  const auto c = find_collisions(pairs, two_spines(), o.bw_pass);
  grade_collided_pairs(pairs, c, {{0, 0.97}, {1, 0.99}}, o);
  EXPECT_EQ(pairs[0].collided_on, (std::vector<std::string>{"leaf0->spine1", "spine1->leaf1"}));
  EXPECT_EQ(pairs[0].overall, Grade::warn);
  EXPECT_DOUBLE_EQ(pairs[1].alone_bw_ratio, 0.99);
  const Verdict v = judge(pairs, {}, o, kHosts);
  EXPECT_EQ(v.grade, Grade::warn);
  EXPECT_TRUE(v.suspects.empty());
  EXPECT_EQ(v.line,
            "validate: WARN: 2 pairs lost bandwidth only when run together: ECMP collisions on leaf0->spine1 "
            "and spine1->leaf1 (see the collision report); their hosts pass alone");
}

TEST(ValidateCollisions, APairThatFailsAloneStillFailsAndIsNamed) {
  const ValidateOptions o;
  std::vector<PairResult> pairs = four_hosts(o);
  // 1-3 is as slow alone: its link is bad, whatever it shared in the round.
  grade_collided_pairs(pairs, find_collisions(pairs, two_spines(), o.bw_pass), {{0, 0.97}, {1, 0.5}}, o);
  EXPECT_TRUE(pairs[1].collided_on.empty());
  EXPECT_EQ(pairs[1].overall, Grade::fail);
  const Verdict v = judge(pairs, {}, o, kHosts);
  EXPECT_EQ(v.grade, Grade::fail);
  EXPECT_EQ(
      v.line,
      "validate: FAIL: 1 of 6 pairs fail; 1 pair lost bandwidth only when run together: ECMP collisions "
      "on leaf0->spine1 and spine1->leaf1 (see the collision report); its hosts pass alone; worst link "
      "h1:1 <-> h3:3 (0.55 of the model's bandwidth)");
  // Not measured alone (no recheck): nothing explains the loss, both pairs fail as measured.
  std::vector<PairResult> unchecked = four_hosts(o);
  grade_collided_pairs(unchecked, find_collisions(unchecked, two_spines(), o.bw_pass), {}, o);
  EXPECT_EQ(judge(unchecked, {}, o, kHosts).pair_counts[2], 2);
  // A collided pair that also fails on latency is not explained by the collision.
  std::vector<PairResult> slow = four_hosts(o);
  slow[0].lat = Grade::fail;
  slow[0].overall = Grade::fail;
  grade_collided_pairs(slow, find_collisions(slow, two_spines(), o.bw_pass), {{0, 0.97}, {1, 0.99}}, o);
  const Verdict vs = judge(slow, {}, o, kHosts);
  EXPECT_EQ(vs.grade, Grade::fail);
  EXPECT_EQ(vs.collided, 1);
}

}  // namespace
}  // namespace fb
