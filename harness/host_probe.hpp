// The host memory probe every MPI-launched command runs before its first test: how fast this
// rank copies and reduces host memory while every other rank does the same, measured by the tool
// itself so that `fabricbench calibrate` can fit the model's memory and reduction terms from a
// run's own metadata (results/SCHEMA.md, meta.host_memory).
#pragma once

#include <cstddef>

#include "harness/record.hpp"
#include "transports/world.hpp"

namespace fb {

// Buffer size of the probe: large enough that one pass is ~100x a clock read, small enough to
// stay in a cache level the algorithms' chunks (256 KiB) also use.
constexpr std::size_t kHostProbeBytes = std::size_t{1} << 20;

// One rank's rates (best of several passes): copy = bytes copied per second (memcpy), reduce =
// bytes of float32 sum output per second (the tool's own reduce_into, two inputs, one output).
HostMemoryProbe probe_host_memory_local(std::size_t bytes = kHostProbeBytes);

// Collective: every rank probes at once (after a barrier); the result is the median over ranks,
// valid on rank 0 only.
HostMemoryProbe probe_host_memory(transports::World& w, std::size_t bytes = kHostProbeBytes);

}  // namespace fb
