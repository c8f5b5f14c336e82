// Element types and reduction operators: names, sizes, and exact-integer ranges.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fb {

enum class DType { int8, uint8, int32, uint32, int64, uint64, float16, bfloat16, float32, float64 };
enum class RedOp { sum, prod, min, max };

std::size_t dtype_size(DType t);
std::string_view dtype_name(DType t);
std::optional<DType> parse_dtype(std::string_view s);  // accepts aliases (float, half, bf16, ...)
const std::vector<DType>& all_dtypes();
bool dtype_is_float(DType t);
bool dtype_is_signed(DType t);
// Largest integer N such that every integer in [-N, N] (or [0, N] for unsigned) is exactly
// representable and arithmetic on such integers is exact.
double dtype_exact_max(DType t);

std::string_view redop_name(RedOp op);
std::optional<RedOp> parse_redop(std::string_view s);
const std::vector<RedOp>& all_redops();

// IEEE binary16 and bfloat16 conversions (round to nearest even), after F. Giesen's
// half_to_float_fast5 / float_to_half_fast3_rtne. Inline, and every choice is a bit-mask select
// rather than a branch or ?:, so loops over them vectorise (GCC keeps ?: here as control flow).
namespace detail {
inline std::uint32_t select(bool c, std::uint32_t a, std::uint32_t b) {
  const std::uint32_t m = 0u - static_cast<std::uint32_t>(c);
  return (a & m) | (b & ~m);
}
}  // namespace detail

inline float half_to_float(std::uint16_t h) {
  constexpr std::uint32_t shifted_exp = 0x7c00u << 13;
  std::uint32_t o = (static_cast<std::uint32_t>(h) & 0x7fffu) << 13;
  const std::uint32_t exp = shifted_exp & o;
  o += (127u - 15u) << 23;
  const std::uint32_t inf_nan = o + ((128u - 16u) << 23);
  // Zero/subnormal: renormalise through a float subtraction.
  const float sub_f = std::bit_cast<float>(o + (1u << 23)) - std::bit_cast<float>(113u << 23);
  const std::uint32_t sub_u = std::bit_cast<std::uint32_t>(sub_f);
  o = detail::select(exp == shifted_exp, inf_nan, detail::select(exp == 0, sub_u, o));
  o |= (static_cast<std::uint32_t>(h) & 0x8000u) << 16;
  return std::bit_cast<float>(o);
}

inline std::uint16_t float_to_half(float f) {
  constexpr std::uint32_t f32_inf = 255u << 23;
  constexpr std::uint32_t f16_max = (127u + 16u) << 23;
  constexpr std::uint32_t denorm_magic_u = ((127u - 15u) + (23u - 10u) + 1u) << 23;
  std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = u & 0x80000000u;
  u ^= sign;
  // Inf or NaN (or overflow to Inf).
  const std::uint32_t big = detail::select(u > f32_inf, 0x7e00u, 0x7c00u);
  // Subnormal or zero: let the FPU round by adding a magic number.
  const float a = std::bit_cast<float>(u) + std::bit_cast<float>(denorm_magic_u);
  const std::uint32_t small = std::bit_cast<std::uint32_t>(a) - denorm_magic_u;
  // Normal: rebias and round the mantissa to nearest even.
  const std::uint32_t mant_odd = (u >> 13) & 1u;
  const std::uint32_t normal = (u + ((15u - 127u) << 23) + 0xfffu + mant_odd) >> 13;
  const std::uint32_t o = detail::select(u >= f16_max, big, detail::select(u < (113u << 23), small, normal));
  return static_cast<std::uint16_t>(o | (sign >> 16));
}

inline float bf16_to_float(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

inline std::uint16_t float_to_bf16(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const std::uint32_t nan = (u >> 16) | 0x40u;  // quiet NaN, sign kept
  return static_cast<std::uint16_t>(detail::select((u & 0x7fffffffu) > 0x7f800000u, nan, rounded));
}

}  // namespace fb
