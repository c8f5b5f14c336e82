// The cost models (model/cost.hpp, model/algorithms/): golden values against hand-derived alpha-beta
// formulas, the registry and its errors, and properties over a grid of fabrics, ops, algorithms,
// protocols, sizes and scales. Fabrics are built in code (no YAML).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/algorithms/common.hpp"
#include "model/cost.hpp"
#include "model/fabric.hpp"

namespace fb::model {
namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;
constexpr double kMiB = 1024.0 * 1024;

// us to move `bytes` at `GBps` (1 GB/s = 1e3 bytes per us).
double us(double bytes, double GBps) {
  return bytes / (GBps * 1e3);
}

void expect_close(double actual, double expected, const std::string& what) {
  EXPECT_NEAR(actual, expected, 1e-9 * std::max(1.0, std::fabs(expected))) << what;
}

// A fabric number survives the YAML round trip, and a negative one is refused.
void expect_round_trip_and_non_negative(const Fabric& f, double ScaleUp::*field) {
  EXPECT_DOUBLE_EQ(parse_fabric(fabric_to_yaml(f), "t.yaml").scale_up.*field, f.scale_up.*field);
  Fabric bad = f;
  bad.scale_up.*field = -1;
  EXPECT_THROW(validate_fabric(bad), std::invalid_argument);
}

// ---- fabrics -----------------------------------------------------------------------------------

// One rank per domain, one switch tier: every message costs a = nic_latency + hop, every byte 1/B0.
// Reduce and memory bandwidths are 0 (terms not modelled) unless a test sets them.
Fabric flat_fabric() {
  Fabric f;
  f.name = "flat";
  f.description = "test: one endpoint per domain, one non-blocking switch";
  f.scale_up.domain_size = 1;
  f.scale_up.bandwidth_GBps = 100;
  f.scale_up.latency_us = 0.5;
  f.scale_out.nic_bandwidth_Gbps = 800;
  f.scale_out.nics_per_domain = 1;
  f.scale_out.latency_us = 2.0;
  f.scale_out.tiers = {{"switch", 1 << 21, 0.5, 1}};
  return f;
}

// g = 8 endpoints per domain on a scale-up network, one NIC each, one switch tier.
Fabric two_level_fabric() {
  Fabric f;
  f.name = "two-level";
  f.description = "test: 8 per domain, 8 rails, one switch tier";
  f.scale_up.domain_size = 8;
  f.scale_up.bandwidth_GBps = 300;
  f.scale_up.latency_us = 0.5;
  f.scale_out.nic_bandwidth_Gbps = 400;
  f.scale_out.nics_per_domain = 8;
  f.scale_out.rails = 8;
  f.scale_out.latency_us = 2.0;
  f.scale_out.tiers = {{"switch", 4096, 0.25, 1}};
  return f;
}

// HGX H100-like: NVLink4 + NVLS, 8 x 400G rails, a 4-tier radix-64 fat tree (2^21 endpoints).
Fabric hgx_fabric() {
  Fabric f;
  f.name = "hgx-like";
  f.description = "test: 8x H100 per NVLink4 domain, 8x 400G rails, 4-tier radix-64 fat tree";
  f.endpoint.generation = "hopper";
  f.endpoint.memory_bandwidth_GBps = 3350;
  f.endpoint.reduce_bandwidth_GBps = 3350.0 / 3;
  f.scale_up.domain_size = 8;
  f.scale_up.bandwidth_GBps = 450;
  f.scale_up.latency_us = 0.6;
  f.scale_up.in_switch_reduction = true;
  f.scale_out.nic_bandwidth_Gbps = 400;
  f.scale_out.nics_per_domain = 8;
  f.scale_out.rails = 8;
  f.scale_out.latency_us = 2.7;
  f.scale_out.wire_efficiency = 0.99369;
  f.scale_out.tiers = {
      {"leaf", 64, 0.2, 1}, {"spine", 64, 0.2, 1}, {"core", 64, 0.2, 1}, {"super", 64, 0.2, 1}};
  return f;
}

// Oversubscribed Ethernet-like: 4 per domain on one NIC (nics_per_domain 1: NCCL's plain tree
// pattern), leaf 1:4 and spine 1:2 with 32 ports down each, 2 planes.
Fabric oversub_fabric(double leaf_o = 4, double spine_o = 2) {
  const auto radix_for = [](double o) { return static_cast<int>(std::lround(32 * (1 + o) / o)); };
  Fabric f;
  f.name = "oversub";
  f.description = "test: generic GPUs, 4 per domain, one NIC, 3-tier oversubscribed Clos";
  f.endpoint.memory_bandwidth_GBps = 1000;
  f.endpoint.reduce_bandwidth_GBps = 300;
  f.scale_up.domain_size = 4;
  f.scale_up.bandwidth_GBps = 200;
  f.scale_up.latency_us = 1.0;
  f.scale_out.nic_bandwidth_Gbps = 400;
  f.scale_out.nics_per_domain = 1;
  f.scale_out.planes = 2;
  f.scale_out.latency_us = 3.0;
  f.scale_out.wire_efficiency = 0.98;
  f.scale_out.tiers = {{"leaf", radix_for(leaf_o), 0.3, leaf_o},
                       {"spine", radix_for(spine_o), 0.4, spine_o},
                       {"core", 64, 0.5, 1}};
  return f;
}

// NVL72-like: 72 per NVLink5 domain (not a power of two), 72 NICs on 4 rails, SHARP in the network.
Fabric nvl72_fabric() {
  Fabric f;
  f.name = "nvl72-like";
  f.description = "test: 72x GB200 per NVLink5 domain, 800G per GPU, SHARP";
  f.endpoint.generation = "blackwell";
  f.endpoint.memory_bandwidth_GBps = 8000;
  f.endpoint.reduce_bandwidth_GBps = 8000.0 / 3;
  f.scale_up.domain_size = 72;
  f.scale_up.bandwidth_GBps = 900;
  f.scale_up.latency_us = 0.6;
  f.scale_up.in_switch_reduction = true;
  f.scale_out.nic_bandwidth_Gbps = 800;
  f.scale_out.nics_per_domain = 72;
  f.scale_out.rails = 4;
  f.scale_out.latency_us = 2.7;
  f.scale_out.in_network_reduction = true;
  f.scale_out.tiers = {{"leaf", 144, 0.3, 1}, {"spine", 144, 0.3, 1}, {"core", 144, 0.3, 1}};
  return f;
}

// Host ranks over shared memory, no scale-out network.
Fabric host_fabric() {
  Fabric f;
  f.name = "host";
  f.description = "test: ranks on one host";
  f.endpoint.kind = "host";
  f.endpoint.memory_bandwidth_GBps = 25.6;
  f.endpoint.reduce_bandwidth_GBps = 8;
  f.scale_up.domain_size = 256;
  f.scale_up.bandwidth_GBps = 12.8;
  f.scale_up.latency_us = 1.0;
  return f;
}

Fabric with_in_network(Fabric f) {
  f.scale_out.in_network_reduction = true;
  f.name += "+sharp";
  return f;
}

std::vector<Fabric> grid_fabrics() {
  return {flat_fabric(),    two_level_fabric(), hgx_fabric(), with_in_network(hgx_fabric()),
          oversub_fabric(), nvl72_fabric(),     host_fabric()};
}

// ---- what to evaluate ----------------------------------------------------------------------------

struct Case {
  std::string algo, op, protocol;
};

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const auto& a : algorithms())
    for (const auto& op : a.ops) {
      if (op.rfind("moe_", 0) == 0) continue;  // priced from their routing's traffic: test_moe.cpp
      if (a.has_protocols)
        for (const char* pr : {"ll", "ll128", "simple"}) cases.push_back({a.name, op, pr});
      else
        cases.push_back({a.name, op, ""});
    }
  return cases;
}

// Can this case run here? (An unavailable NCCL algorithm or protocol throws std::invalid_argument.)
bool try_predict(const Fabric& f, const Case& c, const Placement& pl, double bytes, Prediction& out) {
  try {
    out = predict(f, c.op, c.algo, pl, bytes, c.protocol.empty() ? "auto" : c.protocol);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

bool is_pair(const std::string& op) {
  return op == "sendrecv" || op == "unidir" || op == "bidir" || op == "pingpong" || op == "relay";
}

Placement place(const Fabric& f, std::uint64_t p) {
  return Placement{p, std::min<std::uint64_t>(p, static_cast<std::uint64_t>(f.scale_up.domain_size))};
}

// Scales a fabric can hold ranks for (a fabric without scale-out: one domain).
std::vector<std::uint64_t> grid_scales(const Fabric& f) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t p :
       {1ull, 2ull, 3ull, 8ull, 12ull, 16ull, 72ull, 100ull, 144ull, 1024ull, 1000ull, 65536ull, 1ull << 20})
    if (f.has_scaleout() || p <= static_cast<std::uint64_t>(f.scale_up.domain_size)) out.push_back(p);
  return out;
}

const std::vector<double> kGridSizes = {0, 1, 8, 1000, 65536, kMiB, 64 * kMiB, kGiB, 16 * kGiB};

// ---- golden values: flat single-tier fabric -------------------------------------------------------

