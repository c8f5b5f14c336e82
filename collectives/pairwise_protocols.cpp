#include "collectives/pairwise_protocols.hpp"

namespace fb {

void P2P::send_window(const void* buf, std::size_t bytes, int peer, int count, bool) {
  for (int i = 0; i < count; ++i) isend(buf, bytes, peer, kPairTag);
}

void P2P::recv_window(void* buf, std::size_t bytes, int peer, int count) {
  for (int i = 0; i < count; ++i) irecv(buf, bytes, peer, kPairTag);
}

void P2P::send_ack(int peer) {
  isend(nullptr, 0, peer, kPairAckTag);
}

void P2P::recv_ack(int peer) {
  irecv(nullptr, 0, peer, kPairAckTag);
}

void P2P::send_then_recv(const void* send, void* recv, std::size_t bytes, int peer) {
  send_window(send, bytes, peer, 1, false);
  recv_window(recv, bytes, peer, 1);
  wait_all();
}

void P2P::recv_then_send(void* recv, const void* send, std::size_t bytes, int peer) {
  recv_window(recv, bytes, peer, 1);
  wait_all();
  send_window(send, bytes, peer, 1, false);
  wait_all();
}

void run_pairwise(P2P& p, const PairwiseCall& c) {
  if (c.peer < 0) return;
  switch (c.kind) {
    case OpKind::sendrecv:  // the ring shift: from r - 1, to r + 1, both at once
      p.recv_window(c.recv, c.bytes, c.from, c.window);
      p.send_window(c.send, c.bytes, c.peer, c.window, false);
      p.wait_all();
      break;
    case OpKind::unidir:
      if (c.sender) {
        p.send_window(c.send, c.bytes, c.peer, c.window, true);
        p.recv_ack(c.peer);
        p.wait_all();
      } else {
        p.recv_window(c.recv, c.bytes, c.peer, c.window);
        p.wait_all();
        p.send_ack(c.peer);
        p.wait_all();
      }
      break;
    case OpKind::bidir:
      p.recv_window(c.recv, c.bytes, c.peer, c.window);
      p.send_window(c.send, c.bytes, c.peer, c.window, false);
      p.wait_all();
      break;
    case OpKind::pingpong:
    case OpKind::relay:
      if (c.sender)
        p.send_then_recv(c.send, c.recv, c.bytes, c.peer);
      else  // relay replies with what just arrived
        p.recv_then_send(c.recv, c.kind == OpKind::relay ? c.recv : c.send, c.bytes, c.peer);
      break;
    default:
      break;
  }
}

}  // namespace fb
