// Routing and load balancing (model/routing.hpp): the ECMP expectation, each policy's factor, the
// schema keys, and what collisions do to the cost model.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

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
  const TierRouting e = route_tier(tier("ecmp"), 2, 2);
  EXPECT_DOUBLE_EQ(e.max_load, 1.5);
  EXPECT_DOUBLE_EQ(e.factor, 1.5);  // the slowest flow gets R / 1.5 where an even spread gives R
  EXPECT_TRUE(e.collision);
  SwitchTier q = tier("ecmp");
  q.flows_per_connection = 4;  // 4 queue pairs per connection: 8 flows on 2 paths
  const TierRouting e4 = route_tier(q, 2, 2);
  EXPECT_DOUBLE_EQ(e4.flows, 8);
  EXPECT_LT(e4.factor, e.factor);  // more entropy, fewer collisions
  EXPECT_NEAR(e4.max_load, ecmp_expected_max_load(8, 2), 1e-12);
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

}  // namespace
}  // namespace fb::model
