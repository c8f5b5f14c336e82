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

// IEEE binary16 and bfloat16 conversions (round to nearest even), branch-light so loops vectorise.
float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);
inline float bf16_to_float(std::uint16_t b) {
  std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
inline std::uint16_t float_to_bf16(float f) {
  std::uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

}  // namespace fb