class FlatGolden : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(FlatGolden, AlphaBetaFormulas) {
  const Fabric f = flat_fabric();
  const std::uint64_t p = GetParam();
  const Placement pl{p, 1};
  const double P = static_cast<double>(p);
  const double a =
      f.scale_out.latency_us + f.scale_out.tiers[0].hop_latency_us;  // one switch: up and down one hop
  const double B = f.nic_GBps_per_endpoint();
  ASSERT_DOUBLE_EQ(B, 100.0);
  const double lg = std::log2(P), clg = std::ceil(lg);
  const bool pow2 = (p & (p - 1)) == 0;
  for (double n : {1024.0, kMiB, kGiB}) {
    const std::string at = " p=" + std::to_string(p) + " n=" + std::to_string(n);
    expect_close(predict(f, "allreduce", "ring", pl, n).time_us, 2 * (P - 1) * a + 2 * (P - 1) / P * us(n, B),
                 "ring allreduce" + at);
    expect_close(predict(f, "allgather", "ring", pl, n).time_us, (P - 1) * a + (P - 1) / P * us(n, B),
                 "ring allgather" + at);
    expect_close(predict(f, "reducescatter", "ring", pl, n).time_us, (P - 1) * a + (P - 1) / P * us(n, B),
                 "ring reducescatter" + at);
    // Pairwise: each step's latency and p control messages (collectives/algorithms/pairwise.cpp),
    // none on 2 ranks.
    expect_close(predict(f, "alltoall", "pairwise", pl, n).time_us,
                 (P > 2 ? 2 * P - 1 : P - 1) * a + (P - 1) / P * us(n, B), "pairwise alltoall" + at);
    expect_close(predict(f, "allgather", "bruck", pl, n).time_us, clg * a + (P - 1) / P * us(n, B),
                 "bruck allgather" + at);
    expect_close(predict(f, "broadcast", "binomial", pl, n).time_us, clg * (a + us(n, B)), "binomial" + at);
    expect_close(predict(f, "alltoall", "linear", pl, n).time_us,
                 a + 2 * (P - 1) * 0.05 + (P - 1) / P * us(n, B), "linear alltoall" + at);
    // reduce mirrors the broadcast tree; gather and scatter move 2^j blocks in step j, p-1 in all;
    // linear's root carries p-1 blocks at once; alltoallv is alltoall at its most loaded rank's bytes.
    expect_close(predict(f, "reduce", "binomial", pl, n).time_us, clg * (a + us(n, B)),
                 "binomial reduce" + at);
    for (const char* op : {"gather", "scatter"}) {
      expect_close(predict(f, op, "binomial", pl, n).time_us, clg * a + (P - 1) / P * us(n, B),
                   std::string("binomial ") + op + at);
      expect_close(predict(f, op, "linear", pl, n).time_us, a + (P - 1) * 0.05 + (P - 1) / P * us(n, B),
                   std::string("linear ") + op + at);
    }
    for (const char* algo : {"pairwise", "linear"})
      EXPECT_DOUBLE_EQ(predict(f, "alltoallv", algo, pl, n).time_us,
                       predict(f, "alltoall", algo, pl, n).time_us)
          << algo << at;
    expect_close(predict(f, "unidir", "p2p", pl, n).time_us, a + us(n, B), "unidir" + at);
    expect_close(predict(f, "sendrecv", "p2p", pl, n).time_us, a + us(n, B), "sendrecv (ring shift)" + at);
    expect_close(predict(f, "bidir", "p2p", pl, n).time_us, a + us(n, B), "bidir" + at);
    expect_close(predict(f, "pingpong", "p2p", pl, n).time_us, a + us(n, B), "pingpong" + at);
    if (pow2) {
      expect_close(predict(f, "allreduce", "recursive_doubling", pl, n).time_us, lg * (a + us(n, B)),
                   "recursive doubling" + at);
      expect_close(predict(f, "allgather", "recursive_doubling", pl, n).time_us,
                   lg * a + (P - 1) / P * us(n, B), "recursive doubling allgather" + at);
      expect_close(predict(f, "allreduce", "rabenseifner", pl, n).time_us,
                   2 * lg * a + 2 * (P - 1) / P * us(n, B), "rabenseifner" + at);
      expect_close(predict(f, "reducescatter", "recursive_halving", pl, n).time_us,
                   lg * a + (P - 1) / P * us(n, B), "recursive halving" + at);
      expect_close(predict(f, "alltoall", "bruck", pl, n).time_us, lg * a + n / 2 * lg / (B * 1e3),
                   "bruck alltoall" + at);
    }
    // Chain: (p-1+k-1) (a + n/(k B)) at the best real k = sqrt(n (p-2) / (a B)), when that is >= 1.
    const double k = std::sqrt(us(n, B) * (P - 2) / a);
    if (p > 2 && k >= 1) {
      expect_close(predict(f, "broadcast", "chain", pl, n).time_us,
                   std::pow(std::sqrt((P - 2) * a) + std::sqrt(us(n, B)), 2), "chain" + at);
      expect_close(predict(f, "broadcast", "chain", pl, n).time_us, (P - 2 + k) * (a + us(n, B) / k),
                   "chain k" + at);
    } else if (p == 2 || k < 1) {
      expect_close(predict(f, "broadcast", "chain", pl, n).time_us, (P - 1) * (a + us(n, B)),
                   "chain k=1" + at);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scales, FlatGolden, ::testing::Values(2, 3, 4, 7, 16, 100, 1024, 65536));

TEST(CostGolden, NonPowerOfTwoFoldsInTwoExtraSteps) {
  const Fabric f = flat_fabric();
  const double a = f.scale_out.latency_us + f.scale_out.tiers[0].hop_latency_us,
               B = f.nic_GBps_per_endpoint(), n = kMiB;
  // p = 12: 3 doubling steps among 8 ranks plus the 4 extras' fold-in and fold-out of n each.
  expect_close(predict(f, "allreduce", "recursive_doubling", {12, 1}, n).time_us,
               3 * (a + us(n, B)) + 2 * (a + us(n, B)), "recursive doubling p=12");
  // Rabenseifner p = 12: fold-in/out (2 steps of n) + 2 log2(8) steps moving 2 (7/8) n.
  expect_close(predict(f, "allreduce", "rabenseifner", {12, 1}, n).time_us,
               2 * (a + us(n, B)) + 6 * a + 2 * 7.0 / 8 * us(n, B), "rabenseifner p=12");
  // Bruck alltoall p = 5: 3 steps moving the blocks with bit k set: 2, 2 and 1 of 5.
  expect_close(predict(f, "alltoall", "bruck", {5, 1}, n).time_us, 3 * a + 5.0 / 5 * us(n, B),
               "bruck alltoall p=5");
}

TEST(CostGolden, ReductionAndMemoryTerms) {
  Fabric f = flat_fabric();
  f.endpoint.reduce_bandwidth_GBps = 40;
  f.endpoint.memory_bandwidth_GBps = 200;
  const double a = f.scale_out.latency_us + f.scale_out.tiers[0].hop_latency_us,
               B = f.nic_GBps_per_endpoint(), R = 40, M = 200;
  const double P = 16, n = 64 * kMiB;
  const Placement pl{16, 1};
  // gamma: each reduced byte costs 1/R.
  expect_close(predict(f, "allreduce", "ring", pl, n).time_us,
               2 * (P - 1) * a + 2 * (P - 1) / P * us(n, B) + (P - 1) / P * us(n, R), "ring + gamma");
  expect_close(predict(f, "allreduce", "recursive_doubling", pl, n).time_us, 4 * (a + us(n, B) + us(n, R)),
               "recursive doubling + gamma");
  expect_close(predict(f, "allreduce", "rabenseifner", pl, n).time_us,
               8 * a + 2 * (P - 1) / P * us(n, B) + (P - 1) / P * us(n, R), "rabenseifner + gamma");
  expect_close(predict(f, "reducescatter", "ring", pl, n).time_us,
               (P - 1) * a + (P - 1) / P * us(n, B) + (P - 1) / P * us(n, R), "ring reducescatter + gamma");
  // Bruck allgather rotates the result once: read + write n through memory.
  expect_close(predict(f, "allgather", "bruck", pl, n).time_us, 4 * a + (P - 1) / P * us(n, B) + us(2 * n, M),
               "bruck allgather + memory");
  // Bruck alltoall: two rotations (4n) and packing/unpacking each step's n/2 (2n per step).
  expect_close(predict(f, "alltoall", "bruck", pl, n).time_us,
               4 * a + 2 * us(n, B) + us(4 * n + 4 * 2 * n, M), "bruck alltoall + memory");
  const auto slow = [&](double reduce) {
    Fabric g = f;
    g.endpoint.reduce_bandwidth_GBps = reduce;
    return predict(g, "allreduce", "ring", pl, n).bottleneck;
  };
  EXPECT_EQ(slow(1), "reduction");
  EXPECT_EQ(slow(1000), "nic");
}

TEST(CostGolden, OneRankIsALocalCopy) {
  const Fabric f = hgx_fabric();
  for (const char* algo : {"ring", "auto", "nccl_ring", "nccl_auto", "hierarchical"}) {
    const Prediction r = predict(f, "allreduce", algo, {1, 1}, kGiB);
    expect_close(r.time_us, us(2 * kGiB, f.endpoint.memory_bandwidth_GBps), algo);
    EXPECT_EQ(r.busbw_GBps, 0) << algo;
    EXPECT_EQ(r.bottleneck, "memory") << algo;
  }
  const Prediction empty = predict(f, "broadcast", "binomial", {1, 1}, 0);
  EXPECT_GT(empty.time_us, 0);
  EXPECT_EQ(empty.bottleneck, "latency");
  EXPECT_EQ(empty.busbw_GBps, 0);
}

// ---- golden values: two levels ---------------------------------------------------------------------

TEST(CostGolden, HierarchicalTwoLevelFormula) {
  Fabric f = two_level_fabric();
  const double g = 8, a1 = f.scale_up.latency_us, B1 = f.scale_up.bandwidth_GBps;
  const double a2 = f.scale_out.latency_us + f.scale_out.tiers[0].hop_latency_us,
               B2 = f.nic_GBps_per_endpoint();
  ASSERT_DOUBLE_EQ(B2, 50.0);
  for (std::uint64_t m : {1, 2, 5, 64}) {
    const Placement pl{8 * m, 8};
    const double M = static_cast<double>(m);
    for (double n : {4096.0, kMiB, kGiB}) {
      const std::string at = " m=" + std::to_string(m) + " n=" + std::to_string(n);
      // 2(g-1) a1 + 2(m-1) a2 + 2(g-1)/g n b1 + 2(m-1)/(m g) n b2
      expect_close(predict(f, "allreduce", "hierarchical", pl, n).time_us,
                   2 * (g - 1) * a1 + 2 * (M - 1) * a2 + 2 * (g - 1) / g * us(n, B1) +
                       2 * (M - 1) / (M * g) * us(n, B2),
                   "hierarchical allreduce" + at);
      expect_close(predict(f, "allgather", "hierarchical", pl, n).time_us,
                   (g - 1) * a1 + (M - 1) * a2 + (g - 1) / g * us(n, B1) + (M - 1) / (M * g) * us(n, B2),
                   "hierarchical allgather" + at);
    }
  }
  // With gamma: + (g-1)/g n/R inside the domains + (m-1)/(m g) n/R across them.
  f.endpoint.reduce_bandwidth_GBps = 100;
  const double n = kGiB, M = 4;
  expect_close(predict(f, "allreduce", "hierarchical", {32, 8}, n).time_us,
               2 * (g - 1) * a1 + 2 * (M - 1) * a2 + 2 * (g - 1) / g * us(n, B1) +
                   2 * (M - 1) / (M * g) * us(n, B2) + (g - 1) / g * us(n, 100) +
                   (M - 1) / (M * g) * us(n, 100),
               "hierarchical + gamma");
}

TEST(CostGolden, FlatRingAcrossDomainsRunsAtTheSlowerLink) {
  const Fabric f = two_level_fabric();
  const double a1 = f.scale_up.latency_us, a2 = f.scale_out.latency_us + f.scale_out.tiers[0].hop_latency_us;
  const double B2 = f.nic_GBps_per_endpoint(), P = 32, M = 4, n = kGiB;
  // One ring over 32 ranks: 28 hops inside domains, 3 across (per pass); every hop at the NIC's pace.
  expect_close(predict(f, "allreduce", "ring", {32, 8}, n).time_us,
               2 * ((P - M) * a1 + (M - 1) * a2) + 2 * (P - 1) / P * us(n, B2), "ring across domains");
  EXPECT_EQ(predict(f, "allreduce", "ring", {32, 8}, n).bottleneck, "nic");
}

// ---- golden values: tiers ------------------------------------------------------------------------------

// A 2-tier fabric, one endpoint per domain, leaf 36 ports at 1:8 (32 down), spine 64 (top).
Fabric two_tier_oversubscribed() {
  Fabric f = flat_fabric();
  f.name = "two-tier";
  f.scale_out.tiers = {{"leaf", 36, 0.5, 8}, {"spine", 64, 0.75, 1}};
  return f;
}

TEST(CostGolden, TierLatencyAndCapacity) {
  const Fabric f = two_tier_oversubscribed();
  const double B0 = f.nic_GBps_per_endpoint(), C1 = B0 / 8;
  const double a1 = f.scale_out.latency_us + 0.5;             // up to a leaf and down
  const double a2 = f.scale_out.latency_us + 2 * 0.5 + 0.75;  // up to a spine and down
  const Placement pl{64, 1};                                  // 2 leaves of 32
  const double n = kGiB, P = 64;
  // Recursive doubling: 5 steps inside a leaf, the 6th (distance 32) over the spine at B0/8.
  const Prediction rd = predict(f, "allreduce", "recursive_doubling", pl, n);
  expect_close(rd.time_us, 5 * (a1 + us(n, B0)) + (a2 + us(n, C1)), "recursive doubling over two tiers");
  EXPECT_EQ(rd.bottleneck, "tier:leaf");
  // Pairwise: in every step some ranks cross the spine (latency a2). At distance d (s or 64 - s)
  // d/32 of a leaf's ranks leave it, each at min(B0, C1 / (d/32)) = B0 / max(1, d/4): the 63
  // steps cost 2 (4 + (5 + ... + 31)/4) + 8 = 259 NIC block times; the 64 control messages
  // between them cross the spine too (a2).
  const double c = n / P;
  expect_close(predict(f, "alltoall", "pairwise", pl, n).time_us, (63 + 64) * a2 + 259 * us(c, B0),
               "pairwise over two tiers");
  EXPECT_EQ(predict(f, "alltoall", "pairwise", pl, n).bottleneck, "tier:leaf");
  // Linear: (1 - 32/64) of the bytes climb above the leaf: rate min(B0, C1 / (32/63)).
  expect_close(predict(f, "alltoall", "linear", pl, n).time_us,
               a2 + 2 * (P - 1) * 0.05 + (P - 1) * c * std::max(1 / B0, (32.0 / 63) / C1) / 1e3,
               "linear over two tiers");
  // A ring crosses the leaf boundary with one flow: 32 leaf ports share its uplinks, 32 x C1 > B0.
  expect_close(predict(f, "allreduce", "ring", pl, n).time_us,
               2 * (62 * a1 + 1 * a2) + 2 * (P - 1) / P * us(n, B0), "ring over two tiers");
  EXPECT_EQ(predict(f, "allreduce", "ring", pl, n).bottleneck, "nic");
  // Inside one leaf nothing is charged to the spine.
  expect_close(predict(f, "allreduce", "recursive_doubling", {32, 1}, n).time_us, 5 * (a1 + us(n, B0)),
               "recursive doubling within a leaf");
}

TEST(CostGolden, RingLimitedByOversubscriptionBeyondItsSubtree) {
  // tor: 9 ports at 1:8 (8 down, S_1 = 8 domains, C_1 = B0/8); leaf: 17 ports at 1:16 (16 down,
  // S_2 = 128, C_2 = B0/128); spine on top. A ring has one flow per subtree boundary: 8 x B0/8 and
  // 128 x B0/128 are both B0, so the NIC binds.
  Fabric f = flat_fabric();
  f.scale_out.tiers = {{"tor", 9, 0.1, 8}, {"leaf", 17, 0.2, 16}, {"spine", 64, 0.3, 1}};
  const double B0 = f.nic_GBps_per_endpoint();
  const Prediction r = predict(f, "allgather", "ring", {1024, 1}, 16 * kGiB);
  EXPECT_EQ(r.bottleneck, "nic");
  EXPECT_LE(r.busbw_GBps, B0);
  EXPECT_GT(r.busbw_GBps, 0.9 * B0);
  // At 1:100 (still 16 down) the leaf tier's uplinks give a boundary flow 128 x B0/800 < B0.
  f.scale_out.tiers[1].oversubscription = 100;
  const Prediction o = predict(f, "allgather", "ring", {1024, 1}, 16 * kGiB);
  EXPECT_EQ(o.bottleneck, "tier:leaf");
  EXPECT_LE(o.busbw_GBps, 128 * B0 / 800);
  EXPECT_GT(o.busbw_GBps, 0.9 * 128 * B0 / 800);
  // Inside one 128-domain subtree the leaf uplinks are not used.
  EXPECT_EQ(predict(f, "allgather", "ring", {128, 1}, kGiB).bottleneck, "nic");
}

// ---- golden values: NCCL ---------------------------------------------------------------------------

TEST(CostGolden, NcclRingFollowsNcclsModelWithFabricBandwidth) {
  const Fabric f = two_level_fabric();  // not a Hopper/Blackwell fabric: protocol facts only
  const double g = 8, Bu = f.scale_up.bandwidth_GBps, B0 = f.nic_GBps_per_endpoint(),
               hop = f.scale_out.tiers[0].hop_latency_us;
  for (std::uint64_t m : {1, 4}) {
    const double P = 8.0 * static_cast<double>(m), M = static_cast<double>(m), n = kGiB;
    const Placement pl{8 * m, 8};
    const double bus = m > 1 ? std::min(Bu, g * B0) : Bu;
    // Simple: base 8.4 + (2(p-1) - 2(m-1)) x 3.4 + 2(m-1) x (14 + switch hop); algBw = busBw p / (2(p-1)).
    const double lat = 8.4 + (2 * (P - 1) - 2 * (M - 1)) * 3.4 + 2 * (M - 1) * (14 + hop);
    expect_close(predict(f, "allreduce", "nccl_ring", pl, n, "simple").time_us,
                 lat + us(n, bus * P / (2 * (P - 1))), "nccl_ring simple m=" + std::to_string(m));
    // LL: half the payload; latency 6.6 + ... x 0.6 + ... x (2.7 + hop).
    const double lat_ll = 6.6 + (2 * (P - 1) - 2 * (M - 1)) * 0.6 + 2 * (M - 1) * (2.7 + hop);
    expect_close(predict(f, "allreduce", "nccl_ring", pl, n, "ll").time_us,
                 lat_ll + us(n, 0.5 * bus * P / (2 * (P - 1))), "nccl_ring ll m=" + std::to_string(m));
    // Allgather: nsteps p-1.
    const double lat_ag = 8.4 + ((P - 1) - (M - 1)) * 3.4 + (M - 1) * (14 + hop);
    expect_close(predict(f, "allgather", "nccl_ring", pl, n, "simple").time_us,
                 lat_ag + us(n, bus * P / (P - 1)), "nccl_ring allgather m=" + std::to_string(m));
  }
}

TEST(CostGolden, NcclHopperCapsAndNvls) {
  const Fabric f = hgx_fabric();
  const double Bu = 450, P = 8, n = kGiB;
  // NVLS in one domain: 25 us + n / algBw, algBw = B P / (P + 1) with B the Hopper NVLS rate
  // (model/rates.cpp: 0.684 of the line rate).
  const Prediction nvls = predict(f, "allreduce", "nccl_nvls", {8, 8}, n);
  expect_close(nvls.time_us, 25 + us(n, Bu * 0.684 * P / (P + 1)), "nvls");
  EXPECT_EQ(nvls.bottleneck, "in-network");
  EXPECT_EQ(nvls.protocol, "simple");
  // Ring LL on 2 Hopper nodes: min(llMaxBw = 45, 0.5 busBw).
  const Prediction ll = predict(f, "allreduce", "nccl_ring", {16, 8}, n, "ll");
  EXPECT_EQ(ll.bottleneck, "protocol");
  EXPECT_NEAR(ll.busbw_GBps, 45, 45 * 0.01);
  EXPECT_LE(ll.busbw_GBps, 45);
  // The same fabric of another generation gets the protocol facts only: 0.5 x min(Bu, 8 B0).
  Fabric generic = f;
  generic.endpoint.generation = "other";
  const Prediction gll = predict(generic, "allreduce", "nccl_ring", {16, 8}, n, "ll");
  EXPECT_GT(gll.busbw_GBps, 150);
  EXPECT_EQ(gll.bottleneck, "nic");
  // Tree: base + 2 ((g-1) intraLat + log2(m) interLat); algBw = min(Bu / 2, g B0 / 2) (a chain
  // inside the domain, and on 8 domains each NIC carries n/g twice each way).
  const double B0 = f.nic_GBps_per_endpoint();
  const Prediction tree = predict(generic, "allreduce", "nccl_tree", {64, 8}, n, "simple");
  // (8 domains under one leaf: each network hop adds the leaf's 0.2 us.)
  expect_close(tree.time_us, 8.4 + 2 * (7 * 4.0 + 3 * (14.0 + 0.2)) + us(n, std::min(450.0 / 2, 8 * B0 / 2)),
               "tree");
}

// ---- registry and errors ------------------------------------------------------------------------

TEST(CostRegistry, EveryAlgorithmIsWellFormed) {
  std::set<std::string> names;
  const auto& ops = model_ops();
  for (const auto& a : algorithms()) {
    EXPECT_TRUE(names.insert(a.name).second) << "duplicate " << a.name;
    EXPECT_TRUE(a.family == "p2p" || a.family == "nccl") << a.name;
    EXPECT_EQ(a.has_protocols, a.family == "nccl") << a.name;
    EXPECT_NE(a.cost, nullptr) << a.name;
    EXPECT_FALSE(a.ops.empty()) << a.name;
    for (const auto& op : a.ops)
      EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << a.name << " " << op;
    EXPECT_EQ(find_algorithm(a.name), &a);
  }
  for (const char* n :
       {"ring", "recursive_doubling", "rabenseifner", "recursive_halving", "hierarchical", "pairwise",
        "bruck", "linear", "binomial", "chain", "p2p", "nccl_ring", "nccl_tree", "nccl_nvls", "nccl_nvlstree",
        "nccl_collnet_direct", "nccl_collnet_chain", "nccl_pat", "nccl_p2p"})
    EXPECT_NE(find_algorithm(n), nullptr) << n;
  EXPECT_EQ(find_algorithm("auto"), nullptr);
  EXPECT_EQ(find_algorithm("nope"), nullptr);
  // Every op has an algorithm in both families.
  for (const auto& op : ops)
    for (const char* fam : {"p2p", "nccl"}) {
      bool found = false;
      for (const auto& a : algorithms())
        if (a.family == fam && std::find(a.ops.begin(), a.ops.end(), op) != a.ops.end()) found = true;
      EXPECT_TRUE(found) << fam << " " << op;
    }
}

TEST(CostRegistry, BusbwFactorsAsNcclTests) {
  EXPECT_DOUBLE_EQ(busbw_factor("allreduce", 8), 2.0 * 7 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor("allgather", 8), 7.0 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor("reducescatter", 8), 7.0 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor("alltoall", 8), 7.0 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor("broadcast", 8), 1);
  EXPECT_DOUBLE_EQ(busbw_factor("sendrecv", 8), 1);
  EXPECT_DOUBLE_EQ(busbw_factor("pingpong", 8), 1);
  EXPECT_DOUBLE_EQ(busbw_factor("bidir", 8), 2);
  EXPECT_THROW(busbw_factor("allreduc", 8), std::invalid_argument);
  const Prediction r = predict(hgx_fabric(), "allreduce", "ring", {16, 8}, kGiB);
  EXPECT_DOUBLE_EQ(r.algbw_GBps, kGiB / (r.time_us * 1e3));
  EXPECT_DOUBLE_EQ(r.busbw_GBps, r.algbw_GBps * 2 * 15 / 16);
}

TEST(CostRegistry, ErrorsNameTheProblem) {
  const Fabric f = hgx_fabric();
  const auto message = [&](auto&& fn) {
    try {
      fn();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] {
              predict(f, "allreduc", "ring", {8, 8}, 1);
            }).find("unknown op 'allreduc'"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "rng", {8, 8}, 1);
            }).find("unknown algorithm 'rng'"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "alltoall", "ring", {8, 8}, 1);
            }).find("does not implement alltoall"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "ring", {8, 8}, 1, "ll");
            }).find("no protocols"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "auto", {8, 8}, 1, "ll");
            }).find("NCCL"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "nccl_ring", {8, 8}, 1, "ll64");
            }).find("unknown protocol"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "nccl_nvls", {8, 8}, 1, "ll");
            }).find("ll protocol"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "ring", {16, 16}, 1);
            }).find("holds 8"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "ring", {0, 1}, 1);
            }).find("at least 1 rank"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "sendrecv", "p2p", {1, 1}, 1);
            }).find("at least 2 ranks"),
            std::string::npos);
  EXPECT_NE(message([&] { predict(f, "allreduce", "ring", {8, 8}, -1); }).find("bytes"), std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "ring", {8, 8}, std::nan(""));
            }).find("bytes"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(host_fabric(), "allreduce", "ring", {512, 256}, 1);
            }).find("no scale-out"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(host_fabric(), "allreduce", "nccl_nvls", {8, 8}, 1);
            }).find("in-switch reduction"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "nccl_collnet_direct", {64, 8}, 1);
            }).find("in-network reduction"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(with_in_network(f), "allreduce", "nccl_collnet_chain", {8, 8}, 1);
            }).find("more than one domain"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allreduce", "nccl_nvlstree", {8, 8}, 1);
            }).find("more than one domain"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allgather", "nccl_pat", {64, 8}, 1);
            }).find("one rank per domain"),
            std::string::npos);
  EXPECT_NE(message([&] {
              predict(f, "allgather", "nccl_nvls", {64, 8}, 1);
            }).find("nccl_nvlstree"),
            std::string::npos);
  Fabric no_bw = f;
  no_bw.scale_up.bandwidth_GBps = 0;
  EXPECT_NE(message([&] {
              predict(no_bw, "allreduce", "ring", {8, 8}, 1);
            }).find("scale-up bandwidth"),
            std::string::npos);
  Fabric no_nic = f;
  no_nic.scale_out.nic_bandwidth_Gbps = 0;
  EXPECT_NE(message([&] {
              predict(no_nic, "allreduce", "ring", {16, 8}, 1);
            }).find("scale-out bandwidth"),
            std::string::npos);
  EXPECT_EQ(message([&] { predict(no_nic, "allreduce", "ring", {8, 8}, 1); }), "no error");  // one domain
  // nccl_auto explains when nothing can run.
  EXPECT_NE(message([&] {
              predict(host_fabric(), "sendrecv", "nccl_auto", {8, 8}, 1, "ll128");
            }).find("nccl_p2p does not run the ll128 protocol"),
            std::string::npos);
}

