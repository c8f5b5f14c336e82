// Cost models: (fabric, op, algorithm, placement, bytes) -> predicted time, bandwidth and the
// bottleneck. Pure functions in closed form: time and memory independent of the rank count (no
// per-rank arrays, so 2^20 ranks cost the same as 8). One algorithm per file in
// model/algorithms/, each registering a cost function under the algorithm's name in the
// vocabulary (vocab/algorithm.hpp: the same names and ops the harness's --algo runs).
//
// Sizes follow the harness (nccl-tests): `bytes` is the allreduce/broadcast buffer, the allgather
// receive buffer, the reducescatter send buffer, each rank's alltoall send buffer, the message of
// a point-to-point op.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/fabric.hpp"

namespace fb::model {

// A skewed exchange (the MoE ops, docs/moe.md): who sends how much to whom, in bytes, for one
// size. `bytes` is either one row every rank sends (same_rows: bytes[j] to rank j; the uniform,
// zipf and hot routings, n entries however large n is) or n rows (n x n, row-major: a routing
// matrix file). The model takes the max over ranks of each resource's bytes (exchange_load), so a
// transposed exchange (combine) costs what the exchange does. domain_local: the what-if of an
// expert placement that keeps every rank's traffic inside its scale-up domain (each row
// restricted to its domain, its total kept). reduce_bytes: what each home rank then sums
// (moe_combine: (topk - 1) x tokens x hidden elements' bytes).
// A shared row may instead be given as `runs`: consecutive ranks with equal entries as one
// (bytes, ranks) class, so that a row of 2^20 ranks that takes few values costs as few
// (model/moe_traffic.hpp builds them; exchange_load visits each distinct domain once).
struct Traffic {
  struct Run {
    double bytes = 0;         // what every rank sends each rank of the run
    std::uint64_t ranks = 0;  // consecutive ranks
  };
  bool same_rows = true;
  bool domain_local = false;
  std::vector<double> bytes;
  std::vector<Run> runs;  // same_rows: the row as runs (then `bytes` is empty)
  double reduce_bytes = 0;
  // same_rows: `runs`, or `bytes` folded into runs of equal entries.
  std::vector<Run> row_runs() const;
  // same_rows: the row has an entry for each of n ranks.
  bool row_fits(std::uint64_t n) const;
};

// Where the ranks are: nranks in total, ranks_per_domain of them in each scale-up domain
// (GPUs sharing an NVLink domain, or ranks sharing a host). Domains are filled in order, and
// consecutive domains sit under the same leaf switches (rank order follows the topology).
struct Placement {
  std::uint64_t nranks = 1;
  std::uint64_t ranks_per_domain = 1;
  // A skewed exchange's traffic (the MoE ops); null for every other op.
  std::shared_ptr<const Traffic> traffic = nullptr;
  std::uint64_t domains() const { return (nranks + ranks_per_domain - 1) / ranks_per_domain; }
};

struct Prediction {
  double time_us = 0;
  double algbw_GBps = 0;   // bytes / time
  double busbw_GBps = 0;   // algbw x the op's busbw factor (as nccl-tests)
  std::string bottleneck;  // the dominant term: "latency", "scale-up", "nic", "tier:spine", "memory",
                           // "reduction", "in-network"
  std::string algo;        // the algorithm predicted (resolved when "auto" was asked)
  std::string protocol;    // NCCL protocol (ll, ll128, simple) or "" for the MPI/UCX algorithms
};

// One registered algorithm: its vocabulary entry (vocab/algorithm.hpp) and its cost function.
struct Algorithm {
  std::string name;              // "ring", "recursive_doubling", ..., "nccl_ring", "nccl_tree", ...
  std::string family;            // "p2p" (UCX/MPI algorithms over point-to-point) or "nccl"
  std::vector<std::string> ops;  // ops it implements
  bool has_protocols = false;    // NCCL algorithms: ll, ll128, simple
  // Returns time and bottleneck for one protocol ("" when has_protocols is false); nullopt-like
  // failure is signalled by time_us < 0 (e.g. NVLS on a fabric without in-switch reduction).
  Prediction (*cost)(const Fabric& f, const std::string& op, const Placement& p, double bytes,
                     const std::string& protocol) = nullptr;
};

const std::vector<Algorithm>& algorithms();
const Algorithm* find_algorithm(const std::string& name);

// busbw factor of an op for n ranks (nccl-tests): allreduce 2(n-1)/n; allgather, reducescatter,
// alltoall (n-1)/n; broadcast, sendrecv, unidir, pingpong 1; bidir 2.
double busbw_factor(const std::string& op, std::uint64_t nranks);
const std::vector<std::string>& model_ops();

// Bytes a host's ranks touch in an op of `bytes` per rank: a send and a receive buffer each.
// The cache terms (Fabric::scale_up.cache_bytes) compare it with the cache; calibrate fits with it.
inline double host_working_set(double ranks_on_host, double bytes) {
  return 2 * ranks_on_host * bytes;
}
// The receive slots a reducing point-to-point algorithm lands chunks in before it reduces them:
// two per rank of a pipeline chunk (the harness's default --chunk, 256 KiB) or, when smaller,
// of a ring block (bytes / ranks). They add to the host's working set of allreduce and
// reducescatter over point-to-point.
constexpr double kReceiveSlotBytes = 256.0 * 1024;
inline double reduce_slots_working_set(double ranks_on_host, double ranks, double bytes) {
  return ranks_on_host * 2 * std::min(kReceiveSlotBytes, bytes / std::max(1.0, ranks));
}
// The share of a working set that a cache of cache_bytes keeps between uses: all of it up to the
// cache's size; beyond that, since every op streams through its buffers in the same order, an
// LRU-like cache evicts lines before their reuse, more of them the further the working set
// overflows it, and none at twice its size: 2 - working_set / cache_bytes, at least 0.
inline double cached_share(double cache_bytes, double working_set) {
  if (!(working_set > cache_bytes)) return 1;
  return std::max(0.0, 2 - working_set / cache_bytes);
}
// How long an op of time_us takes to come back to the same buffers: a round trip for pingpong
// and relay, whose reported time is half of one; its own time for every other op.
double reuse_interval_us(const std::string& op, double time_us);
// The working set an outer cache that other work drains at eviction_GBps sees: the op's own,
// plus what that traffic brings in before the op comes back to the same buffers (reuse_us).
inline double outer_working_set(double working_set, double eviction_GBps, double reuse_us) {
  return working_set + (eviction_GBps > 0 && reuse_us > 0 ? eviction_GBps * 1e3 * reuse_us : 0);
}
// How much slower than in cache a host-memory-bound term runs for that working set: the cached
// share (cached_share) at the in-cache rate, the rest at the spilled rate. With an outer knee
// (outer_bytes > cache_bytes: the share of a large last-level cache the ranks get), the share
// the outer cache does not keep either (1 - cached_share(outer_bytes, outer_ws), outer_ws from
// outer_working_set(); never more than the first cache does not keep) moves at
// spilled_GBps * outer_ratio (outer_ratio: the outer spilled rate / the spilled rate, <= 1).
inline double spill_factor(double cache_bytes, double cached_GBps, double spilled_GBps, double working_set,
                           double outer_bytes = 0, double outer_ratio = 1, double outer_ws = 0) {
  if (!(cache_bytes > 0) || !(spilled_GBps > 0) || !(working_set > cache_bytes)) return 1;
  const double fits = cached_share(cache_bytes, working_set), slow = cached_GBps / spilled_GBps;
  double k = fits + (1 - fits) * slow;
  if (outer_bytes > cache_bytes && outer_ratio > 0) {
    const double kept = std::max(fits, cached_share(outer_bytes, std::max(working_set, outer_ws)));
    k += (1 - kept) * slow * (1 / outer_ratio - 1);
  }
  return k;
}

// Predict `op` with `algo`:
//  - a registered name: that algorithm (protocol "auto" picks its fastest protocol);
//  - "auto": the fastest p2p-family algorithm for the op (what a UCX/MPI run would pick at best);
//  - "native": the MPI library's own choice, modelled as "auto";
//  - "nccl_auto": the fastest NCCL algorithm x protocol, as NCCL's tuner picks.
// Throws std::invalid_argument for an unknown op or algorithm, or an algorithm that does not
// implement the op or cannot run on this fabric.
Prediction predict(const Fabric& f, const std::string& op, const std::string& algo, const Placement& p,
                   double bytes, const std::string& protocol = "auto");

// The algorithm `model` predicts when none is named: NCCL's choice ("nccl_auto") on a GPU fabric,
// the best UCX/MPI algorithm ("auto") on hosts. The inference view (model/inference.hpp) prices
// every call with it too.
std::string default_algorithm(const Fabric& f);

}  // namespace fb::model
