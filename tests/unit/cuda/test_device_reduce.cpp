// The device reductions and copies (collectives/cuda/device_mem_ops.hpp) against the host's
// collectives/reduce.hpp: every dtype x redop, bit for bit, on random bits (every value a dtype can
// hold: subnormals, infinities, wrap-around) and in place. Needs a GPU: without one every test is
// skipped (ctest reports them as skipped).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "collectives/cuda/device_mem_ops.hpp"
#include "collectives/reduce.hpp"
#include "tests/unit/cuda/gpu.hpp"

namespace fb {
namespace {

class DeviceReduceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = test::gpu_missing();
    if (!why.empty()) GTEST_SKIP() << why;
  }
};

using test::DeviceBuffer;

bool is_nan(DType t, const unsigned char* e) {
  std::uint16_t h;
  switch (t) {
    case DType::float16:
      std::memcpy(&h, e, 2);
      return std::isnan(half_to_float(h));
    case DType::bfloat16:
      std::memcpy(&h, e, 2);
      return std::isnan(bf16_to_float(h));
    case DType::float32: {
      float f;
      std::memcpy(&f, e, 4);
      return std::isnan(f);
    }
    case DType::float64: {
      double d;
      std::memcpy(&d, e, 8);
      return std::isnan(d);
    }
    default:
      return false;
  }
}

// Elements whose bits differ; a NaN matches any NaN (GPUs return a canonical NaN, the host the
// first operand's payload).
std::size_t differing(DType t, const std::vector<unsigned char>& a, const std::vector<unsigned char>& b) {
  const std::size_t es = dtype_size(t);
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size() / es; ++i) {
    const unsigned char *x = a.data() + i * es, *y = b.data() + i * es;
    if (std::memcmp(x, y, es) != 0 && !(is_nan(t, x) && is_nan(t, y))) ++n;
  }
  return n;
}

std::vector<unsigned char> random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> v(n);
  for (auto& c : v) c = static_cast<unsigned char>(rng());
  return v;
}

// Odd counts, one below and above the kernel's block, and one large enough for a grid-stride loop.
constexpr std::size_t kCounts[] = {1, 255, 257, 100003};

TEST_F(DeviceReduceTest, EveryDtypeAndRedopMatchesTheHostExactly) {
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  const cuda::DeviceMemOps ops(s);
  EXPECT_STREQ(ops.memory(), "cuda");
  std::uint32_t seed = 1;
  for (DType t : all_dtypes())
    for (RedOp op : all_redops())
      for (std::size_t count : kCounts) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " " + std::string(redop_name(op)) +
                     " count=" + std::to_string(count));
        const std::size_t bytes = count * dtype_size(t);
        const auto a = random_bytes(bytes, seed++), b = random_bytes(bytes, seed++);
        std::vector<unsigned char> want(bytes);
        reduce_into(want.data(), a.data(), b.data(), count, t, op);
        DeviceBuffer da(bytes), db(bytes), dout(bytes);
        da.upload(a);
        db.upload(b);
        ops.reduce_into(dout.p, da.p, db.p, count, t, op);
        EXPECT_EQ(differing(t, dout.host(), want), 0u) << "out of place";
        // In place, as the algorithms' exchange does: out aliases a, then b.
        ops.reduce_inplace(da.p, db.p, count, t, op);
        EXPECT_EQ(differing(t, da.host(), want), 0u) << "out == a";
        da.upload(a);
        ops.reduce_into(db.p, da.p, db.p, count, t, op);
        EXPECT_EQ(differing(t, db.host(), want), 0u) << "out == b";
      }
  cudaStreamDestroy(s);
}

// The values the patterns reduce (small integers, exact in every dtype) must match bit for bit,
// NaN aside or not: no NaN can arise from them.
TEST_F(DeviceReduceTest, SixteenBitFloatsReduceInFloat32AndRoundOnce) {
  const cuda::DeviceMemOps ops(nullptr);
  for (DType t : {DType::float16, DType::bfloat16}) {
    const std::size_t count = 1 << 16;  // every 16-bit pattern against a fixed partner
    std::vector<unsigned char> a(count * 2), b(count * 2);
    for (std::size_t i = 0; i < count; ++i) {
      const auto x = static_cast<std::uint16_t>(i), y = static_cast<std::uint16_t>(i * 40503u + 12345u);
      std::memcpy(a.data() + 2 * i, &x, 2);
      std::memcpy(b.data() + 2 * i, &y, 2);
    }
    for (RedOp op : all_redops()) {
      std::vector<unsigned char> want(count * 2);
      reduce_into(want.data(), a.data(), b.data(), count, t, op);
      DeviceBuffer da(a.size()), db(b.size());
      da.upload(a);
      db.upload(b);
      ops.reduce_inplace(da.p, db.p, count, t, op);
      EXPECT_EQ(differing(t, da.host(), want), 0u) << dtype_name(t) << " " << redop_name(op);
    }
  }
}

TEST_F(DeviceReduceTest, CopyMovesDeviceBytes) {
  const cuda::DeviceMemOps ops(nullptr);
  const auto src = random_bytes(12345, 9);
  DeviceBuffer a(src.size()), b(src.size());
  a.upload(src);
  ops.copy(b.p, a.p, src.size());
  EXPECT_EQ(b.host(), src);
  ops.copy(b.p, b.p, src.size());  // same buffer: nothing to do
  EXPECT_EQ(b.host(), src);
}

}  // namespace
}  // namespace fb
