#include "harness/host_probe.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "collectives/reduce.hpp"

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

HostMemoryProbe probe_host_memory_local(std::size_t bytes) {
  bytes = std::max<std::size_t>(bytes / 4 * 4, 4);
  auto a = page_buffer(bytes), b = page_buffer(bytes), out = page_buffer(bytes);
  constexpr int kPasses = 12;
  HostMemoryProbe p;
  p.bytes = bytes;
  p.copy_GBps = bytes / best_seconds(kPasses, [&] { std::memcpy(out.get(), a.get(), bytes); }) / 1e9;
  p.reduce_GBps = bytes / best_seconds(kPasses, [&] {
                    reduce_into(out.get(), a.get(), b.get(), bytes / 4, DType::float32, RedOp::sum);
                  }) / 1e9;
  p.ranks = 1;
  return p;
}

HostMemoryProbe probe_host_memory(transports::World& w, std::size_t bytes) {
  w.barrier();
  const HostMemoryProbe mine = probe_host_memory_local(bytes);
  const std::vector<double> all = w.gather({mine.copy_GBps, mine.reduce_GBps}, 0);
  HostMemoryProbe p = mine;
  p.ranks = w.size();
  if (w.rank() != 0 || all.size() < 2) return p;
  auto median = [&](std::size_t k) {
    std::vector<double> v;
    for (std::size_t i = k; i < all.size(); i += 2) v.push_back(all[i]);
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  p.copy_GBps = median(0);
  p.reduce_GBps = median(1);
  return p;
}

}  // namespace fb
