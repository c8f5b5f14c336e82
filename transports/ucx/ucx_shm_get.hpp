// fabricbench's algorithms' P2P over UCX: tag matching, and the shared-memory get (--p2p-api get
// runs the pairwise ops over it too).
//
// Host buffers and the algorithms' scratch are allocated by UCX (ucp_mem_map with
// UCP_MEM_MAP_ALLOCATE: a SysV or POSIX shared-memory segment, ucx_memory.hpp) when another rank
// shares this host. A send of at least FABRICBENCH_UCX_SHM_GET bytes (default 16K; "off"
// disables) from such a buffer, to a peer whose endpoint has a mapped shared-memory transport
// (sysv, posix, xpmem), sends a small descriptor instead of the data: the buffer's address and,
// the first time, its packed rkey. The receiver copies the data straight out of the sender's
// segment (ucp_rkey_ptr, else ucp_get_nbx) and acknowledges; the send completes with the
// acknowledgement. That is one copy at memcpy speed, where UCX's tag rendezvous on one host reads
// through the kernel (cma): 2-ranks all-to-all 1.2-2.1x faster at 16K-64 MiB on the 2-core
// development VM. Below UCX's rendezvous threshold (8256 B on shared memory in UCX 1.13) an eager
// send completes without waiting for the peer, and beats the get's round trip: hence the default,
// measured (docs/measurements.md). The receive side needs no setting: it takes either form (the
// descriptor's tag carries kGetBit).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "collectives/p2p.hpp"
#include "transports/ucx/ucx_memory.hpp"
#include "transports/ucx/ucx_worker.hpp"

namespace fb::transports::ucx {

class ShmGetP2P final : public P2P {
 public:
  ShmGetP2P(Worker& w, Memory& m) : w_(w), m_(m) {}
  // Reads FABRICBENCH_UCX_SHM_GET; returns an error, or "".
  std::string read_threshold();
  // The smallest send that goes by get (0: off).
  std::size_t threshold() const { return get_min_; }
  // Destroys the peers' segment keys (teardown, while the context lives).
  void close();

  int rank() const override { return w_.rank(); }
  int size() const override { return w_.size(); }
  // A get descriptor when the peer can map this buffer's segment, else the data by tag.
  void isend(const void* buf, std::size_t bytes, int peer, int tag) override;
  // Takes the data or a get descriptor (kGetBit masked out of the match). Its completion callback
  // fetches the data a descriptor names at once, inside the progress call that delivered it: a
  // window of receives into one buffer (sendrecv, unidir and bidir over get) then never has a later
  // descriptor land on an earlier one before that one was read.
  void irecv(void* buf, std::size_t bytes, int peer, int tag) override;
  // Completes every posted request, and what completing one starts (a get and its
  // acknowledgement).
  void wait_all() override;
  void send_window(const void* buf, std::size_t bytes, int peer, int count, bool) override {
    for (int i = 0; i < count; ++i) ShmGetP2P::isend(buf, bytes, peer, kPairTag);
  }
  void recv_window(void* buf, std::size_t bytes, int peer, int count) override {
    for (int i = 0; i < count; ++i) ShmGetP2P::irecv(buf, bytes, peer, kPairTag);
  }
  void send_ack(int peer) override { w_.tag_send(nullptr, 0, peer, kPairAckTag); }
  void recv_ack(int peer) override { w_.tag_recv(nullptr, 0, peer, kPairAckTag); }

 private:
  // A receive in flight (the completion callback's user data).
  struct Receive {
    ShmGetP2P* self;
    void* buf;
    std::size_t bytes;
    int peer;
  };
  bool maps(int peer);
  void send_descriptor(HostSegment& seg, const void* buf, std::size_t bytes, int peer, int tag);
  static void on_recv(void*, ucs_status_t st, const ucp_tag_recv_info_t* info, void* user);
  std::string fetch(const Receive& p, std::size_t length);
  void acknowledge(int peer) { w_.tag_send(nullptr, 0, peer, kTagGetAck); }

  Worker& w_;
  Memory& m_;
  // The threshold (0: off), the peers' segment keys by (peer, id), and the descriptors in
  // flight (they live until wait_all() completes their sends).
  std::size_t get_min_ = 16 * 1024;
  std::map<std::pair<int, std::uint64_t>, ucp_rkey_h> peer_segments_;
  std::deque<std::string> descriptors_;
  std::unordered_map<int, bool> maps_;  // maps(peer), once known
  std::deque<Receive> receives_;        // stable addresses: each is a callback's user data
  std::string error_;                   // from a completion callback, thrown by wait_all()
};

}  // namespace fb::transports::ucx
