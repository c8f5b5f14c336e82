// Linear all-to-all: every receive and every send posted at once (receives first), then one wait.
// One round of latency; the library and the fabric schedule the p-1 transfers. Any rank count; in
// place goes through scratch.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void run(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, ch = direct_elems(c, c.layout.block);
  const int p = p2p.size(), r = p2p.rank();
  const void* send = alltoall_start(c, p);
  for (int s = 1; s < p; ++s) {
    const int src = mod(r - s, p);
    post_recv(p2p, at(c.recv, src * block, es), block, src, es, ch);
  }
  for (int s = 1; s < p; ++s) {
    const int dst = mod(r + s, p);
    post_send(p2p, at(send, dst * block, es), block, dst, es, ch);
  }
  alltoall_own_block(c, send, r);
  p2p.wait_all();
}

std::size_t scratch(const AlgoCall& c, int) {
  return c.inplace ? c.layout.send_count * dtype_size(c.dtype) : 0;
}

}  // namespace

const CollectiveAlgorithm linear{vocab::algo::linear, scratch, run};

}  // namespace fb::algo
