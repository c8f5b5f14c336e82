// UCX's active messages as a P2P (--p2p-api am, ucx_perftest's am_lat and am_bw): ucp_am_send_nbx,
// received by a handler straight into the op's receive buffer (eager) or through
// ucp_am_recv_data_nbx (rendezvous). A receive only counts the message it expects; the
// acknowledgements travel by tag. Serves the pairwise ops only.
#pragma once

#include <cstdint>
#include <string>

#include "collectives/p2p.hpp"
#include "transports/ucx/ucx_memory.hpp"
#include "transports/ucx/ucx_worker.hpp"

namespace fb::transports::ucx {

class AmP2P final : public P2P {
 public:
  AmP2P(Worker& w, Memory& m) : w_(w), m_(m) {}
  // Sets the worker's handler; returns an error, or "".
  std::string install();
  // Active messages land in `dest` (the current op's receive buffer, `capacity` bytes).
  void set_destination(void* dest, std::size_t capacity) {
    dest_ = dest;
    capacity_ = capacity;
  }

  int rank() const override { return w_.rank(); }
  int size() const override { return w_.size(); }
  void isend(const void* buf, std::size_t bytes, int peer, int) override { send(buf, bytes, peer); }
  void irecv(void*, std::size_t, int, int) override { ++expected_; }
  void wait_all() override;
  void send_window(const void* buf, std::size_t bytes, int peer, int count, bool) override {
    for (int i = 0; i < count; ++i) send(buf, bytes, peer);
  }
  void recv_window(void*, std::size_t, int, int count) override {
    expected_ += static_cast<std::uint64_t>(count);
  }
  void send_ack(int peer) override { w_.tag_send(nullptr, 0, peer, kPairAckTag); }
  void recv_ack(int peer) override { w_.tag_recv(nullptr, 0, peer, kPairAckTag); }

 private:
  void send(const void* buf, std::size_t bytes, int peer);
  static ucs_status_t on_am(void* arg, const void*, std::size_t, void* data, std::size_t length,
                            const ucp_am_recv_param_t* param);

  Worker& w_;
  Memory& m_;
  void* dest_ = nullptr;
  std::size_t capacity_ = 0;
  std::uint64_t expected_ = 0, arrived_ = 0;
  std::string error_;
};

}  // namespace fb::transports::ucx
