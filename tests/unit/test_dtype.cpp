// Element types and reduction operators: names, aliases, sizes, exact ranges, and the IEEE
// binary16 / bfloat16 conversions (exhaustive where the domain is 16 bits wide).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <string>

#include "collectives/dtype.hpp"

namespace fb {
namespace {

std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

bool half_is_nan(std::uint16_t h) {
  return (h & 0x7c00u) == 0x7c00u && (h & 0x03ffu) != 0;
}
bool bf16_is_nan(std::uint16_t b) {
  return (b & 0x7f80u) == 0x7f80u && (b & 0x007fu) != 0;
}

// binary16 decoded straight from the definition, in double: (-1)^s * 2^(e-15) * 1.m, or
// 2^-14 * 0.m for subnormals.
double half_reference(std::uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int exp = (h >> 10) & 0x1f;
  const int man = h & 0x3ff;
  double v;
  if (exp == 0x1f)
    v = std::numeric_limits<double>::infinity();
  else if (exp == 0)
    v = std::ldexp(static_cast<double>(man), -24);
  else
    v = std::ldexp(static_cast<double>(1024 + man), exp - 25);
  return sign ? -v : v;
}

// ---- names, aliases, sizes ---------------------------------------------------------------

TEST(DType, AllDTypesInEnumOrderAndUnique) {
  const auto& all = all_dtypes();
  ASSERT_EQ(all.size(), 10u);
  std::set<std::string> names;
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(all[i]), i);
    names.insert(std::string(dtype_name(all[i])));
  }
  EXPECT_EQ(names.size(), all.size());
}

TEST(DType, CanonicalNamesRoundTrip) {
  for (DType t : all_dtypes()) {
    const auto parsed = parse_dtype(dtype_name(t));
    ASSERT_TRUE(parsed.has_value()) << dtype_name(t);
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_EQ(dtype_name(DType::int8), "int8");
  EXPECT_EQ(dtype_name(DType::uint64), "uint64");
  EXPECT_EQ(dtype_name(DType::float16), "float16");
  EXPECT_EQ(dtype_name(DType::bfloat16), "bfloat16");
  EXPECT_EQ(dtype_name(DType::float64), "float64");
}

TEST(DType, AliasesAndCaseInsensitivity) {
  const std::pair<const char*, DType> cases[] = {
      {"char", DType::int8},      {"uchar", DType::uint8},       {"int", DType::int32},
      {"uint", DType::uint32},    {"long", DType::int64},        {"ulong", DType::uint64},
      {"half", DType::float16},   {"fp16", DType::float16},      {"bf16", DType::bfloat16},
      {"float", DType::float32},  {"fp32", DType::float32},      {"double", DType::float64},
      {"fp64", DType::float64},   {"FLOAT16", DType::float16},   {"Half", DType::float16},
      {"BF16", DType::bfloat16},  {"BFloat16", DType::bfloat16}, {"Int32", DType::int32},
      {"DOUBLE", DType::float64},
  };
  for (const auto& [name, want] : cases) {
    const auto got = parse_dtype(name);
    ASSERT_TRUE(got.has_value()) << name;
    EXPECT_EQ(*got, want) << name;
  }
}

TEST(DType, RejectsUnknownNames) {
  for (const char* bad : {"", "int16", "uint16", "float128", "bf", "f16", "int8 ", " int8", "float16x", "i8"})
    EXPECT_FALSE(parse_dtype(bad).has_value()) << "'" << bad << "'";
}

TEST(DType, SizesAndKinds) {
  struct Row {
    DType t;
    std::size_t size;
    bool is_float;
    bool is_signed;
  };
  const Row rows[] = {
      {DType::int8, 1, false, true},    {DType::uint8, 1, false, false},  {DType::int32, 4, false, true},
      {DType::uint32, 4, false, false}, {DType::int64, 8, false, true},   {DType::uint64, 8, false, false},
      {DType::float16, 2, true, true},  {DType::bfloat16, 2, true, true}, {DType::float32, 4, true, true},
      {DType::float64, 8, true, true},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(std::string(dtype_name(r.t)));
    EXPECT_EQ(dtype_size(r.t), r.size);
    EXPECT_EQ(dtype_is_float(r.t), r.is_float);
    EXPECT_EQ(dtype_is_signed(r.t), r.is_signed);
  }
}

TEST(RedOp, NamesParseAndRoundTrip) {
  const auto& all = all_redops();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], RedOp::sum);
  EXPECT_EQ(all[1], RedOp::prod);
  EXPECT_EQ(all[2], RedOp::min);
  EXPECT_EQ(all[3], RedOp::max);
  EXPECT_EQ(redop_name(RedOp::sum), "sum");
  EXPECT_EQ(redop_name(RedOp::prod), "prod");
  EXPECT_EQ(redop_name(RedOp::min), "min");
  EXPECT_EQ(redop_name(RedOp::max), "max");
  for (RedOp op : all) {
    const auto p = parse_redop(redop_name(op));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, op);
  }
  EXPECT_EQ(parse_redop("SUM"), RedOp::sum);
  EXPECT_EQ(parse_redop("Max"), RedOp::max);
  for (const char* bad : {"", "avg", "add", "mul", "minimum", "sum "})
    EXPECT_FALSE(parse_redop(bad).has_value()) << "'" << bad << "'";
}

