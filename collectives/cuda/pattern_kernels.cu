// Device fill / poison / check over collectives/pattern_math.hpp: the same values, bit for bit,
// as the host's collectives/pattern.cpp (tests/unit/cuda/test_device_pattern.cpp compares them
// on a GPU).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "collectives/cuda/device_pattern.hpp"

namespace fb::cuda {

namespace {

void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("device validation: ") + what + ": " + cudaGetErrorString(e));
}

// An integer-valued double as the raw bits of one element of `t` (exact: the patterns keep every
// value inside the dtype's exact range, so each conversion below is exact).
__device__ inline std::uint64_t to_bits(DType t, double v) {
  switch (t) {
    case DType::int8:
      return static_cast<std::uint8_t>(static_cast<std::int8_t>(v));
    case DType::uint8:
      return static_cast<std::uint8_t>(v);
    case DType::int32:
      return static_cast<std::uint32_t>(static_cast<std::int32_t>(v));
    case DType::uint32:
      return static_cast<std::uint32_t>(v);
    case DType::int64:
      return static_cast<std::uint64_t>(static_cast<std::int64_t>(v));
    case DType::uint64:
      return static_cast<std::uint64_t>(v);
    case DType::float16:
      return __half_as_ushort(__float2half_rn(static_cast<float>(v)));
    case DType::bfloat16:
      return __bfloat16_as_ushort(__float2bfloat16_rn(static_cast<float>(v)));
    case DType::float32:
      return __float_as_uint(static_cast<float>(v));
    case DType::float64:
      return static_cast<std::uint64_t>(__double_as_longlong(v));
  }
  return 0;
}

template <class T>
__global__ void fill_kernel(PatternParams p, T* dst, std::size_t count, int rank, std::size_t offset) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride)
    dst[i] = static_cast<T>(to_bits(p.dtype, pattern_value(p, rank, offset + i)));
}

template <class T>
__global__ void poison_kernel(T* dst, std::size_t count, T bits) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride)
    dst[i] = bits;
}

template <class T>
__global__ void expected_table_kernel(PatternParams p, T* table) {
  const std::size_t j = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j < kPatternPeriod) table[j] = static_cast<T>(to_bits(p.dtype, pattern_expected_reduced(p, j)));
}

__device__ inline void add_wrong(unsigned long long local, unsigned long long* wrong) {
  // One atomic per warp that saw a wrong element.
  for (int o = 16; o > 0; o /= 2) local += __shfl_down_sync(0xffffffffu, local, o);
  if ((threadIdx.x & 31) == 0 && local != 0) atomicAdd(wrong, local);
}

// Elements of src that differ from rank `source`'s pattern from element `offset` on.
template <class T>
__global__ void check_source_kernel(PatternParams p, const T* src, std::size_t count, int source,
                                    std::size_t offset, unsigned long long* wrong) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  unsigned long long local = 0;
  // Every thread runs the same number of iterations so the warp reduction sees all lanes.
  const std::size_t start = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::size_t rounds = (count + stride - 1) / stride;
  for (std::size_t k = 0, i = start; k < rounds; ++k, i += stride)
    if (i < count && src[i] != static_cast<T>(to_bits(p.dtype, pattern_value(p, source, offset + i))))
      ++local;
  add_wrong(local, wrong);
}

// Elements of src that differ from the expected reduction (one period in `table`).
template <class T>
__global__ void check_table_kernel(const T* src, std::size_t count, const T* table, std::size_t offset,
                                   unsigned long long* wrong) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  unsigned long long local = 0;
  const std::size_t start = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::size_t rounds = (count + stride - 1) / stride;
  for (std::size_t k = 0, i = start; k < rounds; ++k, i += stride)
    if (i < count && src[i] != table[(offset + i) % kPatternPeriod]) ++local;
  add_wrong(local, wrong);
}

constexpr int kThreads = 256;

unsigned blocks_for(std::size_t count) {
  const std::size_t b = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b == 0 ? 1 : (b > 65535 * 4 ? 65535 * 4 : b));
}

