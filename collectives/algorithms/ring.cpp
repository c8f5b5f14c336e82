// Ring: p-1 steps around r -> r+1, each moving one of p near-equal blocks, pipelined in chunks.
// allreduce = ring reduce-scatter + ring allgather; allgather; reducescatter. Any rank count.
// No step copies the send buffer first: the reduce-scatter reads each block of it once, reducing
// received chunks straight into the result.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void ring_allreduce(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype);
  const int p = p2p.size(), r = p2p.rank();
  const Blocks b{c.layout.count, p, p, grain64(c.dtype)};
  ring_reduce_scatter(p2p, c.send, c.recv, at(c.recv, b.begin(r), es), b, c.dtype, c.redop, chunk_elems(c),
                      c.scratch, *c.mem);
  ring_allgather(p2p, c.recv, b, c.dtype, chunk_elems(c));
}

// The first step sends the own block from the send buffer, and the copy into recv comes after the
// ring: a block this rank has just written sits dirty in its core's cache, and the neighbour's
// single-copy read of it (CMA) runs at about half the speed (2 ranks, one host, 128 KiB out of
// place: 16.2 us before, 8.0 after; 6.5 in place, where nothing is copied).
void ring_allgather_op(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block;
  const int p = p2p.size(), r = p2p.rank();
  void* mine = at(c.recv, r * block, es);
  ring_allgather(p2p, c.recv, Blocks{block * p, p, p}, c.dtype, chunk_elems(c), c.send);
  if (mine != c.send) copy_elems(mine, c.send, block, es, *c.mem);
}

// Partial sums go to scratch; the last step reduces block r straight into recv.
void ring_reducescatter(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype);
  const int p = p2p.size();
  const Blocks b{c.layout.block * p, p, p};
  ring_reduce_scatter(p2p, c.send, c.scratch, c.recv, b, c.dtype, c.redop, chunk_elems(c),
                      static_cast<unsigned char*>(c.scratch) + round_page(b.count * es), *c.mem);
}

std::size_t scratch(const AlgoCall& c, int) {
  const OpLayout& l = c.layout;
  const std::size_t work = c.op->kind == OpKind::reducescatter ? l.send_count : 0;
  return round_page(work * dtype_size(c.dtype)) + exchange_tmp_bytes(c, std::max(l.count, l.block));
}

void run(P2P& p2p, const AlgoCall& c) {
  switch (c.op->kind) {
    case OpKind::allreduce:
      ring_allreduce(p2p, c);
      break;
    case OpKind::allgather:
      ring_allgather_op(p2p, c);
      break;
    case OpKind::reducescatter:
      ring_reducescatter(p2p, c);
      break;
    default:
      break;
  }
}

}  // namespace

const CollectiveAlgorithm ring{vocab::algo::ring, scratch, run};

}  // namespace fb::algo