// ---- exact ranges ----------------------------------------------------------------------------

TEST(DType, ExactMaxValues) {
  EXPECT_EQ(dtype_exact_max(DType::int8), 127.0);
  EXPECT_EQ(dtype_exact_max(DType::uint8), 255.0);
  EXPECT_EQ(dtype_exact_max(DType::int32), 2147483647.0);
  EXPECT_EQ(dtype_exact_max(DType::uint32), 4294967295.0);
  EXPECT_EQ(dtype_exact_max(DType::int64), 9007199254740992.0);  // 2^53: patterns go through double
  EXPECT_EQ(dtype_exact_max(DType::uint64), 9007199254740992.0);
  EXPECT_EQ(dtype_exact_max(DType::float16), 2048.0);
  EXPECT_EQ(dtype_exact_max(DType::bfloat16), 256.0);
  EXPECT_EQ(dtype_exact_max(DType::float32), 16777216.0);
  EXPECT_EQ(dtype_exact_max(DType::float64), 9007199254740992.0);
}

TEST(DType, ExactMaxIsTheEdgeOfExactIntegersForFloats) {
  // float16: every integer in [-2048, 2048] survives the conversion, 2049 does not.
  for (int i = -2048; i <= 2048; ++i)
    ASSERT_EQ(half_to_float(float_to_half(static_cast<float>(i))), static_cast<float>(i)) << i;
  EXPECT_NE(half_to_float(float_to_half(2049.0f)), 2049.0f);
  // bfloat16: every integer in [-256, 256], not 257.
  for (int i = -256; i <= 256; ++i)
    ASSERT_EQ(bf16_to_float(float_to_bf16(static_cast<float>(i))), static_cast<float>(i)) << i;
  EXPECT_NE(bf16_to_float(float_to_bf16(257.0f)), 257.0f);
  // float32 and float64: N is representable, N + 1 is not.
  const double n32 = dtype_exact_max(DType::float32);
  EXPECT_EQ(static_cast<double>(static_cast<float>(n32)), n32);
  EXPECT_NE(static_cast<double>(static_cast<float>(n32 + 1.0)), n32 + 1.0);
  const long double n64 = dtype_exact_max(DType::float64);
  EXPECT_EQ(static_cast<long double>(static_cast<double>(n64 + 1.0L)), n64);  // 2^53 + 1 rounds back
  // The integer types' bounds are their maxima.
  EXPECT_EQ(dtype_exact_max(DType::int8), std::numeric_limits<std::int8_t>::max());
  EXPECT_EQ(dtype_exact_max(DType::uint8), std::numeric_limits<std::uint8_t>::max());
  EXPECT_EQ(dtype_exact_max(DType::int32), std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(dtype_exact_max(DType::uint32), std::numeric_limits<std::uint32_t>::max());
}

// ---- float16 ----------------------------------------------------------------------------------

TEST(Float16, DecodesEveryBitPatternAsTheDefinition) {
  for (std::uint32_t h = 0; h <= 0xffffu; ++h) {
    const auto b = static_cast<std::uint16_t>(h);
    const float f = half_to_float(b);
    if (half_is_nan(b)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000u) != 0) << std::hex << h;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), half_reference(b)) << std::hex << h;
    ASSERT_EQ(std::signbit(f), (h & 0x8000u) != 0) << std::hex << h;  // -0 stays -0
  }
}

