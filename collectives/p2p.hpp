// The abstract point-to-point interface fabricbench's own collective algorithms are written
// over (once), and the algorithm registry. A backend (MPI point-to-point, UCX) implements P2P;
// the algorithms and the pairwise protocols never know which library moves the bytes.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectives/dtype.hpp"
#include "collectives/mem_ops.hpp"
#include "collectives/op.hpp"
#include "vocab/algorithm.hpp"

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

  // The pairwise protocols' steps (collectives/pairwise_protocols.hpp). The defaults post isend/
  // irecv with kPairTag and empty acknowledgements with kPairAckTag; an API whose messages are
  // not send/receive pairs (UCX put, active messages) overrides them.
  // Post `count` sends of one buffer to `peer` (a window). `acked`: the peer acknowledges the
  // window (recv_ack follows), so an API that learns of delivery otherwise may wait for it here.
  virtual void send_window(const void* buf, std::size_t bytes, int peer, int count, bool acked);
  // Post `count` receives into one buffer from `peer`.
  virtual void recv_window(void* buf, std::size_t bytes, int peer, int count);
  // Post the acknowledgement of a received window, or the receive of the peer's.
  virtual void send_ack(int peer);
  virtual void recv_ack(int peer);
  // One leg of a round trip (pingpong, relay): send then receive, or receive then send, each
  // completed. The defaults post both before waiting (the sender) or wait between (the receiver);
  // MPI uses its blocking calls, as OSU's latency test does.
  virtual void send_then_recv(const void* send, void* recv, std::size_t bytes, int peer);
  virtual void recv_then_send(void* recv, const void* send, std::size_t bytes, int peer);
  static constexpr int kPairTag = 4242;
  static constexpr int kPairAckTag = 4243;
};

// One op for an algorithm: the op's arguments (collectives/op.hpp), where the ranks are, the
// pipeline chunk, and scratch space of at least scratch_bytes(call, nranks) bytes, owned by the
// caller and page-aligned (4 KiB: receives land there; see collectives/algorithms/common.hpp),
// in the same memory as the op's buffers, and the ops that reduce and copy in that memory.
// transports::P2PAlgorithms (transports/backend.hpp) builds it for every backend.
struct AlgoCall : OpArgs {
  void* scratch = nullptr;
  // Reductions and copies between transfers: host functions, or CUDA kernels for device buffers.
  // Never null.
  const MemOps* mem = &host_mem_ops();
  // Pipeline chunk in bytes: large messages move in chunks of this size so that reducing one
  // chunk overlaps the next one's transfer. 0: the algorithms' default (256 KiB).
  std::size_t chunk_bytes = 0;
  // node_of[r]: the node (host) rank r runs on, for the algorithms that follow the topology
  // (hierarchical). Empty: every rank on one node.
  std::span<const int> node_of;
};

// One algorithm's code, registered under its vocabulary entry (vocab/algorithm.hpp: its name and
// the ops it implements, the same the model prices).
struct CollectiveAlgorithm {
  using ScratchFn = std::size_t (*)(const AlgoCall& call, int nranks);
  using RunFn = void (*)(P2P& p2p, const AlgoCall& call);
  constexpr CollectiveAlgorithm(const vocab::Algorithm& v, ScratchFn scratch, RunFn r)
      : name(v.name), ops(v.ops), scratch_bytes(scratch), run(r) {}
  std::string_view name;
  vocab::OpSet ops;
  // Scratch bytes this algorithm needs for `call` (its layout, dtype, chunk and nodes) on nranks.
  ScratchFn scratch_bytes = nullptr;
  RunFn run = nullptr;
};

const std::vector<const CollectiveAlgorithm*>& collective_algorithms();
// nullptr when unknown.
const CollectiveAlgorithm* find_collective_algorithm(std::string_view name);
// Whether `algo` implements `op`.
bool algorithm_supports(const CollectiveAlgorithm& algo, OpKind op);
// Whether any algorithm implements `op` (not the point-to-point ops: sendrecv, unidir, bidir, pingpong,
// relay).
bool any_algorithm_supports(OpKind op);
// The names of the algorithms that implement `op`, comma-separated ("" when none).
std::string algorithms_for(OpKind op);

// The topology --algo auto looks at.
struct AutoTopology {
  int nranks = 1;
  int nnodes = 1;
  int max_ranks_per_node = 1;
};
// What --algo auto runs for `op` at this size: an algorithm's name, or "native" for an op no
// algorithm implements (the backend's own point-to-point). The rule is in docs/algorithms.md
// and in `fabricbench run --help`; kAutoRule states it in one paragraph.
std::string_view auto_algorithm(OpKind op, const OpLayout& layout, DType dtype, const AutoTopology& topo);
extern const char* const kAutoRule;

}  // namespace fb