TEST(CostRegistry, AutoNativeAndNcclAutoPickTheMinimum) {
  for (const Fabric& f : grid_fabrics())
    for (const auto& op : model_ops())
      for (std::uint64_t p : grid_scales(f)) {
        if (is_pair(op) && p < 2) continue;
        if (op.rfind("moe_", 0) == 0) continue;  // need their routing's traffic: test_moe.cpp
        const Placement pl = place(f, p);
        for (double n : {8.0, 65536.0, kGiB}) {
          double best_p2p = std::numeric_limits<double>::infinity(), best_nccl = best_p2p;
          for (const Case& c : all_cases()) {
            if (c.op != op) continue;
            Prediction r;
            if (!try_predict(f, c, pl, n, r)) continue;
            double& best = c.protocol.empty() ? best_p2p : best_nccl;
            best = std::min(best, r.time_us);
          }
          const std::string at = f.name + " " + op + " p=" + std::to_string(p) + " n=" + std::to_string(n);
          const Prediction a = predict(f, op, "auto", pl, n);
          EXPECT_EQ(a.time_us, best_p2p) << at;
          EXPECT_EQ(a.protocol, "") << at;
          const Algorithm* chosen = find_algorithm(a.algo);
          ASSERT_NE(chosen, nullptr) << at;
          EXPECT_EQ(chosen->family, "p2p") << at;
          EXPECT_EQ(predict(f, op, "native", pl, n).time_us, best_p2p) << at;
          const Prediction nc = predict(f, op, "nccl_auto", pl, n);
          EXPECT_EQ(nc.time_us, best_nccl) << at;
          ASSERT_NE(find_algorithm(nc.algo), nullptr) << at;
          EXPECT_EQ(find_algorithm(nc.algo)->family, "nccl") << at;
          EXPECT_FALSE(nc.protocol.empty()) << at;
          // A named NCCL algorithm at protocol "auto" is its best protocol.
          const Prediction named = predict(f, op, nc.algo, pl, n, "auto");
          EXPECT_EQ(named.time_us, nc.time_us) << at;
        }
      }
}

