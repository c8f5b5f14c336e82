#include "transports/backend.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>

#include "vocab/error.hpp"

namespace fb::transports {

void* Backend::alloc(std::size_t bytes, const std::string&) {
  constexpr std::size_t kAlign = 4096;
  const std::size_t rounded = ((bytes + kAlign - 1) / kAlign) * kAlign;
  void* p = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
  if (p == nullptr) throw std::bad_alloc();
  // Touch every page now so first-touch faults never land inside a timed op.
  std::memset(p, 0, rounded == 0 ? kAlign : rounded);
  return p;
}

void Backend::release(void* p, std::size_t) {
  std::free(p);
}

std::optional<std::uint64_t> Backend::available_memory(const std::string& mem, int ranks_on_host) const {
  if (mem != "host") return std::nullopt;
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024 / static_cast<std::uint64_t>(std::max(1, ranks_on_host));
  return std::nullopt;
}

void Backend::prepare(const OpCall&) {}

namespace {
std::atomic<double> g_setup_timeout_s{0};
}  // namespace

void set_setup_timeout_s(double seconds) {
  g_setup_timeout_s.store(seconds);
}
double setup_timeout_s() {
  return g_setup_timeout_s.load();
}

std::optional<std::string> Backend::unsupported_modes(const OpCall& c) const {
  if (c.cuda_graph > 0) return name() + " has no CUDA graphs (cuda_graph is for the nccl backend)";
  if (c.blocking) return name() + " runs every op to completion already (blocking is for the nccl backend)";
  if (c.enqueue_time) return name() + " completes every op as it enqueues it (-C is for the nccl backend)";
  if (c.group > 1) return name() + " has no op groups (-m is for the nccl backend)";
  if (!c.nccl_algo.empty() || !c.nccl_proto.empty())
    return name() + " does not run NCCL (nccl_algo and nccl_proto are for the nccl backend)";
  return std::nullopt;
}

void Backend::fill(const Pattern& pattern, void* dst, std::size_t count, int rank, std::size_t offset) {
  pattern.fill(dst, count, rank, offset);
}

void Backend::poison(void* dst, std::size_t count, DType dtype) {
  fill_poison(dst, count, dtype);
}

std::size_t Backend::check(const Pattern& pattern, const void* recv, const std::vector<Segment>& segments) {
  return pattern.check(recv, segments);
}

void Backend::download(void* host, const void* src, std::size_t bytes) {
  std::memcpy(host, src, bytes);
}

std::size_t Backend::check_sums(const Pattern& pattern, const void* recv,
                                const std::vector<SummedSegment>& sums) {
  const std::size_t es = dtype_size(pattern.dtype());
  std::size_t wrong = 0;
  for (const SummedSegment& s : sums) {
    std::vector<unsigned char> host(s.count * es);
    download(host.data(), static_cast<const unsigned char*>(recv) + s.recv_offset * es, host.size());
    wrong += pattern.check_sum(host.data(), s);
  }
  return wrong;
}

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

std::string Backend::algo(const OpCall& call) const {
  return call.algo;
}

P2PAlgorithms::P2PAlgorithms(const World& world, AlgoMemory memory)
    : nranks_(world.size()), memory_(std::move(memory)) {
  // Ranks on one host share a node, numbered in order of their first rank (as World::node()).
  std::vector<std::string> hosts;
  for (const auto& h : world.hostnames()) {
    auto it = std::find(hosts.begin(), hosts.end(), h);
    if (it == hosts.end()) it = hosts.insert(hosts.end(), h);
    node_of_.push_back(static_cast<int>(it - hosts.begin()));
  }
}

void P2PAlgorithms::prepare(const OpCall& call) {
  const CollectiveAlgorithm* a = find_collective_algorithm(call.algo);
  if (a == nullptr) throw UsageError("unknown algorithm '" + call.algo + "'");
  if (!algorithm_supports(*a, call.op->kind))
    throw UsageError(call.algo + " does not implement " + std::string(call.op->name));
  algo_ = a;
  const std::size_t bytes = a->scratch_bytes(algo_call(call), nranks_);
  if (scratch_bytes_ < bytes) {
    constexpr std::size_t kAlign = 4096;
    const std::size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
    free_scratch();
    if (memory_.alloc) {
      scratch_ = memory_.alloc(rounded);
    } else {
      scratch_ = std::aligned_alloc(kAlign, rounded);
      if (!scratch_) throw std::bad_alloc();
      std::memset(scratch_, 0, rounded);  // first-touch faults now, not inside a timed op
    }
    scratch_bytes_ = rounded;
  }
}

P2PAlgorithms::~P2PAlgorithms() {
  free_scratch();
}

void P2PAlgorithms::free_scratch() {
  if (scratch_ == nullptr) return;
  if (memory_.release)
    memory_.release(scratch_);
  else
    std::free(scratch_);
  scratch_ = nullptr;
  scratch_bytes_ = 0;
}

AlgoCall P2PAlgorithms::algo_call(const OpCall& call) {
  AlgoCall ac;
  static_cast<OpArgs&>(ac) = call;
  ac.scratch = scratch_;
  ac.mem = memory_.ops;
  ac.chunk_bytes = call.chunk_bytes;
  ac.node_of = node_of_;
  return ac;
}

void P2PAlgorithms::run(P2P& p2p, const OpCall& call) {
  if (algo_ == nullptr || algo_->name != call.algo) prepare(call);
  const AlgoCall a = algo_call(call);
  algo_->run(p2p, a);
  if (call.op->sums_contributions)  // moe_combine: the home rank sums each token's k copies
    moe_combine_reduce(call, [&](void* io, const void* in, std::size_t n) {
      a.mem->reduce_inplace(io, in, n, call.dtype, RedOp::sum);
    });
}

}  // namespace fb::transports
