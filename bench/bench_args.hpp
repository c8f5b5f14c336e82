// What the MPI overhead benches share (bench/bench_overhead.cpp, bench/bench_nccl_overhead.cpp):
// reading "--name value" pairs from argv into their settings, and the median of their rounds.
// Header-only: the benches are outside the product layers and link nothing else for this.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "vocab/units.hpp"

namespace fb::bench {

// One option: its name ("--min") and what sets it from the value's text (throws on a bad value).
using BenchOption = std::pair<std::string, std::function<void(const std::string&)>>;

inline BenchOption size_option(const char* name, std::uint64_t& out) {
  return {name, [&out](const std::string& v) { out = fb::parse_bytes(v); }};
}

inline BenchOption count_option(const char* name, int& out) {
  return {
      name, [&out, name](const std::string& v) {
        const auto n = fb::parse_integer(v);
        if (!n || *n < 0 || *n > 1000000000)
          throw std::invalid_argument(std::string(name) + ": expected a whole number >= 0, got '" + v + "'");
        out = static_cast<int>(*n);
      }};
}

inline BenchOption number_option(const char* name, double& out) {
  return {name, [&out, name](const std::string& v) {
            const auto x = fb::parse_number(v);
            if (!x || *x < 0)
              throw std::invalid_argument(std::string(name) + ": expected a number >= 0, got '" + v + "'");
            out = *x;
          }};
}

// Reads argv[1..] as "--name value" pairs, each name one of `options`. An unknown name, a name
// without a value or a bad value: one line on stderr naming it, and false (the bench exits 2).
inline bool parse_bench_args(int argc, char** argv, const char* prog,
                             const std::vector<BenchOption>& options) {
  for (int i = 1; i < argc; i += 2) {
    const std::string name = argv[i];
    const auto o =
        std::find_if(options.begin(), options.end(), [&](const BenchOption& x) { return x.first == name; });
    try {
      if (o == options.end()) throw std::invalid_argument("unknown option '" + name + "'");
      if (i + 1 >= argc) throw std::invalid_argument(name + ": expected a value after it");
      o->second(argv[i + 1]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", prog, e.what());
      return false;
    }
  }
  return true;
}

// The sweep both overhead benches take: --min and --max (sizes), --rounds, --ms (per measurement).
struct SweepArgs {
  std::uint64_t min_bytes;
  std::uint64_t max_bytes;
  int rounds;
  double target_ms;
};

// parse_bench_args over the sweep's four options and a bench's own `extra` ones.
inline bool parse_sweep_args(int argc, char** argv, const char* prog, SweepArgs& a,
                             std::vector<BenchOption> extra = {}) {
  extra.insert(extra.begin(), {size_option("--min", a.min_bytes), size_option("--max", a.max_bytes),
                               count_option("--rounds", a.rounds), number_option("--ms", a.target_ms)});
  return parse_bench_args(argc, argv, prog, extra);
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace fb::bench
