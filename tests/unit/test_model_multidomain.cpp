// NCCL's all-reduce across scale-up domains in the model: the in-domain NVLS rate NVLSTree reaches
// per generation (model/rates.hpp, nvlstree_share), and CollNet's network side as NCCL prices it
// (model/algorithms/nccl_collnet.cpp).
#include <gtest/gtest.h>

#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "model/rates.hpp"

namespace fb::model {
namespace {

constexpr double kHuge = 1125899906842624.0;  // 1 PiB: latency is far below a part in a million

// algBw of a prediction, GB/s.
double algbw(const Prediction& p, double bytes) {
  return bytes / (p.time_us * 1e3);
}

// 8 GPUs per domain, 8 NICs of `nic_Gbps`, 2 non-blocking tiers; shares of 1 unless set.
Fabric gpu_fabric(const char* generation, double nvlink_GBps, double nic_Gbps, int nics) {
  Fabric f;
  f.name = "multidomain-test";
  f.endpoint.generation = generation;
  f.scale_up.domain_size = 8;
  f.scale_up.bandwidth_GBps = nvlink_GBps;
  f.scale_up.latency_us = 0.6;
  f.scale_up.efficiency = 1;
  f.scale_out.nic_bandwidth_Gbps = nic_Gbps;
  f.scale_out.nics_per_domain = nics;
  f.scale_out.rails = nics;
  f.scale_out.latency_us = 2.7;
  f.scale_out.wire_efficiency = 1;
  f.scale_out.efficiency = 1;
  f.scale_out.tiers = {{"leaf", 64, 0, 1}, {"spine", 64, 0, 1}};
  return f;
}

TEST(NvlsTreeShare, PerGenerationAndOneOffGpus) {
  Fabric f = gpu_fabric("hopper", 450, 400, 8);
  EXPECT_DOUBLE_EQ(nvlstree_share(f), 0.940);
  f.endpoint.generation = "blackwell";
  EXPECT_DOUBLE_EQ(nvlstree_share(f), 0.730);
  f.endpoint.generation = "other";
  EXPECT_DOUBLE_EQ(nvlstree_share(f), 1.0);
  f.endpoint.generation = "hopper";
  f.endpoint.kind = "host";
  EXPECT_DOUBLE_EQ(nvlstree_share(f), 1.0);
}

// Two domains of 8 with NICs fast enough not to bind: NVLSTree runs at the NVLS rate times the
// generation's share, g / (g + 1) of it as algBw, and a lone NVLS in one domain keeps the full rate.
TEST(NvlsTreeShare, BindsNvlsTreeAndNotNvls) {
  for (const char* gen : {"hopper", "blackwell"}) {
    Fabric f = gpu_fabric(gen, 450, 3200, 8);
    f.scale_up.in_switch_reduction = true;
    f.scale_up.nvls_efficiency = 0.6;
    const double nvls = 450 * 0.6;
    const Prediction tree = predict(f, "allreduce", "nccl_nvlstree", {16, 8}, kHuge, "simple");
    EXPECT_EQ(tree.bottleneck, "in-network") << gen;
    EXPECT_NEAR(algbw(tree, kHuge), nvls * nvlstree_share(f) * 8 / 9, 1e-3) << gen;
    const Prediction one = predict(f, "allreduce", "nccl_nvls", {8, 8}, kHuge, "simple");
    EXPECT_NEAR(algbw(one, kHuge), nvls * 8 / 9, 1e-3) << gen;
  }
}

// CollNet's network side: NCCL's busBw (one channel per head NIC at its rate) x 0.5 as algBw, and
// Direct divides by its GPU/NIC factor r - (r-1)/2 when GPUs share NICs; the scale-up side binds
// when it is slower.
TEST(CollnetNetwork, HalfTheNicsRateAndTheGpuNicFactor) {
  Fabric f = gpu_fabric("ampere", 300, 200, 8);
  f.scale_out.in_network_reduction = true;
  // 8 NICs of 25 GB/s: network 0.5 x 200 = 100 GB/s; Direct's scale-up side 300 x 8/14 = 171.
  Prediction d = predict(f, "allreduce", "nccl_collnet_direct", {64, 8}, kHuge, "simple");
  EXPECT_NEAR(algbw(d, kHuge), 100, 1e-3);
  EXPECT_EQ(d.bottleneck, "nic");
  // Chain: scale-up Bu / 2 = 150 does not bind either.
  EXPECT_NEAR(algbw(predict(f, "allreduce", "nccl_collnet_chain", {64, 8}, kHuge, "simple"), kHuge), 100,
              1e-3);
  // 4 NICs for 8 GPUs (r = 2, factor 1.5): Direct 0.5 x 100 / 1.5; Chain has no factor.
  f.scale_out.nics_per_domain = 4;
  f.scale_out.rails = 4;
  d = predict(f, "allreduce", "nccl_collnet_direct", {64, 8}, kHuge, "simple");
  EXPECT_NEAR(algbw(d, kHuge), 50 / 1.5, 1e-3);
  EXPECT_NEAR(algbw(predict(f, "allreduce", "nccl_collnet_chain", {64, 8}, kHuge, "simple"), kHuge), 50,
              1e-3);
  // Fast NICs: the scale-up side binds again.
  f = gpu_fabric("ampere", 300, 3200, 8);
  f.scale_out.in_network_reduction = true;
  d = predict(f, "allreduce", "nccl_collnet_direct", {64, 8}, kHuge, "simple");
  EXPECT_NEAR(algbw(d, kHuge), 300.0 * 8 / 14, 1e-3);
  EXPECT_EQ(d.bottleneck, "scale-up");
}

}  // namespace
}  // namespace fb::model
