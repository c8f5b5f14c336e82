// The host memory probe on this rank alone: rates are positive and finite at both sizes, also
// when the spilled size is not a whole number of chunks (the sum's last chunk is partial; the
// sanitizer build checks it stays inside the buffers).
#include <gtest/gtest.h>

#include <cmath>

#include "harness/host_probe.hpp"

namespace fb {
namespace {

TEST(HostProbe, RatesAtBothSizes) {
  const std::size_t in_cache = 64 << 10, spilled = (600 << 10) + 6;  // 2 chunks of 256 KiB + 88 KiB
  const HostMemoryProbe p = probe_host_memory_local(in_cache, spilled);
  EXPECT_EQ(p.bytes, in_cache);
  EXPECT_EQ(p.spilled_bytes, spilled / 4 * 4);
  EXPECT_EQ(p.ranks, 1);
  for (const double r : {p.copy_GBps, p.reduce_GBps, p.copy_spilled_GBps, p.reduce_spilled_GBps}) {
    EXPECT_GT(r, 0);
    EXPECT_TRUE(std::isfinite(r));
  }
  // Without the spilled part nothing is probed there.
  const HostMemoryProbe q = probe_host_memory_local(in_cache, 0);
  EXPECT_EQ(q.spilled_bytes, 0u);
  EXPECT_EQ(q.copy_spilled_GBps, 0);
  EXPECT_EQ(q.reduce_spilled_GBps, 0);
}

}  // namespace
}  // namespace fb
