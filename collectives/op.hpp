// What an operation needs to run: one descriptor per op, over the vocabulary's facts (vocab/op.hpp:
// name, buffer shape, busbw factor, pairs) plus which data each received element must hold. One
// runner (harness/runner.cpp) drives every descriptor; the generic fill and check in
// collectives/pattern.hpp read the descriptor's segments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectives/dtype.hpp"
#include "vocab/counts.hpp"
#include "vocab/op.hpp"

namespace fb {

using vocab::OpKind;

// Ops that bounce one message there and back (no --window): pingpong, and relay, whose reply is
// the message just received (store and forward).
inline bool is_bounce(OpKind k) {
  return vocab::is_round_trip(k);
}

// Where an in-place result lands when it differs between libraries. Only reduce-scatter differs:
// NCCL writes rank r's block at offset r*recvcount of the send buffer, MPI_IN_PLACE at offset 0.
enum class InPlaceConvention { nccl, mpi };

// alltoallv: where each peer's block lies for one rank, in elements, from the counts matrix
// (vocab/counts.hpp).
struct PeerBlocks {
  std::vector<std::size_t> send_off, send_len;  // per destination, in this rank's send buffer
  std::vector<std::size_t> recv_off, recv_len;  // per source, in this rank's receive buffer
  std::vector<std::size_t> src_off;             // per source: its block for this rank, in its send buffer
  std::uint64_t digest = 0;                     // the matrix's (CountsMatrix::digest)
};

// Per-rank buffer shapes for one size, in elements of the dtype.
struct OpLayout {
  std::size_t requested_bytes = 0;  // the size asked for (-b/-e/-f/-i)
  std::size_t bytes = 0;            // the size that runs after rounding: nccl-tests' "size" column
  std::size_t count = 0;            // nccl-tests' "count" column
  std::size_t send_count = 0;       // elements each rank sends from
  std::size_t recv_count = 0;       // elements each rank receives into
  std::size_t block = 0;            // per-peer block (all-to-all, all-gather, reduce-scatter), else count
  // In place: one buffer of max(send, recv) elements; send and recv regions start at these offsets.
  std::size_t inplace_send_offset = 0;
  std::size_t inplace_recv_offset = 0;
  // The bytes algbw is computed from (and the model prices): `bytes`, except alltoallv's, which is
  // the most loaded rank's, as nccl-tests' alltoallv.
  std::size_t bw_bytes = 0;
  // alltoallv: the per-peer blocks, the most loaded rank's bytes (max of sent and received) and
  // that over the mean per-rank send; null and 0 for every other op.
  std::shared_ptr<const PeerBlocks> peers;
  std::size_t max_rank_bytes = 0;
  double load_imbalance = 0;
  std::size_t total_bytes = 0;  // over all pairs (alltoallv, MoE)
  // moe_dispatch / moe_combine (docs/moe.md): tokens per rank, experts per token, elements per
  // token; 0 for every other op.
  std::size_t moe_tokens = 0;
  int moe_topk = 0;
  std::size_t moe_hidden = 0;
  std::size_t buffer_count(bool inplace) const {
    return inplace ? (send_count > recv_count ? send_count : recv_count) : 0;
  }
  // alltoall and alltoallv: peer p's block in this rank's send and receive buffers (alltoall:
  // block p of `block` elements).
  std::size_t send_off(int p) const { return peers ? peers->send_off[p] : p * block; }
  std::size_t send_len(int p) const { return peers ? peers->send_len[p] : block; }
  std::size_t recv_off(int p) const { return peers ? peers->recv_off[p] : p * block; }
  std::size_t recv_len(int p) const { return peers ? peers->recv_len[p] : block; }
};

// One run of data the check expects in the receive buffer: `count` elements starting at
// `recv_offset` must equal source `source`'s pattern from element `source_offset` on, or, when
// `reduced`, the reduction over all ranks of their patterns from `source_offset` on.
struct Segment {
  std::size_t recv_offset = 0;
  std::size_t count = 0;
  int source = 0;
  bool reduced = false;
  std::size_t source_offset = 0;
};

// moe_combine: `count` elements at `recv_offset` must equal, element by element, the sum of the
// parts' source patterns (each part a Segment whose recv_offset counts from this one's start).
struct SummedSegment {
  std::size_t recv_offset = 0;
  std::size_t count = 0;
  std::vector<Segment> parts;
};

// A pairwise op's partner: ranks [0, n/2) pair with [n/2, 2*(n/2)); with an odd count the last
// rank sits out. Returns -1 for a rank without a partner.
int pair_peer(int rank, int nranks);
// In unidir the lower half sends and the upper half receives.
bool pair_is_sender(int rank, int nranks);
// sendrecv's ring shift (nccl-tests' sendrecv_perf): rank r sends to ring_next and receives from
// ring_prev, (r + 1) and (r - 1) mod n.
int ring_next(int rank, int nranks);
int ring_prev(int rank, int nranks);

struct OpDescriptor {
  OpKind kind;
  std::string_view summary;
  // What rank `rank` must find in its receive region after the op.
  std::vector<Segment> (*segments)(const OpLayout& l, int rank, int nranks, int root) = nullptr;
  // What rank `rank` must find summed (moe_combine's reduced tokens); null: nothing.
  std::vector<SummedSegment> (*sums)(const OpLayout& l, int rank, int nranks) = nullptr;

