// The host memory probe every MPI-launched command runs before its first test: how fast this
// rank copies and reduces host memory while every other rank does the same, measured by the tool
// itself so that `fabricbench calibrate` can fit the model's memory and reduction terms from a
// run's own metadata (results/SCHEMA.md, meta.host_memory).
#pragma once

#include <cstddef>

#include "harness/record.hpp"
#include "transports/world.hpp"

namespace fb {

// Buffer size of the probe: large enough that one pass is ~100x a clock read, small enough that
// its three buffers stay in a core's cache (the model's in-cache rates: the fabric's cache terms
// slow them once an op's working set outgrows the cache). At 1 MiB the probe already measured
// the spilled rate on the 2-core test VM (2 MiB L2 per core: float32 sum 9 GB/s, 19 in cache),
// and the model then slowed it a second time.
constexpr std::size_t kHostProbeBytes = std::size_t{256} << 10;
// The probe again beyond the caches: 2 x 8 MiB per rank outgrows a core's private caches (the
// knee calibrate finds on the test VM is at 1-2 MiB per host), so copies and reductions there
// run at the rate the model's cache terms use for the share of a working set beyond the cache.
// The sum there adds a 256 KiB operand in cache (the algorithms' pipeline chunk,
// kDefaultChunkBytes) to each 256 KiB of an 8 MiB one, into an 8 MiB result: every algorithm
// reduces a chunk it has just received, still in cache, with its own data, which is not. With all
// three beyond the cache the rate was 9 GB/s on the test VM, and ring all-reduce at 4-8 MiB ran
// 15-25% faster than the model said.
constexpr std::size_t kHostProbeSpilledBytes = std::size_t{8} << 20;

// One rank's rates (best of several passes): copy = bytes copied per second (memcpy), reduce =
// bytes of float32 sum output per second (the tool's own reduce_into, two inputs, one output), at
// `bytes` and at `spilled_bytes` (0: skip that part; the sum's second input there is one chunk).
HostMemoryProbe probe_host_memory_local(std::size_t bytes = kHostProbeBytes,
                                        std::size_t spilled_bytes = kHostProbeSpilledBytes);

// Collective: every rank probes at once (after a barrier); the result is the median over ranks,
// valid on rank 0 only.
HostMemoryProbe probe_host_memory(transports::World& w, std::size_t bytes = kHostProbeBytes,
                                  std::size_t spilled_bytes = kHostProbeSpilledBytes);

}  // namespace fb
