// Helpers shared by the algorithms in collectives/algorithms/: block arithmetic for uneven
// splits, byte pointers, the pipelined exchange every algorithm moves its data with, the ring
// phases (also run over sub-groups by hierarchical), the power-of-two fold, and sub-groups.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "collectives/p2p.hpp"

namespace fb::algo {

// Block b of `count` elements split into n near-equal blocks whose boundaries fall on multiples
// of `grain` elements (the last block ends at count): [begin, begin + len).
inline std::size_t block_begin(std::size_t count, int n, int b, std::size_t grain = 1) {
  const std::size_t units = (count + grain - 1) / grain;
  return std::min(count, (units / n * b + std::min<std::size_t>(b, units % n)) * grain);
}
inline std::size_t block_len(std::size_t count, int n, int b, std::size_t grain = 1) {
  return block_begin(count, n, b + 1, grain) - block_begin(count, n, b, grain);
}
// Where an algorithm splits a buffer itself (allreduce), block boundaries fall on 64-byte
// multiples of the buffer: copying into a destination that is not 64-byte aligned with
// `rep movsb`, as the kernel does for Open MPI's single-copy receives, ran 12x slower on this
// AMD EPYC (1 MiB: 28 us aligned, 350 us at offset 16).
inline std::size_t grain64(DType t) {
  return std::max<std::size_t>(1, 64 / dtype_size(t));
}

inline unsigned char* at(void* base, std::size_t elems, std::size_t esize) {
  return static_cast<unsigned char*>(base) + elems * esize;
}
inline const unsigned char* at(const void* base, std::size_t elems, std::size_t esize) {
  return static_cast<const unsigned char*>(base) + elems * esize;
}

inline int mod(int a, int n) {
  return ((a % n) + n) % n;
}

constexpr int kTag = 17;

// The pipeline chunk when AlgoCall::chunk_bytes is 0 (see docs/algorithms.md, "Pipelining").
constexpr std::size_t kDefaultChunkBytes = std::size_t{256} << 10;

// The call's chunk in whole elements (at least one).
inline std::size_t chunk_elems(const AlgoCall& c) {
  const std::size_t bytes = c.chunk_bytes ? c.chunk_bytes : kDefaultChunkBytes;
  return std::max<std::size_t>(1, bytes / dtype_size(c.dtype));
}
// The message size, in elements, of an algorithm that neither reduces nor forwards what it
// receives (pairwise and linear all-to-all): chunks would overlap nothing there, and each one
// costs a rendezvous round trip, so a block of `count` elements moves as one message unless
// --chunk was given (then chunks cap messages as everywhere else).
inline std::size_t direct_elems(const AlgoCall& c, std::size_t count) {
  return c.chunk_bytes ? chunk_elems(c) : std::max<std::size_t>(1, count);
}
// Receive slots start on page boundaries (so 64-byte aligned, see grain64): landing receives in
// a std::vector's data, 16 bytes past a page boundary, made ring over MPI 2-3x slower than MPI's.
constexpr std::size_t kPage = 4096;
inline std::size_t round_page(std::size_t bytes) {
  return (bytes + kPage - 1) / kPage * kPage;
}
// One of exchange()'s two receive slots for messages of `count` elements in chunks of `chunk`.
inline std::size_t slot_bytes(std::size_t chunk, std::size_t count, std::size_t esize) {
  return round_page(std::min(chunk, std::max<std::size_t>(count, 1)) * esize);
}
// Scratch bytes exchange() needs (tmp) to reduce messages of up to `largest` elements.
inline std::size_t exchange_tmp_bytes(const AlgoCall& c, std::size_t largest) {
  return 2 * slot_bytes(chunk_elems(c), largest, dtype_size(c.dtype));
}

// One step of an algorithm: send `send_count` elements to `to` while receiving `recv_count` from
// `from`, both in chunks of `chunk` elements (the peer chunks its side identically, so either
// count may be 0). Received data lands in `dst`; with `own` set it is reduced on the way:
// dst = own (op) received, through `tmp` (exchange_tmp_bytes; page-aligned) with `mem`'s reduction
// (AlgoCall::mem: host functions or device kernels), and chunk i+1 is in flight while chunk i is
// reduced. Without `own`, tmp and mem are unused (may be null). `own` may equal `dst`; `send` must not
// overlap `dst` except where a chunk's send completed before that chunk is written (the ring's in-place
// reduce-scatter relies on it).
struct Exchange {
  const void* send = nullptr;
  std::size_t send_count = 0;
  int to = -1;
  void* dst = nullptr;
  const void* own = nullptr;
  std::size_t recv_count = 0;
  int from = -1;
};
void exchange(P2P& p2p, const Exchange& x, DType dtype, RedOp redop, std::size_t chunk, void* tmp,
              const MemOps* mem);

// Post a send or a receive of `count` elements as messages of at most `chunk` elements each
// (the peer posts the same count, so the messages match), without waiting.
void post_send(P2P& p2p, const void* buf, std::size_t count, int to, std::size_t esize, std::size_t chunk);
void post_recv(P2P& p2p, void* buf, std::size_t count, int from, std::size_t esize, std::size_t chunk);

// A transfer of `count` elements from rank `from` to rank `to`, one of which is this rank: the
// receiver gets them in `dst`, reduced on the way when `own` is set (dst = own (op) received).
void one_way(P2P& p2p, int from, int to, const void* send, void* dst, const void* own, std::size_t count,
             DType dtype, RedOp redop, std::size_t chunk, void* tmp, const MemOps* mem);

// The p blocks of a ring over p ranks, in a buffer of `count` elements cut into `parts` near-equal
// parts (parts >= p) on `grain` boundaries: block b is parts [block_begin(parts, p, b),
// block_begin(parts, p, b + 1)). parts == p is the plain near-equal split; hierarchical uses
// parts = the largest node's size.
struct Blocks {
  std::size_t count = 0;
  int p = 1;
  int parts = 1;
  std::size_t grain = 1;
  std::size_t begin(int b) const {
    return block_begin(count, parts, static_cast<int>(block_begin(parts, p, b)), grain);
  }
  std::size_t len(int b) const { return begin(b + 1) - begin(b); }
};

// Ring reduce-scatter over p2p's ranks: `in` is this rank's contribution (blocks.count elements);
// rank r ends with block r of the reduction in `out` (blocks.len(r) elements). Partial sums of the
// other blocks are written to `work` at their offsets (`work` may be `in`). Reads each block of
// `in` once, so no copy of `in` is made; tmp: exchange_tmp_bytes bytes.
void ring_reduce_scatter(P2P& p2p, const void* in, void* work, void* out, const Blocks& blocks, DType dtype,
                         RedOp redop, std::size_t chunk, void* tmp, const MemOps& mem);
// Ring all-gather in place: `buf` holds block r of `blocks` on rank r; afterwards all of them.
// `own`, when given, is where block r is read from for the first step (it need not be in `buf`
// yet: the caller copies it there, after this returns or meanwhile).
void ring_allgather(P2P& p2p, void* buf, const Blocks& blocks, DType dtype, std::size_t chunk,
                    const void* own = nullptr);

// The fold that lets a power-of-two algorithm run on any rank count (MPICH's): with pof2 the
// largest power of two <= p and rem = p - pof2, ranks 0..2*rem-1 pair up (2i with 2i+1); the even
// one hands its data to the odd one and sits out (newrank -1). The pof2 remaining ranks are
// renumbered 0..pof2-1; newrank i stands for ranks [first(i), first(i + 1)).
struct Fold {
  int pof2 = 1, rem = 0, newrank = 0;
  int rank_of(int nr) const { return nr < rem ? 2 * nr + 1 : nr + rem; }
  int first(int nr) const { return nr < rem ? 2 * nr : nr + rem; }
};
Fold make_fold(int nranks, int rank);
// An all-reduce for any rank count from one for powers of two: folds in, runs `core` on the
// pof2 remaining ranks (this rank's data in `cur`: send, or recv once the fold reduced into it;
// the result goes to recv), folds the result back out.
using FoldedCore = void (*)(P2P& p2p, const AlgoCall& c, const Fold& f, const void* cur);
void folded_allreduce(P2P& p2p, const AlgoCall& c, FoldedCore core);

// The fold's two transfers, on the ranks of the extra pairs (r < 2 * rem; others do nothing):
// fold_in: 2i sends `count` elements of `send` to 2i+1, which receives them into `dst`, reduced
// with `own` when it is set. fold_out: 2i+1 sends `count` elements of `send` to 2i, into `dst`.
void fold_in(P2P& p2p, const Fold& f, const void* send, void* dst, const void* own, std::size_t count,
             DType dtype, RedOp redop, std::size_t chunk, void* tmp, const MemOps& mem);
void fold_out(P2P& p2p, const Fold& f, const void* send, void* dst, std::size_t count, DType dtype,
              std::size_t chunk);

// Some of a P2P's ranks as a P2P of their own: rank i here is ranks[i] there.
class SubP2P final : public P2P {
 public:
  SubP2P(P2P& parent, std::vector<int> ranks);
  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(ranks_.size()); }
  void isend(const void* buf, std::size_t bytes, int peer, int tag) override {
    parent_.isend(buf, bytes, ranks_[peer], tag);
  }
  void irecv(void* buf, std::size_t bytes, int peer, int tag) override {
    parent_.irecv(buf, bytes, ranks_[peer], tag);
  }
  void wait_all() override { parent_.wait_all(); }

