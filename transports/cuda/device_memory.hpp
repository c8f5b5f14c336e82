// Device buffers for a backend whose library is driven from the host (ucx --mem cuda): the GPU
// chosen as for nccl (transports/cuda/gpu.hpp), cudaMalloc'd buffers, validation with the device
// pattern kernels, and the device reductions and copies the algorithms use (AlgoCall::mem).
// device_memory.cpp is the CUDA build's; device_memory_none.cpp answers that this build has no
// CUDA, so backends call it without an #ifdef.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "collectives/mem_ops.hpp"
#include "collectives/pattern.hpp"
#include "transports/world.hpp"

namespace fb::transports {

class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  // Selects this rank's GPU and makes a stream; nullptr with `why` set when there is no usable GPU
  // or this build has no CUDA. Local: no communication.
  static std::unique_ptr<DeviceMemory> open(const World& world, const std::string& backend, std::string& why);

  virtual std::string device_name() const = 0;
  // Free bytes of the device.
  virtual std::size_t free_bytes() const = 0;
  // Zeroed device memory (at least one byte), and its release.
  virtual void* alloc(std::size_t bytes) = 0;
  virtual void release(void* p) = 0;
  // Whether p lies in a buffer alloc() returned and release() has not.
  virtual bool owns(const void* p) const = 0;
  // Validation on the device (collectives/cuda/device_pattern.hpp); complete when they return.
  virtual void fill(const Pattern& pattern, void* dst, std::size_t count, int rank, std::size_t offset) = 0;
  virtual void poison(void* dst, std::size_t count, DType dtype) = 0;
  virtual std::size_t check(const Pattern& pattern, const void* recv,
                            const std::vector<Segment>& segments) = 0;
  // Copy between any two of host and device memory (cudaMemcpyDefault); complete when it returns.
  virtual void copy(void* dst, const void* src, std::size_t bytes) = 0;
  // Reductions and copies in device memory, for the algorithms (AlgoCall::mem).
  virtual const MemOps& ops() const = 0;
};

}  // namespace fb::transports
