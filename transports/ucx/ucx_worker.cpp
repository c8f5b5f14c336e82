#include "transports/ucx/ucx_worker.hpp"

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <set>

#include "transports/ucx/ucx_info.hpp"
#include "vocab/error.hpp"

namespace fb::transports::ucx {

namespace {

// More ranks on this host than online CPUs. (Not this rank's affinity: a launcher that binds
// each rank to its own core leaves every rank one CPU, and none of them oversubscribed.)
bool oversubscribed(int local_ranks) {
  // FABRICBENCH_YIELD=1 (0) forces yielding on (off): ranks of emulated hosts that share one
  // machine's CPUs (scripts/emufab exec sets it) cannot see each other as local.
  if (const char* y = std::getenv("FABRICBENCH_YIELD"); y && *y) return std::string(y) != "0";
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus > 0 && local_ranks > cpus;
}

std::string joined(const std::set<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : "+") + n;
  return s;
}

}  // namespace

Worker::Worker(World& world) : world_(world), yield_(oversubscribed(world.job_local_size())) {}

std::string Worker::where() const {
  return "rank " + std::to_string(world_.rank()) + " (" + world_.hostname() + ")";
}

std::string Worker::rank_text(int peer) const {
  return "rank " + std::to_string(peer) + " (" + world_.hostnames()[peer] + ")";
}

std::string Worker::open() {
  ucp_config_t* config = nullptr;
  ucs_status_t st = ucp_config_read(nullptr, nullptr, &config);
  if (st != UCS_OK) return "ucp_config_read: " + status_text(st);
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED;
  params.features = UCP_FEATURE_TAG | UCP_FEATURE_RMA | UCP_FEATURE_AM;
  params.mt_workers_shared = 0;
  st = ucp_init(&params, config, &context_);
  ucp_config_release(config);
  if (st != UCS_OK) {
    context_ = nullptr;
    return "ucp_init: " + status_text(st);
  }
  ucp_context_attr_t attr{};
  attr.field_mask = UCP_ATTR_FIELD_MEMORY_TYPES;
  if (ucp_context_query(context_, &attr) == UCS_OK) mem_types_ = attr.memory_types;
  ucp_worker_params_t wp{};
  wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  wp.thread_mode = UCS_THREAD_MODE_SINGLE;
  st = ucp_worker_create(context_, &wp, &worker_);
  if (st != UCS_OK) {
    worker_ = nullptr;
    return "ucp_worker_create: " + status_text(st);
  }
  return "";
}

void Worker::connect(std::string err) {
  err = world_.first_error(err.empty() ? "" : where() + ": " + err);
  if (!err.empty()) throw BackendError("ucx: " + err);
  std::string addr;
  if (worker_) {
    ucp_address_t* a = nullptr;
    std::size_t len = 0;
    const ucs_status_t st = ucp_worker_get_address(worker_, &a, &len);
    if (st == UCS_OK) {
      addr.assign(reinterpret_cast<const char*>(a), len);
      ucp_worker_release_address(worker_, a);
    } else {
      err = where() + ": ucp_worker_get_address: " + status_text(st);
    }
  }
  addrs_ = world_.allgather_strings(addr);
  eps_.assign(static_cast<std::size_t>(world_.size()), nullptr);
  err = world_.first_error(err);
  if (!err.empty()) throw BackendError("ucx: " + err);
  // Reach the ring neighbours now: a UCX_TLS that leaves no usable transport fails here, on
  // every rank at once, rather than inside the first measured op.
  try {
    const int p = world_.size(), r = world_.rank();
    ep((r + 1) % p);
    ep((r + p - 1) % p);
  } catch (const std::exception& e) {
    err = e.what();
  }
  err = world_.first_error(err);
  if (!err.empty()) throw BackendError(err);
}