// ---- properties ------------------------------------------------------------------------------------

// Every algorithm x op x protocol x 21 scales (1 .. 2^20 ranks) x 30 sizes (1 B .. 16 GiB): finite,
// positive times and finite, non-negative bandwidths.
TEST(CostProperties, FullSweepIsFiniteAndPositive) {
  std::vector<double> sizes;
  for (int i = 0; i < 30; ++i) sizes.push_back(std::round(std::exp2(34.0 * i / 29)));
  ASSERT_EQ(sizes.front(), 1);
  ASSERT_EQ(sizes.back(), 16 * kGiB);
  for (const Fabric& f : {with_in_network(hgx_fabric()), nvl72_fabric(), oversub_fabric()}) {
    std::size_t evaluated = 0;
    for (int s = 0; s <= 20; ++s) {
      const Placement pl = place(f, std::uint64_t{1} << s);
      for (const Case& c : all_cases())
        for (double n : sizes) {
          Prediction r;
          if (!try_predict(f, c, pl, n, r)) continue;
          ++evaluated;
          const std::string at = f.name + " " + c.algo + "/" + c.protocol + " " + c.op +
                                 " p=" + std::to_string(pl.nranks) + " n=" + std::to_string(n);
          ASSERT_TRUE(std::isfinite(r.time_us) && r.time_us > 0) << at << " time " << r.time_us;
          ASSERT_TRUE(std::isfinite(r.busbw_GBps) && r.busbw_GBps >= 0) << at;
          ASSERT_TRUE(std::isfinite(r.algbw_GBps) && r.algbw_GBps > 0) << at;
          ASSERT_FALSE(r.bottleneck.empty()) << at;
        }
    }
    // Each fabric runs most of the grid (unavailable combinations are the exception).
    EXPECT_GT(evaluated, 21u * 30 * 30) << f.name;
  }
}

// Evaluate `fn(case, placement, bytes, before, after)` over the grid for two fabrics.
template <class Fn>
void compare_fabrics(const Fabric& before, const Fabric& after, Fn&& fn) {
  for (std::uint64_t p : grid_scales(before))
    for (const Case& c : all_cases())
      for (double n : kGridSizes) {
        const Placement pl = place(before, p);
        Prediction r0, r1;
        const bool ok0 = try_predict(before, c, pl, n, r0), ok1 = try_predict(after, c, pl, n, r1);
        ASSERT_EQ(ok0, ok1) << before.name << " " << c.algo << " " << c.op << " p=" << p;
        if (ok0) fn(c, pl, n, r0, r1);
      }
}

TEST(CostProperties, MoreBandwidthIsNeverSlower) {
  for (const Fabric& f : grid_fabrics()) {
    const auto check = [&](const char* what, auto&& change) {
      Fabric g = f;
      change(g);
      compare_fabrics(
          f, g,
          [&](const Case& c, const Placement& pl, double n, const Prediction& r0, const Prediction& r1) {
            EXPECT_LE(r1.time_us, r0.time_us * (1 + 1e-12))
                << what << " " << f.name << " " << c.algo << "/" << c.protocol << " " << c.op
                << " p=" << pl.nranks << " n=" << n;
          });
    };
    check("scale-up x2", [](Fabric& g) { g.scale_up.bandwidth_GBps *= 2; });
    check("nic x2", [](Fabric& g) { g.scale_out.nic_bandwidth_Gbps *= 2; });
    check("memory and reduction x2", [](Fabric& g) {
      g.endpoint.memory_bandwidth_GBps *= 2;
      g.endpoint.reduce_bandwidth_GBps *= 2;
    });
    check("all x1.5", [](Fabric& g) {
      g.scale_up.bandwidth_GBps *= 1.5;
      g.scale_out.nic_bandwidth_Gbps *= 1.5;
      g.endpoint.memory_bandwidth_GBps *= 1.5;
      g.endpoint.reduce_bandwidth_GBps *= 1.5;
    });
  }
}

