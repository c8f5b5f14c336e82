// Ring: p-1 steps around r -> r+1, each moving one of p near-equal blocks.
// allreduce = ring reduce-scatter + ring allgather; allgather; reducescatter. Any rank count.
#include "collectives/algorithms/common.hpp"
#include "collectives/reduce.hpp"

namespace fb::algo {

namespace {

void ring_allreduce(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), count = c.layout.count;
  if (!c.inplace && count) std::memcpy(c.recv, c.send, count * es);
  const int p = p2p.size(), r = p2p.rank();
  if (p == 1) return;
  const int right = mod(r + 1, p), left = mod(r - 1, p);
  for (int s = 0; s < p - 1; ++s) {  // reduce-scatter
    const int sb = mod(r - s, p), rb = mod(r - s - 1, p);
    p2p.isend(at(c.recv, block_begin(count, p, sb), es), block_len(count, p, sb) * es, right, kTag);
    p2p.irecv(c.scratch, block_len(count, p, rb) * es, left, kTag);
    p2p.wait_all();
    reduce_inplace(at(c.recv, block_begin(count, p, rb), es), c.scratch, block_len(count, p, rb), c.dtype, c.redop);
  }
  for (int s = 0; s < p - 1; ++s) {  // allgather of the reduced blocks
    const int sb = mod(r + 1 - s, p), rb = mod(r - s, p);
    p2p.isend(at(c.recv, block_begin(count, p, sb), es), block_len(count, p, sb) * es, right, kTag);
    p2p.irecv(at(c.recv, block_begin(count, p, rb), es), block_len(count, p, rb) * es, left, kTag);
    p2p.wait_all();
  }
}

void ring_allgather(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block;
  const int p = p2p.size(), r = p2p.rank();
  if (!c.inplace && block) std::memcpy(at(c.recv, r * block, es), c.send, block * es);
  const int right = mod(r + 1, p), left = mod(r - 1, p);
  for (int s = 0; s < p - 1; ++s) {
    const int sb = mod(r - s, p), rb = mod(r - s - 1, p);
    p2p.isend(at(c.recv, sb * block, es), block * es, right, kTag);
    p2p.irecv(at(c.recv, rb * block, es), block * es, left, kTag);
    p2p.wait_all();
  }
}

// Partial sums travel the ring: at step s a rank forwards its running sum of block r-s-1 and
// receives the running sum of block r-s-2, to which it adds its own contribution. After p-1 steps
// the sum it holds is its own block r.
void ring_reducescatter(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block;
  const int p = p2p.size(), r = p2p.rank();
  unsigned char* acc = static_cast<unsigned char*>(c.scratch);
  unsigned char* tmp = acc + block * es;
  if (p == 1) {
    if (c.recv != c.send && block) std::memmove(c.recv, c.send, block * es);
    return;
  }
  const int right = mod(r + 1, p), left = mod(r - 1, p);
  for (int s = 0; s < p - 1; ++s) {
    const void* out = s == 0 ? static_cast<const void*>(at(c.send, mod(r - 1, p) * block, es)) : acc;
    p2p.isend(out, block * es, right, kTag);
    p2p.irecv(tmp, block * es, left, kTag);
    p2p.wait_all();
    reduce_into(acc, tmp, at(c.send, mod(r - s - 2, p) * block, es), block, c.dtype, c.redop);
  }
  if (block) std::memcpy(c.recv, acc, block * es);
}

std::size_t scratch(const OpLayout& l, DType t, int n) {
  return (l.block + 1 + l.count / std::max(n, 1) + 1) * 2 * dtype_size(t);
}

void run(P2P& p2p, const AlgoCall& c) {
  switch (c.op->kind) {
    case OpKind::allreduce: ring_allreduce(p2p, c); break;
    case OpKind::allgather: ring_allgather(p2p, c); break;
    case OpKind::reducescatter: ring_reducescatter(p2p, c); break;
    default: break;
  }
}

}  // namespace

const CollectiveAlgorithm ring{"ring", {OpKind::allreduce, OpKind::allgather, OpKind::reducescatter}, scratch, run};

}  // namespace fb::algo
