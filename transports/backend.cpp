#include "transports/backend.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

#include "collectives/error.hpp"

namespace fb::transports {

void* Backend::alloc(std::size_t bytes) {
  constexpr std::size_t kAlign = 4096;
  const std::size_t rounded = ((bytes + kAlign - 1) / kAlign) * kAlign;
  void* p = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
  if (p == nullptr) throw std::bad_alloc();
  // Touch every page now so first-touch faults never land inside a timed op.
  std::memset(p, 0, rounded == 0 ? kAlign : rounded);
  return p;
}

void Backend::release(void* p, std::size_t) { std::free(p); }

void Backend::prepare(const OpCall&) {}

void Backend::run_timed(const OpCall& call, int iters, int ops_per_sample, double* samples_us,
                        std::atomic<std::uint64_t>* progress) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = clock::now();
    for (int k = 0; k < ops_per_sample; ++k) run(call);
    const auto t1 = clock::now();
    samples_us[i] = std::chrono::duration<double, std::micro>(t1 - t0).count();
    progress->fetch_add(1, std::memory_order_relaxed);
  }
}

std::string Backend::algo(const OpCall& call) const { return call.algo; }

}  // namespace fb::transports
