// Host kernels in GB/s: pattern fill, the two checks, poison fill and the host reduction, for
// int8, float16, bfloat16, float32 and float64 at 64 KiB (L2-resident), 1 MiB (L2/L3) and 16 MiB
// (mostly DRAM).
//
// Bytes processed (what "bytes_per_second" counts), per call on a buffer of B bytes:
//   fill, fill_poison          B  (written)
//   check_source, check_reduced B  (read; the one-period table they compare against is
//                                    4099 elements and stays in L1/L2, so it is not counted)
//   reduce_into                3B (two inputs read + one output written, as STREAM's "add").
// The reduce figure is memory traffic, not message size: a host reduction step of a ring
// all-reduce touches 3B to combine B bytes, so divide by 3 to compare with a link's GB/s. On
// large buffers write-allocate can add a fourth stream that is not counted here.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "collectives/dtype.hpp"
#include "collectives/pattern.hpp"
#include "collectives/reduce.hpp"

namespace fb {
namespace {

constexpr int kRanks = 8;  // the reduction pattern's rank count (decides its value mix only)
constexpr int kRank = 3;   // the rank whose data is filled and checked
constexpr std::uint64_t kSeed = 1;

const DType kDTypes[] = {DType::int8, DType::float16, DType::bfloat16, DType::float32, DType::float64};
const RedOp kRedOps[] = {RedOp::sum, RedOp::max};
const std::size_t kSizes[] = {std::size_t{64} << 10, std::size_t{1} << 20, std::size_t{16} << 20};

using Buf = std::vector<unsigned char>;

std::string size_name(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20)) return std::to_string(bytes >> 20) + "MiB";
  return std::to_string(bytes >> 10) + "KiB";
}

std::size_t elements(DType t, std::size_t bytes) {
  return bytes / dtype_size(t);
}

void set_bytes(benchmark::State& st, std::size_t bytes_per_call) {
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) *
                       static_cast<std::int64_t>(bytes_per_call));
}

// The reduction over all kRanks ranks, i.e. the buffer check_reduced accepts.
Buf reduced_buffer(const Pattern& p, DType t, RedOp op, std::size_t count) {
  Buf acc(count * dtype_size(t));
  Buf x(acc.size());
  p.fill(acc.data(), count, 0, 0);
  for (int r = 1; r < kRanks; ++r) {
    p.fill(x.data(), count, r, 0);
    reduce_inplace(acc.data(), x.data(), count, t, op);
  }
  return acc;
}

void bm_fill(benchmark::State& st, DType t, std::size_t bytes) {
  const Pattern p(t, false, RedOp::sum, kRanks, kSeed);
  const std::size_t count = elements(t, bytes);
  Buf buf(count * dtype_size(t));
  p.fill(buf.data(), count, kRank, 0);  // builds the rank's one-period table outside the timing
  for (auto _ : st) {
    p.fill(buf.data(), count, kRank, 0);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  set_bytes(st, buf.size());
}

void bm_check_source(benchmark::State& st, DType t, std::size_t bytes) {
  const Pattern p(t, false, RedOp::sum, kRanks, kSeed);
  const std::size_t count = elements(t, bytes);
  Buf buf(count * dtype_size(t));
  p.fill(buf.data(), count, kRank, 0);
  for (auto _ : st) {
    const std::size_t wrong = p.check_source(buf.data(), count, kRank, 0);
    benchmark::DoNotOptimize(wrong);
    if (wrong != 0) {
      st.SkipWithError("check_source found wrong elements in correct data");
      break;
    }
  }
  set_bytes(st, buf.size());
}

void bm_check_reduced(benchmark::State& st, DType t, RedOp op, std::size_t bytes) {
  const Pattern p(t, true, op, kRanks, kSeed);
  const std::size_t count = elements(t, bytes);
  const Buf buf = reduced_buffer(p, t, op, count);
  for (auto _ : st) {
    const std::size_t wrong = p.check_reduced(buf.data(), count, 0);
    benchmark::DoNotOptimize(wrong);
    if (wrong != 0) {
      st.SkipWithError("check_reduced found wrong elements in a correct reduction");
      break;
    }
  }
  set_bytes(st, buf.size());
}

void bm_fill_poison(benchmark::State& st, DType t, std::size_t bytes) {
  const std::size_t count = elements(t, bytes);
  Buf buf(count * dtype_size(t));
  for (auto _ : st) {
    fill_poison(buf.data(), count, t);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  set_bytes(st, buf.size());
}

void bm_reduce_into(benchmark::State& st, DType t, RedOp op, std::size_t bytes) {
  // Realistic operands: two ranks' reduction patterns (small integers, no denormals).
  const Pattern p(t, true, op, kRanks, kSeed);
  const std::size_t count = elements(t, bytes);
  Buf a(count * dtype_size(t)), b(a.size()), out(a.size());
  p.fill(a.data(), count, 0, 0);
  p.fill(b.data(), count, 1, 0);
  for (auto _ : st) {
    reduce_into(out.data(), a.data(), b.data(), count, t, op);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes(st, 3 * out.size());  // 2 reads + 1 write, see the header comment
  st.SetLabel("2R+1W");
}

// memcpy, the yardstick for shared-memory transports: B bytes counted per call (the message
// size), as a transport's bandwidth counts them. scripts/bench-ucx-collectives divides a
// shared-memory bandwidth by this.
void bm_memcpy(benchmark::State& st, std::size_t bytes) {
  Buf src(bytes, 1), dst(bytes, 0);
  for (auto _ : st) {
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_bytes(st, bytes);
}

[[maybe_unused]] const bool kRegistered = [] {
  for (std::size_t bytes :
       {std::size_t{64} << 10, std::size_t{1} << 20, std::size_t{16} << 20, std::size_t{64} << 20})
    benchmark::RegisterBenchmark(("memcpy/" + size_name(bytes)).c_str(), [bytes](benchmark::State& st) {
      bm_memcpy(st, bytes);
    })->UseRealTime();  // wall time, as a transport's bandwidth is measured
  for (DType t : kDTypes) {
    const std::string dt(dtype_name(t));
    for (std::size_t bytes : kSizes) {
      const std::string sz = size_name(bytes);
      benchmark::RegisterBenchmark(("fill/" + dt + "/" + sz).c_str(),
                                   [t, bytes](benchmark::State& st) { bm_fill(st, t, bytes); });
      benchmark::RegisterBenchmark(("check_source/" + dt + "/" + sz).c_str(),
                                   [t, bytes](benchmark::State& st) { bm_check_source(st, t, bytes); });
      benchmark::RegisterBenchmark(("fill_poison/" + dt + "/" + sz).c_str(),
                                   [t, bytes](benchmark::State& st) { bm_fill_poison(st, t, bytes); });
      for (RedOp op : kRedOps) {
        const std::string ro(redop_name(op));
        benchmark::RegisterBenchmark(
            ("check_reduced/" + dt + "/" + ro + "/" + sz).c_str(),
            [t, op, bytes](benchmark::State& st) { bm_check_reduced(st, t, op, bytes); });
        benchmark::RegisterBenchmark(
            ("reduce_into/" + dt + "/" + ro + "/" + sz).c_str(),
            [t, op, bytes](benchmark::State& st) { bm_reduce_into(st, t, op, bytes); });
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace fb
