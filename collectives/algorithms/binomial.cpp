// Binomial-tree broadcast: ceil(log2 p) rounds; counting ranks from the root (v = r - root mod p),
// rank v receives the whole buffer from v - 2^k (2^k its lowest set bit) and passes it on to
// v + 2^j for each j < k, farthest first (MPICH's order). Any rank count, any root; out of place
// the root sends from its send buffer and copies it to its receive buffer.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void run(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), count = c.layout.count, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank(), v = mod(r - c.root, p);
  const void* data = v == 0 ? c.send : c.recv;
  int mask = 1;
  for (; mask < p; mask <<= 1)
    if (v & mask) {
      post_recv(p2p, c.recv, count, mod(r - mask, p), es, ch);
      p2p.wait_all();
      break;
    }
  for (mask >>= 1; mask > 0; mask >>= 1)
    if (v + mask < p) post_send(p2p, data, count, mod(r + mask, p), es, ch);
  p2p.wait_all();
  if (v == 0) copy_elems(c.recv, c.send, count, es, *c.mem);
}

}  // namespace

const CollectiveAlgorithm binomial{vocab::algo::binomial, no_scratch, run};

}  // namespace fb::algo
