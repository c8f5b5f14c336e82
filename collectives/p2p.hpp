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

// One op for an algorithm: the op's arguments (collectives/op.hpp) plus scratch space of at
// least scratch_bytes(layout, dtype, nranks) bytes, owned by the caller.
struct AlgoCall : OpArgs {
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
