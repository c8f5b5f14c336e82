// The MPI backend: the MPI library's own collectives (algo "native"), fabricbench's algorithms
// and the pairwise protocols (collectives/pairwise_protocols.hpp) over point-to-point, on host
// memory. float16/bfloat16 travel as 2-byte types and reduce through
// user-defined MPI_Ops backed by fabricbench's vectorised host reductions.
#include <mpi.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectives/p2p.hpp"
#include "collectives/pairwise_protocols.hpp"
#include "collectives/reduce.hpp"
#include "transports/backend.hpp"
#include "transports/mpi/mpi_inventory.hpp"
#include "transports/mpi/mpi_world.hpp"
#include "vocab/error.hpp"

namespace fb::transports {

namespace {

MPI_Datatype g_half = MPI_DATATYPE_NULL;
MPI_Datatype g_bf16 = MPI_DATATYPE_NULL;

template <DType T, RedOp O>
void user_reduce(void* in, void* inout, int* len, MPI_Datatype*) {
  reduce_inplace(inout, in, static_cast<std::size_t>(*len), T, O);
}

std::string mpi_error(int rc) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  return std::string(msg, len);
}

// fabricbench's algorithms over MPI point-to-point.
class MpiP2P final : public P2P {
 public:
  explicit MpiP2P(MPI_Comm comm) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void isend(const void* buf, std::size_t bytes, int peer, int tag) override {
    check_bytes(bytes);
    reqs_.emplace_back();
    check(MPI_Isend(buf, static_cast<int>(bytes), MPI_BYTE, peer, tag, comm_, &reqs_.back()), "MPI_Isend");
  }
  void irecv(void* buf, std::size_t bytes, int peer, int tag) override {
    check_bytes(bytes);
    reqs_.emplace_back();
    check(MPI_Irecv(buf, static_cast<int>(bytes), MPI_BYTE, peer, tag, comm_, &reqs_.back()), "MPI_Irecv");
  }
  void wait_all() override {
    const int rc = MPI_Waitall(static_cast<int>(reqs_.size()), reqs_.data(), MPI_STATUSES_IGNORE);
    reqs_.clear();
    check(rc, "MPI_Waitall");
  }

 private:
  void check_bytes(std::size_t bytes) const {
    if (bytes > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw BackendError("mpi: a " + std::to_string(bytes) +
                         "-byte message exceeds MPI's int count limit; use a smaller --chunk");
  }
  void check(int rc, const char* what) {
    if (rc != MPI_SUCCESS)
      throw BackendError(std::string("mpi: ") + what + " failed on rank " + std::to_string(rank_) + ": " +
                         mpi_error(rc));
  }
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  std::vector<MPI_Request> reqs_;
};

// The pairwise protocols (collectives/pairwise_protocols.hpp) over MPI point-to-point: messages
// of the op's datatype (its element count, not its bytes, meets MPI's int limit), a failure
// reported as the op's.
class MpiPairP2P final : public P2P {
 public:
  explicit MpiPairP2P(const World& world) : world_(world) {}
  void set_comm(MPI_Comm comm) { comm_ = comm; }
  // The op the next messages belong to (per op: no allocation).
  void bind(MPI_Datatype type, std::size_t elem_bytes, std::string_view op) {
    type_ = type;
    elem_bytes_ = elem_bytes;
    op_ = op;
  }
  int rank() const override { return world_.rank(); }
  int size() const override { return world_.size(); }
  void isend(const void* buf, std::size_t bytes, int peer, int tag) override {
    reqs_.emplace_back();
    check(MPI_Isend(buf, count(bytes), type_, peer, tag, comm_, &reqs_.back()));
  }
  void irecv(void* buf, std::size_t bytes, int peer, int tag) override {
    reqs_.emplace_back();
    check(MPI_Irecv(buf, count(bytes), type_, peer, tag, comm_, &reqs_.back()));
  }
  void wait_all() override {
    const int rc = MPI_Waitall(static_cast<int>(reqs_.size()), reqs_.data(), MPI_STATUSES_IGNORE);
    reqs_.clear();
    check(rc);
  }
  // The windows call this class's isend/irecv directly: no virtual call per message.
  void send_window(const void* buf, std::size_t bytes, int peer, int n, bool) override {
    for (int i = 0; i < n; ++i) MpiPairP2P::isend(buf, bytes, peer, kPairTag);
  }
  void recv_window(void* buf, std::size_t bytes, int peer, int n) override {
    for (int i = 0; i < n; ++i) MpiPairP2P::irecv(buf, bytes, peer, kPairTag);
  }
  // Round trips with MPI's blocking calls (no request objects), as before the protocols were shared.
  void send_then_recv(const void* send, void* recv, std::size_t bytes, int peer) override {
    check(MPI_Send(send, count(bytes), type_, peer, kPairTag, comm_));
    check(MPI_Recv(recv, count(bytes), type_, peer, kPairTag, comm_, MPI_STATUS_IGNORE));
  }
  void recv_then_send(void* recv, const void* send, std::size_t bytes, int peer) override {
    check(MPI_Recv(recv, count(bytes), type_, peer, kPairTag, comm_, MPI_STATUS_IGNORE));
    check(MPI_Send(send, count(bytes), type_, peer, kPairTag, comm_));
  }