void Worker::close_endpoints() {
  // All ranks reach here together at the end of a run.
  std::vector<void*> closing;
  for (auto& e : eps_) {
    if (!e) continue;
    ucp_request_param_t prm{};
    prm.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    prm.flags = 0;
    void* r = ucp_ep_close_nbx(e, &prm);
    if (r != nullptr && !UCS_PTR_IS_ERR(r)) closing.push_back(r);
    e = nullptr;
  }
  for (int spins = 0; !closing.empty() && spins < 20000000; ++spins) {
    poll();
    for (auto it = closing.begin(); it != closing.end();) {
      if (ucp_request_check_status(*it) != UCS_INPROGRESS) {
        ucp_request_free(*it);
        it = closing.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void Worker::close() {
  if (worker_) ucp_worker_destroy(worker_);
  worker_ = nullptr;
  if (context_) ucp_cleanup(context_);
  context_ = nullptr;
}

ucp_ep_h Worker::ep(int peer) {
  ucp_ep_h& e = eps_[static_cast<std::size_t>(peer)];
  if (e) return e;
  ucp_ep_params_t prm{};
  prm.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
  prm.address = reinterpret_cast<const ucp_address_t*>(addrs_[static_cast<std::size_t>(peer)].data());
  const ucs_status_t st = ucp_ep_create(worker_, &prm, &e);
  if (st != UCS_OK) {
    e = nullptr;
    throw BackendError("ucx: " + where() + " cannot reach rank " + std::to_string(peer) + " (" +
                       world_.hostnames()[peer] + "): ucp_ep_create: " + status_text(st) +
                       " (check UCX_TLS / UCX_NET_DEVICES)");
  }
  ep_transports_.push_back(ucx_ep_transports(e));
  peer_transports_[peer] = ep_transports_.back();
  return e;
}

std::string Worker::transport() const {
  std::set<std::string> names;
  for (const auto& t : ep_transports_) names.insert(t.begin(), t.end());
  return joined(names);
}

std::string Worker::peer_transport(int peer) const {
  auto it = peer_transports_.find(peer);
  if (it == peer_transports_.end()) return "";
  return joined(std::set<std::string>(it->second.begin(), it->second.end()));
}

void Worker::track(ucs_status_ptr_t r, const char* what, int peer, int ack_tag) {
  if (r == nullptr) {
    if (ack_tag != 0) tag_send(nullptr, 0, peer, ack_tag);
    return;
  }
  if (UCS_PTR_IS_ERR(r))
    throw BackendError("ucx: " + std::string(what) + " to rank " + std::to_string(peer) + " failed on " +
                       where() + ": " + status_text(UCS_PTR_STATUS(r)));
  pending_.push_back(Pending{r, peer, ack_tag});
}

void Worker::tag_send(const void* buf, std::size_t bytes, int peer, int tag, ucp_request_param_t prm) {
  track(ucp_tag_send_nbx(ep(peer), buf, bytes, make_tag(tag, world_.rank()), &prm), "ucp_tag_send_nbx", peer);
}

void Worker::tag_recv(void* buf, std::size_t bytes, int peer, int tag, ucp_request_param_t prm) {
  track(ucp_tag_recv_nbx(worker_, buf, bytes, make_tag(tag, peer), ~ucp_tag_t{0}, &prm), "ucp_tag_recv_nbx",
        peer);
}

std::string Worker::complete_all() {
  std::string err;
  while (!pending_.empty()) {
    bool any = false;
    for (std::size_t i = 0; i < pending_.size();) {
      const Pending p = pending_[i];
      const ucs_status_t st = ucp_request_check_status(p.req);
      if (st == UCS_INPROGRESS) {
        ++i;
        continue;
      }
      any = true;
      ucp_request_free(p.req);
      pending_[i] = pending_.back();
      pending_.pop_back();
      if (st != UCS_OK && err.empty())
        err = "request with " + rank_text(p.peer) + " failed on " + where() + ": " + status_text(st);
      if (p.ack_tag != 0) tag_send(nullptr, 0, p.peer, p.ack_tag);  // even after a failed get: no hang
    }
    if (!any && !pending_.empty()) poll();
  }
  return err;
}

void Worker::wait_all() {
  if (std::string err = complete_all(); !err.empty()) throw BackendError("ucx: " + err);
}

// Every rank leaves UCX only when no peer still needs its progress. An endpoint flush completes
// once its lanes' pending queues have drained, acknowledgements of finished receives included (a
// worker flush does not wait for those): without it a peer can wait forever on a send this rank
// has long since received (its rendezvous ATS queued behind the peer's full shared-memory FIFO)
// while this rank sits in an MPI call that never progresses UCX. A flush may itself need the
// peer's progress (TCP's put acknowledgements), so the ranks then meet in a dissemination
// barrier over UCX, polling all the while: a rank enters it only with its flushes complete.
void Worker::quiesce() {
  for (std::size_t peer = 0; peer < eps_.size(); ++peer) {
    if (eps_[peer] == nullptr) continue;
    ucp_request_param_t prm{};
    track(ucp_ep_flush_nbx(eps_[peer], &prm), "ucp_ep_flush_nbx", static_cast<int>(peer));
  }
  wait_all();
  const int p = world_.size(), r = world_.rank();
  for (int d = 1; d < p; d *= 2) {
    tag_recv(nullptr, 0, (r - d + p) % p, kTagQuiesce);
    tag_send(nullptr, 0, (r + d) % p, kTagQuiesce);
    wait_all();
  }
}

}  // namespace fb::transports::ucx
