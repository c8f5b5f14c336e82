// Linear algorithms: every receive and every send posted at once (receives first), then one wait.
// One round of latency; the library and the fabric schedule the transfers. Any rank count.
//   alltoall, alltoallv  every rank with every other (alltoallv: the counts matrix's blocks,
//                        OpLayout::send_off/recv_off; an empty block is no message); in place
//                        (alltoall only) goes through scratch.
//   gather               every rank sends its block to the root, which receives p-1 blocks.
//   scatter              the root sends block k to rank k; every other rank receives one.
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void all_to_all(P2P& p2p, const AlgoCall& c) {
  const OpLayout& l = c.layout;
  const std::size_t es = dtype_size(c.dtype);
  const int p = p2p.size(), r = p2p.rank();
  auto chunk = [&](std::size_t len) { return direct_elems(c, l.peers ? len : l.block); };
  const void* send = alltoall_start(c, p);
  for (int s = 1; s < p; ++s) {
    const int src = mod(r - s, p);
    post_recv(p2p, at(c.recv, l.recv_off(src), es), l.recv_len(src), src, es, chunk(l.recv_len(src)));
  }
  for (int s = 1; s < p; ++s) {
    const int dst = mod(r + s, p);
    post_send(p2p, at(send, l.send_off(dst), es), l.send_len(dst), dst, es, chunk(l.send_len(dst)));
  }
  alltoall_own_block(c, send, r);
  p2p.wait_all();
}

// gather and scatter: the root and one block per other rank, at offset k x block of the root's
// receive (gather) or send (scatter) buffer.
void rooted(P2P& p2p, const AlgoCall& c) {
  const std::size_t es = dtype_size(c.dtype), block = c.layout.block, ch = direct_elems(c, block);
  const int p = p2p.size(), r = p2p.rank();
  const bool gather = c.op->kind == OpKind::gather;
  if (r != c.root) {
    if (gather)
      post_send(p2p, c.send, block, c.root, es, ch);
    else
      post_recv(p2p, c.recv, block, c.root, es, ch);
    p2p.wait_all();
    return;
  }
  for (int s = 1; s < p; ++s) {
    const int k = mod(r + s, p);
    if (gather)
      post_recv(p2p, at(c.recv, k * block, es), block, k, es, ch);
    else
      post_send(p2p, at(c.send, k * block, es), block, k, es, ch);
  }
  if (gather)
    copy_elems(at(c.recv, r * block, es), c.send, block, es, *c.mem);
  else
    copy_elems(c.recv, at(c.send, r * block, es), block, es, *c.mem);
  p2p.wait_all();
}

void run(P2P& p2p, const AlgoCall& c) {
  if (c.op->kind == OpKind::gather || c.op->kind == OpKind::scatter) return rooted(p2p, c);
  all_to_all(p2p, c);
}

std::size_t scratch(const AlgoCall& c, int) {
  return c.inplace && c.op->kind == OpKind::alltoall ? c.layout.send_count * dtype_size(c.dtype) : 0;
}

}  // namespace

const CollectiveAlgorithm linear{vocab::algo::linear, scratch, run};

}  // namespace fb::algo