TEST(Float16, RoundTripsEveryNonNanBitPattern) {
  int checked = 0;
  for (std::uint32_t h = 0; h <= 0xffffu; ++h) {
    const auto b = static_cast<std::uint16_t>(h);
    if (half_is_nan(b)) continue;
    ASSERT_EQ(float_to_half(half_to_float(b)), b) << std::hex << h;
    ++checked;
  }
  EXPECT_EQ(checked, 65536 - 2 * 1023);  // 2 signs x 1023 NaN payloads excluded
}

TEST(Float16, NanStaysNan) {
  for (std::uint32_t h = 0; h <= 0xffffu; ++h) {
    const auto b = static_cast<std::uint16_t>(h);
    if (!half_is_nan(b)) continue;
    ASSERT_TRUE(half_is_nan(float_to_half(half_to_float(b)))) << std::hex << h;
  }
  EXPECT_TRUE(half_is_nan(float_to_half(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(half_is_nan(float_to_half(-std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(half_is_nan(float_to_half(bits_float(0x7f800001u))));  // signalling, tiny payload
  EXPECT_TRUE(half_is_nan(float_to_half(bits_float(0xff800001u))));
}

TEST(Float16, KnownValues) {
  EXPECT_EQ(float_to_half(0.0f), 0x0000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(0.5f), 0x3800);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -14)), 0x0400);     // smallest normal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);     // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1023.0f, -24)), 0x03ff);  // largest subnormal
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
}

// Every pair of adjacent finite halves (both signs, subnormals included): the exact midpoint
// rounds to the even neighbour, anything above it to the upper, anything below to the lower.
TEST(Float16, RoundsToNearestEvenAtEveryMidpoint) {
  for (std::uint32_t lo = 0; lo < 0x7bffu; ++lo) {
    const auto a = static_cast<std::uint16_t>(lo);
    const auto b = static_cast<std::uint16_t>(lo + 1);
    const double fa = half_reference(a);
    const double fb = half_reference(b);
    const auto mid = static_cast<float>((fa + fb) / 2);  // 12 significant bits: exact in float
    ASSERT_EQ(static_cast<double>(mid), (fa + fb) / 2);
    const std::uint16_t even = (lo & 1u) ? b : a;
    const float above = std::nextafter(mid, 1e9f);
    const float below = std::nextafter(mid, -1e9f);
    for (std::uint16_t sign : {std::uint16_t{0}, std::uint16_t{0x8000}}) {
      const float s = sign ? -1.0f : 1.0f;
      ASSERT_EQ(float_to_half(s * mid), even | sign) << std::hex << lo;
      ASSERT_EQ(float_to_half(s * above), b | sign) << std::hex << lo;
      ASSERT_EQ(float_to_half(s * below), a | sign) << std::hex << lo;
      ASSERT_EQ(float_to_half(s * static_cast<float>(fa)), a | sign) << std::hex << lo;
    }
  }
}

TEST(Float16, Subnormals) {
  const float tiny = std::ldexp(1.0f, -24);
  EXPECT_EQ(float_to_half(tiny * 0.5f), 0x0000);  // halfway to 0: even is 0
  EXPECT_EQ(float_to_half(std::nextafter(tiny * 0.5f, 1.0f)), 0x0001);
  EXPECT_EQ(float_to_half(tiny * 0.25f), 0x0000);
  EXPECT_EQ(float_to_half(tiny * 1.5f), 0x0002);  // 1.5 -> 2 (even)
  EXPECT_EQ(float_to_half(tiny * 2.5f), 0x0002);  // 2.5 -> 2 (even)
  EXPECT_EQ(float_to_half(tiny * 3.5f), 0x0004);
  EXPECT_EQ(float_to_half(tiny * 1023.5f), 0x0400);  // rounds up into the smallest normal
  EXPECT_EQ(float_to_half(-tiny * 0.5f), 0x8000);    // sign survives underflow to zero
  EXPECT_EQ(float_to_half(1e-30f), 0x0000);
  EXPECT_EQ(float_to_half(-1e-30f), 0x8000);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(float_to_half(-std::numeric_limits<float>::denorm_min()), 0x8000);
  for (std::uint16_t m = 1; m < 0x400; ++m) {
    EXPECT_EQ(half_to_float(m), std::ldexp(static_cast<float>(m), -24));
    EXPECT_EQ(float_to_half(std::ldexp(static_cast<float>(m), -24)), m);
  }
}

TEST(Float16, OverflowToInfinity) {
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);  // below the midpoint to 2^16
  EXPECT_EQ(float_to_half(std::nextafter(65520.0f, 0.0f)), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // midpoint: 65504 is odd, so up to inf
  EXPECT_EQ(float_to_half(65536.0f), 0x7c00);
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::max()), 0x7c00);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_half(-65520.0f), 0xfc00);
  EXPECT_EQ(float_to_half(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(float_to_half(-65519.0f), 0xfbff);
  EXPECT_TRUE(std::isinf(half_to_float(0x7c00)));
  EXPECT_TRUE(std::isinf(half_to_float(0xfc00)));
  EXPECT_LT(half_to_float(0xfc00), 0.0f);
}

#ifdef __FLT16_MANT_DIG__
// The compiler's own correctly rounded float -> _Float16 conversion as an independent reference,
// over a stride through all 2^32 float bit patterns.
TEST(Float16, MatchesCompilerConversionOnStridedFloats) {
  for (std::uint64_t u = 0; u <= 0xffffffffull; u += 997) {
    const float f = bits_float(static_cast<std::uint32_t>(u));
    if (std::isnan(f)) continue;
    const volatile float vf = f;
    const _Float16 h = static_cast<_Float16>(vf);
    std::uint16_t want;
    std::memcpy(&want, &h, 2);
    ASSERT_EQ(float_to_half(f), want) << std::hex << u;
  }
}
#endif

// ---- bfloat16 -------------------------------------------------------------------------------

TEST(BFloat16, DecodeIsTheUpperHalfOfAFloat) {
  for (std::uint32_t b = 0; b <= 0xffffu; ++b)
    ASSERT_EQ(float_bits(bf16_to_float(static_cast<std::uint16_t>(b))), b << 16) << std::hex << b;
}

TEST(BFloat16, RoundTripsEveryNonNanBitPattern) {
  for (std::uint32_t b = 0; b <= 0xffffu; ++b) {
    const auto v = static_cast<std::uint16_t>(b);
    if (bf16_is_nan(v)) {
      ASSERT_TRUE(bf16_is_nan(float_to_bf16(bf16_to_float(v)))) << std::hex << b;
      continue;
    }
    ASSERT_EQ(float_to_bf16(bf16_to_float(v)), v) << std::hex << b;
  }
}

TEST(BFloat16, RoundsToNearestEvenAtEveryMidpoint) {
  // Adjacent finite bf16 values of both signs, including subnormals and max -> inf.
  for (std::uint32_t lo = 0; lo < 0x7f80u; ++lo) {
    const std::uint32_t mid = (lo << 16) | 0x8000u;  // exactly halfway to lo + 1
    const auto a = static_cast<std::uint16_t>(lo);
    const auto b = static_cast<std::uint16_t>(lo + 1);
    const std::uint16_t even = (lo & 1u) ? b : a;
    for (std::uint32_t sign : {0u, 0x80000000u}) {
      const auto s16 = static_cast<std::uint16_t>(sign >> 16);
      ASSERT_EQ(float_to_bf16(bits_float(sign | mid)), even | s16) << std::hex << lo;
      ASSERT_EQ(float_to_bf16(bits_float(sign | (mid + 1))), b | s16) << std::hex << lo;
      ASSERT_EQ(float_to_bf16(bits_float(sign | (mid - 1))), a | s16) << std::hex << lo;
      ASSERT_EQ(float_to_bf16(bits_float(sign | (lo << 16) | 0x7fffu)), a | s16) << std::hex << lo;
    }
  }
}

TEST(BFloat16, KnownValuesOverflowAndNan) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(float_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(float_to_bf16(3.140625f), 0x4049);
  EXPECT_EQ(float_to_bf16(257.0f), 0x4380);                             // 257 -> 256 (tie, even)
  EXPECT_EQ(float_to_bf16(259.0f), 0x4382);                             // 259 -> 260 (tie, even)
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to inf
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(float_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  // NaNs must stay NaN even when only low payload bits are set (naive rounding would give inf).
  for (std::uint32_t u : {0x7f800001u, 0x7fc00000u, 0xff800001u, 0x7fffffffu, 0xffffffffu}) {
    const std::uint16_t b = float_to_bf16(bits_float(u));
    EXPECT_TRUE(bf16_is_nan(b)) << std::hex << u << " -> " << b;
    EXPECT_EQ(b & 0x8000u, (u >> 16) & 0x8000u) << std::hex << u;
  }
}

}  // namespace
}  // namespace fb
