// The nccl backend's decisions that need no GPU (issue 22): who sends first in a pair, what a GPU
// that cannot be used is reported as, validate's defaults for a backend without fabricbench's
// algorithms, and the environment the results record.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "collectives/op.hpp"
#include "harness/job.hpp"
#include "harness/validate.hpp"
#include "transports/cuda/gpu_checks.hpp"
#include "transports/nccl/nccl_layout.hpp"
#include "transports/nccl/nccl_pairs.hpp"

namespace fb {
namespace {

// validate's explicit pairs (round-robin rounds): in every pair exactly one rank sends first, as
// the runner marks it (OpCall::sender: the lower rank). Deciding from (rank, size) made both
// ranks of pair (0, 1) at 4 ranks send first: a deadlock.
TEST(NcclPairs, ExactlyOneRankOfEveryValidatePairSendsFirst) {
  for (int n : {4, 5, 8}) {
    for (const auto& round : round_robin_rounds(n)) {
      for (const auto& [a, b] : round) {
        transports::OpCall ca, cb;
        ca.peer = b;
        ca.sender = a < b;
        cb.peer = a;
        cb.sender = b < a;
        EXPECT_NE(transports::nccl_pairs::sends_first(ca), transports::nccl_pairs::sends_first(cb))
            << "pair " << a << "-" << b << " of " << n;
      }
    }
  }
}

TEST(GpuChecks, AnOldDriverIsSaidToBeOld) {
  EXPECT_EQ(transports::driver_too_old(13000, 13000), "");
  EXPECT_EQ(transports::driver_too_old(0, 13000), "");  // no driver at all: not "too old"
  const std::string msg = transports::driver_too_old(12040, 13000);
  EXPECT_NE(msg.find("CUDA 12.4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("CUDA 13.0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("580"), std::string::npos) << msg;
}

TEST(GpuChecks, RanksOfOneHostSharingAGpuAreNamed) {
  // One visible GPU per rank (bus IDs differ): fine. Same host and bus ID: named.
  EXPECT_EQ(transports::duplicate_gpu({"a", "a"}, {"0000:1b:00.0", "0000:1c:00.0"}), "");
  EXPECT_EQ(transports::duplicate_gpu({"a", "b"}, {"0000:1b:00.0", "0000:1b:00.0"}), "");
  const std::string msg =
      transports::duplicate_gpu({"a", "b", "b"}, {"0000:1b:00.0", "0000:1b:00.0", "0000:1b:00.0"});
  EXPECT_NE(msg.find("ranks 1 and 2 on b"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0000:1b:00.0"), std::string::npos) << msg;
}

// nccl has no point-to-point algorithms of fabricbench's: validate's defaults ask for native.
TEST(ValidateDefaults, NativeForABackendWithoutP2pAlgorithms) {
  for (const auto& t : default_validate_tests("nccl")) EXPECT_EQ(t.algo, "native") << t.name;
  const auto mpi = default_validate_tests("mpi");
  ASSERT_EQ(mpi.size(), 2u);
  EXPECT_EQ(mpi[0].algo, "ring");
  EXPECT_EQ(mpi[1].algo, "pairwise");
}

// The results record the environment as launched, not the NCCL_DEBUG* the backend sets later.
TEST(LaunchEnvironment, IsASnapshotFromBeforeTheBackend) {
  const auto& before = launch_environment();
  const bool had = before.count("NCCL_DEBUG_SUBSYS") > 0;
  const std::string old = had ? before.at("NCCL_DEBUG_SUBSYS") : "";
  ::setenv("NCCL_DEBUG_SUBSYS", "INIT,NET,GRAPH,TUNING-by-a-backend", 1);
  const auto& after = launch_environment();
  EXPECT_EQ(after.count("NCCL_DEBUG_SUBSYS") > 0, had);
  if (had) {
    EXPECT_EQ(after.at("NCCL_DEBUG_SUBSYS"), old);
    ::setenv("NCCL_DEBUG_SUBSYS", old.c_str(), 1);
  } else {
    ::unsetenv("NCCL_DEBUG_SUBSYS");
  }
}

TEST(LaunchEnvironment, KeepsOnlyTheRecordedPrefixes) {
  char a[] = "NCCL_IB_HCA=mlx5_0";
  char b[] = "HOME=/root";
  char c[] = "CUDA_VISIBLE_DEVICES=0,1";
  char* env[] = {a, b, c, nullptr};
  const auto m = recorded_environment(env);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("NCCL_IB_HCA"), "mlx5_0");
  EXPECT_EQ(m.at("CUDA_VISIBLE_DEVICES"), "0,1");
}

// The nccl backend's layouts are nccl-tests': each rank's block a multiple of 16 bytes. The
// alignment is what the backend hands OpDescriptor::layout (Backend::block_alignment); mpi and
// ucx keep the base class's 1 (exact counts).
TEST(NcclLayout, BlocksAreSixteenBytesAsNcclTests) {
  EXPECT_EQ(transports::nccl_layout::kBlockAlignBytes, 16u);
  const std::size_t a = transports::nccl_layout::kBlockAlignBytes;
  // all_gather_perf -b 8 -e 1024 -f 2 at 8 ranks, float32: sizes 0 0 0 0 128 256 512 1024
  // (a block needs 4 floats before anything moves; 16 B per rank -> 128 B).
  std::vector<std::size_t> got;
  for (std::size_t b = 8; b <= 1024; b *= 2)
    got.push_back(op_descriptor(OpKind::allgather)
                      .layout(b, DType::float32, 8, 0, InPlaceConvention::nccl, nullptr, a)
                      .bytes);
  EXPECT_EQ(got, (std::vector<std::size_t>{0, 0, 0, 0, 128, 256, 512, 1024}));
  // The same sweep with exact counts (mpi, ucx): every whole element per rank moves.
  got.clear();
  for (std::size_t b = 8; b <= 1024; b *= 2)
    got.push_back(
        op_descriptor(OpKind::allgather).layout(b, DType::float32, 8, 0, InPlaceConvention::nccl).bytes);
  EXPECT_EQ(got, (std::vector<std::size_t>{0, 0, 32, 64, 128, 256, 512, 1024}));
  // reduce_scatter_perf -b 1000 at 3 ranks, bfloat16: 500 elements, 166 per rank -> 160 (8 per
  // 16 B): count 160, size 960.
  const OpLayout rs = op_descriptor(OpKind::reducescatter)
                          .layout(1000, DType::bfloat16, 3, 2, InPlaceConvention::nccl, nullptr, a);
  EXPECT_EQ(rs.count, 160u);
  EXPECT_EQ(rs.bytes, 960u);
  EXPECT_EQ(rs.inplace_recv_offset, 320u);
}

// nvlinkCentricSched is set only when the headers and the library both have it (2.28 on).
TEST(NcclLayout, NvlinkCentricSchedNeedsHeadersAndLibraryFrom228) {
  using transports::nccl_layout::sets_nvlink_centric_sched;
  EXPECT_TRUE(sets_nvlink_centric_sched(22809, 22809));
  EXPECT_TRUE(sets_nvlink_centric_sched(22800, 22900));
  EXPECT_FALSE(sets_nvlink_centric_sched(22809, 22703));  // built on 2.28, runs on 2.27
  EXPECT_FALSE(sets_nvlink_centric_sched(22703, 22809));  // built on 2.27: no such field
  EXPECT_FALSE(sets_nvlink_centric_sched(22809, 0));      // version unknown
}

}  // namespace
}  // namespace fb
