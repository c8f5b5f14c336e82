// Host reductions: every dtype x redop against a scalar reference on odd lengths, aliasing, the
// storage type's wrap-around for integers, and 16-bit floats reduced in float32 and rounded once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "collectives/dtype.hpp"
#include "collectives/reduce.hpp"

namespace fb {
namespace {

using Buf = std::vector<unsigned char>;

const std::size_t kLengths[] = {0, 1, 7, 1000, 4099};

std::string trace(DType t, RedOp op, std::size_t n) {
  return std::string(dtype_name(t)) + " " + std::string(redop_name(op)) + " n=" + std::to_string(n);
}

template <class T>
T load(const Buf& b, std::size_t i) {
  T x;
  std::memcpy(&x, b.data() + i * sizeof(T), sizeof(T));
  return x;
}

template <class T>
void put(Buf& b, std::size_t i, T x) {
  std::memcpy(b.data() + i * sizeof(T), &x, sizeof(T));
}

// ---- inputs --------------------------------------------------------------------------------

// Random elements of `t`: integers over their whole range; floats a mix of small integers,
// fractions, huge and tiny magnitudes (overflow to inf and underflow are legitimate results),
// and signed zeros. Never NaN or inf, so every result compares bit for bit.
Buf random_elements(DType t, std::size_t n, std::mt19937_64& rng) {
  Buf b(n * dtype_size(t));
  std::uniform_real_distribution<double> uni(-1000.0, 1000.0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t bits = rng();
    const unsigned kind = static_cast<unsigned>(rng() % 5);
    switch (t) {
      case DType::int8:
      case DType::uint8:
      case DType::int32:
      case DType::uint32:
      case DType::int64:
      case DType::uint64:
        std::memcpy(b.data() + i * dtype_size(t), &bits, dtype_size(t));
        break;
      case DType::float16:
      case DType::bfloat16: {
        auto h = static_cast<std::uint16_t>(bits);
        const bool is_half = t == DType::float16;
        const std::uint16_t exp_mask = is_half ? 0x7c00 : 0x7f80;
        if ((h & exp_mask) == exp_mask) h = static_cast<std::uint16_t>(h & ~0x4000u);  // no inf/NaN
        if (kind == 0)
          h = is_half ? float_to_half(static_cast<float>(static_cast<int>(bits % 41) - 20))
                      : float_to_bf16(static_cast<float>(static_cast<int>(bits % 41) - 20));
        if (kind == 1) h = static_cast<std::uint16_t>(h & 0x8000u);  // +-0
        put(b, i, h);
        break;
      }
      case DType::float32: {
        float f = static_cast<float>(uni(rng));
        if (kind == 0) f = static_cast<float>(static_cast<int>(bits % 41) - 20);
        if (kind == 1) f = (bits & 1) ? -0.0f : 0.0f;
        if (kind == 2) {
          auto u = static_cast<std::uint32_t>(bits);
          if ((u & 0x7f800000u) == 0x7f800000u) u &= ~0x40000000u;
          std::memcpy(&f, &u, 4);
        }
        put(b, i, f);
        break;
      }
      case DType::float64: {
        double d = uni(rng);
        if (kind == 0) d = static_cast<double>(static_cast<int>(bits % 41) - 20);
        if (kind == 1) d = (bits & 1) ? -0.0 : 0.0;
        if (kind == 2) {
          std::uint64_t u = bits;
          if ((u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull) u &= ~0x4000000000000000ull;
          std::memcpy(&d, &u, 8);
        }
        put(b, i, d);
        break;
      }
    }
  }
  return b;
}

// ---- scalar reference ----------------------------------------------------------------------

// Integers: sum and product in 64-bit unsigned arithmetic (modulo 2^64), truncated to the
// storage type, i.e. two's-complement wrap-around; min and max compare as the type is signed.
template <class T>
T ref_int(T a, T b, RedOp op) {
  const auto ua = static_cast<std::uint64_t>(a);
  const auto ub = static_cast<std::uint64_t>(b);
  switch (op) {
    case RedOp::sum:
      return static_cast<T>(ua + ub);
    case RedOp::prod:
      return static_cast<T>(ua * ub);
    case RedOp::min:
      return std::min(a, b);
    case RedOp::max:
      return std::max(a, b);
  }
  return T{};
}

template <class F>
F ref_float(F a, F b, RedOp op) {
  switch (op) {
    case RedOp::sum:
      return a + b;
    case RedOp::prod:
      return a * b;
    case RedOp::min:
      return std::min(a, b);
    case RedOp::max:
      return std::max(a, b);
  }
  return F{};
}

template <class T>
void ref_int_loop(Buf& out, const Buf& a, const Buf& b, std::size_t n, RedOp op) {
  for (std::size_t i = 0; i < n; ++i) put(out, i, ref_int(load<T>(a, i), load<T>(b, i), op));
}

template <class F>
void ref_float_loop(Buf& out, const Buf& a, const Buf& b, std::size_t n, RedOp op) {
  for (std::size_t i = 0; i < n; ++i) put(out, i, ref_float(load<F>(a, i), load<F>(b, i), op));
}

// 16-bit floats: convert to float32, reduce, convert back (one rounding).
void ref_16_loop(Buf& out, const Buf& a, const Buf& b, std::size_t n, RedOp op, bool half) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = load<std::uint16_t>(a, i);
    const auto y = load<std::uint16_t>(b, i);
    const float fx = half ? half_to_float(x) : bf16_to_float(x);
    const float fy = half ? half_to_float(y) : bf16_to_float(y);
    const float r = ref_float(fx, fy, op);
    put(out, i, half ? float_to_half(r) : float_to_bf16(r));
  }
}

Buf reference(DType t, RedOp op, const Buf& a, const Buf& b, std::size_t n) {
  Buf out(n * dtype_size(t));
  switch (t) {
    case DType::int8:
      ref_int_loop<std::int8_t>(out, a, b, n, op);
      break;
    case DType::uint8:
      ref_int_loop<std::uint8_t>(out, a, b, n, op);
      break;
    case DType::int32:
      ref_int_loop<std::int32_t>(out, a, b, n, op);
      break;
    case DType::uint32:
      ref_int_loop<std::uint32_t>(out, a, b, n, op);
      break;
    case DType::int64:
      ref_int_loop<std::int64_t>(out, a, b, n, op);
      break;
    case DType::uint64:
      ref_int_loop<std::uint64_t>(out, a, b, n, op);
      break;
    case DType::float16:
      ref_16_loop(out, a, b, n, op, true);
      break;
    case DType::bfloat16:
      ref_16_loop(out, a, b, n, op, false);
      break;
    case DType::float32:
      ref_float_loop<float>(out, a, b, n, op);
      break;
    case DType::float64:
      ref_float_loop<double>(out, a, b, n, op);
      break;
  }
  return out;
}

std::size_t first_mismatch(const Buf& got, const Buf& want, std::size_t es) {
  for (std::size_t i = 0; i + es <= want.size(); i += es)
    if (std::memcmp(got.data() + i, want.data() + i, es) != 0) return i / es;
  return static_cast<std::size_t>(-1);
}

// ---- every dtype x redop x length ----------------------------------------------------------

class ReduceByDType : public ::testing::TestWithParam<DType> {};

INSTANTIATE_TEST_SUITE_P(AllDTypes, ReduceByDType, ::testing::ValuesIn(all_dtypes()),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

TEST_P(ReduceByDType, MatchesScalarReference) {
  const DType t = GetParam();
  const std::size_t es = dtype_size(t);
  std::mt19937_64 rng(0x5eed0000u + static_cast<unsigned>(t));
  for (RedOp op : all_redops()) {
    for (std::size_t n : kLengths) {
      SCOPED_TRACE(trace(t, op, n));
      const Buf a = random_elements(t, n, rng);
      const Buf b = random_elements(t, n, rng);
      const Buf want = reference(t, op, a, b, n);

      // Out of place, at an offset of one element (unaligned for the vector loops), with guard
      // elements on both sides that must stay untouched.
      Buf out((n + 2) * es, 0xa5);
      reduce_into(out.data() + es, a.data(), b.data(), n, t, op);
      const Buf got(out.begin() + static_cast<std::ptrdiff_t>(es),
                    out.end() - static_cast<std::ptrdiff_t>(es));
      EXPECT_EQ(got, want) << "first mismatch at " << first_mismatch(got, want, es);
      for (std::size_t i = 0; i < es; ++i) {
        EXPECT_EQ(out[i], 0xa5) << "guard before";
        EXPECT_EQ(out[(n + 1) * es + i], 0xa5) << "guard after";
      }

      // out aliases a.
      Buf x = a;
      reduce_into(x.data(), x.data(), b.data(), n, t, op);
      EXPECT_EQ(x, want) << "out == a, first mismatch at " << first_mismatch(x, want, es);
      // out aliases b.
      Buf y = b;
      reduce_into(y.data(), a.data(), y.data(), n, t, op);
      EXPECT_EQ(y, want) << "out == b, first mismatch at " << first_mismatch(y, want, es);
      // reduce_inplace is out == a.
      Buf z = a;
      reduce_inplace(z.data(), b.data(), n, t, op);
      EXPECT_EQ(z, want) << "inplace, first mismatch at " << first_mismatch(z, want, es);
      // a op a, all three the same buffer.
      Buf w = a;
      reduce_into(w.data(), w.data(), w.data(), n, t, op);
      EXPECT_EQ(w, reference(t, op, a, a, n)) << "out == a == b";
    }
  }
}

// ---- integer wrap-around -------------------------------------------------------------------

template <class T>
T reduce_one(T a, T b, DType t, RedOp op) {
  T out{};
  reduce_into(&out, &a, &b, 1, t, op);
  return out;
}

TEST(Reduce, Int8WrapsAround) {
  const DType t = DType::int8;
  using I = std::int8_t;
  EXPECT_EQ(reduce_one<I>(127, 1, t, RedOp::sum), -128);
  EXPECT_EQ(reduce_one<I>(-128, -1, t, RedOp::sum), 127);
  EXPECT_EQ(reduce_one<I>(100, 100, t, RedOp::sum), -56);
  EXPECT_EQ(reduce_one<I>(64, 2, t, RedOp::prod), -128);
  EXPECT_EQ(reduce_one<I>(16, 16, t, RedOp::prod), 0);
  EXPECT_EQ(reduce_one<I>(-128, -1, t, RedOp::prod), -128);
  EXPECT_EQ(reduce_one<I>(-7, 3, t, RedOp::prod), -21);
  EXPECT_EQ(reduce_one<I>(-128, 127, t, RedOp::min), -128);  // signed compare
  EXPECT_EQ(reduce_one<I>(-1, 1, t, RedOp::max), 1);
}

TEST(Reduce, Uint8WrapsAround) {
  const DType t = DType::uint8;
  using U = std::uint8_t;
  EXPECT_EQ(reduce_one<U>(255, 1, t, RedOp::sum), 0);
  EXPECT_EQ(reduce_one<U>(200, 100, t, RedOp::sum), 44);
  EXPECT_EQ(reduce_one<U>(16, 16, t, RedOp::prod), 0);
  EXPECT_EQ(reduce_one<U>(255, 255, t, RedOp::prod), 1);   // 65025 mod 256
  EXPECT_EQ(reduce_one<U>(3, 100, t, RedOp::prod), 44);    // 300 mod 256
  EXPECT_EQ(reduce_one<U>(200, 100, t, RedOp::max), 200);  // unsigned compare
  EXPECT_EQ(reduce_one<U>(0, 255, t, RedOp::min), 0);
}

TEST(Reduce, WideIntegersWrapAround) {
  using I32 = std::int32_t;
  using I64 = std::int64_t;
  const I32 i32max = std::numeric_limits<I32>::max();
  const I32 i32min = std::numeric_limits<I32>::min();
  const I64 i64max = std::numeric_limits<I64>::max();
  const I64 i64min = std::numeric_limits<I64>::min();
  EXPECT_EQ(reduce_one<I32>(i32max, 1, DType::int32, RedOp::sum), i32min);
  EXPECT_EQ(reduce_one<I32>(i32min, -1, DType::int32, RedOp::sum), i32max);
  EXPECT_EQ(reduce_one<I32>(i32max, 2, DType::int32, RedOp::prod), -2);
  EXPECT_EQ(reduce_one<I32>(65536, 65536, DType::int32, RedOp::prod), 0);
  EXPECT_EQ(reduce_one<I64>(i64max, 1, DType::int64, RedOp::sum), i64min);
  EXPECT_EQ(reduce_one<I64>(i64min, i64min, DType::int64, RedOp::sum), 0);
  EXPECT_EQ(reduce_one<I64>(i64max, i64max, DType::int64, RedOp::prod), 1);
  EXPECT_EQ(reduce_one<std::uint32_t>(0xffffffffu, 2u, DType::uint32, RedOp::sum), 1u);
  EXPECT_EQ(reduce_one<std::uint64_t>(~0ull, ~0ull, DType::uint64, RedOp::prod), 1ull);
  EXPECT_EQ(reduce_one<I64>(i64min, 5, DType::int64, RedOp::min), i64min);
  EXPECT_EQ(reduce_one<std::uint64_t>(~0ull, 5, DType::uint64, RedOp::max), ~0ull);
}

// ---- 16-bit floats: float32 arithmetic, one rounding -----------------------------------------

std::uint16_t reduce16(std::uint16_t a, std::uint16_t b, DType t, RedOp op) {
  return reduce_one(a, b, t, op);
}

TEST(Reduce, Float16RoundsOnceToNearestEven) {
  const DType t = DType::float16;
  const auto h = [](float f) { return float_to_half(f); };
  EXPECT_EQ(reduce16(h(2048), h(1), t, RedOp::sum), h(2048));                // 2049: tie, even is 2048
  EXPECT_EQ(reduce16(h(2048), h(3), t, RedOp::sum), h(2052));                // 2051: tie, even is 2052
  EXPECT_EQ(reduce16(h(1), h(std::ldexp(1.0f, -11)), t, RedOp::sum), h(1));  // half an ulp of 1
  EXPECT_EQ(reduce16(h(65504), h(16), t, RedOp::sum), 0x7c00);               // 65520: tie rounds to inf
  EXPECT_EQ(reduce16(h(65504), h(8), t, RedOp::sum), h(65504));
  EXPECT_EQ(reduce16(h(65504), h(-65504), t, RedOp::sum), 0x0000);
  EXPECT_EQ(reduce16(h(300), h(300), t, RedOp::prod), 0x7c00);  // 90000 overflows
  EXPECT_EQ(reduce16(h(-1), h(0.5f), t, RedOp::min), h(-1));    // not a bitwise compare
  EXPECT_EQ(reduce16(h(-1), h(-2), t, RedOp::max), h(-1));
  EXPECT_EQ(reduce16(0x0001, 0x0001, t, RedOp::sum), 0x0002);    // subnormals add exactly
  EXPECT_EQ(reduce16(0x0001, h(0.5f), t, RedOp::prod), 0x0000);  // 2^-25: tie, even is 0
  // 1 + 2^-11 + 2^-11 rounded once per call: each call's result is rounded, so two calls of
  // +2^-11 leave 1 unchanged, while one call of +2^-10 moves it.
  std::uint16_t acc = h(1);
  acc = reduce16(acc, h(std::ldexp(1.0f, -11)), t, RedOp::sum);
  acc = reduce16(acc, h(std::ldexp(1.0f, -11)), t, RedOp::sum);
  EXPECT_EQ(acc, h(1));
  EXPECT_EQ(reduce16(h(1), h(std::ldexp(1.0f, -10)), t, RedOp::sum), h(1.0f + std::ldexp(1.0f, -10)));
}

TEST(Reduce, BFloat16RoundsOnceToNearestEven) {
  const DType t = DType::bfloat16;
  const auto b = [](float f) { return float_to_bf16(f); };
  EXPECT_EQ(reduce16(b(256), b(1), t, RedOp::sum), b(256));  // 257: tie, even is 256
  EXPECT_EQ(reduce16(b(256), b(3), t, RedOp::sum), b(260));  // 259: tie, even is 260
  EXPECT_EQ(reduce16(b(1), b(std::ldexp(1.0f, -8)), t, RedOp::sum), b(1));
  EXPECT_EQ(reduce16(b(1), b(3 * std::ldexp(1.0f, -8)), t, RedOp::sum), b(1 + std::ldexp(1.0f, -6)));
  EXPECT_EQ(reduce16(b(3), b(7), t, RedOp::prod), b(21));
  EXPECT_EQ(reduce16(b(-3), b(2), t, RedOp::min), b(-3));
  EXPECT_EQ(reduce16(0x7f7f, 0x7f7f, t, RedOp::sum), 0x7f80);  // max + max: inf
}

// The one rounding from float32 is the correctly rounded IEEE result: compare with the exact
// result (in double, where sums and products of two 16-bit floats are exact) rounded once.
#ifdef __FLT16_MANT_DIG__
TEST(Reduce, Float16MatchesCorrectlyRoundedArithmetic) {
  std::mt19937_64 rng(42);
  const std::size_t n = 100000;
  const Buf a = random_elements(DType::float16, n, rng);
  const Buf b = random_elements(DType::float16, n, rng);
  for (RedOp op : all_redops()) {
    Buf out(n * 2);
    reduce_into(out.data(), a.data(), b.data(), n, DType::float16, op);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = half_to_float(load<std::uint16_t>(a, i));
      const double y = half_to_float(load<std::uint16_t>(b, i));
      const volatile double exact = ref_float(x, y, op);
      const _Float16 r = static_cast<_Float16>(exact);
      std::uint16_t want;
      std::memcpy(&want, &r, 2);
      ASSERT_EQ(load<std::uint16_t>(out, i), want) << redop_name(op) << " " << x << " " << y;
    }
  }
}
#endif

// Round an exact double to the nearest bfloat16 (ties to even), from the format's definition.
double round_to_bf16(double v) {
  if (v == 0) return v;
  int e;
  std::frexp(std::fabs(v), &e);         // |v| in [2^(e-1), 2^e)
  const int q = std::max(e - 8, -133);  // ulp: 8 significant bits, subnormals at 2^-133
  const double r = std::ldexp(std::nearbyint(std::ldexp(v, -q)), q);
  if (std::fabs(r) >= std::ldexp(1.0, 128)) return std::copysign(std::numeric_limits<double>::infinity(), v);
  return r;
}

TEST(Reduce, BFloat16MatchesCorrectlyRoundedArithmetic) {
  std::mt19937_64 rng(43);
  const std::size_t n = 100000;
  // Magnitudes within 2^+-60 so products stay in float32's normal range (the sum is exact in
  // float32 anywhere, the product is not once it falls below 2^-126).
  Buf a(n * 2), b(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    for (Buf* buf : {&a, &b}) {
      const std::uint64_t bits = rng();
      const int exp = static_cast<int>(bits % 121) - 60 + 127;
      const auto h = static_cast<std::uint16_t>(((bits >> 8) & 0x8000u) | (static_cast<unsigned>(exp) << 7) |
                                                ((bits >> 20) & 0x7fu));
      put(*buf, i, h);
    }
  }
  for (RedOp op : all_redops()) {
    Buf out(n * 2);
    reduce_into(out.data(), a.data(), b.data(), n, DType::bfloat16, op);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = bf16_to_float(load<std::uint16_t>(a, i));
      const double y = bf16_to_float(load<std::uint16_t>(b, i));
      const std::uint16_t want = float_to_bf16(static_cast<float>(round_to_bf16(ref_float(x, y, op))));
      ASSERT_EQ(load<std::uint16_t>(out, i), want) << redop_name(op) << " " << x << " " << y;
    }
  }
}

}  // namespace
}  // namespace fb
