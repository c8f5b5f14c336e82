// One UCP context and worker per rank (ucx_perftest's ucp context/worker set-up): worker addresses
// exchanged over the MPI bootstrap (World), endpoints created on first use (a 1024-rank job opens
// only the endpoints its algorithms touch), requests tracked until wait_all() completes them, and
// progress by polling in the calling thread (no helper threads). Every API (tag, am, put, the
// shared-memory get) posts through it.
#pragma once

#include <sched.h>
#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "transports/world.hpp"

namespace fb::transports::ucx {

// fabricbench's own tags (bit 31 of the user tag, and so bit 63 of a UCX tag, stays clear: the
// shared-memory get marks its descriptors with it).
constexpr int kTagRkey = 0x7003;     // rkey exchange for --p2p-api put
constexpr int kTagQuiesce = 0x7004;  // the barrier that ends quiesce()
constexpr int kTagGetAck = 0x7005;   // shared-memory get: the receiver has copied the data

inline ucp_tag_t make_tag(int tag, int source) {
  return (static_cast<ucp_tag_t>(static_cast<std::uint32_t>(tag)) << 32) | static_cast<std::uint32_t>(source);
}

inline std::string status_text(ucs_status_t st) {
  return ucs_status_string(st);
}

class Worker {
 public:
  explicit Worker(World& world);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Creates the context (tag, RMA and AM features) and the worker; returns an error, or "".
  std::string open();
  // Swaps worker addresses with every rank and reaches the ring neighbours, agreeing on errors
  // (a failure on one rank is the same BackendError on every rank, not a hang).
  void connect(std::string err);
  // Flush-closes every endpoint while the peers still progress; force-closes what does not
  // finish in time.
  void close_endpoints();
  // Destroys the worker and the context.
  void close();

  World& world() const { return world_; }
  int rank() const { return world_.rank(); }
  int size() const { return world_.size(); }
  ucp_context_h context() const { return context_; }
  ucp_worker_h handle() const { return worker_; }
  std::uint64_t memory_types() const { return mem_types_; }
  // "rank R (host)", for error messages.
  std::string where() const;
  // "rank R (host)" of a peer.
  std::string rank_text(int peer) const;

  // The endpoint to `peer`, created on first use.
  ucp_ep_h ep(int peer);
  // The transports of this rank's endpoints, and of the endpoint to `peer`, as UCX prints them.
  std::string transport() const;
  std::string peer_transport(int peer) const;
  const std::vector<std::string>& peer_transports(int peer) { return peer_transports_[peer]; }

  // Records a posted request. `ack_tag` != 0: once it completes (at once when r is nullptr, even
  // when it failed: no hang), send the peer an empty message with that tag.
  void track(ucs_status_ptr_t r, const char* what, int peer, int ack_tag = 0);
  // Tag-matched messages; `prm` may carry the buffer's memory type.
  void tag_send(const void* buf, std::size_t bytes, int peer, int tag, ucp_request_param_t prm = {});
  void tag_recv(void* buf, std::size_t bytes, int peer, int tag, ucp_request_param_t prm = {});
  // Completes every posted request, and the acknowledgements completing one starts, progressing
  // the worker by polling. Returns the first failure, or "".
  std::string complete_all();
  // complete_all(), throwing BackendError on a failure.
  void wait_all();
  // One round of progress. With more ranks on this host than CPUs they may run on, a rank that
  // found nothing to do yields its CPU, or busy-polling ranks starve the peers they wait for.
  void poll() {
    if (ucp_worker_progress(worker_) == 0 && yield_) sched_yield();
  }
  // Flushes every endpoint and meets the other ranks in a barrier over UCX (Backend::quiesce).
  void quiesce();

 private:
  struct Pending {
    void* req;
    int peer;
    int ack_tag;
  };
  World& world_;
  bool yield_;
  ucp_context_h context_ = nullptr;
  ucp_worker_h worker_ = nullptr;
  std::uint64_t mem_types_ = 0;
  std::vector<std::string> addrs_;
  std::vector<ucp_ep_h> eps_;
  std::vector<std::vector<std::string>> ep_transports_;
  std::map<int, std::vector<std::string>> peer_transports_;
  std::vector<Pending> pending_;
};

}  // namespace fb::transports::ucx
