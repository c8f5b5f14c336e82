// DeviceMemory with CUDA: the GPU of transports/cuda/gpu.hpp, one non-blocking stream for the
// kernels and copies, buffers from cudaMalloc.
#include "transports/cuda/device_memory.hpp"

#include <cuda_runtime.h>

#include <map>
#include <stdexcept>

#include "collectives/cuda/device_mem_ops.hpp"
#include "collectives/cuda/device_pattern.hpp"
#include "transports/cuda/gpu.hpp"

namespace fb::transports {

namespace {

std::string cuda_text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

void cuda_ok(cudaError_t e, const std::string& what) {
  if (e != cudaSuccess) throw std::runtime_error(what + ": " + cuda_text(e));
}

class CudaDeviceMemory final : public DeviceMemory {
 public:
  CudaDeviceMemory(int device, cudaStream_t stream, std::string name)
      : device_(device), stream_(stream), name_(std::move(name)), ops_(stream), patterns_(stream) {}
  ~CudaDeviceMemory() override {
    for (auto& [p, bytes] : buffers_) cudaFree(p);
    cudaStreamDestroy(stream_);
  }

  std::string device_name() const override { return name_; }
  std::size_t free_bytes() const override {
    std::size_t free = 0, total = 0;
    return cudaMemGetInfo(&free, &total) == cudaSuccess ? free : 0;
  }
  void* alloc(std::size_t bytes) override {
    const std::size_t n = bytes == 0 ? 256 : bytes;
    void* p = nullptr;
    cuda_ok(cudaMalloc(&p, n),
            "cudaMalloc(" + std::to_string(n) + " B) on device " + std::to_string(device_));
    buffers_[p] = n;
    cuda_ok(cudaMemset(p, 0, n), "cudaMemset");
    return p;
  }
  void release(void* p) override {
    if (buffers_.erase(p)) cudaFree(p);
  }
  bool owns(const void* p) const override {
    auto it = buffers_.upper_bound(const_cast<void*>(p));
    if (it == buffers_.begin()) return false;
    --it;
    const auto* base = static_cast<const unsigned char*>(it->first);
    const auto* q = static_cast<const unsigned char*>(p);
    return q >= base && q < base + it->second;
  }
  void fill(const Pattern& pattern, void* dst, std::size_t count, int rank, std::size_t offset) override {
    patterns_.fill(pattern.params(), dst, count, rank, offset);
    cuda_ok(cudaStreamSynchronize(stream_), "pattern fill");
  }
  void poison(void* dst, std::size_t count, DType dtype) override {
    patterns_.poison(dst, count, dtype);
    cuda_ok(cudaStreamSynchronize(stream_), "poison");
  }
  std::size_t check(const Pattern& pattern, const void* recv, const std::vector<Segment>& segments) override {
    return patterns_.check(pattern.params(), recv, segments);
  }
  void copy(void* dst, const void* src, std::size_t bytes) override {
    if (bytes == 0) return;
    cuda_ok(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream_), "cudaMemcpyAsync");
    cuda_ok(cudaStreamSynchronize(stream_), "cudaStreamSynchronize after copy");
  }
  const MemOps& ops() const override { return ops_; }

 private:
  int device_;
  cudaStream_t stream_;
  std::string name_;
  cuda::DeviceMemOps ops_;
  cuda::DevicePattern patterns_;
  std::map<void*, std::size_t> buffers_;
};

}  // namespace

std::unique_ptr<DeviceMemory> DeviceMemory::open(const World& world, const std::string& backend,
                                                 std::string& why) {
  const GpuChoice gpu = choose_gpu(world, backend);
  if (!gpu.error.empty()) {
    why = gpu.error;
    return nullptr;
  }
  cudaError_t e = cudaSetDevice(gpu.device);
  if (e != cudaSuccess) {
    why = "cudaSetDevice(" + std::to_string(gpu.device) + ") on " + world.hostname() + ": " + cuda_text(e);
    return nullptr;
  }
  std::string name = "device " + std::to_string(gpu.device);
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, gpu.device) == cudaSuccess)
    name = std::string(prop.name) + " sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
  cudaStream_t stream = nullptr;
  if ((e = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking)) != cudaSuccess) {
    why = "cudaStreamCreate on " + world.hostname() + ": " + cuda_text(e);
    return nullptr;
  }
  try {
    return std::make_unique<CudaDeviceMemory>(gpu.device, stream, std::move(name));
  } catch (const std::exception& ex) {
    cudaStreamDestroy(stream);
    why = ex.what();
    return nullptr;
  }
}

}  // namespace fb::transports
