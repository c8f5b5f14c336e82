// One Record as an ordered list of (column name, typed value): the single list of row fields that
// the CSV columns and the JSON row objects are both rendered from, so the two never drift.
// results/SCHEMA.md documents every entry; keep the three in step.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "harness/record.hpp"

namespace fb {

// Strings, signed and unsigned integers, doubles and booleans (CSV writes a bool as 0/1, JSON as
// true/false); monostate is "no value" (an empty CSV field, JSON null).
using FieldValue = std::variant<std::monostate, std::string, std::int64_t, std::uint64_t, double, bool>;

// What the files hold of a double: the value to 15 significant digits (every decimal of 15 digits
// survives a round trip through a double), so that "{}" (shortest round-trip form) writes a
// computed 25.0651 as 25.0651, not 25.065099999999997. CSV and JSON write the same value.
inline double file_double(double v) {
  if (!std::isfinite(v) || v == 0.0) return v;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return std::strtod(buf, nullptr);
}

inline FieldValue optional_field(const std::optional<double>& v) {
  return v ? FieldValue{file_double(*v)} : FieldValue{};
}

struct Field {
  const char* name;
  FieldValue value;
};

// A row field as a typed pointer into a Record: writers read through it, readers write through
// it, so the column list exists once.
using FieldRef = std::variant<std::string*, int*, std::uint64_t*, double*, bool*, std::optional<double>*>;

struct FieldSlot {
  const char* name;
  FieldRef ref;
};

// Every row field except samples_us (JSON only), in CSV column order.
inline std::vector<FieldSlot> record_slots(Record& r) {
  return {
      {"schema_version", &r.schema_version},
      {"source", &r.source},
      {"timestamp", &r.timestamp},
      {"backend", &r.backend},
      {"op", &r.op},
      {"algo", &r.algo},
      {"transport", &r.transport},
      {"mem", &r.mem},
      {"dtype", &r.dtype},
      {"redop", &r.redop},
      {"root", &r.root},
      {"inplace", &r.inplace},
      {"nranks", &r.nranks},
      {"nnodes", &r.nnodes},
      {"ranks_per_node", &r.ranks_per_node},
      {"requested_bytes", &r.requested_bytes},
      {"bytes", &r.bytes},
      {"count", &r.count},
      {"iters", &r.iters},
      {"warmup", &r.warmup},
      {"ops_per_sample", &r.ops_per_sample},
      {"check_iters", &r.check_iters},
      {"timing", &r.timing},
      {"cycle", &r.cycle},
      {"time_us", &r.time_us},
      {"time_min_us", &r.time_min_us},
      {"time_p50_us", &r.time_p50_us},
      {"time_mean_us", &r.time_mean_us},
      {"time_p99_us", &r.time_p99_us},
      {"time_max_us", &r.time_max_us},
      {"algbw_GBps", &r.algbw_GBps},
      {"busbw_GBps", &r.busbw_GBps},
      {"msg_rate_Mps", &r.msg_rate_Mps},
      {"wrong", &r.wrong},
      {"slowest_rank", &r.slowest_rank},
      {"slowest_host", &r.slowest_host},
      {"slowest_share", &r.slowest_share},
      {"skew", &r.skew},
      {"model_fabric", &r.model_fabric},
      {"model_algo", &r.model_algo},
      {"model_basis", &r.model_basis},
      {"model_time_us", &r.model_time_us},
      {"model_busbw_GBps", &r.model_busbw_GBps},
      {"model_err_pct", &r.model_err_pct},
      {"model_bottleneck", &r.model_bottleneck},
      {"max_rank_bytes", &r.max_rank_bytes},
      {"load_imbalance", &r.load_imbalance},
      {"group", &r.group},
      {"group_size", &r.group_size},
      {"ngroups", &r.ngroups},
      {"total_bytes", &r.total_bytes},
      {"counts", &r.counts},
      {"tokens_per_s", &r.tokens_per_s},
  };
}

// The same fields as values, for writers.
inline std::vector<Field> record_fields(const Record& r) {
  std::vector<Field> out;
  for (const FieldSlot& s : record_slots(const_cast<Record&>(r))) {
    FieldValue v = std::visit(
        [](auto* p) -> FieldValue {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_same_v<T, int>)
            return std::int64_t{*p};
          else if constexpr (std::is_same_v<T, std::optional<double>>)
            return optional_field(*p);
          else if constexpr (std::is_same_v<T, double>)
            return file_double(*p);
          else
            return *p;
        },
        s.ref);
    out.push_back(Field{s.name, std::move(v)});
  }
  return out;
}

}  // namespace fb
