#include "transports/nccl/nccl_comm.hpp"

#include <cuda_runtime.h>
#include <sched.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "transports/nccl/nccl_layout.hpp"
#include "vocab/error.hpp"

namespace fb::transports {

namespace {

// Set or unset an environment variable; returns the previous value (nullopt: was unset).
std::optional<std::string> swap_env(const char* name, const std::optional<std::string>& value) {
  std::optional<std::string> old;
  if (const char* v = std::getenv(name)) old = v;
  if (value)
    ::setenv(name, value->c_str(), 1);
  else
    ::unsetenv(name);
  return old;
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

}  // namespace

NcclComms::NcclComms(World& world, int device, const std::atomic<bool>& abort_requested)
    : world_(world),
      device_(device),
      abort_requested_(abort_requested),
      user_algo_(env("NCCL_ALGO")),
      user_proto_(env("NCCL_PROTO")) {}

NcclComms::~NcclComms() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (aborted_.load()) return;
  for (auto& [key, c] : comms_) ncclCommDestroy(c);
}

std::string NcclComms::last_error(ncclComm_t comm) {
  const char* s = ncclGetLastError(comm);
  return s && *s ? std::string(" (") + s + ")" : "";
}

std::string NcclComms::settle(ncclComm_t comm) {
  for (unsigned spins = 0;; ++spins) {
    ncclResult_t state = ncclSuccess;
    const ncclResult_t r = ncclCommGetAsyncError(comm, &state);
    if (r != ncclSuccess) return std::string("ncclCommGetAsyncError: ") + ncclGetErrorString(r);
    if (state == ncclSuccess) return "";
    if (state != ncclInProgress) return ncclGetErrorString(state) + last_error(comm);
    if (abort_requested_.load(std::memory_order_relaxed)) return "no progress within --timeout";
    if ((spins & 0xff) == 0xff) sched_yield();
  }
}

ncclComm_t NcclComms::get(const std::string& algo, const std::string& proto, double timeout_s) {
  const std::string key = algo + "|" + proto;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = comms_.find(key);
    if (it != comms_.end()) return it->second;
    // One communicator per pair was never freed: keep the default and the one in use only.
    for (auto i = comms_.begin(); i != comms_.end();) {
      if (i->first == "|") {
        ++i;
        continue;
      }
      ncclCommDestroy(i->second);
      i = comms_.erase(i);
    }
  }
  ncclComm_t c = create(algo, proto, timeout_s);
  std::lock_guard<std::mutex> lock(mutex_);
  return comms_.emplace(key, c).first->second;
}

ncclComm_t NcclComms::create(const std::string& algo, const std::string& proto, double timeout_s) {
  std::string err;
  ncclUniqueId id{};
  if (world_.rank() == 0) {
    const ncclResult_t r = ncclGetUniqueId(&id);
    if (r != ncclSuccess) err = std::string("ncclGetUniqueId: ") + ncclGetErrorString(r);
  }
  err = world_.first_error(err);
  if (!err.empty()) throw BackendError("nccl: " + err);
  const std::string bytes =
      world_.broadcast_string(std::string(reinterpret_cast<const char*>(&id), sizeof(id)), 0);
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(&id));

  // NCCL reads NCCL_ALGO / NCCL_PROTO when a communicator is created.
  swap_env("NCCL_ALGO", algo.empty() ? user_algo_ : std::optional<std::string>(algo));
  swap_env("NCCL_PROTO", proto.empty() ? user_proto_ : std::optional<std::string>(proto));
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  // Non-blocking: creation (bootstrap, topology, and the runtime connects of later calls) is
  // polled, so --timeout covers it. nvlinkCentricSched where both the headers and the library
  // have it (nccl_layout.hpp; docs/nccl.md).
  config.blocking = 0;
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 28, 0)
  int runtime_version = 0;
  if (ncclGetVersion(&runtime_version) == ncclSuccess &&
      nccl_layout::sets_nvlink_centric_sched(NCCL_VERSION_CODE, runtime_version))
    config.nvlinkCentricSched = 1;
#endif
  ncclComm_t comm = nullptr;
  ncclResult_t r = ncclCommInitRankConfig(&comm, world_.size(), id, world_.rank(), &config);
  const std::string where = "rank " + std::to_string(world_.rank()) + " (" + world_.hostname() + "): ";
  if (r != ncclSuccess && r != ncclInProgress) {
    err = where + "ncclCommInitRankConfig: " + ncclGetErrorString(r) + last_error(nullptr);
  } else {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::duration<double>(timeout_s > 0 ? timeout_s : 1e9);
    ncclResult_t state = ncclInProgress;
    while (true) {
      ncclCommGetAsyncError(comm, &state);
      if (state != ncclInProgress) break;
      if (clock::now() > deadline || abort_requested_.load()) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (state == ncclInProgress) {
      ncclCommAbort(comm);
      comm = nullptr;
      char secs[32];
      std::snprintf(secs, sizeof secs, "%g", timeout_s);
      err = where + "ncclCommInitRankConfig did not complete within --timeout (" + secs +
            " s; check NCCL_SOCKET_IFNAME and that every rank reaches the others); communicator aborted";
    } else if (state != ncclSuccess) {
      err = where + "ncclCommInitRankConfig: " + ncclGetErrorString(state) + last_error(comm);
      ncclCommAbort(comm);
      comm = nullptr;
    }
  }
  // Only now: a non-blocking creation reads them on NCCL's own thread, after the call returned.
  swap_env("NCCL_ALGO", user_algo_);
  swap_env("NCCL_PROTO", user_proto_);
  err = world_.first_error(err);
  if (!err.empty()) {
    if (comm) ncclCommAbort(comm);
    throw BackendError("nccl: " + err);
  }
  return comm;
}

void NcclComms::abort_all() {
  // try_lock: the main thread may hold the mutex while stuck inside NCCL; abort what is known.
  const bool locked = mutex_.try_lock();
  if (!aborted_.exchange(true)) {
    cudaSetDevice(device_);  // the watchdog's thread has no device selected
    for (auto& [key, c] : comms_)
      if (c) ncclCommAbort(c);
  }
  if (locked) mutex_.unlock();
}

}  // namespace fb::transports
