// Pipelined chain broadcast: the buffer flows root -> root+1 -> ... -> root+p-1 in chunks
// (AlgoCall::chunk_bytes); while chunk i goes on to the next rank, chunk i+1 arrives from the
// previous one, so large buffers take about n/B + (p-2) chunk times instead of (p-1) n/B. Any
// rank count, any root; out of place the root sends from its send buffer and copies it over.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void run(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), count = c.layout.count, ch = chunk_elems(c);
  const int p = p2p.size(), r = p2p.rank(), v = mod(r - c.root, p);
  const int prev = mod(r - 1, p), next = mod(r + 1, p);
  const void* data = v == 0 ? c.send : c.recv;
  const std::size_t n = p > 1 ? (count + ch - 1) / ch : 0;
  auto len = [&](std::size_t i) { return std::min(ch, count - i * ch) * es; };
  if (v > 0 && n > 0) {
    p2p.irecv(c.recv, len(0), prev, kTag);
    p2p.wait_all();
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (v > 0 && i + 1 < n) p2p.irecv(at(c.recv, (i + 1) * ch, es), len(i + 1), prev, kTag);
    if (v < p - 1) p2p.isend(at(data, i * ch, es), len(i), next, kTag);
    p2p.wait_all();
  }
  if (v == 0) copy_elems(c.recv, c.send, count, es, *c.mem);
}

}  // namespace

const CollectiveAlgorithm chain{vocab::algo::chain, no_scratch, run};

}  // namespace fb::algo
