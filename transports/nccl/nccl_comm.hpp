// The nccl backend's communicators: one per distinct (--nccl-algo, --nccl-proto) pair, created
// non-blocking and polled to a deadline (a wrong NCCL_SOCKET_IFNAME must not hang forever),
// aborted from either thread (the watchdog's when the main thread is stuck inside CUDA, MPI or
// NCCL), and destroyed when a test moves on to another pair (NCCL does not give their memory back
// otherwise).
#pragma once

#include <nccl.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "transports/world.hpp"

namespace fb::transports {

class NcclComms {
 public:
  // `abort_requested` is the watchdog's flag: creation stops polling when it is set.
  NcclComms(World& world, int device, const std::atomic<bool>& abort_requested);
  ~NcclComms();
  NcclComms(const NcclComms&) = delete;
  NcclComms& operator=(const NcclComms&) = delete;

  // The communicator for this pair ("" lets NCCL choose), created on first use on every rank;
  // others than the default ("|") are destroyed first. `timeout_s` > 0 bounds the creation.
  ncclComm_t get(const std::string& algo, const std::string& proto, double timeout_s);

  // Wait for a non-blocking communicator's pending call (ncclInProgress) to finish; "" or NCCL's
  // error. Polls `abort_requested` too.
  std::string settle(ncclComm_t comm);

  // ncclCommAbort on every communicator, once, from whichever thread comes first (the watchdog's
  // thread selects the device first). Safe to call from any thread.
  void abort_all();
  bool aborted() const { return aborted_.load(); }

  static std::string last_error(ncclComm_t comm);

 private:
  ncclComm_t create(const std::string& algo, const std::string& proto, double timeout_s);
  World& world_;
  int device_;
  const std::atomic<bool>& abort_requested_;
  std::map<std::string, ncclComm_t> comms_;
  std::mutex mutex_;  // comms_ against abort_all from the watchdog's thread
  std::atomic<bool> aborted_{false};
  std::optional<std::string> user_algo_, user_proto_;
};

}  // namespace fb::transports
