// Reductions and copies on device memory (CUDA kernels and device-to-device copies), for the
// algorithms of collectives/algorithms/ over device buffers (AlgoCall::mem; --mem cuda over UCX).
// The reductions have collectives/reduce.hpp's semantics bit for bit: signed integers wrap
// (computed in the unsigned type), int8/uint8 in int, float16/bfloat16 widen to float32, reduce
// and round to nearest even once; min/max as `b < a ? b : a` / `a < b ? b : a`. Only NaN payloads
// may differ from the host's (GPUs return a canonical NaN); tests/unit/cuda/test_device_reduce.cpp
// compares every dtype x redop with the host.
//
// No CUDA includes here: streams are passed as void* (a cudaStream_t). Built only where the CUDA
// toolkit is (FB_HAVE_CUDA); errors throw std::runtime_error with CUDA's string.
#pragma once

#include <cstddef>

#include "collectives/mem_ops.hpp"

namespace fb::cuda {

// Enqueue out[i] = a[i] (op) b[i] for `count` elements on `stream` (nullptr: the legacy default
// stream) of the current device; out may alias a or b. Asynchronous.
void reduce_into_async(void* out, const void* a, const void* b, std::size_t count, DType dtype, RedOp op,
                       void* stream);

// MemOps over device memory: each op is enqueued on `stream` and waited for, so a reduced chunk
// is complete before the algorithm hands it to the transport.
class DeviceMemOps final : public MemOps {
 public:
  explicit DeviceMemOps(void* stream) : stream_(stream) {}
  void reduce_into(void* out, const void* a, const void* b, std::size_t count, DType dtype,
                   RedOp op) const override;
  void copy(void* dst, const void* src, std::size_t bytes) const override;
  const char* memory() const override { return "cuda"; }

 private:
  void* stream_;
};

}  // namespace fb::cuda
