// Rabenseifner all-reduce: a recursive-halving reduce-scatter followed by a recursive-doubling
// all-gather that retraces it (MPICH's order: the half-buffer exchange with r^1 first). Each
// rank moves 2(p-1)/p of the buffer in 2 log2(p) steps. Non-power-of-two counts fold (Fold in
// common.hpp): the extra ranks hand their buffer in first and get the result back last.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void core(P2P& p2p, const AlgoCall& c, const Fold& f, const void* cur) {
  const std::size_t count = c.layout.count, es = dtype_size(c.dtype), ch = chunk_elems(c);
  // The buffer in pof2 blocks; [lo, hi) the blocks this rank is responsible for.
  auto elem = [&, grain = grain64(c.dtype)](int b) { return block_begin(count, f.pof2, b, grain); };
  struct Split {
    int lo, mid, hi;
    bool upper;
  };
  std::vector<Split> steps;
  int lo = 0, hi = f.pof2;
  for (int mask = 1; mask < f.pof2; mask <<= 1) {  // reduce-scatter by recursive halving
    const int peer = f.rank_of(f.newrank ^ mask), mid = (lo + hi) / 2;
    const bool upper = (f.newrank & mask) != 0;  // keep [mid, hi), send [lo, mid)
    const int klo = upper ? mid : lo, khi = upper ? hi : mid, slo = upper ? lo : mid, shi = upper ? mid : hi;
    exchange(p2p,
             Exchange{at(cur, elem(slo), es), elem(shi) - elem(slo), peer, at(c.recv, elem(klo), es),
                      at(cur, elem(klo), es), elem(khi) - elem(klo), peer},
             c.dtype, c.redop, ch, c.scratch, c.mem);
    steps.push_back(Split{lo, mid, hi, upper});
    lo = klo, hi = khi;
    cur = c.recv;
  }
  for (int k = static_cast<int>(steps.size()) - 1; k >= 0; --k) {  // all-gather, retracing
    const Split& s = steps[k];
    const int peer = f.rank_of(f.newrank ^ (1 << k));
    const int mlo = s.upper ? s.mid : s.lo, mhi = s.upper ? s.hi : s.mid;
    const int tlo = s.upper ? s.lo : s.mid, thi = s.upper ? s.mid : s.hi;
    exchange(p2p,
             Exchange{at(c.recv, elem(mlo), es), elem(mhi) - elem(mlo), peer, at(c.recv, elem(tlo), es),
                      nullptr, elem(thi) - elem(tlo), peer},
             c.dtype, c.redop, ch, nullptr, nullptr);
  }
}

void run(P2P& p2p, const AlgoCall& c) {
  folded_allreduce(p2p, c, core);
}

std::size_t scratch(const AlgoCall& c, int) {
  return exchange_tmp_bytes(c, c.layout.count);
}

}  // namespace

const CollectiveAlgorithm rabenseifner{vocab::algo::rabenseifner, scratch, run};

}  // namespace fb::algo
