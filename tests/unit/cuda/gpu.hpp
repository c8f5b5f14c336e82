// For the device tests: why there is no usable GPU here ("" when there is one). Tests call
// GTEST_SKIP with it, so ctest reports them as skipped (with the reason), never as passed.
#pragma once

#include <cuda_runtime.h>

#include <string>

namespace fb::test {

inline std::string gpu_missing() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return std::string("no GPU (cudaGetDeviceCount: ") + cudaGetErrorString(e) + ")";
  if (n == 0) return "no GPU (cudaGetDeviceCount: 0 devices)";
  return "";
}

}  // namespace fb::test
