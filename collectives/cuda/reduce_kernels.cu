// Device reductions for every dtype x redop with the host's semantics (collectives/reduce.cpp),
// and DeviceMemOps (collectives/cuda/device_mem_ops.hpp).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "collectives/cuda/device_mem_ops.hpp"

namespace fb::cuda {

namespace {

void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("device reduction: ") + what + ": " + cudaGetErrorString(e));
}

// As collectives/reduce.cpp: `arithmetic` ops can overflow, so signed integers are computed in
// the unsigned type of the same width (two's-complement wrap-around).
struct Sum {
  static constexpr bool arithmetic = true;
  template <class T>
  __device__ static T apply(T a, T b) {
    return a + b;
  }
};
struct Prod {
  static constexpr bool arithmetic = true;
  template <class T>
  __device__ static T apply(T a, T b) {
    return a * b;
  }
};
struct Min {
  static constexpr bool arithmetic = false;
  template <class T>
  __device__ static T apply(T a, T b) {
    return b < a ? b : a;
  }
};
struct Max {
  static constexpr bool arithmetic = false;
  template <class T>
  __device__ static T apply(T a, T b) {
    return a < b ? b : a;
  }
};

template <class T, class Op>
using compute_t = typename std::conditional_t<Op::arithmetic && std::is_integral_v<T> && std::is_signed_v<T>,
                                              std::make_unsigned<T>, std::type_identity<T>>::type;

// Element i: the storage type T, computed in C (int for 8-bit integers, as C++ promotes them on
// the host), or in float for the 16-bit floats (widen, reduce, round to nearest even once).
template <class T, class Op>
struct Element {
  __device__ static T apply(T a, T b) {
    if constexpr (sizeof(T) == 1) {
      return static_cast<T>(Op::template apply<int>(a, b));
    } else {
      using C = compute_t<T, Op>;
      return static_cast<T>(Op::template apply<C>(static_cast<C>(a), static_cast<C>(b)));
    }
  }
};
template <class Op>
struct Element<__half, Op> {
  __device__ static __half apply(__half a, __half b) {
    return __float2half_rn(Op::template apply<float>(__half2float(a), __half2float(b)));
  }
};
template <class Op>
struct Element<__nv_bfloat16, Op> {
  __device__ static __nv_bfloat16 apply(__nv_bfloat16 a, __nv_bfloat16 b) {
    return __float2bfloat16_rn(Op::template apply<float>(__bfloat162float(a), __bfloat162float(b)));
  }
};

template <class T, class Op>
__global__ void reduce_kernel(T* out, const T* a, const T* b, std::size_t count) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride)
    out[i] = Element<T, Op>::apply(a[i], b[i]);
}

constexpr int kThreads = 256;

template <class T, class Op>
void launch(void* out, const void* a, const void* b, std::size_t count, cudaStream_t s) {
  const std::size_t want = (count + kThreads - 1) / kThreads;
  const unsigned blocks = static_cast<unsigned>(want > 65535 * 4 ? 65535 * 4 : want);
  reduce_kernel<T, Op><<<blocks, kThreads, 0, s>>>(static_cast<T*>(out), static_cast<const T*>(a),
                                                   static_cast<const T*>(b), count);
}

template <class Op>
void dispatch(void* out, const void* a, const void* b, std::size_t n, DType t, cudaStream_t s) {
  switch (t) {
    case DType::int8:
      launch<std::int8_t, Op>(out, a, b, n, s);
      break;
    case DType::uint8:
      launch<std::uint8_t, Op>(out, a, b, n, s);
      break;
    case DType::int32:
      launch<std::int32_t, Op>(out, a, b, n, s);
      break;
    case DType::uint32:
      launch<std::uint32_t, Op>(out, a, b, n, s);
      break;
    case DType::int64:
      launch<std::int64_t, Op>(out, a, b, n, s);
      break;
    case DType::uint64:
      launch<std::uint64_t, Op>(out, a, b, n, s);
      break;
    case DType::float16:
      launch<__half, Op>(out, a, b, n, s);
      break;
    case DType::bfloat16:
      launch<__nv_bfloat16, Op>(out, a, b, n, s);
      break;
    case DType::float32:
      launch<float, Op>(out, a, b, n, s);
      break;
    case DType::float64:
      launch<double, Op>(out, a, b, n, s);
      break;
  }
}

}  // namespace

void reduce_into_async(void* out, const void* a, const void* b, std::size_t count, DType dtype, RedOp op,
                       void* stream) {
  if (count == 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  switch (op) {
    case RedOp::sum:
      dispatch<Sum>(out, a, b, count, dtype, s);
      break;
    case RedOp::prod:
      dispatch<Prod>(out, a, b, count, dtype, s);
      break;
    case RedOp::min:
      dispatch<Min>(out, a, b, count, dtype, s);
      break;
    case RedOp::max:
      dispatch<Max>(out, a, b, count, dtype, s);
      break;
  }
  check_cuda(cudaGetLastError(), "reduce kernel launch");
}

void DeviceMemOps::reduce_into(void* out, const void* a, const void* b, std::size_t count, DType dtype,
                               RedOp op) const {
  if (count == 0) return;
  reduce_into_async(out, a, b, count, dtype, op, stream_);
  // The transport sends the result next: it must be in memory first.
  check_cuda(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)), "cudaStreamSynchronize after reduce");
}

void DeviceMemOps::copy(void* dst, const void* src, std::size_t bytes) const {
  if (dst == src || bytes == 0) return;
  const auto s = static_cast<cudaStream_t>(stream_);
  check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s),
             "cudaMemcpyAsync device to device");
  check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize after copy");
}

}  // namespace fb::cuda
