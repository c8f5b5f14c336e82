#include "harness/host_probe.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <tuple>
#include <utility>

#include "collectives/algorithms/common.hpp"
#include "collectives/reduce.hpp"
#include "model/cost.hpp"

// The model counts the algorithms' receive slots in a host's working set at their default size.
static_assert(fb::model::kReceiveSlotBytes == static_cast<double>(fb::algo::kDefaultChunkBytes));

namespace fb {

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

std::unique_ptr<unsigned char, FreeDeleter> page_buffer(std::size_t bytes) {
  constexpr std::size_t kPage = 4096;
  void* p = std::aligned_alloc(kPage, (bytes + kPage - 1) / kPage * kPage);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 1, bytes);  // touch every page before timing
  return std::unique_ptr<unsigned char, FreeDeleter>(static_cast<unsigned char*>(p));
}

// Best time of `passes` runs of f, in seconds.
template <class F>
double best_seconds(int passes, F&& f) {
  double best = 1e30;
  for (int i = 0; i < passes; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    asm volatile("" : : : "memory");  // the copy's result counts as used: keep it
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

// Copy and float32-sum rates (GB/s) with buffers of `bytes`, best of `passes`. With `chunk` > 0
// the sum adds one chunk-sized operand, in cache, to each chunk of the other.
std::pair<double, double> rates(std::size_t bytes, int passes, std::size_t chunk = 0) {
  bytes = std::max<std::size_t>(bytes / 4 * 4, 4);
  chunk = chunk > 0 ? std::min(bytes, chunk / 4 * 4) : bytes;
  auto a = page_buffer(bytes), b = page_buffer(chunk), out = page_buffer(bytes);
  const double copy = bytes / best_seconds(passes, [&] { std::memcpy(out.get(), a.get(), bytes); }) / 1e9;
  const double reduce =
      bytes /
      best_seconds(passes,
                   [&] {
                     for (std::size_t at = 0; at < bytes; at += chunk) {
                       const std::size_t n = std::min(chunk, bytes - at);
                       reduce_into(out.get() + at, a.get() + at, b.get(), n / 4, DType::float32, RedOp::sum);
                     }
                   }) /
      1e9;
  return {copy, reduce};
}

HostMemoryProbe probe_host_memory_local(std::size_t bytes, std::size_t spilled_bytes) {
  HostMemoryProbe p;
  p.bytes = std::max<std::size_t>(bytes / 4 * 4, 4);
  std::tie(p.copy_GBps, p.reduce_GBps) = rates(p.bytes, 12);
  if (spilled_bytes > 0) {
    p.spilled_bytes = std::max<std::size_t>(spilled_bytes / 4 * 4, 4);
    std::tie(p.copy_spilled_GBps, p.reduce_spilled_GBps) =
        rates(p.spilled_bytes, 4, algo::kDefaultChunkBytes);
  }
  p.ranks = 1;
  return p;
}

HostMemoryProbe probe_host_memory(transports::World& w, std::size_t bytes, std::size_t spilled_bytes) {
  w.barrier();
  const HostMemoryProbe mine = probe_host_memory_local(bytes, spilled_bytes);
  constexpr std::size_t kFields = 4;
  const std::vector<double> all =
      w.gather({mine.copy_GBps, mine.reduce_GBps, mine.copy_spilled_GBps, mine.reduce_spilled_GBps}, 0);
  HostMemoryProbe p = mine;
  p.ranks = w.size();
  if (w.rank() != 0 || all.size() < kFields) return p;
  auto median = [&](std::size_t k) {
    std::vector<double> v;
    for (std::size_t i = k; i < all.size(); i += kFields) v.push_back(all[i]);
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  p.copy_GBps = median(0);
  p.reduce_GBps = median(1);
  p.copy_spilled_GBps = median(2);
  p.reduce_spilled_GBps = median(3);
  return p;
}

}  // namespace fb
