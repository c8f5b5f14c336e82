// UCX's RMA put with a completion flag as a P2P (--p2p-api put, ucx_perftest's put_lat and
// put_bw): ucp_put_nbx into the peer's receive buffer (rkeys exchanged once per buffer), then a
// fenced put of a sequence number into the peer's flag word, which the peer polls. A window the
// peer acknowledges is flushed before its flag instead (the flush is the acknowledgement), so the
// acknowledgement messages are no-ops. Serves the pairwise ops only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "collectives/p2p.hpp"
#include "transports/ucx/ucx_memory.hpp"
#include "transports/ucx/ucx_worker.hpp"

namespace fb::transports::ucx {

class PutP2P final : public P2P {
 public:
  PutP2P(Worker& w, Memory& m) : w_(w), m_(m) {}
  // Registers this rank's receive buffer (`capacity` bytes) and flag word (once each), sends their
  // addresses and rkeys to `from` (the rank that puts into this one) and takes `to`'s (the rank
  // this one puts into): a pair swaps (to == from), sendrecv's ring shift passes them on. An rkey
  // travels only to a rank that does not have it yet. Restarts this rank's sequence numbers and
  // flag word first (before any peer can put into it again), so a series starts at 0 with
  // whichever partners it has.
  void exchange_keys(void* recv, std::size_t capacity, int to, int from);
  // Drops the registration of a buffer being freed.
  void forget(void* p);
  // Destroys the keys and registrations (teardown, while the context lives).
  void close();

  int rank() const override { return w_.rank(); }
  int size() const override { return w_.size(); }
  void isend(const void* buf, std::size_t bytes, int peer, int) override {
    PutP2P::send_window(buf, bytes, peer, 1, false);
  }
  void irecv(void* buf, std::size_t bytes, int peer, int) override {
    PutP2P::recv_window(buf, bytes, peer, 1);
  }
  // Waits for the flag of every window expected, then completes the puts.
  void wait_all() override;
  // Data first, then (fenced behind it, or after a flush when `acked`) the next sequence number
  // into the peer's flag word.
  void send_window(const void* buf, std::size_t bytes, int peer, int count, bool acked) override;
  void recv_window(void*, std::size_t, int, int) override { ++recv_seq_; }
  void send_ack(int) override {}
  void recv_ack(int) override {}

 private:
  struct PeerKeys {
    std::uint64_t data_addr = 0, flag_addr = 0;
    ucp_rkey_h data = nullptr, flag = nullptr;
  };
  void put(const void* src, std::size_t bytes, std::uint64_t remote, ucp_rkey_h rkey, int peer);
  void check_unpack(ucs_status_t st, int peer);

  Worker& w_;
  Memory& m_;
  // Registrations of receive buffers, the peers' keys, the flag word and the sequence numbers
  // of the windows sent and expected (the peers' flag words count the windows they received).
  std::map<void*, ucp_mem_h> regs_;
  std::map<int, PeerKeys> rkeys_;
  std::set<std::pair<void*, int>> data_key_sent_;  // (buffer, rank) its rkey went to
  std::set<int> flag_key_sent_;                    // ranks that have the flag word's rkey
  std::unique_ptr<std::uint64_t[]> flag_{new std::uint64_t[8]()};
  ucp_mem_h flag_memh_ = nullptr;
  std::uint64_t send_seq_ = 0, recv_seq_ = 0, flag_src_ = 0;
};

}  // namespace fb::transports::ucx