TEST(CostProperties, MoreOversubscriptionIsNeverFaster) {
  // The same 32 ports down per switch with fewer up: 1:1, 1:2, 1:4, 1:8 at the leaf and the spine.
  const std::vector<double> ratios = {1, 2, 4, 8};
  for (std::size_t i = 0; i + 1 < ratios.size(); ++i) {
    compare_fabrics(
        oversub_fabric(ratios[i], 1), oversub_fabric(ratios[i + 1], 1),
        [&](const Case& c, const Placement& pl, double n, const Prediction& r0, const Prediction& r1) {
          EXPECT_GE(r1.time_us, r0.time_us * (1 - 1e-12))
              << "leaf " << ratios[i + 1] << " " << c.algo << " " << c.op << " p=" << pl.nranks << " n=" << n;
        });
    compare_fabrics(
        oversub_fabric(2, ratios[i]), oversub_fabric(2, ratios[i + 1]),
        [&](const Case& c, const Placement& pl, double n, const Prediction& r0, const Prediction& r1) {
          EXPECT_GE(r1.time_us, r0.time_us * (1 - 1e-12)) << "spine " << ratios[i + 1] << " " << c.algo << " "
                                                          << c.op << " p=" << pl.nranks << " n=" << n;
        });
  }
  // And it does bind somewhere: a spine-crossing all-to-all at 1:8 is slower than at 1:1.
  const Placement pl{1 << 16, 4};
  EXPECT_GT(predict(oversub_fabric(8, 1), "alltoall", "pairwise", pl, kGiB).time_us,
            1.5 * predict(oversub_fabric(1, 1), "alltoall", "pairwise", pl, kGiB).time_us);
  EXPECT_EQ(predict(oversub_fabric(8, 1), "alltoall", "pairwise", pl, kGiB).bottleneck, "tier:leaf");
}

TEST(CostProperties, TimeIsMonotonicInBytes) {
  // 0, then 120 sizes from 1 B to 16 GiB, each 22% above the last: a step down at any threshold
  // (a protocol or algorithm switch gone wrong) larger than that shows.
  std::vector<double> sizes = {0};
  for (int i = 0; i < 120; ++i) sizes.push_back(std::exp2(34.0 * i / 119));
  for (const Fabric& f : grid_fabrics())
    for (std::uint64_t p : grid_scales(f))
      for (const Case& c : all_cases()) {
        const Placement pl = place(f, p);
        double last = 0;
        for (double n : sizes) {
          Prediction r;
          if (!try_predict(f, c, pl, n, r)) break;
          EXPECT_GE(r.time_us, last) << f.name << " " << c.algo << "/" << c.protocol << " " << c.op
                                     << " p=" << p << " n=" << n;
          last = r.time_us;
        }
      }
}

// Lower bound on any algorithm's time without reduction inside the network (cut arguments):
// within one domain each rank moves at least the op's minimum bytes over its scale-up link; across
// domains each domain moves its minimum over its g NICs (B0 each). allreduce: every rank's (every
// domain's) contribution to each element must leave it once: n.
double lower_bound_us(const Fabric& f, const std::string& op, const Placement& pl, double n) {
  const double p = static_cast<double>(pl.nranks);
  const double g = static_cast<double>(std::min(pl.ranks_per_domain, pl.nranks));
  const double m = std::ceil(p / g);
  if (m <= 1) {
    const double Bu = f.scale_up.bandwidth_GBps;
    // gather and scatter: the root receives or sends p-1 of n blocks; alltoallv (priced at its most
    // loaded rank's bytes) as alltoall.
    if (op == "allgather" || op == "reducescatter" || op == "alltoall" || op == "alltoallv" ||
        op == "gather" || op == "scatter")
      return (p - 1) / p * us(n, Bu);
    return us(n, Bu);
  }
  const double B0 = f.nic_GBps_per_endpoint();
  const double full = m * g == p ? 1.0 : 0.0;  // partial last domain: use the weakest bound below
  if (op == "allgather" || op == "reducescatter") return full * (p - g) / p * us(n, g * B0);
  // gather, scatter: the root's own NIC carries the other domains' p-g blocks.
  if (op == "alltoall" || op == "alltoallv" || op == "gather" || op == "scatter")
    return full * (p - g) / p * us(n, B0);
  return us(n, g * B0);
}

bool in_network(const std::string& algo) {
  return algo == "nccl_nvls" || algo == "nccl_nvlstree" || algo == "nccl_collnet_direct" ||
         algo == "nccl_collnet_chain";
}

TEST(CostProperties, BusbwNeverExceedsTheBottleneckLink) {
  for (const Fabric& f : grid_fabrics())
    for (std::uint64_t p : grid_scales(f)) {
      if (p < 2) continue;
      const Placement pl = place(f, p);
      const double g = static_cast<double>(pl.ranks_per_domain), m = std::ceil(static_cast<double>(p) / g);
      const double B0 = f.nic_GBps_per_endpoint(), Bu = f.scale_up.bandwidth_GBps;
      for (const Case& c : all_cases())
        for (double n : kGridSizes) {
          if (n == 0) continue;
          Prediction r;
          if (!try_predict(f, c, pl, n, r)) continue;
          const std::string at = f.name + " " + c.algo + "/" + c.protocol + " " + c.op +
                                 " p=" + std::to_string(p) + " n=" + std::to_string(n);
          if (!in_network(c.algo)) {
            const double bound = lower_bound_us(f, c.op, pl, n);
            EXPECT_GE(r.time_us, bound * (1 - 1e-9)) << at;
            EXPECT_LE(r.busbw_GBps, busbw_factor(c.op, p) * n / (bound * 1e3) * (1 + 1e-9)) << at;
          }
          // Single-path algorithms: every byte of a rank's busbw crosses the slowest link on its path.
          const double link = m > 1 ? (g > 1 ? std::min(Bu, B0) : B0) : Bu;
          const double ways = c.op == "bidir" ? 2 : 1;
          if (c.algo == "ring" || c.algo == "chain" || c.algo == "p2p" ||
              (c.algo == "nccl_p2p" && is_pair(c.op))) {
            EXPECT_LE(r.busbw_GBps, ways * link * (1 + 1e-9)) << at;
          }
          // NCCL's ring: the domain's g NICs carry its channels.
          if (c.algo == "nccl_ring") {
            EXPECT_LE(r.busbw_GBps, (m > 1 ? std::min(Bu, g * B0) : Bu) * (1 + 1e-9)) << at;
          }
        }
    }
  // In-network reduction may beat the cut bound: NVLS inside one HGX domain does.
  const Fabric f = hgx_fabric();
  const Prediction nvls = predict(f, "allreduce", "nccl_nvls", {8, 8}, 16 * kGiB);
  EXPECT_GT(nvls.busbw_GBps, f.scale_up.bandwidth_GBps);
}

TEST(CostProperties, ExtrapolatesBeyondTheTopology) {
  // 2 tiers of radix 64 hold 2048 GPUs; the model still answers (the caller compares with
  // max_endpoints()), charging nothing above the top tier.
  Fabric f = hgx_fabric();
  f.scale_out.tiers.resize(2);
  for (const char* algo : {"ring", "recursive_doubling", "rabenseifner", "nccl_auto", "auto"}) {
    const Prediction r = predict(f, "allreduce", algo, {1 << 20, 8}, kGiB);
    EXPECT_TRUE(std::isfinite(r.time_us) && r.time_us > 0) << algo;
  }
}

TEST(CostProperties, BottleneckNamesTheDominantTerm) {
  const Fabric f = hgx_fabric();
  EXPECT_EQ(predict(f, "allreduce", "ring", {8, 8}, 8).bottleneck, "latency");
  EXPECT_EQ(predict(f, "allreduce", "ring", {8, 8}, kGiB).bottleneck, "scale-up");
  EXPECT_EQ(predict(f, "allreduce", "ring", {1024, 8}, kGiB).bottleneck, "nic");
  EXPECT_EQ(predict(f, "allreduce", "nccl_auto", {8, 8}, kGiB).bottleneck, "in-network");
  EXPECT_EQ(predict(f, "allreduce", "nccl_auto", {8, 8}, kGiB).algo, "nccl_nvls");
  EXPECT_EQ(predict(f, "alltoall", "pairwise", {1 << 20, 8}, kMiB).bottleneck, "latency");
  Fabric slow_memory = host_fabric();
  slow_memory.endpoint.memory_bandwidth_GBps = 0.5;
  EXPECT_EQ(predict(slow_memory, "alltoall", "bruck", {64, 64}, kGiB).bottleneck, "memory");
  // NCCL at scale: trees over the network; the NIC binds large all-reduces.
  const Prediction big = predict(f, "allreduce", "nccl_auto", {1 << 20, 8}, kGiB);
  EXPECT_EQ(big.algo, "nccl_nvlstree");
  EXPECT_EQ(big.bottleneck, "nic");
}

// scale_up.aggregate_bandwidth_GBps: concurrent shared-memory copies share the host's memory
// system. Collectives run all g ranks' copies at once; the p2p pairs run one (two for bidir)
// per pair with both ends on the host.
TEST(AggregateScaleUp, ConcurrentCopiesShareTheHost) {
  Fabric f = host_fabric();
  const double a = f.scale_up.latency_us, B = f.scale_up.bandwidth_GBps, n = 64 * kMiB;
  f.scale_up.aggregate_bandwidth_GBps = 16;  // 2 copies: 8 GB/s each (below B = 12.8); 1 copy: B
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, n).time_us, a + us(n, B), "pingpong, 1 copy");
  expect_close(predict(f, "unidir", "p2p", {2, 2}, n).time_us, a + us(n, B), "unidir, 1 copy");
  // sendrecv, the ring shift: every rank copies to the next at once (2 copies, then 4).
  expect_close(predict(f, "sendrecv", "p2p", {2, 2}, n).time_us, a + us(n, 8), "sendrecv, 2 copies");
  expect_close(predict(f, "sendrecv", "p2p", {4, 4}, n).time_us, a + us(n, 4), "sendrecv 4 ranks, 4 copies");
  expect_close(predict(f, "bidir", "p2p", {2, 2}, n).time_us, a + us(n, 8), "bidir, 2 copies");
  expect_close(predict(f, "bidir", "p2p", {4, 4}, n).time_us, a + us(n, 4), "bidir 4 ranks, 4 copies");
  // Ring all-reduce on 4 ranks: every rank copies at once, 4 GB/s each.
  const double P = 4;
  expect_close(
      predict(f, "allreduce", "ring", {4, 4}, n).time_us,
      2 * (P - 1) * a + 2 * (P - 1) / P * us(n, 4) + (P - 1) / P * us(n, f.endpoint.reduce_bandwidth_GBps),
      "ring allreduce");
  // No aggregate: every copy at B, as before.
  f.scale_up.aggregate_bandwidth_GBps = 0;
  expect_close(predict(f, "bidir", "p2p", {4, 4}, n).time_us, a + us(n, B), "bidir without a limit");
  // Reading it back from YAML (and writing it) keeps it; a negative one is refused.
  f.scale_up.aggregate_bandwidth_GBps = 16;
  expect_round_trip_and_non_negative(f, &ScaleUp::aggregate_bandwidth_GBps);
}

