// The device fill / poison / check kernels (collectives/cuda/) against the host's Pattern, byte
// for byte. Needs a GPU: without one every test is skipped (ctest reports them as skipped).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "collectives/cuda/device_pattern.hpp"
#include "collectives/pattern.hpp"
#include "collectives/reduce.hpp"
#include "tests/unit/cuda/gpu.hpp"

namespace fb {
namespace {

using test::gpu_missing;

class DevicePatternTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = gpu_missing();
    if (!why.empty()) GTEST_SKIP() << why;
  }
};

using test::DeviceBuffer;

constexpr std::size_t kCount = 2 * kPatternPeriod + 37;

TEST_F(DevicePatternTest, FillAndPoisonMatchTheHostBitForBit) {
  cuda::DevicePattern dev(nullptr);
  for (DType t : all_dtypes())
    for (bool reduces : {false, true})
      for (RedOp op : all_redops())
        for (int n : {1, 3, 1000})
          for (std::uint64_t seed : {0ull, 7ull}) {
            const Pattern p(t, reduces, op, n, seed);
            const std::size_t es = dtype_size(t);
            DeviceBuffer d(kCount * es);
            std::vector<unsigned char> want(kCount * es);
            for (int rank : {0, n - 1}) {
              dev.fill(p.params(), d.p, kCount, rank, 123);
              ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
              p.fill(want.data(), kCount, rank, 123);
              ASSERT_EQ(d.host(), want) << dtype_name(t) << " reduces=" << reduces << " " << redop_name(op)
                                        << " n=" << n << " seed=" << seed << " rank=" << rank;
            }
            dev.poison(d.p, kCount, t);
            ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
            fill_poison(want.data(), kCount, t);
            ASSERT_EQ(d.host(), want) << dtype_name(t);
          }
}

TEST_F(DevicePatternTest, CheckCountsExactlyTheWrongElements) {
  cuda::DevicePattern dev(nullptr);
  const int n = 5;
  for (DType t : all_dtypes())
    for (RedOp op : all_redops()) {
      const std::size_t es = dtype_size(t);
      const std::size_t block = kPatternPeriod + 11;
      for (bool reduces : {true, false}) {
        const Pattern p(t, reduces, op, n, 3);
        std::vector<Segment> segs;
        std::vector<unsigned char> good;
        if (reduces) {
          // The reduction over n ranks' data, computed with the host reductions.
          segs = {Segment{0, kCount, 0, true, 17}};
          good.resize(kCount * es);
          std::vector<unsigned char> tmp(kCount * es);
          p.fill(good.data(), kCount, 0, 17);
          for (int r = 1; r < n; ++r) {
            p.fill(tmp.data(), kCount, r, 17);
            reduce_inplace(good.data(), tmp.data(), kCount, t, op);
          }
        } else {
          // Gathered blocks, one per source.
          good.resize(block * n * es);
          for (int k = 0; k < n; ++k) {
            segs.push_back(Segment{k * block, block, k, false, 5});
            p.fill(good.data() + k * block * es, block, k, 5);
          }
        }
        const std::size_t count = good.size() / es;
        ASSERT_EQ(p.check(good.data(), segs), 0u) << dtype_name(t) << " " << redop_name(op);
        DeviceBuffer d(good.size());
        d.upload(good);
        EXPECT_EQ(dev.check(p.params(), d.p, segs), 0u) << dtype_name(t) << " " << redop_name(op);
        // Three wrong elements: the first, one a period in, the last.
        std::vector<unsigned char> bad = good;
        for (std::size_t i : {std::size_t{0}, kPatternPeriod, count - 1})
          fill_poison(bad.data() + i * es, 1, t);
        ASSERT_EQ(p.check(bad.data(), segs), 3u);
        d.upload(bad);
        EXPECT_EQ(dev.check(p.params(), d.p, segs), 3u)
            << dtype_name(t) << " " << redop_name(op) << " reduces=" << reduces;
      }
    }
}

}  // namespace
}  // namespace fb
