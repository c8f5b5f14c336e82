// Cost models: (fabric, op, algorithm, placement, bytes) -> predicted time, bandwidth and the
// bottleneck. Pure functions in closed form: time and memory independent of the rank count (no
// per-rank arrays, so 2^20 ranks cost the same as 8). One algorithm per file in
// model/algorithms/, each registering a cost function under the algorithm's name (the same name
// the harness's --algo uses).
//
// Sizes follow the harness (nccl-tests): `bytes` is the allreduce/broadcast buffer, the allgather
// receive buffer, the reducescatter send buffer, each rank's alltoall send buffer, the message of
// a point-to-point op.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/fabric.hpp"

namespace fb::model {

// Where the ranks are: nranks in total, ranks_per_domain of them in each scale-up domain
// (GPUs sharing an NVLink domain, or ranks sharing a host). Domains are filled in order, and
// consecutive domains sit under the same leaf switches (rank order follows the topology).
struct Placement {
  std::uint64_t nranks = 1;
  std::uint64_t ranks_per_domain = 1;
  std::uint64_t domains() const { return (nranks + ranks_per_domain - 1) / ranks_per_domain; }
};

struct Prediction {
  double time_us = 0;
  double algbw_GBps = 0;     // bytes / time
  double busbw_GBps = 0;     // algbw x the op's busbw factor (as nccl-tests)
  std::string bottleneck;    // the dominant term: "latency", "scale-up", "nic", "tier:spine", "memory", "reduction", "in-network"
  std::string algo;          // the algorithm predicted (resolved when "auto" was asked)
  std::string protocol;      // NCCL protocol (ll, ll128, simple) or "" for the MPI/UCX algorithms
};

// One registered algorithm.
struct Algorithm {
  std::string name;                // "ring", "recursive_doubling", ..., "nccl_ring", "nccl_tree", ...
  std::string family;              // "p2p" (UCX/MPI algorithms over point-to-point) or "nccl"
  std::vector<std::string> ops;    // ops it implements
  bool has_protocols = false;      // NCCL algorithms: ll, ll128, simple
  // Returns time and bottleneck for one protocol ("" when has_protocols is false); nullopt-like
  // failure is signalled by time_us < 0 (e.g. NVLS on a fabric without in-switch reduction).
  Prediction (*cost)(const Fabric& f, const std::string& op, const Placement& p, double bytes,
                     const std::string& protocol) = nullptr;
};

const std::vector<Algorithm>& algorithms();
const Algorithm* find_algorithm(const std::string& name);

// busbw factor of an op for n ranks (nccl-tests): allreduce 2(n-1)/n; allgather, reducescatter,
// alltoall (n-1)/n; broadcast, sendrecv, pingpong 1; bidir 2.
double busbw_factor(const std::string& op, std::uint64_t nranks);
const std::vector<std::string>& model_ops();

// Bytes a host's ranks touch in an op of `bytes` per rank: a send and a receive buffer each.
// The cache terms (Fabric::scaleup_cache_bytes) compare it with the cache; calibrate fits with it.
inline double host_working_set(double ranks_on_host, double bytes) { return 2 * ranks_on_host * bytes; }
// How much slower than in cache a host-memory-bound term runs for that working set: the share
// that fits (cache / working set, at most 1) at the in-cache rate, the rest at the spilled rate.
// With an outer knee (outer_bytes > cache_bytes), the share beyond outer_bytes moves at
// spilled_GBps * outer_ratio (outer_ratio: the outer spilled rate / the spilled rate, <= 1).
inline double spill_factor(double cache_bytes, double cached_GBps, double spilled_GBps, double working_set,
                           double outer_bytes = 0, double outer_ratio = 1) {
  if (!(cache_bytes > 0) || !(spilled_GBps > 0) || !(working_set > cache_bytes)) return 1;
  const double fits = cache_bytes / working_set, slow = cached_GBps / spilled_GBps;
  double k = fits + (1 - fits) * slow;
  if (outer_bytes > cache_bytes && outer_ratio > 0 && working_set > outer_bytes)
    k += (1 - outer_bytes / working_set) * slow * (1 / outer_ratio - 1);
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

}  // namespace fb::model
