// Recursive doubling: log2(p) steps with rank r^mask, mask = 1, 2, 4, ...
//   allreduce: each step exchanges the whole buffer and reduces it;
//   allgather: each step exchanges the blocks gathered so far, doubling them.
// Non-power-of-two counts fold the first 2*rem ranks in pairs before and unfold after (MPICH's
// scheme, common.hpp's Fold), so any rank count works.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void allreduce(P2P& p2p, const AlgoCall& c) {
  const std::size_t count = c.layout.count, es = dtype_size(c.dtype), ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank();
  const Fold f = make_fold(p, r);
  const void* cur = c.send;  // this rank's running result (until the first step writes recv)
  const int even = r & ~1;   // the fold's pair (even, even + 1), when r < 2 * rem
  if (r < 2 * f.rem) {
    one_way(p2p, even, even + 1, c.send, c.recv, c.send, count, c.dtype, c.redop, ch, c.scratch);
    if (f.newrank >= 0) cur = c.recv;
  }
  if (f.newrank >= 0) {
    for (int mask = 1; mask < f.pof2; mask <<= 1) {
      const int peer = f.rank_of(f.newrank ^ mask);
      exchange(p2p, Exchange{cur, count, peer, c.recv, cur, count, peer}, c.dtype, c.redop, ch, c.scratch);
      cur = c.recv;
    }
    copy_elems(c.recv, cur, count, es);  // one rank: nothing was exchanged
  }
  if (r < 2 * f.rem) one_way(p2p, even + 1, even, c.recv, c.recv, nullptr, count, c.dtype, c.redop, ch, nullptr);
}

// Newrank i holds the blocks of ranks [first(i), first(i + 1)): a group of 2^k aligned newranks
// holds one contiguous run of blocks, so every step is one message each way.
void allgather(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank();
  const Fold f = make_fold(p, r);
  copy_elems(at(c.recv, r * block, es), c.send, block, es);
  const int even = r & ~1;
  if (r < 2 * f.rem)  // the even rank hands its block to the odd one
    one_way(p2p, even, even + 1, at(c.recv, even * block, es), at(c.recv, even * block, es), nullptr, block,
            c.dtype, c.redop, ch, nullptr);
  if (f.newrank >= 0) {
    for (int mask = 1; mask < f.pof2; mask <<= 1) {
      const int mine = f.newrank & ~(mask - 1), theirs = mine ^ mask;
      const std::size_t m0 = f.first(mine) * block, m1 = f.first(mine + mask) * block;
      const std::size_t t0 = f.first(theirs) * block, t1 = f.first(theirs + mask) * block;
      const int peer = f.rank_of(f.newrank ^ mask);
      exchange(p2p, Exchange{at(c.recv, m0, es), m1 - m0, peer, at(c.recv, t0, es), nullptr, t1 - t0, peer},
               c.dtype, c.redop, ch, nullptr);
    }
  }
  if (r < 2 * f.rem)  // and gets everything back
    one_way(p2p, even + 1, even, c.recv, c.recv, nullptr, block * p, c.dtype, c.redop, ch, nullptr);
}

std::size_t scratch(const AlgoCall& c, int) {
  return c.op->kind == OpKind::allreduce ? exchange_tmp_elems(c, c.layout.count) * dtype_size(c.dtype) : 0;
}

void run(P2P& p2p, const AlgoCall& c) {
  if (c.op->kind == OpKind::allreduce) allreduce(p2p, c);
  else if (c.op->kind == OpKind::allgather) allgather(p2p, c);
}

}  // namespace

const CollectiveAlgorithm recursive_doubling{"recursive_doubling", {OpKind::allreduce, OpKind::allgather}, scratch,
                                             run};

}  // namespace fb::algo
