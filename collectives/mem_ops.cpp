// The host's MemOps: collectives/reduce.hpp and memmove.
#include "collectives/mem_ops.hpp"

#include <cstring>

#include "collectives/reduce.hpp"

namespace fb {

namespace {

class HostMemOps final : public MemOps {
 public:
  void reduce_into(void* out, const void* a, const void* b, std::size_t count, DType dtype,
                   RedOp op) const override {
    fb::reduce_into(out, a, b, count, dtype, op);
  }
  void copy(void* dst, const void* src, std::size_t bytes) const override {
    if (dst != src && bytes) std::memmove(dst, src, bytes);
  }
  const char* memory() const override { return "host"; }
};

}  // namespace

const MemOps& host_mem_ops() {
  static const HostMemOps ops;
  return ops;
}

}  // namespace fb
