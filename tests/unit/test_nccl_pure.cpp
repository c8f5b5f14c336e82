// The nccl backend's decisions that need no GPU (issue 22): who sends first in a pair, what a GPU
// that cannot be used is reported as, validate's defaults for a backend without fabricbench's
// algorithms, and the environment the results record.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "harness/job.hpp"
#include "harness/validate.hpp"
#include "transports/cuda/gpu_checks.hpp"
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

}  // namespace
}  // namespace fb
