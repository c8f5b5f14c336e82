// The pattern math, written once for the host (collectives/pattern.cpp) and the device
// (collectives/cuda/pattern_kernels.cu): an element's value is a pure function of a few integers
// (PatternParams, rank, index), so a CUDA kernel fills and checks exactly what the host does.
//
// Everything that needs floor/log2 or the dtype tables (the bounds, the strides) is resolved on
// the host once per pattern by make_pattern_params(); what runs per element is integer hashing
// and exact small-integer double arithmetic, identical on both sides.
#pragma once

#include <cstddef>
#include <cstdint>

#include "collectives/dtype.hpp"

#if defined(__CUDACC__)
#define FB_HD __host__ __device__
#else
#define FB_HD
#endif

namespace fb {

constexpr std::size_t kPatternPeriod = 4099;  // prime: block sizes never alias it

// One pattern, resolved: see collectives/pattern.hpp for what the values are.
struct PatternParams {
  DType dtype = DType::float32;
  bool reduces = false;
  RedOp redop = RedOp::sum;
  bool is_signed = true;
  int nranks = 1;
  std::uint64_t seed = 0;
  std::uint64_t range = 1;        // data movement: values in [0, range) (shifted by -half if signed)
  double half = 0;                // floor(range / 2)
  std::uint64_t sum_stride = 1;   // sum: rank r contributes at element j when (r + j) % stride == 0
  std::uint64_t prod_stride = 1;  // prod: only ranks on the stride may hold a factor 2
};

FB_HD inline std::uint64_t pattern_splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The element of rank `rank` at pattern index `index` (any index; the pattern repeats every
// kPatternPeriod elements), as an integer-valued double.
FB_HD inline double pattern_value(const PatternParams& p, int rank, std::size_t index) {
  const std::uint64_t j = (static_cast<std::uint64_t>(index) + p.seed * 7) % kPatternPeriod;
  const std::uint64_t r = static_cast<std::uint64_t>(rank);
  const std::uint64_t n = static_cast<std::uint64_t>(p.nranks > 1 ? p.nranks : 1);
  // Per (seed, rank, element) hash: every reduction below varies from element to element, so a
  // shifted, misplaced or swapped block never matches the expected data by accident.
  const std::uint64_t h = pattern_splitmix64((p.seed << 40) ^ (r << 20) ^ j ^ (r * 0x100000001b3ull));
  if (!p.reduces) {
    double v = static_cast<double>(h % p.range);
    if (p.is_signed) v -= p.half;
    return v;
  }
  switch (p.redop) {
    case RedOp::sum: {
      // At most bound/per ranks hold a non-zero value per element: partial sums stay exact.
      if ((r + j) % p.sum_stride != 0) return 0.0;
      const double k = static_cast<double>(h % 3);
      return p.is_signed ? k - 1.0 : k + 1.0;
    }
    case RedOp::prod: {
      // Factors 1 and 2 (and -1 for signed): the product is +-2^k with k below log2(bound).
      double v = ((r + j) % p.prod_stride == 0 && (h & 1u) != 0) ? 2.0 : 1.0;
      if (p.is_signed && (h >> 1) % 7 == 0) v = -v;
      return v;
    }
    case RedOp::min:
    case RedOp::max: {
      // Values in [lo, lo + 60]. One rank per element (the "winner") holds the element's result;
      // every other rank holds a value on the losing side of it, so the result varies per element
      // for any number of ranks.
      const double lo = p.is_signed ? -30.0 : 0.0;
      const std::uint64_t g = pattern_splitmix64((p.seed * 0x2545f4914f6cdd1dull) ^ (j << 1) ^ 0x5bd1e995ull);
      const double target = lo + static_cast<double>((g >> 32) % 61);
      if (r == g % n) return target;
      if (p.redop == RedOp::max)
        return lo + static_cast<double>(h % (static_cast<std::uint64_t>(target - lo) + 1));
      return target + static_cast<double>(h % (static_cast<std::uint64_t>(lo + 60.0 - target) + 1));
    }
  }
  return 0.0;
}

// The reduction over all ranks at pattern index `index`, in rank order (exact by construction).
FB_HD inline double pattern_expected_reduced(const PatternParams& p, std::size_t index) {
  double acc = pattern_value(p, 0, index);
  for (int r = 1; r < p.nranks; ++r) {
    const double v = pattern_value(p, r, index);
    switch (p.redop) {
      case RedOp::sum:
        acc += v;
        break;
      case RedOp::prod:
        acc *= v;
        break;
      case RedOp::min:
        acc = v < acc ? v : acc;
        break;
      case RedOp::max:
        acc = v > acc ? v : acc;
        break;
    }
  }
  return acc;
}

// The poison element of `dtype` (NaN for floats, the type's maximum for integers), as raw bits in
// the low dtype_size(dtype) bytes.
FB_HD inline std::uint64_t pattern_poison_bits(DType t) {
  switch (t) {
    case DType::int8:
      return 0x7full;
    case DType::uint8:
      return 0xffull;
    case DType::int32:
      return 0x7fffffffull;
    case DType::uint32:
      return 0xffffffffull;
    case DType::int64:
      return 0x7fffffffffffffffull;
    case DType::uint64:
      return 0xffffffffffffffffull;
    case DType::float16:
      return 0x7e01ull;
    case DType::bfloat16:
      return 0x7fc1ull;
    case DType::float32:
      return 0x7fc00001ull;
    case DType::float64:
      return 0x7ff8000000000001ull;
  }
  return 0;
}

// Resolve a pattern's parameters (host only: dtype tables, floor, log2).
PatternParams make_pattern_params(DType dtype, bool reduces, RedOp redop, int nranks, std::uint64_t seed);

}  // namespace fb
