// Pairwise exchange all-to-all (alltoall, alltoallv): in step s (1..p-1) rank r sends its block
// for r+s and receives the block from r-s, one partner at a time; the copy of the own block
// overlaps step 1. alltoallv's blocks are the counts matrix's (OpLayout::send_off/recv_off; an
// empty block is no message). Any rank count; in place (alltoall only) goes through scratch.
//
// Each step is synchronous over any transport, as a rendezvous makes it: a rank sends its block
// when the receiver is ready for it (has received its previous step's block) and the step ends
// when the receiver has acknowledged it (zero-byte messages; P2P::send_ack). So every link carries
// one block each way at a time, as the schedule (and its model cost) says. Between two steps the
// acknowledgement of step s and the readiness for step s+1 travel together: one control latency
// per step, p in all. On 2 ranks there are none: one peer, whose blocks queue in order on one
// connection anyway (on one host the two messages cost 0.7 us: 32 KiB took 1.9 us, not 1.2). Without them, a
// send that completes when its bytes are buffered (eager protocols; TCP's socket buffers hold megabytes) let
// a rank start its next step, or the next op, while its block still drained, and a rank that ran ahead sent
// into a link still carrying an earlier step's block: two blocks at half the rate each, and their receivers
// waited. On the emulated fabric (UCX eager over TCP, ops back to back) that took pairwise all-to-all of 1-4
// MiB to 2-2.5x the model; acknowledgements alone left the skewed MoE combine at 1.27x (docs/moe.md, "The
// emulated-fabric check").
#include "collectives/algorithms/common.hpp"

namespace fb::algo {

namespace {

void run(P2P& p2p, const AlgoCall& c) {
  const OpLayout& l = c.layout;
  const std::size_t es = dtype_size(c.dtype), ch = direct_elems(c, l.block);
  const int p = p2p.size(), r = p2p.rank();
  const void* send = alltoall_start(c, p);
  const bool control = p > 2;
  for (int s = 1; s <= p; ++s) {
    const int dst = mod(r + s, p), src = mod(r - s, p);
    // Control: acknowledge step s-1's block to its sender, tell step s's sender this rank is
    // ready; wait for the same from the peers this rank sends to. (Per peer, these arrive in the
    // order sent: from r+s a readiness in step s, its acknowledgement in step s+1.)
    if (control && s > 1) {
      p2p.send_ack(mod(src + 1, p));
      p2p.recv_ack(mod(dst - 1, p));
    }
    if (control && s < p) {
      p2p.send_ack(src);
      p2p.recv_ack(dst);
    }
    p2p.wait_all();
    if (s == p) break;
    post_recv(p2p, at(c.recv, l.recv_off(src), es), l.recv_len(src), src, es,
              l.peers ? direct_elems(c, l.recv_len(src)) : ch);
    post_send(p2p, at(send, l.send_off(dst), es), l.send_len(dst), dst, es,
              l.peers ? direct_elems(c, l.send_len(dst)) : ch);
    if (s == 1) alltoall_own_block(c, send, r);
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
