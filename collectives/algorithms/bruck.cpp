// Bruck all-to-all, for small blocks: ceil(log2 p) steps instead of p-1. Rank r first rotates its
// blocks so that index i holds its block for rank r+i; in step k every block whose index has bit k
// set moves 2^k ranks on (packed into one message to r+2^k, from r-2^k), so a block for r+i
// arrives after the steps of i's bits; a final rotation puts the block from rank r-i at r-i.
// Each step moves about half the buffer: more bytes than pairwise, far fewer messages.
//
// Bruck all-gather (the model's, model/algorithms/bruck.cpp): rank r keeps in scratch, at index i,
// the block of rank r+i. It starts with its own at index 0; in step k it sends its first
// min(2^k, p - 2^k) blocks to r-2^k and receives as many from r+2^k at index 2^k. A final
// rotation puts the block of rank r+i at r+i. ceil(log2 p) steps, (p-1) blocks in all.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

int max_moved(int p) {
  return p / 2 + 1;
}  // blocks with a given bit set among 1..p-1, at most

void alltoall(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, bb = block * es;
  const int p = p2p.size(), r = p2p.rank();
  unsigned char* rot = static_cast<unsigned char*>(c.scratch);
  unsigned char* out = rot + p * bb;
  unsigned char* in = out + max_moved(p) * bb;
  for (int i = 0; i < p; ++i)
    copy_elems(rot + i * bb, at(c.send, mod(r + i, p) * block, es), block, es, *c.mem);
  for (int d = 1; d < p; d <<= 1) {
    std::size_t k = 0;
    for (int i = 1; i < p; ++i)
      if (i & d) copy_elems(out + k++ * bb, rot + i * bb, block, es, *c.mem);
    exchange(p2p, Exchange{out, k * block, mod(r + d, p), in, nullptr, k * block, mod(r - d, p)}, c.dtype,
             c.redop, chunk_elems(c), nullptr, nullptr);
    k = 0;
    for (int i = 1; i < p; ++i)
      if (i & d) copy_elems(rot + i * bb, in + k++ * bb, block, es, *c.mem);
  }
  for (int i = 0; i < p; ++i)
    copy_elems(at(c.recv, mod(r - i, p) * block, es), rot + i * bb, block, es, *c.mem);
}

void allgather(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, bb = block * es;
  const int p = p2p.size(), r = p2p.rank();
  unsigned char* rot = static_cast<unsigned char*>(c.scratch);
  copy_elems(rot, c.send, block, es, *c.mem);
  for (int d = 1; d < p; d <<= 1) {
    const std::size_t k = static_cast<std::size_t>(std::min(d, p - d)) * block;
    exchange(p2p, Exchange{rot, k, mod(r - d, p), rot + d * bb, nullptr, k, mod(r + d, p)}, c.dtype, c.redop,
             chunk_elems(c), nullptr, nullptr);
  }
  for (int i = 0; i < p; ++i)
    copy_elems(at(c.recv, mod(r + i, p) * block, es), rot + i * bb, block, es, *c.mem);
}

void run(P2P& p2p, const AlgoCall& c) {
  if (c.op->kind == OpKind::allgather)
    allgather(p2p, c);
  else
    alltoall(p2p, c);
}

std::size_t scratch(const AlgoCall& c, int n) {
  if (c.op->kind == OpKind::allgather)
    return static_cast<std::size_t>(n) * c.layout.block * dtype_size(c.dtype);
  return (static_cast<std::size_t>(n) + 2 * max_moved(n)) * c.layout.block * dtype_size(c.dtype);
}

}  // namespace

const CollectiveAlgorithm bruck{vocab::algo::bruck, scratch, run};

}  // namespace fb::algo
