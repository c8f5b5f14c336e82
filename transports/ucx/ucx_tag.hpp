// UCX's tag API as a P2P (--p2p-api tag): ucp_tag_send_nbx / ucp_tag_recv_nbx, the tag carrying
// (tag, source rank), completed by polling the worker (ucx_perftest's tag_lat and tag_bw).
#pragma once

#include "collectives/p2p.hpp"
#include "transports/ucx/ucx_memory.hpp"
#include "transports/ucx/ucx_worker.hpp"

namespace fb::transports::ucx {

class TagP2P final : public P2P {
 public:
  TagP2P(Worker& w, const Memory& m) : w_(w), m_(m) {}
  int rank() const override { return w_.rank(); }
  int size() const override { return w_.size(); }
  void isend(const void* buf, std::size_t bytes, int peer, int tag) override {
    w_.tag_send(buf, bytes, peer, tag, m_.param_for(buf));
  }
  void irecv(void* buf, std::size_t bytes, int peer, int tag) override {
    w_.tag_recv(buf, bytes, peer, tag, m_.param_for(buf));
  }
  void wait_all() override { w_.wait_all(); }
  // The windows call this class's isend/irecv directly: no virtual call per message.
  void send_window(const void* buf, std::size_t bytes, int peer, int count, bool) override {
    for (int i = 0; i < count; ++i) TagP2P::isend(buf, bytes, peer, kPairTag);
  }
  void recv_window(void* buf, std::size_t bytes, int peer, int count) override {
    for (int i = 0; i < count; ++i) TagP2P::irecv(buf, bytes, peer, kPairTag);
  }

 private:
  Worker& w_;
  const Memory& m_;
};

}  // namespace fb::transports::ucx
