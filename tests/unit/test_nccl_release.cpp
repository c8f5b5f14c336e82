// The NCCL release a fabric models (`nccl_version`, model/rates.hpp): how a version is read, and
// the software-stack row it picks in the NIC table (EFA v1 before 2.10: model/rates.cpp).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "model/rates.hpp"

namespace fb::model {
namespace {

constexpr double kHuge = 1125899906842624.0;  // 1 PiB: latency is far below a part in a million

Fabric shipped(const std::string& name, const std::vector<std::string>& sets = {}) {
  return load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/" + name + ".yaml", sets);
}

TEST(NcclRelease, ReadsMajorMinorPatch) {
  EXPECT_EQ(nccl_release("2.9.9"), 20909);
  EXPECT_EQ(nccl_release("2.18.5"), 21805);
  EXPECT_EQ(nccl_release("2.27"), 22700);
  EXPECT_EQ(nccl_release("2.10.3"), 21003);
  EXPECT_LT(nccl_release("2.9.9"), nccl_release("2.10"));  // numerically, not as text
}

TEST(NcclRelease, RejectsWhatIsNotAVersion) {
  for (const char* bad : {"", "2", "2.", ".9", "2..9", "2.9.9.1", "v2.9", "2.x", "2.100", "2.9 ", "latest"})
    EXPECT_EQ(nccl_release(bad), -1) << "'" << bad << "'";
}

TEST(NcclRelease, EfaV1BeforeTwoTenHasTheOlderStacksShare) {
  EXPECT_DOUBLE_EQ(nic_efficiency(shipped("aws-p4d")), 0.836);  // row 36's stack: the newest
  EXPECT_DOUBLE_EQ(nic_efficiency(shipped("aws-p4d", {"nccl_version=2.9.9"})), 0.612);
  EXPECT_DOUBLE_EQ(nic_efficiency(shipped("aws-p4d", {"nccl_version=2.9"})), 0.612);
  EXPECT_DOUBLE_EQ(nic_efficiency(shipped("aws-p4d", {"nccl_version=2.10"})), 0.836);
  EXPECT_DOUBLE_EQ(nic_efficiency(shipped("aws-p4d", {"nccl_version=2.18.5"})), 0.836);
  // Only EFA v1 has an older-stack row: the same release leaves EFA v2 and ConnectX as they are.
  EXPECT_DOUBLE_EQ(nic_efficiency(shipped("aws-p5", {"nccl_version=2.9.9"})), 0.890);
  EXPECT_DOUBLE_EQ(nic_efficiency(shipped("hgx-a100", {"nccl_version=2.9.9"})), 0.956);
  // A fabric's own share wins over every table row.
  EXPECT_DOUBLE_EQ(nic_efficiency(shipped("aws-p4d", {"nccl_version=2.9.9", "scale_out.efficiency=0.7"})),
                   0.7);
}

// On 4 p4d nodes a large ring all-reduce is bound by each node's 4 x 100G EFA: busbw = 50 GB/s x
// the share, 0.612 x 50 = 30.6 GB/s on the 2.9.9 stack (rows 110, 111 publish 31.77 and 29.61).
TEST(NcclRelease, P4dRingOnTheOlderStackRunsAtItsShareOfTheNodesNics) {
  const Fabric old_stack = shipped("aws-p4d", {"nccl_version=2.9.9"});
  const Prediction ring = predict(old_stack, "allreduce", "nccl_ring", {32, 8}, kHuge, "simple");
  EXPECT_NEAR(ring.busbw_GBps, 50 * 0.612, 50 * 0.612 * 1e-6);
  EXPECT_EQ(ring.bottleneck, "nic");
  const Prediction now = predict(shipped("aws-p4d"), "allreduce", "nccl_ring", {32, 8}, kHuge, "simple");
  EXPECT_NEAR(now.busbw_GBps, 50 * 0.836, 50 * 0.836 * 1e-6);
  // Inside one node there is no NIC: the release changes nothing.
  EXPECT_DOUBLE_EQ(predict(old_stack, "allreduce", "nccl_auto", {8, 8}, 1 << 30, "auto").time_us,
                   predict(shipped("aws-p4d"), "allreduce", "nccl_auto", {8, 8}, 1 << 30, "auto").time_us);
}

TEST(NcclRelease, ABadVersionIsRefusedNamingTheKey) {
  try {
    shipped("aws-p4d", {"nccl_version=2.9.x"});
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("nccl_version"), std::string::npos) << what;
    EXPECT_NE(what.find("'2.9.x' is not an NCCL release"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace fb::model
