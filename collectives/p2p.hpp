// The abstract point-to-point interface fabricbench's own collective algorithms are written
// over (once), and the algorithm registry. A backend (MPI point-to-point today, UCX next)
// implements P2P; the algorithms never know which library moves the bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "collectives/dtype.hpp"
#include "collectives/op.hpp"

namespace fb {

class P2P {
 public:
  virtual ~P2P() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Post a non-blocking send or receive of `bytes` bytes; complete them with wait_all().
  virtual void isend(const void* buf, std::size_t bytes, int peer, int tag) = 0;
  virtual void irecv(void* buf, std::size_t bytes, int peer, int tag) = 0;
  // Complete every posted request.
  virtual void wait_all() = 0;
};

// One op for an algorithm: the same buffers and layout the runner hands a backend. In place,
// `send` and `recv` point into one buffer at the descriptor's in-place offsets (NCCL convention).
struct AlgoCall {
  const OpDescriptor* op = nullptr;
  OpLayout layout;
  const void* send = nullptr;
  void* recv = nullptr;
  bool inplace = false;
  DType dtype = DType::float32;
  RedOp redop = RedOp::sum;
  int root = 0;
  // Scratch space of at least scratch_bytes(op, layout, dtype) bytes, owned by the caller.
  void* scratch = nullptr;
};

struct CollectiveAlgorithm {
  std::string_view name;
  std::vector<OpKind> ops;
  // Scratch bytes this algorithm needs for `layout`.
  std::size_t (*scratch_bytes)(const OpLayout& layout, DType dtype, int nranks) = nullptr;
  void (*run)(P2P& p2p, const AlgoCall& call) = nullptr;
};

const std::vector<const CollectiveAlgorithm*>& collective_algorithms();
// nullptr when unknown.
const CollectiveAlgorithm* find_collective_algorithm(std::string_view name);
// Whether `algo` implements `op`.
bool algorithm_supports(const CollectiveAlgorithm& algo, OpKind op);

}  // namespace fb
