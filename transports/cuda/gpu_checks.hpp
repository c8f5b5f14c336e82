// What the GPU backends say when a GPU cannot be used, as pure functions of what CUDA reported
// (unit-tested without a GPU: tests/unit/test_nccl_pure.cpp).
#pragma once

#include <string>
#include <vector>

namespace fb::transports {

// CUDA's version numbers (1000 * major + 10 * minor) as "13.0".
inline std::string cuda_version_text(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

// Why no GPU is usable when CUDA's driver is older than its runtime (cudaErrorInsufficientDriver,
// or cudaGetDeviceCount failing with a driver below the runtime): "" when the driver is new enough.
inline std::string driver_too_old(int driver, int runtime) {
  if (driver <= 0 || driver >= runtime) return "";
  return "the CUDA driver supports CUDA " + cuda_version_text(driver) +
         " but fabricbench was built with CUDA " + cuda_version_text(runtime) +
         " (CUDA 13 needs driver >= 580); update the driver or build against an " +
         "older CUDA toolkit (docs/nccl.md)";
}

// Ranks of one host that would share a GPU (NCCL fails with "Duplicate GPU"): `hosts` and
// `bus_ids` are per rank. "" when every rank of a host has its own GPU (bus IDs differ, e.g. one
// visible GPU per rank). Otherwise one line naming the first two ranks and the GPU.
inline std::string duplicate_gpu(const std::vector<std::string>& hosts,
                                 const std::vector<std::string>& bus_ids) {
  for (std::size_t a = 0; a < hosts.size() && a < bus_ids.size(); ++a)
    for (std::size_t b = a + 1; b < hosts.size() && b < bus_ids.size(); ++b)
      if (hosts[a] == hosts[b] && bus_ids[a] == bus_ids[b])
        return "ranks " + std::to_string(a) + " and " + std::to_string(b) + " on " + hosts[a] +
               " would share GPU " + bus_ids[a] +
               " (nccl runs one rank per GPU: start at most as many ranks per host as it has GPUs, or "
               "give each rank its own with CUDA_VISIBLE_DEVICES)";
  return "";
}

}  // namespace fb::transports
