// Recursive doubling: log2(p) steps with rank r^mask, mask = 1, 2, 4, ...
//   allreduce: each step exchanges the whole buffer and reduces it;
//   allgather: each step exchanges the blocks gathered so far, doubling them.
// Non-power-of-two counts fold the first 2*rem ranks in pairs before and unfold after (MPICH's
// scheme, common.hpp's Fold), so any rank count works.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void allreduce_core(P2P& p2p, const AlgoCall& c, const Fold& f, const void* cur) {
  const std::size_t count = c.layout.count;
  for (int mask = 1; mask < f.pof2; mask <<= 1) {
    const int peer = f.rank_of(f.newrank ^ mask);
    exchange(p2p, Exchange{cur, count, peer, c.recv, cur, count, peer}, c.dtype, c.redop, chunk_elems(c),
             c.scratch, c.mem);
    cur = c.recv;
  }
}

// Newrank i holds the blocks of ranks [first(i), first(i + 1)): a group of 2^k aligned newranks
// holds one contiguous run of blocks, so every step is one message each way.
void allgather(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank();
  const Fold f = make_fold(p, r);
  copy_elems(at(c.recv, r * block, es), c.send, block, es, *c.mem);
  void* pair_block = at(c.recv, (r & ~1) * block, es);  // the fold's even rank hands its block in
  fold_in(p2p, f, pair_block, pair_block, nullptr, block, c.dtype, c.redop, ch, nullptr, *c.mem);
  if (f.newrank >= 0) {
    for (int mask = 1; mask < f.pof2; mask <<= 1) {
      const int mine = f.newrank & ~(mask - 1), theirs = mine ^ mask;
      const std::size_t m0 = f.first(mine) * block, m1 = f.first(mine + mask) * block;
      const std::size_t t0 = f.first(theirs) * block, t1 = f.first(theirs + mask) * block;
      const int peer = f.rank_of(f.newrank ^ mask);
      exchange(p2p, Exchange{at(c.recv, m0, es), m1 - m0, peer, at(c.recv, t0, es), nullptr, t1 - t0, peer},
               c.dtype, c.redop, ch, nullptr, nullptr);
    }
  }
  fold_out(p2p, f, c.recv, c.recv, block * p, c.dtype, ch);  // and gets everything back
}

std::size_t scratch(const AlgoCall& c, int) {
  return c.op->kind == OpKind::allreduce ? exchange_tmp_bytes(c, c.layout.count) : 0;
}

void run(P2P& p2p, const AlgoCall& c) {
  if (c.op->kind == OpKind::allreduce)
    folded_allreduce(p2p, c, allreduce_core);
  else if (c.op->kind == OpKind::allgather)
    allgather(p2p, c);
}

}  // namespace

const CollectiveAlgorithm recursive_doubling{vocab::algo::recursive_doubling, scratch, run};

}  // namespace fb::algo
