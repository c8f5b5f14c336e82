// How an algorithm touches the contents of its buffers (collectives/p2p.hpp, AlgoCall::mem): the
// reductions and copies it does between transfers. Host memory uses collectives/reduce.hpp and
// memmove; device buffers (--mem cuda over UCX) use CUDA kernels and device-to-device copies
// (collectives/cuda/device_mem_ops.hpp). The algorithms are written once over this interface.
#pragma once

#include <cstddef>

#include "collectives/dtype.hpp"

namespace fb {

class MemOps {
 public:
  virtual ~MemOps() = default;
  // out[i] = a[i] (op) b[i] for `count` elements, as collectives/reduce.hpp (float16/bfloat16 in
  // float32, rounded once); out may alias a or b. Complete when it returns: the result may be
  // sent at once.
  virtual void reduce_into(void* out, const void* a, const void* b, std::size_t count, DType dtype,
                           RedOp op) const = 0;
  // Copy `bytes` bytes; dst == src or the ranges do not overlap. Complete when it returns.
  virtual void copy(void* dst, const void* src, std::size_t bytes) const = 0;
  // Which memory these ops work on ("host", "cuda"), for messages.
  virtual const char* memory() const = 0;

  void reduce_inplace(void* inout, const void* in, std::size_t count, DType dtype, RedOp op) const {
    reduce_into(inout, inout, in, count, dtype, op);
  }
};

// Host memory: collectives/reduce.hpp and memmove.
const MemOps& host_mem_ops();

}  // namespace fb