 private:
  P2P& parent_;
  std::vector<int> ranks_;
  int rank_ = 0;
};

// Copy `count` elements unless the buffers are the same, in the call's memory (AlgoCall::mem).
inline void copy_elems(void* dst, const void* src, std::size_t count, std::size_t es, const MemOps& mem) {
  if (dst != src && count) mem.copy(dst, src, count * es);
}

// The start of an all-to-all (alltoall or alltoallv, whose blocks are OpLayout::send_off/recv_off)
// on rank r of p: where to read the blocks for the others from: send,
// or in place (all-to-all reads every block of send while writing recv) a copy of it in scratch
// (send_count elements).
const void* alltoall_start(const AlgoCall& c, int p);
// Copies rank r's own block from `send` (as alltoall_start returned it) into place. Algorithms call
// it with their first transfers already posted, so the copy overlaps them.
void alltoall_own_block(const AlgoCall& c, const void* send, int r);

// For algorithms that need no scratch.
inline std::size_t no_scratch(const AlgoCall&, int) {
  return 0;
}

// Declarations of every algorithm (one file each); collectives/algorithms/registry.cpp lists them.
extern const CollectiveAlgorithm ring;
extern const CollectiveAlgorithm recursive_doubling;
extern const CollectiveAlgorithm rabenseifner;
extern const CollectiveAlgorithm hierarchical;
extern const CollectiveAlgorithm recursive_halving;
extern const CollectiveAlgorithm pairwise;
extern const CollectiveAlgorithm bruck;
extern const CollectiveAlgorithm linear;
extern const CollectiveAlgorithm binomial;
extern const CollectiveAlgorithm chain;

}  // namespace fb::algo
