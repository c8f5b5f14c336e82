// The pairwise ops' protocols, written once over P2P and run by every backend with point-to-point
// (mpi; ucx over whichever API --p2p-api selects):
//   sendrecv  the ring shift (nccl-tests' sendrecv_perf): every rank posts a window of receives
//             from r - 1 and a window of sends to r + 1, then waits for both;
//   unidir    the sender posts a window of sends, the receiver a window of receives and then an
//             acknowledgement (osu_bw's and ucx_perftest's tag_bw pattern);
//   bidir     both ranks post a window of receives and a window of sends;
//   pingpong  the sender sends and receives the reply, the other rank receives and replies;
//   relay     pingpong whose reply is the message just received (store and forward).
#pragma once

#include <cstddef>

#include "collectives/op.hpp"
#include "collectives/p2p.hpp"

namespace fb {

// One pairwise op on this rank.
struct PairwiseCall {
  OpKind kind = OpKind::pingpong;
  const void* send = nullptr;
  void* recv = nullptr;
  std::size_t bytes = 0;  // per message
  int peer = -1;          // -1: this rank sits out (sendrecv: the rank sent to)
  bool sender = false;    // unidir: this rank sends (pingpong, relay: it sends first)
  int window = 1;         // messages per op (sendrecv, unidir, bidir); the bounce ops move one
  int from = -1;          // sendrecv: the rank received from
};

// Runs one pairwise op to completion (the data is in `recv` when it returns).
void run_pairwise(P2P& p2p, const PairwiseCall& call);

}  // namespace fb
