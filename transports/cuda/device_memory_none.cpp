// DeviceMemory in a build without CUDA: there is none.
#include "transports/cuda/device_memory.hpp"

namespace fb::transports {

std::unique_ptr<DeviceMemory> DeviceMemory::open(const World&, const std::string& backend, std::string& why) {
  why =
      "--mem cuda needs fabricbench built with CUDA (the CUDA toolkit with nvcc at configure time; "
      "FABRICBENCH_WITH_CUDA) for " +
      backend + "'s device buffers and reduction kernels, which this build is not";
  return nullptr;
}

}  // namespace fb::transports
