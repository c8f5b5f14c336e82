// One Record as an ordered list of (column name, typed value): the single list of row fields that
// the CSV columns and the JSON row objects are both rendered from, so the two never drift.
// results/SCHEMA.md documents every entry; keep the three in step.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "harness/record.hpp"

namespace fb {

// Strings, signed and unsigned integers, doubles and booleans (CSV writes a bool as 0/1, JSON as
// true/false).
using FieldValue = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;

struct Field {
  const char* name;
  FieldValue value;
};

// Every row field except samples_us (JSON only), in CSV column order.
inline std::vector<Field> record_fields(const Record& r) {
  using i64 = std::int64_t;
  return {
      {"schema_version", i64{kSchemaVersion}},
      {"source", r.source},
      {"timestamp", r.timestamp},
      {"backend", r.backend},
      {"op", r.op},
      {"algo", r.algo},
      {"transport", r.transport},
      {"mem", r.mem},
      {"dtype", r.dtype},
      {"redop", r.redop},
      {"root", i64{r.root}},
      {"inplace", r.inplace},
      {"nranks", i64{r.nranks}},
      {"nnodes", i64{r.nnodes}},
      {"ranks_per_node", i64{r.ranks_per_node}},
      {"requested_bytes", r.requested_bytes},
      {"bytes", r.bytes},
      {"count", r.count},
      {"iters", i64{r.iters}},
      {"warmup", i64{r.warmup}},
      {"ops_per_sample", i64{r.ops_per_sample}},
      {"check_iters", i64{r.check_iters}},
      {"time_us", r.time_us},
      {"time_min_us", r.time_min_us},
      {"time_p50_us", r.time_p50_us},
      {"time_mean_us", r.time_mean_us},
      {"time_p99_us", r.time_p99_us},
      {"time_max_us", r.time_max_us},
      {"algbw_GBps", r.algbw_GBps},
      {"busbw_GBps", r.busbw_GBps},
      {"wrong", r.wrong},
      {"slowest_rank", i64{r.slowest_rank}},
      {"slowest_host", r.slowest_host},
      {"slowest_share", r.slowest_share},
      {"skew", r.skew},
  };
}

}  // namespace fb