 private:
  int count(std::size_t bytes) const { return static_cast<int>(bytes / elem_bytes_); }
  void check(int rc) {
    if (rc != MPI_SUCCESS)
      throw BackendError("mpi: " + std::string(op_) + " failed on rank " + std::to_string(world_.rank()) +
                         " (" + world_.hostname() + "): " + mpi_error(rc));
  }
  const World& world_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Datatype type_ = MPI_BYTE;
  std::size_t elem_bytes_ = 1;
  std::string_view op_;
  std::vector<MPI_Request> reqs_;
};

class MpiBackend final : public Backend {
 public:
  explicit MpiBackend(World& world) : world_(world), algorithms_(world), pairs_(world) {
    MPI_Comm_dup(mpi_comm(world), &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    pairs_.set_comm(comm_);
    p2p_ = std::make_unique<MpiP2P>(comm_);
    if (g_half == MPI_DATATYPE_NULL) {
      MPI_Type_contiguous(2, MPI_BYTE, &g_half);
      MPI_Type_commit(&g_half);
      MPI_Type_contiguous(2, MPI_BYTE, &g_bf16);
      MPI_Type_commit(&g_bf16);
    }
    create_ops<DType::float16>(half_ops_);
    create_ops<DType::bfloat16>(bf16_ops_);
    // What carries the bytes, as Open MPI selected it: ob1's btls (self+tcp+vader), else the pml
    // (ucx, cm); "" when the library's records cannot be read (not Open MPI).
    const std::string pml = mpi_inventory::selected_pml();
    transport_ = pml == "ob1" ? mpi_inventory::selected_btls() : pml;
  }

  std::string transport() const override { return transport_; }

  ~MpiBackend() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    for (auto* ops : {&half_ops_, &bf16_ops_})
      for (auto& op : *ops) MPI_Op_free(&op);
    MPI_Comm_free(&comm_);
  }

  std::string name() const override { return "mpi"; }
  std::string version() const override { return world_.library_name(); }

  std::optional<std::string> unsupported(const OpDescriptor& op, DType, RedOp, bool inplace) const override {
    if (op.kind == OpKind::broadcast && !inplace)
      return "MPI_Bcast has one buffer: the mpi backend runs broadcast in place only";
    return std::nullopt;
  }

  InPlaceConvention inplace_convention() const override { return InPlaceConvention::mpi; }
  bool runs_p2p_algorithms() const override { return true; }

  std::string algo(const OpCall& c) const override {
    if (c.op->pairwise && !is_bounce(c.op->kind) && c.window > 1)
      return c.algo + "/window" + std::to_string(c.window);
    return c.algo;
  }

  void prepare(const OpCall& c) override {
    if (c.algo != "native") algorithms_.prepare(c);
  }

