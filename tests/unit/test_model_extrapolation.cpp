// The extrapolation follows the physics (issue 21 item 7, docs/model.md "Extrapolation check"):
// on aws-p5 grown to 2^20 GPUs, large all-reduce stays at the per-GPU NIC bound, all-to-all falls
// to the per-GPU NIC rate, a tree's 1 MiB latency grows with log N and a ring's with N.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "model/rates.hpp"

namespace fb::model {
namespace {

constexpr double kMiB = 1 << 20, kGiB8 = 8.0 * (1 << 30);

// aws-p5 with two more 64-port tiers (5 tiers: 2^24 endpoints).
Fabric grown_p5() {
  std::vector<std::string> sets;
  for (const std::string t : {"3", "4"}) {
    const std::string tier = "scale_out.tiers." + t + ".";
    sets.insert(sets.end(), {tier + "name=t" + t, tier + "radix=64", tier + "hop_latency_us=0"});
  }
  return load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/aws-p5.yaml", sets);
}

Prediction at(const Fabric& f, const char* op, double gpus, double bytes) {
  return predict(f, op, "nccl_auto", {static_cast<std::uint64_t>(gpus), 8}, bytes, "auto");
}

TEST(Extrapolation, LargeAllReduceStaysAtTheNicBound) {
  const Fabric f = grown_p5();
  const double bound = f.nic_GBps_per_endpoint() * nic_efficiency(f) * 8;  // 8 GPUs' NICs per node
  EXPECT_NEAR(bound, 356.0, 1e-9);                                         // 8 x 50 GB/s x 0.890
  for (double gpus = 64; gpus <= 1048576; gpus *= 8) {
    const Prediction p = at(f, "allreduce", gpus, kGiB8);
    EXPECT_LE(p.busbw_GBps, bound) << gpus;
    EXPECT_GE(p.busbw_GBps, 0.97 * bound) << gpus << " " << p.algo;
    EXPECT_EQ(p.bottleneck, "nic") << gpus;
  }
}

TEST(Extrapolation, AllToAllFallsToThePerGpuNicRate) {
  const Fabric f = grown_p5();
  const double nic = f.nic_GBps_per_endpoint() * nic_efficiency(f);  // 44.5 GB/s per GPU
  double last = 1e300;
  for (double gpus = 16; gpus <= 32768; gpus *= 8) {
    const Prediction p = at(f, "alltoall", gpus, kGiB8);
    // busbw = (p-1)/p x algbw, and the NICs carry (p-g)/p of each GPU's buffer.
    const double bound = nic * (gpus - 1) / (gpus - 8);
    EXPECT_LE(p.busbw_GBps, bound) << gpus;
    EXPECT_GE(p.busbw_GBps, 0.98 * bound) << gpus;
    EXPECT_LT(p.busbw_GBps, last) << gpus;
    last = p.busbw_GBps;
  }
}

TEST(Extrapolation, TreeLatencyGrowsWithLogNAndRingLatencyWithN) {
  const Fabric f = grown_p5();
  std::vector<double> tree, ring;
  for (double gpus = 64; gpus <= 262144; gpus *= 8) {
    const Prediction ar = at(f, "allreduce", gpus, kMiB);
    EXPECT_NE(ar.algo.find("tree"), std::string::npos) << gpus << " " << ar.algo;
    tree.push_back(ar.time_us);
    ring.push_back(at(f, "allgather", gpus, kMiB).time_us);
  }
  // Each 8x in GPUs adds three tree levels: a constant step in time (within 15%).
  const double step = (tree.back() - tree.front()) / static_cast<double>(tree.size() - 1);
  for (std::size_t i = 1; i < tree.size(); ++i) EXPECT_NEAR(tree[i] - tree[i - 1], step, 0.15 * step) << i;
  // The ring's ~N steps: 8x the GPUs, 6-8x the time once the steps dominate (from 512 GPUs).
  for (std::size_t i = 2; i < ring.size(); ++i) {
    EXPECT_GE(ring[i] / ring[i - 1], 6.0) << i;
    EXPECT_LE(ring[i] / ring[i - 1], 8.0) << i;
  }
}

}  // namespace
}  // namespace fb::model
