// Element types and reduction operators: names, sizes, and exact-integer ranges.
#pragma once

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

// IEEE binary16 and bfloat16 conversions (round to nearest even). Inline and written with
// selects instead of branches so reduction loops over them vectorise (after F. Giesen's
// half_to_float_fast5 / float_to_half_fast3_rtne).
inline float half_to_float(std::uint16_t h) {
  constexpr std::uint32_t shifted_exp = 0x7c00u << 13;
  const std::uint32_t magic_u = 113u << 23;
  std::uint32_t o = (static_cast<std::uint32_t>(h) & 0x7fffu) << 13;
  const std::uint32_t exp = shifted_exp & o;
  o += (127u - 15u) << 23;
  const std::uint32_t inf_nan = o + ((128u - 16u) << 23);
  // Zero/subnormal: renormalise through a float subtraction.
  float sub_f, magic_f;
  const std::uint32_t sub_in = o + (1u << 23);
  __builtin_memcpy(&sub_f, &sub_in, 4);
  __builtin_memcpy(&magic_f, &magic_u, 4);
  sub_f -= magic_f;
  std::uint32_t sub_u;
  __builtin_memcpy(&sub_u, &sub_f, 4);
  o = exp == shifted_exp ? inf_nan : (exp == 0 ? sub_u : o);
  o |= (static_cast<std::uint32_t>(h) & 0x8000u) << 16;
  float out;
  __builtin_memcpy(&out, &o, 4);
  return out;
}
inline std::uint16_t float_to_half(float f) {
  constexpr std::uint32_t f32_inf = 255u << 23;
  constexpr std::uint32_t f16_max = (127u + 16u) << 23;
  constexpr std::uint32_t denorm_magic_u = ((127u - 15u) + (23u - 10u) + 1u) << 23;
  std::uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  const std::uint32_t sign = u & 0x80000000u;
  u ^= sign;
  // Inf or NaN (or overflow to Inf).
  const std::uint32_t big = u > f32_inf ? 0x7e00u : 0x7c00u;
  // Subnormal or zero: let the FPU round by adding a magic number.
  float a, magic;
  __builtin_memcpy(&a, &u, 4);
  __builtin_memcpy(&magic, &denorm_magic_u, 4);
  a += magic;
  std::uint32_t au;
  __builtin_memcpy(&au, &a, 4);
  const std::uint32_t small = au - denorm_magic_u;
  // Normal: rebias and round the mantissa to nearest even.
  const std::uint32_t mant_odd = (u >> 13) & 1u;
  const std::uint32_t normal = (u + ((15u - 127u) << 23) + 0xfffu + mant_odd) >> 13;
  const std::uint32_t o = u >= f16_max ? big : (u < (113u << 23) ? small : normal);
  return static_cast<std::uint16_t>(o | (sign >> 16));
}
inline float bf16_to_float(std::uint16_t b) {
  std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
inline std::uint16_t float_to_bf16(float f) {
  std::uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const std::uint32_t nan = (u >> 16) | 0x40u;  // quiet NaN, sign kept
  return static_cast<std::uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}

}  // namespace fb