// All-to-all on host endpoints: the CPU that runs the shared-memory copies also copies the own
// block (2 n/p of memory traffic), after them; GPU endpoints overlap it (no term).
TEST(CostGolden, AlltoallCopiesTheOwnBlockOnHosts) {
  const Fabric f = host_fabric();
  const double a = f.scale_up.latency_us, B = f.scale_up.bandwidth_GBps, M = f.endpoint.memory_bandwidth_GBps,
               n = 8 * kMiB;
  for (const double P : {2.0, 3.0, 8.0}) {
    const Placement pl{static_cast<std::uint64_t>(P), static_cast<std::uint64_t>(P)};
    const double own = us(2 * n / P, M);
    expect_close(predict(f, "alltoall", "pairwise", pl, n).time_us,
                 (P > 2 ? 2 * P - 1 : P - 1) * a + (P - 1) / P * us(n, B) + own, "pairwise");
    expect_close(predict(f, "alltoall", "linear", pl, n).time_us,
                 a + 2 * (P - 1) * detail::kRequestOverheadUs + (P - 1) / P * us(n, B) + own, "linear");
  }
  Fabric gpu = f;
  gpu.endpoint.kind = "gpu";
  expect_close(predict(gpu, "alltoall", "pairwise", {2, 2}, n).time_us, a + us(n / 2, B), "pairwise on GPUs");
}

// Pairwise all-to-all costs each step's slowest flow. 4 hosts, 1 rank each, 2 per leaf: steps 1
// and 3 send half the ranks across the leaves (one flow per up-link), step 2 all of them. At 2:1
// the up-link carries one flow at the NIC's rate, two at half of it: 1 + 2 + 1 block times, where
// charging every cross-leaf step at the oversubscribed rate said 1 + 2 + 2 (the emulated 2:1
// fabric measured 90.6 ms for 1 MiB against 87.7 and 109.7).
TEST(CostGolden, PairwiseStepsCostTheirSlowestFlow) {
  for (const double o : {1.0, 2.0}) {
    Fabric f = host_fabric();
    f.scale_up.domain_size = 1;
    f.scale_out.nic_bandwidth_Gbps = 100;
    f.scale_out.nics_per_domain = 1;
    f.scale_out.latency_us = 30;
    f.scale_out.tiers = {{"leaf", o == 1 ? 4 : 3, 0, o}, {"spine", 2, 0, 1}};
    const double n = 4 * kMiB, block = n / 4, b0 = 12.5;
    const double want =
        (3 + 4) * 30 + (o == 1 ? 3 : 4) * us(block, b0) + us(2 * block, f.endpoint.memory_bandwidth_GBps);
    expect_close(predict(f, "alltoall", "pairwise", {4, 1}, n).time_us, want, o == 1 ? "1:1" : "2:1");
  }
  // On 16 GPUs in 2 domains of 8, every step has ranks at a domain's edge that leave it: all 15
  // steps wait for the NIC (the scale-up is faster), none runs at NVLink speed alone.
  Fabric h = hgx_fabric();
  h.scale_up.latency_us = h.scale_out.latency_us = 0;
  for (auto& t : h.scale_out.tiers) t.hop_latency_us = 0;
  const double n = 16 * kMiB;
  expect_close(predict(h, "alltoall", "pairwise", {16, 8}, n).time_us,
               15 * us(n / 16, h.nic_GBps_per_endpoint()), "16 GPUs");
}

// A million ranks cost no more evaluations than a few: the steps are summed in closed form.
TEST(CostGolden, PairwiseSumMatchesTheStepByStepSum) {
  const Fabric f = oversub_fabric();
  for (const std::uint64_t p : {24ull, 100ull, 1000ull}) {
    const Placement pl{p, 4};
    const double n = 64 * kMiB;
    const detail::Topo T = detail::make_topo(f, pl);
    detail::Cost c;
    for (std::uint64_t s = 1; s < p; ++s) {
      const detail::Step st = detail::step(T, detail::Pairing::shift, static_cast<double>(std::min(s, p - s)),
                                           n / p, T.aligned_at(static_cast<double>(std::min(s, p - s))));
      detail::add_step(c, st);
      c.add(detail::kLatency, st.lca > 0 ? T.lat[st.lca] : T.au);  // the step's control message
    }
    const detail::Step first = detail::step(T, detail::Pairing::shift, 1, n / p);
    c.add(detail::kLatency, first.lca > 0 ? T.lat[first.lca] : T.au);  // the readiness before step 1
    expect_close(predict(f, "alltoall", "pairwise", pl, n).time_us, c.total(), "p=" + std::to_string(p));
  }
}

// scale_up.forward_bandwidth_GBps: data a rank has just received or reduced moves at the forward
// rate inside the domain; only the first hop of a ring, the first step of recursive doubling,
// the root's hop of a chain send clean data.
TEST(Forwarding, ForwardedHopsMoveAtTheForwardRate) {
  Fabric f = host_fabric();
  const double a = f.scale_up.latency_us, B = f.scale_up.bandwidth_GBps, Bf = B / 3,
               R = f.endpoint.reduce_bandwidth_GBps, M = f.endpoint.memory_bandwidth_GBps;
  const double n = 1 * kMiB;
  // Without a forward rate, relay costs what pingpong does.
  expect_close(predict(f, "relay", "p2p", {2, 2}, n).time_us, a + us(n, B), "relay, no forward rate");
  f.scale_up.forward_bandwidth_GBps = Bf;
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, n).time_us, a + us(n, B), "pingpong");
  expect_close(predict(f, "relay", "p2p", {2, 2}, n).time_us, a + (us(n, B) + us(n, Bf)) / 2, "relay");
  // Ring all-reduce on 2 ranks: the reduce-scatter hop sends the send buffer, the all-gather hop
  // the block just reduced.
  expect_close(predict(f, "allreduce", "ring", {2, 2}, n).time_us,
               2 * a + us(n / 2, B) + us(n / 2, Bf) + us(n / 2, R), "ring allreduce, 2 ranks");
  // Ring all-gather on 4 ranks: 1 clean hop, 2 forwarding hops, and the own block's copy.
  expect_close(predict(f, "allgather", "ring", {4, 4}, n).time_us,
               3 * a + us(n / 4, B) + 2 * us(n / 4, Bf) + us(2 * n / 4, M), "ring allgather, 4 ranks");
  // Recursive doubling all-reduce on 4 ranks: step 1 clean, step 2 forwards the running sum.
  expect_close(predict(f, "allreduce", "recursive_doubling", {4, 4}, n).time_us,
               2 * a + us(n, B) + us(n, Bf) + 2 * us(n, R), "recursive doubling allreduce, 4 ranks");
  // Pairwise all-to-all sends only the send buffer: no change.
  Fabric clean = f;
  clean.scale_up.forward_bandwidth_GBps = 0;
  expect_close(predict(f, "alltoall", "pairwise", {4, 4}, n).time_us,
               predict(clean, "alltoall", "pairwise", {4, 4}, n).time_us, "pairwise");
  // Forwarding never makes anything faster.
  for (const std::string algo : {"ring", "recursive_doubling", "rabenseifner", "hierarchical"})
    for (const std::uint64_t p : {2ull, 3ull, 8ull})
      EXPECT_GE(predict(f, "allreduce", algo, {p, p}, n).time_us,
                predict(clean, "allreduce", algo, {p, p}, n).time_us * (1 - 1e-12))
          << algo << " p=" << p;
  // Beyond the cache the forwarded share moves at the spilled rate like any other: with a
  // cache of 1 MiB, 64 MiB relays (working set 256 MiB, none of it cached) cost what pingpong does.
  f.scale_up.cache_bytes = kMiB;
  f.scale_up.spilled_bandwidth_GBps = B / 4;
  const double big = 64 * kMiB, fits = cached_share(kMiB, host_working_set(2, big));
  EXPECT_EQ(fits, 0);
  expect_close(
      predict(f, "relay", "p2p", {2, 2}, big).time_us,
      a + (us(big, B) * (fits + (1 - fits) * 4) + us(big, Bf) * (fits + (1 - fits) * (Bf / (B / 4)))) / 2,
      "relay beyond the cache");
  // YAML round trip; the forward rate cannot beat the clean one, nor be negative.
  expect_round_trip_and_non_negative(f, &ScaleUp::forward_bandwidth_GBps);
  Fabric fast = f;
  fast.scale_up.forward_bandwidth_GBps = 2 * B;
  EXPECT_THROW(validate_fabric(fast), std::invalid_argument);
}

