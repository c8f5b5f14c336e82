// The GPU a rank uses, for every backend with device buffers (nccl; ucx --mem cuda): one rank per
// GPU, the node-local rank picking the device, or device 0 when the launcher shows each rank one
// GPU (Slurm --gpus-per-task=1). Built only with CUDA.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "transports/world.hpp"

namespace fb::transports {

struct GpuChoice {
  int device = -1;
  std::string error;  // "" when device is usable: "no usable GPU on node7 (cudaGetDeviceCount: ...)"
};

// What CUDA says about `device`: model, uuid ("GPU-xxxxxxxx-..."), pci_bus_id, compute capability,
// memory, driver and runtime versions (Backend::device_facts).
std::vector<std::pair<std::string, std::string>> gpu_facts(int device);

// This rank's device (local, no communication). `backend` names the backend in the error text.
GpuChoice choose_gpu(const World& world, const std::string& backend);

}  // namespace fb::transports