  std::optional<std::string> unsupported_layout(const OpLayout& l) const override {
    const std::size_t most = std::max({l.count, l.block, l.send_count, l.recv_count});
    if (most > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      return "mpi: " + std::to_string(most) + " elements exceed MPI's int count limit (" +
             std::to_string(std::numeric_limits<int>::max()) + "); use a larger dtype or smaller sizes";
    return std::nullopt;
  }

  void run(const OpCall& c) override {
    if (c.op->pairwise) {
      pairs_.bind(datatype(c.dtype), dtype_size(c.dtype), c.op->name);
      return run_pairwise(
          pairs_, PairwiseCall{c.op->kind, c.send, c.recv, c.layout.count * dtype_size(c.dtype), c.peer,
                               c.sender, c.window, c.from});
    }
    if (c.algo != "native") {
      algorithms_.run(*p2p_, c);
      return;
    }
    const int rc = run_native(c);
    if (rc != MPI_SUCCESS)
      throw BackendError("mpi: " + std::string(c.op->name) + " failed on rank " +
                         std::to_string(world_.rank()) + " (" + world_.hostname() + "): " + mpi_error(rc));
  }

 private:
  // The library's own collective for c.
  int run_native(const OpCall& c) {
    const MPI_Datatype t = datatype(c.dtype);
    const void* send = c.inplace ? MPI_IN_PLACE : c.send;
    // The rooted ops take MPI_IN_PLACE at the root only.
    const bool root_in_place = c.inplace && world_.rank() == c.root;
    const auto n = [](std::size_t v) { return static_cast<int>(v); };
    const OpLayout& l = c.layout;
    switch (c.op->kind) {
      case OpKind::allreduce:
        return MPI_Allreduce(send, c.recv, n(l.count), t, redop(c.dtype, c.redop), comm_);
      case OpKind::alltoall:
        return MPI_Alltoall(send, n(l.block), t, c.recv, n(l.block), t, comm_);
      case OpKind::allgather:
        return MPI_Allgather(send, n(l.block), t, c.recv, n(l.block), t, comm_);
      case OpKind::reducescatter:
        return MPI_Reduce_scatter_block(send, c.recv, n(l.block), t, redop(c.dtype, c.redop), comm_);
      case OpKind::broadcast:
        return MPI_Bcast(c.recv, n(l.count), t, c.root, comm_);
      case OpKind::reduce:
        return MPI_Reduce(root_in_place ? MPI_IN_PLACE : c.send, c.recv, n(l.count), t,
                          redop(c.dtype, c.redop), c.root, comm_);
      case OpKind::gather:
        return MPI_Gather(root_in_place ? MPI_IN_PLACE : c.send, n(l.block), t, c.recv, n(l.block), t, c.root,
                          comm_);
      case OpKind::scatter:
        return MPI_Scatter(c.send, n(l.block), t, root_in_place ? MPI_IN_PLACE : c.recv, n(l.block), t,
                           c.root, comm_);
      case OpKind::alltoallv:
      case OpKind::moe_dispatch:
      case OpKind::moe_combine: {
        set_v_counts(l);
        const int rc = MPI_Alltoallv(c.send, v_counts_[0].data(), v_counts_[1].data(), t, c.recv,
                                     v_counts_[2].data(), v_counts_[3].data(), t, comm_);
        if (rc == MPI_SUCCESS && c.op->sums_contributions)  // moe_combine: sum each token's k copies
          moe_combine_reduce(c, [&](void* io, const void* in, std::size_t cnt) {
            host_mem_ops().reduce_inplace(io, in, cnt, c.dtype, RedOp::sum);
          });
        return rc;
      }
      default:
        return MPI_SUCCESS;  // the pairwise ops: run_pairwise
    }
  }

  // MPI_Alltoallv's int counts and displacements for this layout's blocks (once per size).
  void set_v_counts(const OpLayout& l) {
    if (v_for_ == l.peers) return;
    const std::size_t p = l.peers->send_len.size();
    for (auto& v : v_counts_) v.resize(p);
    for (std::size_t k = 0; k < p; ++k) {
      const int i = static_cast<int>(k);
      v_counts_[0][k] = static_cast<int>(l.send_len(i));
      v_counts_[1][k] = static_cast<int>(l.send_off(i));
      v_counts_[2][k] = static_cast<int>(l.recv_len(i));
      v_counts_[3][k] = static_cast<int>(l.recv_off(i));
    }
    v_for_ = l.peers;  // held, so that no later layout's blocks can reuse the address
  }

  template <DType T>
  static void create_ops(MPI_Op (&ops)[4]) {
    MPI_Op_create(&user_reduce<T, RedOp::sum>, 1, &ops[0]);
    MPI_Op_create(&user_reduce<T, RedOp::prod>, 1, &ops[1]);
    MPI_Op_create(&user_reduce<T, RedOp::min>, 1, &ops[2]);
    MPI_Op_create(&user_reduce<T, RedOp::max>, 1, &ops[3]);
  }

  static MPI_Datatype datatype(DType t) {
    switch (t) {
      case DType::int8:
        return MPI_INT8_T;
      case DType::uint8:
        return MPI_UINT8_T;
      case DType::int32:
        return MPI_INT32_T;
      case DType::uint32:
        return MPI_UINT32_T;
      case DType::int64:
        return MPI_INT64_T;
      case DType::uint64:
        return MPI_UINT64_T;
      case DType::float16:
        return g_half;
      case DType::bfloat16:
        return g_bf16;
      case DType::float32:
        return MPI_FLOAT;
      case DType::float64:
        return MPI_DOUBLE;
    }
    return MPI_BYTE;
  }

  MPI_Op redop(DType t, RedOp op) const {
    const int i = static_cast<int>(op);
    if (t == DType::float16) return half_ops_[i];
    if (t == DType::bfloat16) return bf16_ops_[i];
    static const MPI_Op builtin[] = {MPI_SUM, MPI_PROD, MPI_MIN, MPI_MAX};
    return builtin[i];
  }

  World& world_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  std::unique_ptr<MpiP2P> p2p_;
  P2PAlgorithms algorithms_;
  MpiPairP2P pairs_;
  MPI_Op half_ops_[4] = {};
  // alltoallv: send counts, send displacements, receive counts, receive displacements, and the
  // blocks they were made for.
  std::vector<int> v_counts_[4];
  std::shared_ptr<const PeerBlocks> v_for_;
  MPI_Op bf16_ops_[4] = {};
  std::string transport_;
};

}  // namespace

std::unique_ptr<Backend> make_mpi_backend(World& world) {
  return std::make_unique<MpiBackend>(world);
}

}  // namespace fb::transports
