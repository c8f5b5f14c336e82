// For the device tests: why there is no usable GPU here ("" when there is one). Tests call
// GTEST_SKIP with it, so ctest reports them as skipped (with the reason), never as passed.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

namespace fb::test {

inline std::string gpu_missing() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return std::string("no GPU (cudaGetDeviceCount: ") + cudaGetErrorString(e) + ")";
  if (n == 0) return "no GPU (cudaGetDeviceCount: 0 devices)";
  return "";
}

// Device memory for a test, copied to and from host vectors.
struct DeviceBuffer {
  explicit DeviceBuffer(std::size_t bytes) : size(bytes) {
    EXPECT_EQ(cudaMalloc(&p, bytes ? bytes : 1), cudaSuccess);
  }
  ~DeviceBuffer() { cudaFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  std::vector<unsigned char> host() const {
    std::vector<unsigned char> h(size);
    EXPECT_EQ(cudaMemcpy(h.data(), p, size, cudaMemcpyDeviceToHost), cudaSuccess);
    return h;
  }
  void upload(const std::vector<unsigned char>& h) {
    ASSERT_EQ(cudaMemcpy(p, h.data(), h.size(), cudaMemcpyHostToDevice), cudaSuccess);
  }
  void* p = nullptr;
  std::size_t size;
};

}  // namespace fb::test
