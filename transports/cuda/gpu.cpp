#include "transports/cuda/gpu.hpp"

#include <cuda_runtime.h>

#include "transports/cuda/gpu_checks.hpp"

namespace fb::transports {

GpuChoice choose_gpu(const World& world, const std::string& backend) {
  GpuChoice g;
  int ndev = 0;
  const cudaError_t e = cudaGetDeviceCount(&ndev);
  if (e != cudaSuccess) {
    // An old driver reads as "no GPU" unless its version is said (CUDA 13 needs >= 580).
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    const std::string old = driver_too_old(driver, runtime);
    g.error = "no usable GPU on " + world.hostname() + " (cudaGetDeviceCount: " + cudaGetErrorString(e) +
              "; driver " + (driver > 0 ? "CUDA " + cuda_version_text(driver) : std::string("none")) +
              ", runtime CUDA " + cuda_version_text(runtime) + (old.empty() ? "" : "; " + old) + ")";
  } else if (ndev == 0) {
    g.error = "no usable GPU on " + world.hostname() + " (cudaGetDeviceCount: 0 devices)";
  } else if (world.local_rank() >= ndev && ndev != 1) {
    g.error = world.hostname() + " runs " + std::to_string(world.local_size()) + " ranks but has " +
              std::to_string(ndev) + " GPUs (the " + backend + " backend runs one rank per GPU)";
  } else {
    g.device = ndev == 1 ? 0 : world.local_rank();
  }
  return g;
}

}  // namespace fb::transports
