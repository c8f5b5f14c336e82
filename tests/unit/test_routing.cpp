// Routing and load balancing (model/routing.hpp): the ECMP expectation, each policy's factor, the
// schema keys, and what collisions do to the cost model.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "model/routing.hpp"

namespace fb::model {
namespace {

const std::string kFabricDir = std::string(FB_SOURCE_DIR) + "/configs/fabrics/";

TEST(EcmpMaxLoad, ExactSmallCases) {
  EXPECT_NEAR(ecmp_expected_max_load(2, 2), 1.5, 1e-12);  // {1,1} or {2,0}, each with probability 1/2
  // 3 flows on 3 paths: 6 of 27 placements all apart (max 1), 3 all together (3), 18 two together (2).
  EXPECT_NEAR(ecmp_expected_max_load(3, 3), (6 * 1 + 18 * 2 + 3 * 3) / 27.0, 1e-12);
  // 2 flows on 4 paths: together with probability 1/4.
  EXPECT_NEAR(ecmp_expected_max_load(2, 4), 1.25, 1e-12);
  EXPECT_DOUBLE_EQ(ecmp_expected_max_load(1, 64), 1);
  for (double f : {1.0, 7.0, 300.0, 5000.0}) EXPECT_DOUBLE_EQ(ecmp_expected_max_load(f, 1), f);
  EXPECT_DOUBLE_EQ(ecmp_expected_max_load(0, 8), 0);
}

TEST(EcmpMaxLoad, BoundedAndContinuousAcrossMethods) {
  for (double p : {2.0, 8.0, 32.0, 128.0})
    for (double f : {2.0, 10.0, 100.0, 256.0, 257.0, 4000.0, 1e6}) {
      const double m = ecmp_expected_max_load(f, p);
      EXPECT_GE(m, f / p - 1e-9) << f << " on " << p;
      EXPECT_LE(m, f) << f << " on " << p;
    }
  // The exact computation (<= 256 flows) and the approximation beyond it agree to within 3%.
  for (double p : {4.0, 32.0, 128.0}) {
    const double a = ecmp_expected_max_load(256, p), b = ecmp_expected_max_load(257, p);
    EXPECT_NEAR(b / a, 1, 0.03) << p;
  }
  // Many flows per path: the maximum approaches the mean (the law of large numbers).
  EXPECT_LT(ecmp_expected_max_load(32e6, 32) / 1e6, 1.01);
  // A classic value: 32 flows on 32 paths load the busiest one with about 3.5 flows.
  EXPECT_NEAR(ecmp_expected_max_load(32, 32), 3.5, 0.15);
}

// E[max] over `groups` independent sets of `paths` bins with `flows` balls each, by enumerating
// every placement.
double brute_max(int flows, int paths, int groups) {
  const int balls = flows * groups;
  long placements = 1;
  for (int i = 0; i < balls; ++i) placements *= paths;
  double sum = 0;
  for (long code = 0; code < placements; ++code) {
    std::vector<int> load(static_cast<std::size_t>(paths * groups), 0);
    long c = code;
    for (int b = 0; b < balls; ++b, c /= paths)
      ++load[static_cast<std::size_t>((b / flows) * paths + static_cast<int>(c % paths))];
    sum += *std::max_element(load.begin(), load.end());
  }
  return sum / static_cast<double>(placements);
}

TEST(EcmpMaxLoad, BothDirectionsExactSmallCases) {
  // Up-links and the links down into the subtree: two independent sets of P bins.
  EXPECT_NEAR(ecmp_expected_max_load(2, 2, 2), 1.75, 1e-12);
  // 2 flows each way on 4 paths: each way apart with probability 3/4, both apart 9/16.
  EXPECT_NEAR(ecmp_expected_max_load(2, 4, 2), 1 + 7.0 / 16, 1e-12);
  // 3 on 3 each way: P(M <= 1) = 6/27, P(M <= 2) = 24/27 per way, squared for both.
  EXPECT_NEAR(ecmp_expected_max_load(3, 3, 2), 3 - (36.0 + 576.0) / 729, 1e-12);
  for (const auto& [f, p] : {std::pair{4, 3}, {5, 2}, {3, 4}, {6, 2}})
    EXPECT_NEAR(ecmp_expected_max_load(f, p, 2), brute_max(f, p, 2), 1e-12) << f << " on " << p;
  EXPECT_NEAR(ecmp_expected_max_load(4, 3), brute_max(4, 3, 1), 1e-12);
  EXPECT_DOUBLE_EQ(ecmp_expected_max_load(1, 8, 2), 1);
  EXPECT_DOUBLE_EQ(ecmp_expected_max_load(9, 1, 2), 9);
  // Never below one direction's maximum, never above the flows; continuous across methods.
  for (double p : {2.0, 32.0, 128.0})
    for (double f : {2.0, 100.0, 256.0, 257.0, 4000.0, 1e6}) {
      const double one = ecmp_expected_max_load(f, p), two = ecmp_expected_max_load(f, p, 2);
      EXPECT_GE(two, one - 1e-9) << f << " on " << p;
      EXPECT_LE(two, f) << f << " on " << p;
    }
  for (double p : {4.0, 32.0, 128.0})
    EXPECT_NEAR(ecmp_expected_max_load(257, p, 2) / ecmp_expected_max_load(256, p, 2), 1, 0.03) << p;
}

TEST(MaxMinFair, SpineDownlinkCollision) {
  // Links 0-3 host ports, 4-5 leaf0 and leaf1 up-links to spine 0, 6 spine 0's link down to leaf2,
  // 7 leaf0's up-link to spine 1, 8 spine 1's link down to leaf3. Flows a (leaf0 -> leaf2) and b
  // (leaf1 -> leaf2) take spine 0 and share its one link down to leaf2; c (leaf0 -> leaf3) takes
  // spine 1 alone.
  const std::vector<double> cap(9, 50);
  const std::vector<std::vector<int>> flows{{0, 4, 6, 1}, {2, 5, 6, 3}, {0, 7, 8, 1}};
  std::vector<double> r = max_min_fair(cap, flows);
  ASSERT_EQ(r.size(), 3u);
  // Host port 0 carries a and c, port 1 receives a and c: each 25; b shares link 6 with a (25)
  // and takes what a leaves: 25.
  EXPECT_DOUBLE_EQ(r[0], 25);
  EXPECT_DOUBLE_EQ(r[1], 25);
  EXPECT_DOUBLE_EQ(r[2], 25);
  // c from its own host: a is held to 25 by the down-link it shares with b; c alone gets 50.
  const std::vector<std::vector<int>> apart{{0, 4, 6, 1}, {2, 5, 6, 3}, {9, 7, 8, 10}};
  std::vector<double> cap2(11, 50);
  r = max_min_fair(cap2, apart);
  EXPECT_DOUBLE_EQ(r[0], 25);
  EXPECT_DOUBLE_EQ(r[1], 25);
  EXPECT_DOUBLE_EQ(r[2], 50);
  // Max-min, not the bottleneck share: d crosses a link of 10 and one shared with e; e gets the
  // 40 that d leaves on their common link of 50.
  r = max_min_fair({10, 50}, {{0, 1}, {1}});
  EXPECT_DOUBLE_EQ(r[0], 10);
  EXPECT_DOUBLE_EQ(r[1], 40);
}

TEST(EcmpMaxLoad, SharePmfIsBinomial) {
  double sum = 0;
  for (long k = 0; k < 10; ++k) sum += ecmp_share_pmf(10, 4, k);
  EXPECT_NEAR(sum, 1, 1e-12);
  EXPECT_NEAR(ecmp_share_pmf(2, 2, 1), 0.5, 1e-12);
  EXPECT_NEAR(ecmp_share_pmf(3, 2, 0), 0.25, 1e-12);
}

SwitchTier tier(const std::string& policy) {
  SwitchTier t;
  t.name = "leaf";
  t.load_balancing = policy;
  return t;
}

TEST(RouteTier, PoliciesAgainstTheEvenSpread) {
  const TierRouting spray = route_tier(tier("spray"), 64, 32);
  EXPECT_DOUBLE_EQ(spray.factor, 1);
  EXPECT_DOUBLE_EQ(spray.max_load, 2);
  EXPECT_FALSE(spray.collision);
  SwitchTier ad = tier("adaptive");
  ad.adaptive_efficiency = 0.8;
  const TierRouting a = route_tier(ad, 64, 32);
  EXPECT_DOUBLE_EQ(a.factor, 1.25);
  EXPECT_DOUBLE_EQ(a.max_load, 2.5);
  const TierRouting st = route_tier(tier("static"), 64, 32);  // destination-based: 2 per up-link
  EXPECT_DOUBLE_EQ(st.factor, 1);
  EXPECT_FALSE(st.collision);
  // 2 flows up through 2 up-links and 2 down through the 2 links into the subtree: the busiest of
  // the 4 carries both of its direction's flows unless both directions split, P = 1 - 1/4.
  const TierRouting e = route_tier(tier("ecmp"), 2, 2);
  EXPECT_DOUBLE_EQ(e.max_load, 1.75);
  EXPECT_DOUBLE_EQ(e.factor, 1.75);  // the slowest flow gets R / 1.75 where an even spread gives R
  EXPECT_TRUE(e.collision);
  SwitchTier q = tier("ecmp");
  q.flows_per_connection = 4;  // 4 queue pairs per connection: 8 flows on 2 paths
  const TierRouting e4 = route_tier(q, 2, 2);
  EXPECT_DOUBLE_EQ(e4.flows, 8);
  EXPECT_LT(e4.factor, e.factor);  // more entropy, fewer collisions
  EXPECT_NEAR(e4.max_load, ecmp_expected_max_load(8, 2, 2), 1e-12);
}

TEST(RoutingSchema, BadValuesNameTheKey) {
  const std::string base = kFabricDir + "roce-3tier-32k.yaml";
  for (const char* set :
       {"scale_out.tiers.0.load_balancing=hashy", "scale_out.tiers.1.flows_per_connection=0",
        "scale_out.tiers.1.adaptive_efficiency=1.5", "scale_out.tiers.0.hash=l7"}) {
    const std::string key = std::string(set).substr(
        std::string(set).rfind('.') + 1, std::string(set).find('=') - std::string(set).rfind('.') - 1);
    try {
      load_fabric(base, {set});
      ADD_FAILURE() << set << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
  const Fabric f = load_fabric(base);
  EXPECT_EQ(f.scale_out.tiers[0].load_balancing, "ecmp");
  EXPECT_EQ(f.scale_out.tiers[0].flows_per_connection, 1);
  EXPECT_EQ(load_fabric(kFabricDir + "hgx-h100.yaml").scale_out.tiers[0].load_balancing, "adaptive");
  EXPECT_EQ(load_fabric(kFabricDir + "aws-p5.yaml").scale_out.tiers[0].load_balancing, "spray");
}

Prediction at(const std::string& policy, const std::string& op, const std::string& algo, std::uint64_t gpus) {
  std::vector<std::string> sets;
  for (int t = 0; t < 3; ++t)
    sets.push_back("scale_out.tiers." + std::to_string(t) + ".load_balancing=" + policy);
  const Fabric f = load_fabric(kFabricDir + "roce-3tier-32k.yaml", sets);
  return predict(f, op, algo, Placement{gpus, 8}, 1 << 30);
}

TEST(RoutingCost, EcmpCollisionsSlowOneFlowPerRankSteps) {
  // Pairwise all-to-all: one partner per rank per step, 32 flows through a leaf's 32 up-links.
  const Prediction spray = at("spray", "alltoall", "pairwise", 4096);
  const Prediction ecmp = at("ecmp", "alltoall", "pairwise", 4096);
  EXPECT_GT(ecmp.time_us, spray.time_us * 1.5);
  const Prediction rd = at("ecmp", "allreduce", "recursive_doubling", 4096);
  EXPECT_NE(rd.bottleneck.find("(ecmp collision)"), std::string::npos) << rd.bottleneck;
  // Static (destination-based) routing of the same shifts does not collide.
  EXPECT_NEAR(at("static", "alltoall", "pairwise", 4096).time_us, spray.time_us, spray.time_us * 1e-9);
  // Adaptive routing costs its efficiency where the up-links bind.
  const Prediction adaptive = at("adaptive", "allreduce", "recursive_doubling", 4096);
  const Prediction rd_spray = at("spray", "allreduce", "recursive_doubling", 4096);
  EXPECT_GT(adaptive.time_us, rd_spray.time_us);
  EXPECT_LT(adaptive.time_us, rd.time_us);
}

TEST(RoutingCost, RingsDoNotCollide) {
  // NCCL's ring: one flow per subtree boundary, alone on whichever up-link it hashes to.
  for (std::uint64_t g : {1024ull, 32768ull}) {
    const Prediction spray = at("spray", "allreduce", "nccl_ring", g);
    const Prediction ecmp = at("ecmp", "allreduce", "nccl_ring", g);
    EXPECT_DOUBLE_EQ(ecmp.time_us, spray.time_us) << g;
    EXPECT_EQ(ecmp.bottleneck.find("collision"), std::string::npos);
  }
}

TEST(RoutingTraffic, PermutationUnderEcmpCollidesAndStaticRingDoesNot) {
  TrafficOptions o;
  o.pattern = "permutation";
  o.nranks = 1024;
  o.ranks_per_domain = 8;
  o.seeds = 4;
  const Fabric ecmp = load_fabric(kFabricDir + "roce-3tier-32k.yaml");
  const TrafficResult r = predict_traffic(ecmp, o);
  ASSERT_FALSE(r.tiers.empty());
  const TierTraffic& leaf = r.tiers.front();
  EXPECT_EQ(leaf.policy, "ecmp");
  EXPECT_LT(leaf.Gbps.min, leaf.Gbps.median);
  EXPECT_LE(leaf.Gbps.median, r.nic_Gbps + 1e-9);
  EXPECT_GT(leaf.max_load, 1);
  o.pattern = "ring";
  const Fabric st =
      load_fabric(kFabricDir + "roce-3tier-32k.yaml", {"scale_out.tiers.0.load_balancing=static"});
  const TrafficResult ring = predict_traffic(st, o);
  ASSERT_FALSE(ring.tiers.empty());
  EXPECT_DOUBLE_EQ(ring.tiers.front().Gbps.min, r.nic_Gbps);
  EXPECT_DOUBLE_EQ(ring.tiers.front().max_load, 1);
  o.pattern = "bogus";
  EXPECT_THROW(predict_traffic(st, o), std::invalid_argument);
}

TEST(RoutingTraffic, SpineDownlinksCollideOnTheRoutedEmulator) {
  // emulated-routed: 4 leaves x 2 hosts, 2 spines, every link one port's rate R.
  const Fabric f = load_fabric(kFabricDir + "emulated-routed.yaml");
  TrafficOptions o;
  o.nranks = 8;
  o.ranks_per_domain = 1;
  o.seeds = 200;
  for (const char* pattern : {"permutation", "shift", "alltoall"}) {
    o.pattern = pattern;
    const TrafficResult r = predict_traffic(f, o);
    ASSERT_EQ(r.tiers.size(), 1u) << pattern;
    const TierTraffic& t = r.tiers.front();
    // The closed-form expectation of the busiest link, both directions, against the runs' draws.
    EXPECT_NEAR(t.measured_max_load / t.max_load, 1, 0.03) << pattern;
    if (o.pattern == "permutation") {
      // Half the climbing flows or more share a spine->leaf (or leaf->spine) link with another:
      // the median flow gets R / 2 (the measurement: ~25 of 47.8 Mb/s).
      EXPECT_DOUBLE_EQ(t.Gbps.median, r.nic_Gbps / 2);
      EXPECT_GT(t.Gbps.mean, r.nic_Gbps / 2);
    }
  }
  // A shift (each host to its place on the next leaf) routed by destination never collides.
  o.pattern = "shift";
  o.seeds = 3;
  const TrafficResult st = predict_traffic(
      load_fabric(kFabricDir + "emulated-routed.yaml", {"scale_out.tiers.0.load_balancing=static"}), o);
  ASSERT_EQ(st.tiers.size(), 1u);
  EXPECT_DOUBLE_EQ(st.tiers.front().Gbps.min, st.nic_Gbps);
  EXPECT_DOUBLE_EQ(st.tiers.front().measured_max_load, 1);
  // halves (run --op sendrecv's pairs): leaf 0's two flows both go to leaf 2, so they share a
  // link (up and down alike) exactly when they hash to the same spine, with probability 1/2: a
  // flow's mean is (R / 2 + R) / 2, and only up-links load (nothing comes back).
  o.pattern = "halves";
  o.seeds = 400;
  const TrafficResult h = predict_traffic(f, o);
  ASSERT_EQ(h.tiers.size(), 1u);
  EXPECT_NEAR(h.tiers.front().Gbps.mean / (0.75 * h.nic_Gbps), 1, 0.03);
  EXPECT_NEAR(h.tiers.front().measured_max_load, 1.5, 0.05);
  EXPECT_EQ(h.connections, 4u);
  o.pattern = "zigzag";
  EXPECT_THROW(predict_traffic(f, o), std::invalid_argument);
}

}  // namespace
}  // namespace fb::model
