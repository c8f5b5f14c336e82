// Pairwise exchange all-to-all (alltoall, alltoallv): in step s (1..p-1) rank r sends its block
// for r+s and receives the block from r-s, one partner at a time; the copy of the own block
// overlaps step 1. alltoallv's blocks are the counts matrix's (OpLayout::send_off/recv_off; an
// empty block is no message). Any rank count; in place (alltoall only) goes through scratch.
//
// A step ends when its block has been delivered: the receiver acknowledges it (a zero-byte
// message) and the sender waits for that, so every rank has one block in flight each way, as the
// schedule (and its model cost, one more latency per step) says. A send that completes when its
// bytes are buffered (eager protocols; TCP's socket buffers hold megabytes) would otherwise let a
// rank start step s+1, or the next op, while its step-s block still drains: its link then carries
// two blocks at once, each at half the rate, the receivers of both wait, and the ranks fall out of
// step. On the emulated fabric (UCX eager over TCP, back-to-back ops) that took pairwise
// all-to-all of 1-4 MiB to 2-2.5x its time; with the acknowledgement it runs at the link's rate
// (docs/moe.md, "The emulated-fabric check").
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void run(P2P& p2p, const AlgoCall& c) {
  const OpLayout& l = c.layout;
  const std::size_t es = dtype_size(c.dtype), ch = direct_elems(c, l.block);
  const int p = p2p.size(), r = p2p.rank();
  const void* send = alltoall_start(c, p);
  for (int s = 1; s < p; ++s) {
    const int dst = mod(r + s, p), src = mod(r - s, p);
    post_recv(p2p, at(c.recv, l.recv_off(src), es), l.recv_len(src), src, es,
              l.peers ? direct_elems(c, l.recv_len(src)) : ch);
    post_send(p2p, at(send, l.send_off(dst), es), l.send_len(dst), dst, es,
              l.peers ? direct_elems(c, l.send_len(dst)) : ch);
    if (s == 1) alltoall_own_block(c, send, r);
    p2p.wait_all();
    p2p.send_ack(src);
    p2p.recv_ack(dst);
    p2p.wait_all();
  }
  if (p == 1) alltoall_own_block(c, send, r);
}

std::size_t scratch(const AlgoCall& c, int) {
  return c.inplace ? c.layout.send_count * dtype_size(c.dtype) : 0;
}

}  // namespace

const CollectiveAlgorithm pairwise{vocab::algo::pairwise, scratch, run};

}  // namespace fb::algo
