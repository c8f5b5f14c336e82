#include "collectives/dtype.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace fb {

namespace {
struct DTypeInfo {
  DType t;
  const char* name;
  std::size_t size;
  bool is_float;
  bool is_signed;
  double exact_max;
};
// exact_max: integers up to this magnitude are represented exactly (2^(mantissa bits + 1) for floats).
constexpr DTypeInfo kDTypes[] = {
    {DType::int8, "int8", 1, false, true, 127.0},
    {DType::uint8, "uint8", 1, false, false, 255.0},
    {DType::int32, "int32", 4, false, true, 2147483647.0},
    {DType::uint32, "uint32", 4, false, false, 4294967295.0},
    {DType::int64, "int64", 8, false, true, 9007199254740992.0},
    {DType::uint64, "uint64", 8, false, false, 9007199254740992.0},
    {DType::float16, "float16", 2, true, true, 2048.0},
    {DType::bfloat16, "bfloat16", 2, true, true, 256.0},
    {DType::float32, "float32", 4, true, true, 16777216.0},
    {DType::float64, "float64", 8, true, true, 9007199254740992.0},
};
const DTypeInfo& info(DType t) {
  return kDTypes[static_cast<int>(t)];
}

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
  return r;
}
}  // namespace

std::size_t dtype_size(DType t) {
  return info(t).size;
}
std::string_view dtype_name(DType t) {
  return info(t).name;
}
bool dtype_is_float(DType t) {
  return info(t).is_float;
}
bool dtype_is_signed(DType t) {
  return info(t).is_signed;
}
double dtype_exact_max(DType t) {
  return info(t).exact_max;
}

const std::vector<DType>& all_dtypes() {
  static const std::vector<DType> v = [] {
    std::vector<DType> r;
    for (const auto& i : kDTypes) r.push_back(i.t);
    return r;
  }();
  return v;
}

std::optional<DType> parse_dtype(std::string_view s) {
  const std::string l = lower(s);
  for (const auto& i : kDTypes)
    if (l == i.name) return i.t;
  struct Alias {
    const char* name;
    DType t;
  };
  // nccl-tests spellings and common abbreviations.
  static constexpr Alias aliases[] = {
      {"char", DType::int8},     {"uchar", DType::uint8},  {"int", DType::int32},
      {"uint", DType::uint32},   {"long", DType::int64},   {"ulong", DType::uint64},
      {"half", DType::float16},  {"fp16", DType::float16}, {"bf16", DType::bfloat16},
      {"float", DType::float32}, {"fp32", DType::float32}, {"double", DType::float64},
      {"fp64", DType::float64},
  };
  for (const auto& a : aliases)
    if (l == a.name) return a.t;
  return std::nullopt;
}

std::string_view redop_name(RedOp op) {
  switch (op) {
    case RedOp::sum:
      return "sum";
    case RedOp::prod:
      return "prod";
    case RedOp::min:
      return "min";
    case RedOp::max:
      return "max";
  }
  return "?";
}

std::optional<RedOp> parse_redop(std::string_view s) {
  const std::string l = lower(s);
  for (RedOp op : all_redops())
    if (l == redop_name(op)) return op;
  return std::nullopt;
}

const std::vector<RedOp>& all_redops() {
  static const std::vector<RedOp> v{RedOp::sum, RedOp::prod, RedOp::min, RedOp::max};
  return v;
}

}  // namespace fb