// scale_up.forward_spilled_bandwidth_GBps: the forwarded share of a working set beyond the cache
// moves at it; clean transfers keep the spilled rate.
TEST(Forwarding, BeyondTheCacheForwardedDataMovesAtItsSpilledRate) {
  Fabric f = host_fabric();
  const double a = f.scale_up.latency_us, B = f.scale_up.bandwidth_GBps, Bs = B / 4, Fs = B / 8,
               R = f.endpoint.reduce_bandwidth_GBps;
  f.scale_up.forward_bandwidth_GBps = B / 3;
  f.scale_up.cache_bytes = kMiB;
  f.scale_up.spilled_bandwidth_GBps = Bs;
  f.scale_up.forward_spilled_bandwidth_GBps = Fs;
  // 64 MiB on 2 ranks: working set 256 MiB, none of it cached.
  const double big = 64 * kMiB;
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, big).time_us, a + us(big, Bs), "pingpong");
  expect_close(predict(f, "relay", "p2p", {2, 2}, big).time_us, a + (us(big, Bs) + us(big, Fs)) / 2, "relay");
  // Ring all-reduce: the all-gather hop forwards the reduced block; reductions run at the
  // reduction rate slowed as the copies (no reduce_spilled rate given).
  expect_close(predict(f, "allreduce", "ring", {2, 2}, big).time_us,
               2 * a + us(big / 2, Bs) + us(big / 2, Fs) + 4 * us(big / 2, R), "ring allreduce");
  // Pairwise all-to-all forwards nothing: unchanged.
  Fabric plain = f;
  plain.scale_up.forward_spilled_bandwidth_GBps = 0;
  expect_close(predict(f, "alltoall", "pairwise", {2, 2}, big).time_us,
               predict(plain, "alltoall", "pairwise", {2, 2}, big).time_us, "pairwise");
  // In cache it changes nothing.
  expect_close(predict(f, "relay", "p2p", {2, 2}, 64 << 10).time_us,
               predict(plain, "relay", "p2p", {2, 2}, 64 << 10).time_us, "relay in cache");
  // YAML round trip; not negative, not faster than the clean spilled rate, only with a cache.
  expect_round_trip_and_non_negative(f, &ScaleUp::forward_spilled_bandwidth_GBps);
  Fabric fast = f;
  fast.scale_up.forward_spilled_bandwidth_GBps = 2 * Bs;
  EXPECT_THROW(validate_fabric(fast), std::invalid_argument);
  Fabric no_cache = host_fabric();
  no_cache.scale_up.forward_spilled_bandwidth_GBps = Fs;
  EXPECT_THROW(validate_fabric(no_cache), std::invalid_argument);
}

// scale_up.forward_overhead_us: every forwarded scale-up transfer pays it once, whatever its size;
// clean ones do not.
TEST(Forwarding, ForwardedTransfersPayTheOverhead) {
  Fabric f = host_fabric();
  const double a = f.scale_up.latency_us, B = f.scale_up.bandwidth_GBps, Bf = B / 3,
               R = f.endpoint.reduce_bandwidth_GBps, o = 4;
  f.scale_up.forward_bandwidth_GBps = Bf;
  f.scale_up.forward_overhead_us = o;
  const double n = 256 << 10;
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, n).time_us, a + us(n, B), "pingpong");
  expect_close(predict(f, "relay", "p2p", {2, 2}, n).time_us, a + o / 2 + (us(n, B) + us(n, Bf)) / 2,
               "relay");
  // Ring all-reduce on 4 ranks: 2 passes of 3 hops, all but the first forward.
  expect_close(predict(f, "allreduce", "ring", {4, 4}, n).time_us,
               6 * a + 5 * o + us(n / 4, B) + 5 * us(n / 4, Bf) + 3 * us(n / 4, R),
               "ring allreduce, 4 ranks");
  // Recursive doubling on 4 ranks: the second step forwards.
  expect_close(predict(f, "allreduce", "recursive_doubling", {4, 4}, n).time_us,
               2 * a + o + us(n, B) + us(n, Bf) + 2 * us(n, R), "recursive doubling allreduce, 4 ranks");
  // Pairwise all-to-all forwards nothing.
  Fabric none = f;
  none.scale_up.forward_overhead_us = 0;
  expect_close(predict(f, "alltoall", "pairwise", {4, 4}, n).time_us,
               predict(none, "alltoall", "pairwise", {4, 4}, n).time_us, "pairwise");
  // Never faster with it; YAML round trip; negative is an error.
  for (const std::string algo : {"ring", "recursive_doubling", "rabenseifner", "hierarchical"})
    EXPECT_GE(predict(f, "allreduce", algo, {8, 8}, n).time_us,
              predict(none, "allreduce", algo, {8, 8}, n).time_us)
        << algo;
  EXPECT_GE(predict(f, "broadcast", "chain", {8, 8}, n).time_us,
            predict(none, "broadcast", "chain", {8, 8}, n).time_us);
  expect_round_trip_and_non_negative(f, &ScaleUp::forward_overhead_us);
}

// scale_up.exchange_latency_us: steps in which every rank sends and receives pay it inside a
// domain; one-way messages (pingpong, relay, sendrecv, a binomial tree's steps) pay latency_us.
TEST(ExchangeLatency, ExchangesPayItOneWayMessagesDoNot) {
  Fabric f = host_fabric();
  const double a = f.scale_up.latency_us, ax = 3 * a, B = f.scale_up.bandwidth_GBps,
               R = f.endpoint.reduce_bandwidth_GBps, M = f.endpoint.memory_bandwidth_GBps;
  f.scale_up.exchange_latency_us = ax;
  const double n = 64 * 1024;
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, n).time_us, a + us(n, B), "pingpong");
  expect_close(predict(f, "unidir", "p2p", {2, 2}, n).time_us, a + us(n, B), "unidir");
  // The ring shift sends and receives on every rank: an exchange.
  expect_close(predict(f, "sendrecv", "p2p", {2, 2}, n).time_us, ax + us(n, B), "sendrecv (ring shift)");
  expect_close(predict(f, "relay", "p2p", {2, 2}, n).time_us, a + us(n, B), "relay");
  expect_close(predict(f, "bidir", "p2p", {2, 2}, n).time_us, ax + us(n, B), "bidir");
  expect_close(predict(f, "allreduce", "ring", {4, 4}, n).time_us,
               6 * ax + 6 * us(n / 4, B) + 3 * us(n / 4, R), "ring allreduce");
  // Pairwise: its step is an exchange (on 2 ranks without control messages).
  expect_close(predict(f, "alltoall", "pairwise", {2, 2}, n).time_us, ax + us(n / 2, B) + us(2 * (n / 2), M),
               "pairwise alltoall");
  // On 4, its p control messages are one-way messages.
  expect_close(predict(f, "alltoall", "pairwise", {4, 4}, n).time_us,
               3 * ax + 4 * a + 3 * us(n / 4, B) + us(2 * (n / 4), M), "pairwise alltoall, 4 ranks");
  expect_close(predict(f, "broadcast", "binomial", {4, 4}, n).time_us, 2 * (a + us(n, B)), "binomial");
  // 0 (absent): exchanges pay latency_us.
  f.scale_up.exchange_latency_us = 0;
  expect_close(predict(f, "bidir", "p2p", {2, 2}, n).time_us, a + us(n, B), "bidir, no exchange latency");
  f.scale_up.exchange_latency_us = ax;
  expect_round_trip_and_non_negative(f, &ScaleUp::exchange_latency_us);
}

// scale_up.cache_bytes / spilled_bandwidth_GBps: once the host's working set (2 buffers per rank)
// outgrows the cache, the share beyond it moves at the spilled rate, and memory and reduction
// terms slow by the same ratio.
TEST(CacheSpill, WorkingSetBeyondTheCacheRunsAtTheSpilledRate) {
  Fabric f = host_fabric();
  const double a = f.scale_up.latency_us, B = f.scale_up.bandwidth_GBps;
  f.scale_up.cache_bytes = 16 * kMiB;
  f.scale_up.spilled_bandwidth_GBps = B / 4;
  // pingpong on 2 ranks: working set 4 n. 2 MiB: 8 MiB, in cache.
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, 2 * kMiB).time_us, a + us(2 * kMiB, B), "in cache");
  // 6 MiB: 24 MiB, 1.5 x the cache: half of it stays (2 - 1.5): n (1/2 / B + 1/2 / (B/4)).
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, 6 * kMiB).time_us, a + us(6 * kMiB, B) * 2.5,
               "half spilled");
  // 16 MiB: 64 MiB, four times the cache: none stays, n / (B/4).
  const double n = 16 * kMiB;
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, n).time_us, a + us(n, B) * 4, "spilled");
  // Ring all-reduce: its scale-up and reduction terms both scale.
  const double P = 2, k = spill_factor(f.scale_up.cache_bytes, B, f.scale_up.spilled_bandwidth_GBps,
                                       host_working_set(P, n));
  EXPECT_DOUBLE_EQ(k, 4);
  expect_close(predict(f, "allreduce", "ring", {2, 2}, n).time_us,
               2 * (P - 1) * a +
                   k * (2 * (P - 1) / P * us(n, B) + (P - 1) / P * us(n, f.endpoint.reduce_bandwidth_GBps)),
               "ring allreduce");
  // Its receive slots count too: 4 MiB all-reduce holds 2 x 4 MiB of buffers and 2 x 2 slots of
  // 256 KiB, 17 MiB: 15/16 stays in cache where the 4 MiB pingpong (16 MiB) stays whole.
  const double m = 4 * kMiB, ws = host_working_set(P, m) + reduce_slots_working_set(P, P, m);
  EXPECT_DOUBLE_EQ(ws, 17 * kMiB);
  const double ks = spill_factor(f.scale_up.cache_bytes, B, f.scale_up.spilled_bandwidth_GBps, ws);
  EXPECT_DOUBLE_EQ(ks, 15.0 / 16 + 1.0 / 16 * 4);
  EXPECT_DOUBLE_EQ(reduce_slots_working_set(2, 4, 512 << 10),
                   2 * 2 * (128 << 10));  // ring blocks below 256 KiB
  expect_close(predict(f, "allreduce", "ring", {2, 2}, m).time_us,
               2 * (P - 1) * a +
                   ks * (2 * (P - 1) / P * us(m, B) + (P - 1) / P * us(m, f.endpoint.reduce_bandwidth_GBps)),
               "ring allreduce, slots in the working set");
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, m).time_us, a + us(m, B), "pingpong of it in cache");
  // Time stays monotonic across the knee.
  double last = 0;
  for (double b = kMiB; b <= 256 * kMiB; b *= 1.5) {
    const double t = predict(f, "alltoall", "pairwise", {2, 2}, b).time_us;
    EXPECT_GT(t, last) << b;
    last = t;
  }
  // With the memory's and reduction's own spilled rates, those terms use them instead.
  Fabric own = f;
  own.endpoint.memory_spilled_bandwidth_GBps = f.endpoint.memory_bandwidth_GBps / 8;
  own.endpoint.reduce_spilled_bandwidth_GBps = f.endpoint.reduce_bandwidth_GBps / 2;
  const double km = spill_factor(f.scale_up.cache_bytes, f.endpoint.memory_bandwidth_GBps,
                                 own.endpoint.memory_spilled_bandwidth_GBps, host_working_set(P, n)),
               kr = spill_factor(f.scale_up.cache_bytes, f.endpoint.reduce_bandwidth_GBps,
                                 own.endpoint.reduce_spilled_bandwidth_GBps, host_working_set(P, n));
  expect_close(predict(own, "allreduce", "ring", {2, 2}, n).time_us,
               2 * (P - 1) * a + k * 2 * (P - 1) / P * us(n, B) +
                   kr * (P - 1) / P * us(n, f.endpoint.reduce_bandwidth_GBps),
               "ring allreduce, own reduce spill");
  expect_close(predict(own, "alltoall", "pairwise", {2, 2}, n).time_us,
               a + k * us(n / 2, B) + km * us(2 * (n / 2), f.endpoint.memory_bandwidth_GBps),
               "pairwise, own memory spill");
  const Fabric back = parse_fabric(fabric_to_yaml(own), "t.yaml");
  EXPECT_DOUBLE_EQ(back.endpoint.memory_spilled_bandwidth_GBps, own.endpoint.memory_spilled_bandwidth_GBps);
  EXPECT_DOUBLE_EQ(back.endpoint.reduce_spilled_bandwidth_GBps, own.endpoint.reduce_spilled_bandwidth_GBps);
  // YAML round trip; the two keys go together; the spilled rate cannot beat the cached one.
  const Fabric g = parse_fabric(fabric_to_yaml(f), "t.yaml");
  EXPECT_DOUBLE_EQ(g.scale_up.cache_bytes, 16 * kMiB);
  EXPECT_DOUBLE_EQ(g.scale_up.spilled_bandwidth_GBps, B / 4);
  Fabric lone = f;
  lone.scale_up.spilled_bandwidth_GBps = 0;
  EXPECT_THROW(validate_fabric(lone), std::invalid_argument);
  Fabric fast = f;
  fast.scale_up.spilled_bandwidth_GBps = 2 * B;
  EXPECT_THROW(validate_fabric(fast), std::invalid_argument);
}

