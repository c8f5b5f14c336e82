#include "transports/cuda/gpu.hpp"

#include <cuda_runtime.h>

#include <cstdio>

#include "transports/cuda/gpu_checks.hpp"

namespace fb::transports {

std::vector<std::pair<std::string, std::string>> gpu_facts(int device) {
  std::vector<std::pair<std::string, std::string>> f;
  auto version = [](int x) { return std::to_string(x / 1000) + "." + std::to_string((x % 1000) / 10); };
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) == cudaSuccess) {
    f.emplace_back("model", prop.name);
    char uuid[64];
    const auto* u = reinterpret_cast<const unsigned char*>(prop.uuid.bytes);
    std::snprintf(uuid, sizeof uuid,
                  "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                  u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    f.emplace_back("uuid", uuid);
    f.emplace_back("compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor));
    f.emplace_back("memory_bytes", std::to_string(prop.totalGlobalMem));
  }
  char bus[32] = {};
  if (cudaDeviceGetPCIBusId(bus, sizeof bus, device) == cudaSuccess) f.emplace_back("pci_bus_id", bus);
  int drv = 0, rt = 0;
  if (cudaDriverGetVersion(&drv) == cudaSuccess) f.emplace_back("cuda_driver", version(drv));
  if (cudaRuntimeGetVersion(&rt) == cudaSuccess) f.emplace_back("cuda_runtime", version(rt));
  return f;
}

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
  } else if (world.job_local_rank() >= ndev && ndev != 1) {
    g.error = world.hostname() + " runs " + std::to_string(world.job_local_size()) + " ranks but has " +
              std::to_string(ndev) + " GPUs (the " + backend + " backend runs one rank per GPU)";
  } else {
    g.device = ndev == 1 ? 0 : world.job_local_rank();
  }
  return g;
}

}  // namespace fb::transports