// Run `launch.template operator()<T>()` with T the unsigned integer type of the dtype's size.
template <class F>
void by_size(DType t, F&& launch) {
  switch (dtype_size(t)) {
    case 1:
      launch(std::uint8_t{});
      break;
    case 2:
      launch(std::uint16_t{});
      break;
    case 4:
      launch(std::uint32_t{});
      break;
    default:
      launch(std::uint64_t{});
      break;
  }
}

bool same_params(const PatternParams& a, const PatternParams& b) {
  return a.dtype == b.dtype && a.reduces == b.reduces && a.redop == b.redop && a.nranks == b.nranks &&
         a.seed == b.seed;
}

}  // namespace

DevicePattern::DevicePattern(void* stream) : stream_(stream) {
  check_cuda(cudaMalloc(&table_, kPatternPeriod * sizeof(std::uint64_t)), "cudaMalloc");
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&counter_), sizeof(unsigned long long)), "cudaMalloc");
}

DevicePattern::~DevicePattern() {
  cudaFree(table_);
  cudaFree(counter_);
}

void DevicePattern::fill(const PatternParams& p, void* dst, std::size_t count, int rank, std::size_t offset) {
  if (count == 0) return;
  auto s = static_cast<cudaStream_t>(stream_);
  by_size(p.dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<blocks_for(count), kThreads, 0, s>>>(p, static_cast<T*>(dst), count, rank, offset);
  });
  check_cuda(cudaGetLastError(), "fill kernel");
}

void DevicePattern::poison(void* dst, std::size_t count, DType dtype) {
  if (count == 0) return;
  auto s = static_cast<cudaStream_t>(stream_);
  by_size(dtype, [&](auto tag) {
    using T = decltype(tag);
    poison_kernel<T><<<blocks_for(count), kThreads, 0, s>>>(static_cast<T*>(dst), count,
                                                            static_cast<T>(pattern_poison_bits(dtype)));
  });
  check_cuda(cudaGetLastError(), "poison kernel");
}

std::size_t DevicePattern::check(const PatternParams& p, const void* recv,
                                 const std::vector<Segment>& segments) {
  auto s = static_cast<cudaStream_t>(stream_);
  const std::size_t es = dtype_size(p.dtype);
  check_cuda(cudaMemsetAsync(counter_, 0, sizeof(unsigned long long), s), "cudaMemsetAsync");
  for (const Segment& seg : segments) {
    if (seg.count == 0) continue;
    const void* at = static_cast<const unsigned char*>(recv) + seg.recv_offset * es;
    if (seg.reduced) {
      if (!p.reduces)
        throw std::logic_error("DevicePattern::check: a reduced segment for a pattern without a reduction");
      if (!table_valid_ || !same_params(p, table_params_)) {
        by_size(p.dtype, [&](auto tag) {
          using T = decltype(tag);
          expected_table_kernel<T>
              <<<(kPatternPeriod + kThreads - 1) / kThreads, kThreads, 0, s>>>(p, static_cast<T*>(table_));
        });
        check_cuda(cudaGetLastError(), "expected-result kernel");
        table_params_ = p;
        table_valid_ = true;
      }
      by_size(p.dtype, [&](auto tag) {
        using T = decltype(tag);
        check_table_kernel<T><<<blocks_for(seg.count), kThreads, 0, s>>>(
            static_cast<const T*>(at), seg.count, static_cast<const T*>(table_), seg.source_offset, counter_);
      });
    } else {
      by_size(p.dtype, [&](auto tag) {
        using T = decltype(tag);
        check_source_kernel<T><<<blocks_for(seg.count), kThreads, 0, s>>>(
            p, static_cast<const T*>(at), seg.count, seg.source, seg.source_offset, counter_);
      });
    }
    check_cuda(cudaGetLastError(), "check kernel");
  }
  unsigned long long wrong = 0;
  check_cuda(cudaMemcpyAsync(&wrong, counter_, sizeof(wrong), cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync");
  check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize");
  return static_cast<std::size_t>(wrong);
}

}  // namespace fb::cuda