// scale_up.outer_cache_bytes / outer_spilled_bandwidth_GBps: a second knee; the share of the
// working set the outer cache does not keep (the same ramp as the first knee's) moves at the
// outer rate, and every term slows by outer / spilled there.
// host_fabric() with a 4 MiB cache (B/2 beyond it) and a 32 MiB outer knee (B/outer_div beyond).
Fabric two_knee_host(double outer_div) {
  Fabric f = host_fabric();
  f.scale_up.cache_bytes = 4 * kMiB;
  f.scale_up.spilled_bandwidth_GBps = f.scale_up.bandwidth_GBps / 2;
  f.scale_up.outer_cache_bytes = 32 * kMiB;
  f.scale_up.outer_spilled_bandwidth_GBps = f.scale_up.bandwidth_GBps / outer_div;
  return f;
}

TEST(CacheSpill, BeyondTheOuterKneeTheOuterRateApplies) {
  const Fabric f = two_knee_host(8);
  const double a = f.scale_up.latency_us, B = f.scale_up.bandwidth_GBps;
  // pingpong on 2 ranks, working set 4 n. 1.5 MiB: 6 MiB, half in cache, half at B/2:
  // n/B (1/2 + 1/2 * 2). 4 MiB: 16 MiB, between the knees and four times the first: all at B/2.
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, 1.5 * kMiB).time_us, a + us(1.5 * kMiB, B) * 1.5,
               "ramp");
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, 4 * kMiB).time_us, a + us(4 * kMiB, B) * 2, "between");
  // 12 MiB: 48 MiB; none in the first cache, and the outer one, 1.5 times its size, keeps half
  // (2 - 48/32): n/B (1/2 * 2 + 1/2 * 8). 32 MiB: 128 MiB, four times the outer knee: all at B/8.
  const double m = 12 * kMiB;
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, m).time_us, a + us(m, B) * (0.5 * 2 + 0.5 * 8),
               "outer ramp");
  const double n = 32 * kMiB, k = 8;
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, n).time_us, a + us(n, B) * k, "beyond the outer knee");
  EXPECT_DOUBLE_EQ(spill_factor(4 * kMiB, B, B / 2, 128 * kMiB, 32 * kMiB, 0.25), k);
  EXPECT_DOUBLE_EQ(spill_factor(4 * kMiB, B, B / 2, 48 * kMiB, 32 * kMiB, 0.25), 5);
  // What the first cache keeps stays there: a working set it keeps half of (6 MiB), seen by the
  // outer cache as 64 MiB (other work), which that keeps none of: the other half at B/8.
  EXPECT_DOUBLE_EQ(spill_factor(4 * kMiB, B, B / 2, 6 * kMiB, 32 * kMiB, 0.25, 64 * kMiB), 0.5 + 0.5 * 8);
  // No outer knee: the one-knee factor; up to the outer knee the outer rate changes nothing.
  EXPECT_DOUBLE_EQ(spill_factor(4 * kMiB, B, B / 2, 128 * kMiB), 2);
  EXPECT_DOUBLE_EQ(spill_factor(4 * kMiB, B, B / 2, 16 * kMiB, 32 * kMiB, 0.25), 2);
  // Reductions slow by the same outer ratio on top of their own spilled rate (the all-reduce's
  // working set holds its receive slots too).
  Fabric own = f;
  own.endpoint.reduce_spilled_bandwidth_GBps = f.endpoint.reduce_bandwidth_GBps / 3;
  const double P = 2, R = f.endpoint.reduce_bandwidth_GBps,
               ws = host_working_set(P, n) + reduce_slots_working_set(P, P, n),
               ku = spill_factor(4 * kMiB, B, B / 2, ws, 32 * kMiB, 0.25),
               kr = spill_factor(4 * kMiB, R, R / 3, ws, 32 * kMiB, 0.25);
  expect_close(predict(own, "allreduce", "ring", {2, 2}, n).time_us,
               2 * (P - 1) * a + ku * 2 * (P - 1) / P * us(n, B) + kr * (P - 1) / P * us(n, R),
               "ring allreduce");
  // Never faster than with one knee; monotonic in bytes across both knees.
  Fabric one = f;
  one.scale_up.outer_cache_bytes = one.scale_up.outer_spilled_bandwidth_GBps = 0;
  double last = 0;
  for (double b = 256 << 10; b <= 512 * kMiB; b *= 1.5) {
    const double t = predict(f, "allreduce", "ring", {2, 2}, b).time_us;
    EXPECT_GE(t, predict(one, "allreduce", "ring", {2, 2}, b).time_us * (1 - 1e-12)) << b;
    EXPECT_GT(t, last) << b;
    last = t;
  }
  // YAML round trip; the keys go together, the outer knee lies beyond the first, its rate is
  // no faster than the spilled one.
  const Fabric g = parse_fabric(fabric_to_yaml(f), "t.yaml");
  EXPECT_DOUBLE_EQ(g.scale_up.outer_cache_bytes, 32 * kMiB);
  EXPECT_DOUBLE_EQ(g.scale_up.outer_spilled_bandwidth_GBps, B / 8);
  for (auto mend : std::vector<std::function<void(Fabric&)>>{
           [](Fabric& x) { x.scale_up.outer_spilled_bandwidth_GBps = 0; },
           [](Fabric& x) { x.scale_up.outer_cache_bytes = 0; },
           [](Fabric& x) { x.scale_up.outer_cache_bytes = x.scale_up.cache_bytes; },
           [](Fabric& x) {
             x.scale_up.outer_spilled_bandwidth_GBps = x.scale_up.spilled_bandwidth_GBps * 1.5;
           },
           [](Fabric& x) { x.scale_up.outer_cache_bytes = -1; }}) {
    Fabric bad = f;
    mend(bad);
    EXPECT_THROW(validate_fabric(bad), std::invalid_argument);
  }
}

// scale_up.outer_eviction_GBps: other work brings X x the reuse interval into the outer cache, so
// the outer knee sees W + X t, t the op's own time (a round trip for pingpong), a fixed point.
TEST(CacheSpill, OtherWorkDrainsTheOuterCache) {
  const Fabric f = two_knee_host(3);
  const double a = f.scale_up.latency_us, B = f.scale_up.bandwidth_GBps;
  // pingpong of 4 MiB on 2 ranks: W = 16 MiB, all beyond the first cache: a + 2u, u = n/B.
  // With s the share the outer cache does not keep, t = a + u (2 + s) (B/2 -> B/3 costs u per
  // share). The outer cache sees W + 2 X t (a round trip); s = (W + 2 X t) / 32 MiB - 1. With
  // X = 32 MiB / (2 (a + 2.5 u)) the fixed point is s = 1/2: t = a + 2.5 u.
  const double n = 4 * kMiB, u = us(n, B);
  expect_close(predict(f, "pingpong", "p2p", {2, 2}, n).time_us, a + 2 * u, "no other work");
  Fabric busy = f;
  busy.scale_up.outer_eviction_GBps = 32 * kMiB / (2 * (a + 2.5 * u)) / 1e3;  // bytes/us -> GB/s
  expect_close(predict(busy, "pingpong", "p2p", {2, 2}, n).time_us, a + 2.5 * u,
               "half spilled by other work");
  // A faster op of the same working set spills less: bidir's reuse is its own (shorter) time.
  const double bidir = predict(busy, "bidir", "p2p", {2, 2}, n).time_us,
               clean = predict(f, "bidir", "p2p", {2, 2}, n).time_us;
  EXPECT_GE(bidir, clean);
  EXPECT_LT((bidir - clean) / clean, 0.5 * u / (a + 2 * u));  // pingpong's relative cost
  // Much more other work: all of it spills (t = a + 3u), and never beyond.
  Fabric flood = f;
  flood.scale_up.outer_eviction_GBps = 1000;
  expect_close(predict(flood, "pingpong", "p2p", {2, 2}, n).time_us, a + 3 * u, "fully spilled");
  // More other work is never faster; time is monotonic in bytes.
  double last = 0;
  for (double b = 256 << 10; b <= 256 * kMiB; b *= 1.5) {
    const double t = predict(busy, "allreduce", "ring", {2, 2}, b).time_us;
    EXPECT_GE(t, predict(f, "allreduce", "ring", {2, 2}, b).time_us * (1 - 1e-12)) << b;
    EXPECT_LE(t, predict(flood, "allreduce", "ring", {2, 2}, b).time_us * (1 + 1e-12)) << b;
    EXPECT_GT(t, last) << b;
    last = t;
  }
  // YAML round trip; it needs an outer knee and is not negative.
  const Fabric g = parse_fabric(fabric_to_yaml(busy), "t.yaml");
  EXPECT_DOUBLE_EQ(g.scale_up.outer_eviction_GBps, busy.scale_up.outer_eviction_GBps);
  Fabric lone = busy;
  lone.scale_up.outer_cache_bytes = lone.scale_up.outer_spilled_bandwidth_GBps = 0;
  EXPECT_THROW(validate_fabric(lone), std::invalid_argument);
  Fabric negative = busy;
  negative.scale_up.outer_eviction_GBps = -1;
  EXPECT_THROW(validate_fabric(negative), std::invalid_argument);
}

}  // namespace
}  // namespace fb::model