  // The vocabulary's facts (vocab/op.hpp), named for the runner.
  std::string_view name = vocab::op_name(kind);
  bool reduces = vocab::op_info(kind).reduces;  // takes -o/--redop
  bool rooted = vocab::op_info(kind).rooted;    // takes -r/--root
  bool pairwise = vocab::is_pair_op(kind);      // point-to-point: pairs (unidir, bidir, ping-pong) or the
                                                // ring shift (sendrecv)
  // An in-place variant exists (not alltoallv: MPI's in-place form needs symmetric counts).
  // Nor the MoE exchanges (alltoallv's blocks).
  bool has_inplace = !pairwise && !vocab::is_variable(kind);
  // The data is summed at the end (moe_combine's k contributions per token): the check's
  // patterns are the reductions' small integers, whose sums are exact in every dtype.
  bool sums_contributions = kind == OpKind::moe_combine;
  int min_ranks = pairwise ? 2 : 1;
  // Reported time is the sample's time divided by this (ping-pong: one-way latency = RTT / 2).
  double time_divisor = vocab::is_round_trip(kind) ? 2.0 : 1.0;

  // busbw = algbw * busbw_factor(n), nccl-tests' factors; bidir counts both directions.
  double busbw_factor(int nranks) const { return vocab::busbw_factor(kind, nranks); }
  // Buffer shapes for `requested_bytes` of `dtype` on `nranks` ranks (rounded as nccl-tests);
  // alltoallv splits them by `counts` (null: uniform). `block_align_bytes` is the backend's
  // per-rank block alignment (Backend::block_alignment: 16 for nccl, as nccl-tests; 1 = exact):
  // the blocks of all-to-all, all-gather, reduce-scatter, gather and scatter are rounded down to
  // a multiple of it (in elements: block_align_bytes / dtype size, at least 1).
  OpLayout layout(std::size_t requested_bytes, DType dtype, int nranks, int rank, InPlaceConvention conv,
                  const CountsSpec* counts = nullptr, std::size_t block_align_bytes = 1) const;
  // Why this op cannot run on `nranks` ranks, if it cannot.
  std::optional<std::string> unrunnable(int nranks) const;
};

// One op's arguments, as the runner hands them to a backend or an algorithm. In place, `send`
// and `recv` point into one buffer at the descriptor's in-place offsets.
struct OpArgs {
  const OpDescriptor* op = nullptr;
  OpLayout layout;
  const void* send = nullptr;
  void* recv = nullptr;
  bool inplace = false;
  DType dtype = DType::float32;
  RedOp redop = RedOp::sum;
  int root = 0;
};

// moe_combine's reduction at the home rank, after the exchange: copy j of token t arrived at
// element (j x tokens + t) x hidden (docs/moe.md), so block 0 (tokens x hidden elements) becomes
// the sum of the topk blocks, by `add(inout, in, count)` (host or device memory).
template <class Add>
void moe_combine_reduce(const OpArgs& a, Add&& add) {
  const OpLayout& l = a.layout;
  const std::size_t n = l.moe_tokens * l.moe_hidden, es = dtype_size(a.dtype);
  auto* base = static_cast<unsigned char*>(a.recv);
  for (int j = 1; j < l.moe_topk && n > 0; ++j) add(base, base + j * n * es, n);
}

const std::vector<const OpDescriptor*>& all_ops();
const OpDescriptor* find_op(std::string_view name);  // accepts aliases (all_reduce, ...)
const OpDescriptor& op_descriptor(OpKind kind);

}  // namespace fb
