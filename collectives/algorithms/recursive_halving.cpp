// Recursive halving reduce-scatter: log2(p) exchanges with r^mask, mask = p/2 down to 1; each
// hands the peer the half of the remaining blocks it is responsible for and reduces the half it
// keeps, so rank r ends with block r. Non-power-of-two counts fold (Fold in common.hpp): the even
// rank of each extra pair hands its whole buffer in and gets its block back at the end.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void run(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank();
  const Fold f = make_fold(p, r);
  const std::size_t count = block * p;
  void* work = c.scratch;  // partial sums, count elements
  void* tmp = static_cast<unsigned char*>(c.scratch) + round_page(count * es);
  fold_in(p2p, f, c.send, work, c.send, count, c.dtype, c.redop, ch, tmp, *c.mem);
  const void* cur = r < 2 * f.rem ? work : c.send;  // this rank's running sums
  if (f.newrank >= 0) {
    // Newranks [lo, hi) share the blocks of ranks [first(lo), first(hi)); halve until [newrank].
    int lo = 0, hi = f.pof2;
    for (int mask = f.pof2 / 2; mask >= 1; mask /= 2) {
      const int mid = lo + mask, peer = f.rank_of(f.newrank ^ mask);
      const bool upper = f.newrank >= mid;
      const int klo = upper ? mid : lo, khi = upper ? hi : mid, slo = upper ? lo : mid,
                shi = upper ? mid : hi;
      const std::size_t k0 = f.first(klo) * block, k1 = f.first(khi) * block;
      const std::size_t s0 = f.first(slo) * block, s1 = f.first(shi) * block;
      exchange(p2p,
               Exchange{at(cur, s0, es), s1 - s0, peer, at(work, k0, es), at(cur, k0, es), k1 - k0, peer},
               c.dtype, c.redop, ch, tmp, c.mem);
      lo = klo, hi = khi;
      cur = work;
    }
  }
  // This rank holds the blocks of ranks [first(newrank), first(newrank + 1)) in cur.
  fold_out(p2p, f, at(cur, (r & ~1) * block, es), c.recv, block, c.dtype, ch);
  if (f.newrank >= 0) copy_elems(c.recv, at(cur, r * block, es), block, es, *c.mem);
}

std::size_t scratch(const AlgoCall& c, int n) {
  const std::size_t count = c.layout.block * std::max(n, 1);
  return round_page(count * dtype_size(c.dtype)) + exchange_tmp_bytes(c, count);
}

}  // namespace

const CollectiveAlgorithm recursive_halving{vocab::algo::recursive_halving, scratch, run};

}  // namespace fb::algo
