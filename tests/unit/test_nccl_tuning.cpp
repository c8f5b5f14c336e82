// NCCL's per-generation protocol refinements (model/algorithms/nccl_tuning.hpp) on the shipped
// fabrics: Ring LL's 1/4 and 1/3 of the link, and the llMaxBw caps of Ampere, Hopper and Blackwell.
#include <gtest/gtest.h>

#include <string>

#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "model/rates.hpp"

namespace fb::model {
namespace {

Fabric shipped(const std::string& name) {
  return load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/" + name + ".yaml");
}

constexpr double kMiB = 1 << 20, kGiB = 1 << 30;

// Transfer time in microseconds of `bytes` at `GBps`.
double us(double bytes, double GBps) {
  return bytes / (GBps * 1e3);
}

// A 4-GPU GB200 ring in one domain: LL moves busBw x 1/4 for all-reduce (NCCL's tuning; row 46 of
// the calibration set, 1 MiB at 80.48 GB/s busbw), x 1/3 for all-gather and reduce-scatter in one
// node, and x 1/4 again once the ring leaves the node.
TEST(NcclTuning, RingLlIsAQuarterOrAThirdOfTheLink) {
  const Fabric f = shipped("gb200-nvl72");
  const double bus = f.scale_up.bandwidth_GBps * scaleup_efficiency(f), P = 4;
  const Prediction ar = predict(f, "allreduce", "nccl_ring", {4, 4}, kMiB, "ll");
  EXPECT_NEAR(ar.time_us, 6.6 + 6 * 0.6 + us(kMiB, bus / 4 * P / (2 * (P - 1))), 1e-6);
  EXPECT_NEAR(ar.busbw_GBps, 80.48, 80.48 * 0.01);  // the published row, within 1%
  const Prediction ag = predict(f, "allgather", "nccl_ring", {4, 4}, kMiB, "ll");
  EXPECT_NEAR(ag.time_us, 6.6 + 3 * 0.6 + us(kMiB, bus / 3 * P / (P - 1)), 1e-6);
  const Prediction rs = predict(f, "reducescatter", "nccl_ring", {4, 4}, kMiB, "ll");
  EXPECT_NEAR(rs.time_us, ag.time_us, 1e-9);
  // Across domains (two 4-GPU groups on the rack's NVLink): the quarter.
  const double in_one = predict(f, "allgather", "nccl_ring", {4, 4}, kGiB, "ll").algbw_GBps / (P / (P - 1));
  const double across = predict(f, "allgather", "nccl_ring", {8, 4}, kGiB, "ll").algbw_GBps / (8.0 / 7);
  EXPECT_LT(across, in_one * 0.8);
}

// The llMaxBw cap by generation and node count: a 2-node tree LL all-reduce runs at llMaxBw / 2
// algBw (NCCL's tree busBw is twice its algBw): Ampere 22.5, Hopper 45, Blackwell 90 GB/s busBw.
TEST(NcclTuning, LlCapFollowsTheGeneration) {
  const std::pair<const char*, double> cases[] = {{"hgx-a100", 22.5}, {"hgx-h100", 45}, {"hgx-b200", 90}};
  for (const auto& [name, ll_max] : cases) {
    const Prediction p = predict(shipped(name), "allreduce", "nccl_tree", {16, 8}, kGiB, "ll");
    EXPECT_NEAR(p.algbw_GBps, ll_max / 2, ll_max / 2 * 5e-3) << name;  // less the latency
    EXPECT_LE(p.algbw_GBps, ll_max / 2) << name;
    EXPECT_EQ(p.bottleneck, "protocol") << name;
  }
  // Three or more nodes: the N4 column (Hopper 35).
  const Prediction h4 = predict(shipped("hgx-h100"), "allreduce", "nccl_ring", {32, 8}, kGiB, "ll");
  EXPECT_NEAR(h4.busbw_GBps, 35, 35 * 5e-3);
  EXPECT_LE(h4.busbw_GBps, 35);
}

// A fabric of no generation NCCL tunes gets the LL line format only (8 data bytes in 16).
TEST(NcclTuning, OtherGenerationsKeepTheLineFormat) {
  Fabric f = shipped("gb200-nvl72");
  f.endpoint.generation = "other";
  f.scale_up.efficiency = 0.752;  // the Blackwell share, so only the protocol factor differs
  const double bus = f.scale_up.bandwidth_GBps * 0.752, P = 4;
  const Prediction ar = predict(f, "allreduce", "nccl_ring", {4, 4}, kMiB, "ll");
  EXPECT_NEAR(ar.time_us, 6.6 + 6 * 0.6 + us(kMiB, bus * 0.5 * P / (2 * (P - 1))), 1e-6);
}

// NCCL's choice at the sizes inference decodes with: LL for a few KiB, Simple for large buffers,
// on one H100 node and on 2 nodes.
TEST(NcclTuning, ProtocolChoiceMovesFromLlToSimpleWithSize) {
  const Fabric f = shipped("hgx-h100");
  for (const Placement& pl : {Placement{8, 8}, Placement{16, 8}}) {
    EXPECT_EQ(predict(f, "allreduce", "nccl_auto", pl, 8192).protocol, "ll") << pl.nranks;
    EXPECT_EQ(predict(f, "allreduce", "nccl_auto", pl, kGiB).protocol, "simple") << pl.nranks;
  }
}

}  // namespace
}  // namespace fb::model
