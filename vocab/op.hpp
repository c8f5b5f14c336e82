// What an operation is, in the one list collectives/, model/ and harness/ share: its name, how its
// per-rank buffers are shaped for n ranks, its busbw factor (nccl-tests'), and whether ranks work in
// pairs or bounce a message there and back. collectives/op.hpp adds what a run needs on top (the
// data pattern each rank must find, the in-place offsets); model/ prices the same ops.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fb::vocab {

enum class OpKind {
  allreduce,
  alltoall,
  allgather,
  reducescatter,
  broadcast,
  unidir,
  bidir,
  pingpong,
  relay,
  reduce,
  gather,
  scatter,
  alltoallv,
  sendrecv,
  moe_dispatch,
  moe_combine
};
inline constexpr int kNumOps = 16;

// How an op's per-rank buffers relate to the size asked for (nccl-tests' sizes: the allreduce and
// broadcast buffer, the allgather receive buffer, the reducescatter send buffer, each rank's
// alltoall send buffer, the message of a pairwise op; reduce as allreduce, gather as allgather
// (the root's receive buffer), scatter as reducescatter (the root's send buffer); alltoallv: the
// average per-rank send buffer, split per pair by a counts distribution, vocab/counts.hpp;
// moe_dispatch/moe_combine: the same, tokens x top-k x hidden, split by the routing, docs/moe.md).
enum class BufferShape {
  whole,      // send = recv = the size
  exchanged,  // alltoall: n blocks sent, n blocks received
  gathered,   // allgather: one block sent, n received
  scattered,  // reducescatter: n blocks sent, one received
  variable,   // alltoallv: per-pair counts from a distribution (vocab/counts.hpp); shape() gives
              // the uniform split, the counts matrix the rest
};

// busbw = algbw x factor (nccl-tests): allreduce 2(n-1)/n; allgather, reducescatter, alltoall,
// gather, scatter, alltoallv (n-1)/n; broadcast, reduce and the point-to-point ops 1 (sendrecv as
// nccl-tests' sendrecv_perf); bidir 2 (both
// directions count). alltoallv's algbw is the most loaded rank's bytes over the time.
enum class Busbw { one, two, allreduce, n1_over_n };

struct OpInfo {
  OpKind kind;
  std::string_view name;
  BufferShape shape;
  Busbw busbw;
  bool reduces;  // takes a reduction op
  bool rooted;   // takes a root
  // A point-to-point op, run by the pairwise protocols (collectives/pairwise_protocols.hpp): ranks
  // work in pairs (r, r + n/2) in unidir, bidir, pingpong and relay; sendrecv is a ring shift
  // (rank r sends to r + 1 and receives from r - 1 at once, nccl-tests' sendrecv_perf).
  bool pair;
  bool round_trip;  // one message there and back, reported as one way (RTT/2): pingpong, relay
};

inline constexpr std::array<OpInfo, kNumOps> kOps{{
    {OpKind::allreduce, "allreduce", BufferShape::whole, Busbw::allreduce, true, false, false, false},
    {OpKind::alltoall, "alltoall", BufferShape::exchanged, Busbw::n1_over_n, false, false, false, false},
    {OpKind::allgather, "allgather", BufferShape::gathered, Busbw::n1_over_n, false, false, false, false},
    {OpKind::reducescatter, "reducescatter", BufferShape::scattered, Busbw::n1_over_n, true, false, false,
     false},
    {OpKind::broadcast, "broadcast", BufferShape::whole, Busbw::one, false, true, false, false},
    {OpKind::unidir, "unidir", BufferShape::whole, Busbw::one, false, false, true, false},
    {OpKind::bidir, "bidir", BufferShape::whole, Busbw::two, false, false, true, false},
    {OpKind::pingpong, "pingpong", BufferShape::whole, Busbw::one, false, false, true, true},
    {OpKind::relay, "relay", BufferShape::whole, Busbw::one, false, false, true, true},
    {OpKind::reduce, "reduce", BufferShape::whole, Busbw::one, true, true, false, false},
    {OpKind::gather, "gather", BufferShape::gathered, Busbw::n1_over_n, false, true, false, false},
    {OpKind::scatter, "scatter", BufferShape::scattered, Busbw::n1_over_n, false, true, false, false},
    {OpKind::alltoallv, "alltoallv", BufferShape::variable, Busbw::n1_over_n, false, false, false, false},
    {OpKind::sendrecv, "sendrecv", BufferShape::whole, Busbw::one, false, false, true, false},
    // MoE expert-parallel exchanges (docs/moe.md): alltoallv's blocks from a routing over experts.
    {OpKind::moe_dispatch, "moe_dispatch", BufferShape::variable, Busbw::n1_over_n, false, false, false,
     false},
    {OpKind::moe_combine, "moe_combine", BufferShape::variable, Busbw::n1_over_n, false, false, false, false},
}};

constexpr const OpInfo& op_info(OpKind k) {
  return kOps[static_cast<std::size_t>(k)];
}
constexpr std::string_view op_name(OpKind k) {
  return op_info(k).name;
}
constexpr bool is_pair_op(OpKind k) {
  return op_info(k).pair;
}
constexpr bool is_round_trip(OpKind k) {
  return op_info(k).round_trip;
}
// sendrecv: every rank sends to r + 1 and receives from r - 1 (mod n) at once.
constexpr bool is_ring_shift(OpKind k) {
  return k == OpKind::sendrecv;
}
// alltoallv and the MoE exchanges: per-pair blocks from a counts matrix (BufferShape::variable).
constexpr bool is_variable(OpKind k) {
  return op_info(k).shape == BufferShape::variable;
}
constexpr bool is_moe(OpKind k) {
  return k == OpKind::moe_dispatch || k == OpKind::moe_combine;
}

// The op of exactly this name (aliases and other spellings are the CLI's: collectives find_op).
std::optional<OpKind> parse_op(std::string_view name);
// "allreduce, alltoall, ..." in OpKind order.
std::string op_names();

// busbw factor for n ranks; 0 for n <= 0.
double busbw_factor(OpKind k, double nranks);

// Per-rank buffer shape, in elements, for `elems` elements asked for on n ranks: rounded down to
// a multiple of n where the op splits the buffer into per-rank blocks (nccl-tests), and each
// block to a multiple of `block_align` elements (the nccl backend: 16 bytes' worth, as
// nccl-tests' `(count/nranks) & -(16/eltSize)`; 1 = exact, the mpi and ucx backends). The
// variable shape (alltoallv) is not aligned: its blocks come from a counts matrix.
struct Shape {
  std::size_t count = 0;  // nccl-tests' "count" column
  std::size_t send = 0;   // elements each rank sends from
  std::size_t recv = 0;   // elements each rank receives into
  std::size_t block = 0;  // per-peer block (alltoall, allgather, reducescatter), else count
  std::size_t size = 0;   // the elements the size column reports: the buffer the size names
};
Shape shape(OpKind k, std::size_t elems, int nranks, std::size_t block_align = 1);

}  // namespace fb::vocab
