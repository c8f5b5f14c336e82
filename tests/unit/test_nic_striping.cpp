// Multi-rail striping (model/rates.hpp, nic_stripe_bytes; model/algorithms/common.hpp,
// striped_rate): a GPU with several NICs (AWS p5: four EFA devices) puts an op's network bytes B on
// them in units of U = 7 MiB, so its busiest NIC carries max(B / k, min(B, U)). Exact expectations
// from that formula on the shipped aws-p5 fabric, and the fabrics it must leave alone.
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

constexpr double kMiB = 1 << 20, kGiB = 1 << 30, kU = 7 * kMiB;

double us(double bytes, double GBps) {
  return bytes / (GBps * 1e3);
}

// The per-GPU NIC rate NCCL reaches on a fabric: line x share (GB/s).
double b0(const Fabric& f) {
  return f.nic_GBps_per_endpoint() * nic_efficiency(f);
}

TEST(NicStriping, EfaKindsStripeConnectxDoesNot) {
  EXPECT_EQ(nic_stripe_bytes(shipped("aws-p5")), kU);
  EXPECT_EQ(nic_stripe_bytes(shipped("aws-p4d")), kU);
  EXPECT_EQ(nic_stripe_bytes(shipped("hgx-h100")), 0);
  EXPECT_EQ(nic_stripe_bytes(shipped("gcp-a3-mega")), 0);
}

// p5, 2 nodes, alltoall over NCCL's p2p: B = (p - g) n / p = n / 2 per GPU leaves the node, k = 4
// devices at b0 / 4 each. 32 MiB: B = 16 MiB, the busiest device carries U (row 33 of the
// calibration set). 2 GiB: B = 1 GiB >= 4 U, every device busy: B / b0 (row 28).
TEST(NicStriping, P5AlltoallOnFewerDevicesAt32MiB) {
  const Fabric f = shipped("aws-p5");
  const double lat = 8.4 + 14 + 21.96 + 2 * 15 * 0.05;  // Simple base + network hop + EFA, 2(p-1) posts
  auto alltoall = [&](double n) { return predict(f, "alltoall", "nccl_p2p", {16, 8}, n, "simple"); };
  const Prediction mid = alltoall(32 * kMiB);
  EXPECT_NEAR(mid.time_us, lat + us(kU, b0(f) / 4), 1e-6);
  EXPECT_NEAR(mid.time_us, 702.33, 702.33 * 0.01);  // row 33, within 1%
  EXPECT_EQ(mid.bottleneck, "nic");
  EXPECT_NEAR(alltoall(2 * kGiB).time_us, lat + us(kGiB, b0(f)), 1e-6);
  // Between U and k U the busiest device carries U whatever B: the time holds still.
  EXPECT_NEAR(alltoall(16 * kMiB).time_us, mid.time_us, 1e-9);
  EXPECT_NEAR(alltoall(48 * kMiB).time_us, mid.time_us, 1e-9);
  // From k U all k share it evenly: B / b0.
  EXPECT_NEAR(alltoall(64 * kMiB).time_us, lat + us(32 * kMiB, b0(f)), 1e-6);
  // Below U one device carries all of it.
  EXPECT_NEAR(alltoall(4 * kMiB).time_us, lat + us(2 * kMiB, b0(f) / 4), 1e-6);
}

// p5, 2 nodes, NVLSTree all-reduce at 32 MiB: each GPU's devices carry tree_network_load(2) x n / g
// = 4 MiB each way, under U: one device of four, so the network stage runs at g x b0 / 4 (row 21).
TEST(NicStriping, P5NvlsTreeOnOneDeviceAt32MiB) {
  const Fabric f = shipped("aws-p5");
  const Prediction p = predict(f, "allreduce", "nccl_nvlstree", {16, 8}, 32 * kMiB, "simple");
  const double lat = 25 + 2 * (20.9 + 21.96);  // NVLSTree: intraLat + 2 x (interLat + EFA)
  EXPECT_NEAR(p.time_us, lat + us(32 * kMiB, 8 * b0(f) / 4), 1e-6);
  EXPECT_EQ(p.bottleneck, "nic");
  // At 2 GiB (B = 256 MiB >= 4 U) the NVLS stage binds again, as before striping.
  EXPECT_EQ(predict(f, "allreduce", "nccl_nvlstree", {16, 8}, 2 * kGiB, "simple").bottleneck, "in-network");
}

// One NIC per GPU or fewer (p6-b200's eight EFA v4 per 8 GPUs, p4d's four per 8) leaves nothing to
// stripe: the same prediction as with striping off (the NIC kind's table row otherwise equal).
TEST(NicStriping, OneNicPerGpuOrFewerIsUnaffected) {
  for (const char* name : {"aws-p4d", "aws-p6-b200"}) {
    const Fabric f = shipped(name);
    Fabric off = f;
    off.scale_out.nic = "other";                   // no striping unit, no extra latency, efficiency 1 ...
    off.scale_out.efficiency = nic_efficiency(f);  // ... restored to the EFA share
    const Prediction a = predict(f, "alltoall", "nccl_p2p", {16, 8}, 32 * kMiB, "simple");
    const Prediction b = predict(off, "alltoall", "nccl_p2p", {16, 8}, 32 * kMiB, "simple");
    EXPECT_NEAR(a.time_us - nic_extra_latency_us(f), b.time_us, 1e-6) << name;
  }
}

// NCCL's choice on p5 stays monotone: over 8 B to 16 GiB the time never falls as the size grows,
// and busbw never falls by more than rounding (all-reduce, alltoall, all-gather; 2 and 8 nodes).
TEST(NicStriping, P5SweepsStayMonotone) {
  const Fabric f = shipped("aws-p5");
  for (const char* op : {"allreduce", "alltoall", "allgather"})
    for (std::uint64_t gpus : {16u, 64u}) {
      double last_t = 0, last_bus = 0;
      for (double n = 8; n <= 16 * kGiB; n *= 2) {
        const Prediction p = predict(f, op, "nccl_auto", {gpus, 8}, n);
        EXPECT_GE(p.time_us, last_t - 1e-9) << op << " " << gpus << " " << n;
        EXPECT_GE(p.busbw_GBps, last_bus * (1 - 1e-9)) << op << " " << gpus << " " << n;
        last_t = p.time_us;
        last_bus = p.busbw_GBps;
      }
    }
}

}  // namespace
}  // namespace fb::model
