// The UCX backend: one UCP context and worker per rank, worker addresses exchanged over the MPI
// bootstrap (World), endpoints created on first use (a 1024-rank job opens only the endpoints
// its algorithms touch), progress by polling in the calling thread (no helper threads).
//
// Collectives run fabricbench's algorithms (collectives/algorithms/) over UCX tag matching.
// The pairwise ops (sendrecv, bidir, pingpong, relay) run over the API chosen with --p2p-api:
//   tag  ucp_tag_send_nbx / ucp_tag_recv_nbx;
//   put  ucp_put_nbx into the peer's receive buffer (rkeys exchanged once per buffer), then a
//        fenced put of a sequence number into the peer's flag word, which the peer polls;
//   am   ucp_am_send_nbx, received by a handler straight into the receive buffer (eager) or
//        through ucp_am_recv_data_nbx (rendezvous);
//   get  what the algorithms do (below): the shared-memory get, tag matching where it does not
//        apply. Calibrating the model from these rows describes the algorithms' transfers.
// sendrecv and bidir move --window messages per op; sendrecv ends each window with an ack from
// the receiver (tag, am) or a flush and a flag (put), as osu_bw and ucx_perftest's tag_bw do.
//
// Shared-memory get (the algorithms only). Host buffers and the algorithms' scratch are allocated
// by UCX (ucp_mem_map with UCP_MEM_MAP_ALLOCATE: a SysV or POSIX shared-memory segment) when
// another rank shares this host. An algorithm's send of at least FABRICBENCH_UCX_SHM_GET bytes
// (default 16K; "off" disables) from such a buffer, to a peer whose endpoint has a mapped
// shared-memory transport (sysv, posix, xpmem), sends a small descriptor instead of the data:
// the buffer's address and, the first time, its packed rkey. The receiver copies the data
// straight out of the sender's segment (ucp_rkey_ptr, else ucp_get_nbx) and acknowledges; the
// send completes with the acknowledgement. That is one copy at memcpy speed, where UCX's tag
// rendezvous on one host reads through the kernel (cma): 2-ranks all-to-all 1.2-2.1x faster at
// 16K-64 MiB on the 2-core development VM. Below UCX's rendezvous threshold (8256 B on shared
// memory in UCX 1.13) an eager send completes without waiting for the peer, and beats the get's
// round trip: hence the default, measured (README, "ucx").
// The receive side needs no setting: it takes either form (the descriptor's tag carries kGetBit).
//
// --mem cuda (a UCX whose ucp_context_query reports CUDA memory, and a CUDA build of fabricbench):
// buffers and the algorithms' scratch are device memory on this rank's GPU (one per node-local
// rank, as nccl), the algorithms reduce with CUDA kernels and copy device to device (AlgoCall::mem,
// transports/cuda/device_memory.hpp), each reduction complete before its result is sent; UCX moves
// the device buffers itself (tag, put, am), told their memory type.
#include <sched.h>
#include <ucp/api/ucp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "collectives/error.hpp"
#include "collectives/p2p.hpp"
#include "vocab/units.hpp"
#include "transports/backend.hpp"
#include "transports/cuda/device_memory.hpp"
#include "transports/ucx/ucx_info.hpp"

namespace fb::transports {

namespace {

constexpr int kTagData = 0x7001;  // pairwise-op payloads
constexpr int kTagAck = 0x7002;   // end-of-window acknowledgements
constexpr int kTagRkey = 0x7003;  // rkey exchange for --p2p-api put
constexpr int kTagQuiesce = 0x7004;  // the barrier that ends quiesce()
constexpr int kTagGetAck = 0x7005;   // shared-memory get: the receiver has copied the data
// The top bit of a tag (bit 31 of the user tag, which every tag here leaves clear: the
// algorithms' kTag and the 0x700N above): this message is a get descriptor, not the data.
constexpr ucp_tag_t kGetBit = ucp_tag_t{1} << 63;
constexpr const char* kShmGetEnv = "FABRICBENCH_UCX_SHM_GET";
constexpr std::size_t kShmGetDefault = 16 * 1024;
constexpr std::size_t kShmGetMin = 4096;  // a descriptor always fits in the receive buffer
constexpr std::size_t kPage = 4096;
constexpr unsigned kAmId = 11;

ucp_tag_t make_tag(int tag, int source) {
  return (static_cast<ucp_tag_t>(static_cast<std::uint32_t>(tag)) << 32) | static_cast<std::uint32_t>(source);
}

std::string status_text(ucs_status_t st) { return ucs_status_string(st); }

class UcxBackend;

// fabricbench's algorithms over UCX tag matching (and shared-memory get, above).
class UcxP2P final : public P2P {
 public:
  explicit UcxP2P(UcxBackend& b) : b_(b) {}
  int rank() const override;
  int size() const override;
  void isend(const void* buf, std::size_t bytes, int peer, int tag) override;
  void irecv(void* buf, std::size_t bytes, int peer, int tag) override;
  void wait_all() override;

 private:
  UcxBackend& b_;
};

class UcxBackend final : public Backend {
 public:
  explicit UcxBackend(World& world) : world_(world), p2p_(*this) {
    // Every step that can fail on one rank only is followed by an agreement, so a failure on
    // one rank becomes the same error on every rank instead of a hang in the next collective.
    std::string err = init_local();
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

  ~UcxBackend() override {
    algorithms_.reset();  // its scratch may be a UCX segment: unmapped while the context lives
    if (!worker_) {
      cleanup_context();
      return;
    }
    // Flush-close every endpoint while the peers still progress (all ranks reach here together
    // at the end of a run); force-close what does not finish in time.
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
    for (auto& [peer, rk] : rkeys_) {
      if (rk.data) ucp_rkey_destroy(rk.data);
      if (rk.flag) ucp_rkey_destroy(rk.flag);
    }
    for (auto& [key, rk] : peer_segments_) ucp_rkey_destroy(rk);
    for (auto& [ptr, reg] : regs_) ucp_mem_unmap(context_, reg);
    for (auto& [base, seg] : segments_) ucp_mem_unmap(context_, seg.memh);
    if (flag_memh_) ucp_mem_unmap(context_, flag_memh_);
    ucp_worker_destroy(worker_);
    cleanup_context();
  }

  std::string name() const override { return "ucx"; }
  // The version, and the algorithms' protocol on one host (a setting that changes their figures).
  std::string version() const override {
    return "UCX " + std::string(ucp_get_version_string()) + ", algorithms' shared-memory get " +
           (get_min_ ? "from " + format_bytes(get_min_) : std::string("off"));
  }
  bool runs_p2p_algorithms() const override { return true; }
  bool has_native_collectives() const override { return false; }
  std::vector<std::string> p2p_apis() const override { return {"tag", "put", "am", "get"}; }

  std::optional<std::string> unsupported(const OpDescriptor&, DType, RedOp, bool) const override {
    return std::nullopt;
  }

  std::optional<std::string> unsupported_memory(const std::string& mem) const override {
    if (mem == "host") return std::nullopt;
    if (mem == "cuda") {
      if (!(mem_types_ & UCS_BIT(UCS_MEMORY_TYPE_CUDA)))
        return "this UCX (" + std::string(ucp_get_version_string()) +
               ") has no CUDA support: ucp_context_query reports memory types " + memory_types_text() +
               " (install a UCX built with CUDA, e.g. NVIDIA's HPC-X, for --mem cuda)";
      if (!device()) return "ucx: " + device_error_;
      return std::nullopt;
    }
    return "unknown memory type '" + mem + "' (host or cuda)";
  }

  std::optional<std::uint64_t> available_memory(const std::string& mem, int ranks_on_host) const override {
    if (mem != "cuda") return Backend::available_memory(mem, ranks_on_host);
    if (!device()) return std::nullopt;
    return device_->free_bytes();
  }

  void* alloc(std::size_t bytes, const std::string& mem) override {
    if (mem == "host") return host_alloc(bytes);
    if (mem != "cuda") return Backend::alloc(bytes, mem);
    if (!device()) throw BackendError("ucx: " + device_error_);
    return device_->alloc(bytes);
  }

  void fill(const Pattern& pattern, void* dst, std::size_t count, int rank, std::size_t offset) override {
    if (!on_device(dst)) return Backend::fill(pattern, dst, count, rank, offset);
    device_->fill(pattern, dst, count, rank, offset);
  }
  void poison(void* dst, std::size_t count, DType dtype) override {
    if (!on_device(dst)) return Backend::poison(dst, count, dtype);
    device_->poison(dst, count, dtype);
  }
  std::size_t check(const Pattern& pattern, const void* recv, const std::vector<Segment>& segments) override {
    if (!on_device(recv)) return Backend::check(pattern, recv, segments);
    return device_->check(pattern, recv, segments);
  }

  void prepare(const OpCall& c) override {
    if (!c.op->pairwise) return algorithms_for(c).prepare(c);
    am_dest_ = c.recv;
    am_capacity_ = c.layout.recv_count * dtype_size(c.dtype);
    if (c.p2p_api == "put" && c.peer >= 0) exchange_rkeys(c);
  }

  void run(const OpCall& c) override {
    if (!c.op->pairwise) return algorithms_for(c).run(p2p_, c);
    if (c.peer < 0) return;
    const std::size_t bytes = c.layout.count * dtype_size(c.dtype);
    const bool sender = c.sender;
    const int w = is_bounce(c.op->kind) ? 1 : c.window;
    if (c.p2p_api == "put") return run_put(c, bytes, sender, w);
    const bool am = c.p2p_api == "am", get = c.p2p_api == "get";
    auto send_from = [&](const void* src) {
      if (am)
        am_send(src, bytes, c.peer);
      else if (get)
        algo_send(src, bytes, c.peer, kTagData);
      else
        tag_send(src, bytes, c.peer, kTagData);
    };
    auto post_send = [&] { send_from(c.send); };
    auto post_recv = [&] {
      if (am)
        ++am_expected_;
      else if (get)
        algo_recv(c.recv, bytes, c.peer, kTagData);
      else
        tag_recv(c.recv, bytes, c.peer, kTagData);
    };
    switch (c.op->kind) {
      case OpKind::sendrecv:
        if (sender) {
          for (int i = 0; i < w; ++i) post_send();
          tag_recv(nullptr, 0, c.peer, kTagAck);
          wait_all();
        } else {
          for (int i = 0; i < w; ++i) post_recv();
          wait_all();
          tag_send(nullptr, 0, c.peer, kTagAck);
          wait_all();
        }
        break;
      case OpKind::bidir:
        for (int i = 0; i < w; ++i) post_recv();
        for (int i = 0; i < w; ++i) post_send();
        wait_all();
        break;
      case OpKind::pingpong:
      case OpKind::relay:
        if (sender) {
          post_send();
          post_recv();
          wait_all();
        } else {
          post_recv();
          wait_all();
          send_from(c.op->kind == OpKind::relay ? c.recv : c.send);
          wait_all();
        }
        break;
      default: break;
    }
  }

  std::string algo(const OpCall& c) const override {
    if (!c.op->pairwise) return c.algo;
    return c.p2p_api + (windowed(c) && c.window > 1 ? "/window" + std::to_string(c.window) : "");
  }

  // The transports UCX selected for the endpoints this rank opened, as UCX prints them.
  std::string transport() const override {
    std::set<std::string> names;
    for (const auto& t : ep_transports_)
      for (const auto& n : t) names.insert(n);
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : "+") + n;
    return s;
  }

  std::string peer_transport(int peer) const override {
    auto it = peer_transports_.find(peer);
    if (it == peer_transports_.end()) return "";
    std::set<std::string> names(it->second.begin(), it->second.end());
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : "+") + n;
    return s;
  }

  void release(void* p, std::size_t bytes) override {
    auto it = regs_.find(p);
    if (it != regs_.end()) {
      ucp_mem_unmap(context_, it->second);
      regs_.erase(it);
    }
    if (on_device(p)) device_->release(p);
    else
      host_release(p, bytes);
  }

  // ---- used by UcxP2P ----
  int rank() const { return world_.rank(); }
  int size() const { return world_.size(); }

  void tag_send(const void* buf, std::size_t bytes, int peer, int tag) {
    ucp_request_param_t prm = param_for(buf);
    track(ucp_tag_send_nbx(ep(peer), buf, bytes, make_tag(tag, world_.rank()), &prm), "ucp_tag_send_nbx", peer);
  }

  void tag_recv(void* buf, std::size_t bytes, int peer, int tag) {
    ucp_request_param_t prm = param_for(buf);
    track(ucp_tag_recv_nbx(worker_, buf, bytes, make_tag(tag, peer), ~ucp_tag_t{0}, &prm), "ucp_tag_recv_nbx",
          peer);
  }

  // Every rank leaves UCX only when no peer still needs its progress. An endpoint flush completes
  // once its lanes' pending queues have drained, acknowledgements of finished receives included (a
  // worker flush does not wait for those): without it a peer can wait forever on a send this rank
  // has long since received (its rendezvous ATS queued behind the peer's full shared-memory FIFO)
  // while this rank sits in an MPI call that never progresses UCX. A flush may itself need the
  // peer's progress (TCP's put acknowledgements), so the ranks then meet in a dissemination
  // barrier over UCX, polling all the while: a rank enters it only with its flushes complete.
  void quiesce() override {
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

  // An algorithm's send: a get descriptor when the peer can map this buffer's segment, else the
  // data by tag.
  void algo_send(const void* buf, std::size_t bytes, int peer, int tag) {
    if (get_min_ != 0 && bytes >= get_min_ && peer != world_.rank() && !on_device(buf) && maps(peer))
      if (Segment* seg = segment_of(buf, bytes)) return send_descriptor(*seg, buf, bytes, peer, tag);
    tag_send(buf, bytes, peer, tag);
  }

  // An algorithm's receive: takes the data or a get descriptor (kGetBit masked out of the match).
  // Its completion callback fetches the data a descriptor names at once, inside the progress call
  // that delivered it: a window of receives into one buffer (sendrecv and bidir over get) then
  // never has a later descriptor land on an earlier one before that one was read.
  void algo_recv(void* buf, std::size_t bytes, int peer, int tag) {
    if (get_min_ != 0 && bytes >= get_min_) ep(peer);  // the callback acknowledges: no ep_create there
    Receive& r = receives_.emplace_back(Receive{this, buf, bytes, peer});
    ucp_request_param_t prm = param_for(buf);
    prm.op_attr_mask |=
        UCP_OP_ATTR_FLAG_NO_IMM_CMPL | UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    prm.cb.recv = &UcxBackend::on_algo_recv;
    prm.user_data = &r;
    track(ucp_tag_recv_nbx(worker_, buf, bytes, make_tag(tag, peer), ~kGetBit, &prm), "ucp_tag_recv_nbx",
          peer);
  }

  // Completes every posted request, and what completing one starts (a get and its acknowledgement),
  // progressing the worker by polling.
  void wait_all() {
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
          err = "request with rank " + std::to_string(p.peer) + " (" + world_.hostnames()[p.peer] +
                ") failed on " + where() + ": " + status_text(st);
        if (p.then == Then::acknowledge) acknowledge(p.peer);  // even after a failed get: no hang
      }
      if (!any && !pending_.empty()) poll();
    }
    descriptors_.clear();
    receives_.clear();
    if (!get_error_.empty() && err.empty()) err = get_error_;
    get_error_.clear();
    while (am_arrived_ < am_expected_ && am_error_.empty()) poll();
    if (!am_error_.empty() && err.empty()) err = am_error_;
    if (!err.empty()) throw BackendError("ucx: " + err);
  }

 private:
  static bool windowed(const OpCall& c) {
    return c.op->pairwise && !is_bounce(c.op->kind);
  }

  // The GPU and its memory, opened on the first --mem cuda (host-only runs never touch CUDA).
  DeviceMemory* device() const {
    if (!device_tried_) {
      device_tried_ = true;
      device_ = DeviceMemory::open(world_, "ucx", device_error_);
      if (device_) {
        AlgoMemory m;
        m.ops = &device_->ops();
        m.alloc = [d = device_.get()](std::size_t n) { return d->alloc(n); };
        m.release = [d = device_.get()](void* p) { d->release(p); };
        device_algorithms_ = std::make_unique<P2PAlgorithms>(world_, std::move(m));
      }
    }
    return device_.get();
  }
  bool on_device(const void* p) const { return device_ && p && device_->owns(p); }
  // The algorithms for the op's memory: device buffers reduce and copy on the device.
  P2PAlgorithms& algorithms_for(const OpCall& c) {
    return on_device(c.recv) || on_device(c.send) ? *device_algorithms_ : *algorithms_;
  }
  // Request parameters telling UCX a device buffer's memory type (it need not detect it).
  ucp_request_param_t param_for(const void* buf) const {
    ucp_request_param_t prm{};
    if (on_device(buf)) {
      prm.op_attr_mask |= UCP_OP_ATTR_FIELD_MEMORY_TYPE;
      prm.memory_type = UCS_MEMORY_TYPE_CUDA;
    }
    return prm;
  }

  std::string where() const { return "rank " + std::to_string(world_.rank()) + " (" + world_.hostname() + ")"; }

  std::string init_local() {
    if (std::string e = read_get_threshold(); !e.empty()) return e;
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
    ucp_am_handler_param_t hp{};
    hp.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                    UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS;
    hp.id = kAmId;
    hp.cb = &UcxBackend::on_am;
    hp.arg = this;
    hp.flags = UCP_AM_FLAG_WHOLE_MSG;
    st = ucp_worker_set_am_recv_handler(worker_, &hp);
    if (st != UCS_OK) return "ucp_worker_set_am_recv_handler: " + status_text(st);
    return "";
  }

  // FABRICBENCH_UCX_SHM_GET: unset or empty (16K), "off" or 0, or a size of at least 4K.
  std::string read_get_threshold() {
    const char* v = std::getenv(kShmGetEnv);
    if (v == nullptr || *v == '\0') return "";
    const std::string text = v;
    if (text == "off" || text == "0") {
      get_min_ = 0;
      return "";
    }
    std::uint64_t n = 0;
    try {
      n = parse_bytes(text);
    } catch (const std::exception&) {
      n = 0;
    }
    if (n < kShmGetMin)
      return std::string(kShmGetEnv) + "='" + text + "': give a size of at least 4K (e.g. 64K, 1M) or off";
    get_min_ = static_cast<std::size_t>(n);
    return "";
  }

  void cleanup_context() {
    if (context_) ucp_cleanup(context_);
    context_ = nullptr;
  }

  std::string memory_types_text() const {
    std::string s;
    for (int t = 0; t < UCS_MEMORY_TYPE_LAST; ++t)
      if (mem_types_ & UCS_BIT(t)) s += (s.empty() ? "" : ",") + std::string(ucs_memory_type_names[t]);
    return s.empty() ? "none" : s;
  }

  // The endpoint to `peer`, created on first use.
  ucp_ep_h ep(int peer) {
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

  // What wait_all() does once a request completes.
  enum class Then { nothing, acknowledge };
  struct Pending {
    void* req;
    int peer;
    Then then;
  };

  // Records a posted request. A request that completed at once (nullptr) runs its `then` now.
  void track(ucs_status_ptr_t r, const char* what, int peer, Then then = Then::nothing) {
    if (r == nullptr) {
      if (then == Then::acknowledge) acknowledge(peer);
      return;
    }
    if (UCS_PTR_IS_ERR(r))
      throw BackendError("ucx: " + std::string(what) + " to rank " + std::to_string(peer) + " failed on " + where() +
                         ": " + status_text(UCS_PTR_STATUS(r)));
    pending_.push_back(Pending{r, peer, then});
  }

  // ---- shared-memory get ----
  // A host buffer UCX allocated: its registration, packed rkey, and the peers that hold the key.
  struct Segment {
    ucp_mem_h memh = nullptr;
    std::size_t bytes = 0;
    std::uint64_t id = 0;  // never reused, so a peer's cached key never names another segment
    std::string rkey;
    std::set<int> told;
  };
  // The descriptor's fixed part; the rkey (when `rkey_bytes` > 0), then `released` segment ids
  // (segments this rank has freed whose keys the peer may drop) follow it.
  struct Descriptor {
    std::uint64_t addr, bytes, segment, rkey_bytes, released;
  };

  // Page-aligned, zeroed host memory: a UCX segment when another rank shares this host and the
  // get is on, else ordinary memory (Backend::alloc).
  void* host_alloc(std::size_t bytes) {
    const std::size_t len = std::max<std::size_t>((bytes + kPage - 1) / kPage * kPage, kPage);
    if (get_min_ != 0 && world_.local_size() > 1) {
      ucp_mem_map_params_t mp{};
      mp.field_mask =
          UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_FLAGS;
      mp.address = nullptr;
      mp.length = len;
      mp.flags = UCP_MEM_MAP_ALLOCATE;
      ucp_mem_h h = nullptr;
      if (ucp_mem_map(context_, &mp, &h) == UCS_OK) {
        ucp_mem_attr_t at{};
        at.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS | UCP_MEM_ATTR_FIELD_LENGTH;
        if (ucp_mem_query(h, &at) == UCS_OK && reinterpret_cast<std::uintptr_t>(at.address) % kPage == 0 &&
            at.length >= len) {
          std::memset(at.address, 0, len);  // first-touch faults now, not inside a timed op
          Segment& seg = segments_[reinterpret_cast<std::uintptr_t>(at.address)];
          seg.memh = h;
          seg.bytes = len;
          seg.id = ++segment_ids_;
          seg.rkey = pack(h);
          return at.address;
        }
        ucp_mem_unmap(context_, h);
      }
    }
    return Backend::alloc(bytes, "host");
  }

  // Frees what host_alloc returned.
  void host_release(void* p, std::size_t bytes) {
    if (!release_segment(p)) Backend::release(p, bytes);
  }

  // Frees a segment (false: `p` is not one). Peers that hold its key learn so in the next
  // descriptor they get from this rank, and drop their mapping.
  bool release_segment(void* p) {
    auto it = segments_.find(reinterpret_cast<std::uintptr_t>(p));
    if (it == segments_.end()) return false;
    for (int peer : it->second.told) released_[peer].push_back(it->second.id);
    ucp_mem_unmap(context_, it->second.memh);
    segments_.erase(it);
    return true;
  }

  // The segment holding [p, p + bytes), or nullptr.
  Segment* segment_of(const void* p, std::size_t bytes) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    auto it = segments_.upper_bound(a);
    if (it == segments_.begin()) return nullptr;
    --it;
    return a + bytes <= it->first + it->second.bytes ? &it->second : nullptr;
  }

  // Whether `peer`'s endpoint has a transport that maps another process's memory.
  bool maps(int peer) {
    ep(peer);
    for (const auto& t : peer_transports_[peer])
      if (t == "sysv" || t == "posix" || t == "xpmem") return true;
    return false;
  }

  void send_descriptor(Segment& seg, const void* buf, std::size_t bytes, int peer, int tag) {
    const bool first = seg.told.insert(peer).second;
    std::vector<std::uint64_t>& gone = released_[peer];
    Descriptor d{reinterpret_cast<std::uint64_t>(buf), bytes, seg.id, first ? seg.rkey.size() : 0, 0};
    const std::size_t room = (bytes - std::min(bytes, sizeof d + d.rkey_bytes)) / sizeof(std::uint64_t);
    d.released = std::min<std::size_t>(gone.size(), room);
    std::string& msg = descriptors_.emplace_back(reinterpret_cast<const char*>(&d), sizeof d);
    if (first) msg += seg.rkey;
    msg.append(reinterpret_cast<const char*>(gone.data()), d.released * sizeof(std::uint64_t));
    gone.erase(gone.begin(), gone.begin() + static_cast<std::ptrdiff_t>(d.released));
    ucp_request_param_t prm{};
    track(ucp_tag_send_nbx(ep(peer), msg.data(), msg.size(), make_tag(tag, world_.rank()) | kGetBit, &prm),
          "ucp_tag_send_nbx", peer);
    tag_recv(nullptr, 0, peer, kTagGetAck);  // the buffer is the peer's until it acknowledges
  }

  // An algorithm's receive in flight (the completion callback's user data).
  struct Receive {
    UcxBackend* self;
    void* buf;
    std::size_t bytes;
    int peer;
  };

  // Runs inside ucp_worker_progress (or the ucp_tag_recv_nbx that matched): no exception may
  // leave it. A failed receive is reported by wait_all() from the request's status.
  static void on_algo_recv(void*, ucs_status_t st, const ucp_tag_recv_info_t* info, void* user) {
    const Receive& r = *static_cast<const Receive*>(user);
    UcxBackend& b = *r.self;
    try {
      if (st == UCS_OK && (info->sender_tag & kGetBit)) {
        std::string e = b.fetch(r, info->length);
        if (!e.empty() && b.get_error_.empty()) b.get_error_ = std::move(e);
      } else if (st == UCS_ERR_MESSAGE_TRUNCATED && (info->sender_tag & kGetBit)) {
        b.acknowledge(r.peer);  // a descriptor that did not fit: the sender must not wait forever
      }
    } catch (const std::exception& e) {
      if (b.get_error_.empty()) b.get_error_ = e.what();
    }
  }

  // A descriptor arrived in p.buf (`length` bytes): copy the data it names out of the sender's
  // segment into p.buf, then acknowledge. Returns an error, or "".
  std::string fetch(const Receive& p, std::size_t length) {
    Descriptor d{};
    std::string rest;
    if (length >= sizeof d) {
      std::memcpy(&d, p.buf, sizeof d);
      rest.assign(static_cast<const char*>(p.buf) + sizeof d, length - sizeof d);
    }
    const std::string from = "rank " + std::to_string(p.peer) + " (" + world_.hostnames()[p.peer] + ")";
    if (length < sizeof d || d.rkey_bytes > rest.size() ||
        d.released > (rest.size() - d.rkey_bytes) / sizeof(std::uint64_t)) {
      acknowledge(p.peer);
      return "a malformed get descriptor (" + std::to_string(length) + " bytes) from " + from + " on " +
             where();
    }
    if (d.bytes != p.bytes) {
      acknowledge(p.peer);
      return from + " sent " + std::to_string(d.bytes) + " bytes to a receive of " + std::to_string(p.bytes) +
             " on " + where();
    }
    for (std::uint64_t i = 0; i < d.released; ++i) {
      std::uint64_t id;
      std::memcpy(&id, rest.data() + d.rkey_bytes + i * sizeof id, sizeof id);
      auto it = peer_segments_.find({p.peer, id});
      if (it != peer_segments_.end()) {
        ucp_rkey_destroy(it->second);
        peer_segments_.erase(it);
      }
    }
    ucp_rkey_h& rk = peer_segments_[{p.peer, d.segment}];
    if (d.rkey_bytes) {
      if (rk) ucp_rkey_destroy(rk);
      rk = nullptr;
      const ucs_status_t st = ucp_ep_rkey_unpack(ep(p.peer), rest.data(), &rk);
      if (st != UCS_OK) {
        peer_segments_.erase({p.peer, d.segment});
        acknowledge(p.peer);
        return "ucp_ep_rkey_unpack of " + from + "'s segment key on " + where() + ": " + status_text(st);
      }
    }
    if (!rk) {
      peer_segments_.erase({p.peer, d.segment});
      acknowledge(p.peer);
      return "a get descriptor from " + from + " names segment " + std::to_string(d.segment) +
             " whose key never came, on " + where();
    }
    void* local = nullptr;
    if (ucp_rkey_ptr(rk, d.addr, &local) == UCS_OK) {  // mapped: one copy, here and now
      std::memcpy(p.buf, local, d.bytes);
      acknowledge(p.peer);
      return "";
    }
    ucp_request_param_t prm{};
    try {
      track(ucp_get_nbx(ep(p.peer), p.buf, d.bytes, d.addr, rk, &prm), "ucp_get_nbx", p.peer,
            Then::acknowledge);
    } catch (const std::exception& e) {
      acknowledge(p.peer);
      return e.what();
    }
    return "";
  }

  void acknowledge(int peer) { tag_send(nullptr, 0, peer, kTagGetAck); }

  // ---- active messages ----
  void am_send(const void* buf, std::size_t bytes, int peer) {
    ucp_request_param_t prm{};
    track(ucp_am_send_nbx(ep(peer), kAmId, nullptr, 0, buf, bytes, &prm), "ucp_am_send_nbx", peer);
  }

  static ucs_status_t on_am(void* arg, const void*, std::size_t, void* data, std::size_t length,
                            const ucp_am_recv_param_t* param) {
    auto* self = static_cast<UcxBackend*>(arg);
    if (self->am_dest_ == nullptr || length > self->am_capacity_) {
      self->am_error_ = "ucx: unexpected active message of " + std::to_string(length) + " bytes on " + self->where();
      if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) ucp_am_data_release(self->worker_, data);
      return UCS_OK;
    }
    if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) {
      ucp_request_param_t prm{};
      prm.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
      prm.cb.recv_am = [](void* req, ucs_status_t st, std::size_t, void* user) {
        auto* b = static_cast<UcxBackend*>(user);
        if (st != UCS_OK) b->am_error_ = "ucx: active-message rendezvous failed on " + b->where() + ": " + status_text(st);
        ++b->am_arrived_;
        ucp_request_free(req);
      };
      prm.user_data = self;
      void* r = ucp_am_recv_data_nbx(self->worker_, data, self->am_dest_, length, &prm);
      if (r == nullptr) {
        ++self->am_arrived_;
      } else if (UCS_PTR_IS_ERR(r)) {
        self->am_error_ = "ucx: ucp_am_recv_data_nbx failed on " + self->where() + ": " +
                          status_text(UCS_PTR_STATUS(r));
      }
      return UCS_OK;
    }
    if (self->on_device(self->am_dest_)) self->device_->copy(self->am_dest_, data, length);
    else std::memcpy(self->am_dest_, data, length);
    ++self->am_arrived_;
    return UCS_OK;
  }

  // ---- RMA put with a completion flag ----
  struct PeerKeys {
    std::uint64_t data_addr = 0, flag_addr = 0;
    ucp_rkey_h data = nullptr, flag = nullptr;
  };

  ucp_mem_h map(void* p, std::size_t bytes) {
    ucp_mem_map_params_t mp{};
    mp.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH;
    mp.address = p;
    mp.length = std::max<std::size_t>(bytes, 1);
    if (on_device(p)) {
      mp.field_mask |= UCP_MEM_MAP_PARAM_FIELD_MEMORY_TYPE;
      mp.memory_type = UCS_MEMORY_TYPE_CUDA;
    }
    ucp_mem_h h = nullptr;
    const ucs_status_t st = ucp_mem_map(context_, &mp, &h);
    if (st != UCS_OK) throw BackendError("ucx: ucp_mem_map on " + where() + ": " + status_text(st));
    return h;
  }

  std::string pack(ucp_mem_h h) {
    void* buf = nullptr;
    std::size_t len = 0;
    const ucs_status_t st = ucp_rkey_pack(context_, h, &buf, &len);
    if (st != UCS_OK) throw BackendError("ucx: ucp_rkey_pack on " + where() + ": " + status_text(st));
    std::string s(static_cast<const char*>(buf), len);
    ucp_rkey_buffer_release(buf);
    return s;
  }

  // Registers this rank's receive buffer and flag word (once each) and swaps addresses and
  // rkeys with the peer: an rkey travels only when its buffer is new.
  void exchange_rkeys(const OpCall& c) {
    if (!flag_memh_) {
      flag_memh_ = map(flag_.get(), sizeof(std::uint64_t) * 8);
    }
    std::string data_rkey;
    if (!regs_.count(c.recv)) {
      regs_[c.recv] = map(c.recv, am_capacity_);
      data_rkey = pack(regs_[c.recv]);
    }
    PeerKeys& pk = rkeys_[c.peer];
    const std::string flag_rkey = pk.flag ? std::string() : pack(flag_memh_);
    struct Header {
      std::uint64_t data_addr, flag_addr, data_len, flag_len;
    } h{reinterpret_cast<std::uint64_t>(c.recv), reinterpret_cast<std::uint64_t>(flag_.get()), data_rkey.size(),
        flag_rkey.size()};
    std::string msg(reinterpret_cast<const char*>(&h), sizeof h);
    msg += data_rkey + flag_rkey;
    std::vector<char> in(sizeof(Header) + 4096);
    tag_send(msg.data(), msg.size(), c.peer, kTagRkey);
    tag_recv(in.data(), in.size(), c.peer, kTagRkey);
    wait_all();
    Header ph;
    std::memcpy(&ph, in.data(), sizeof ph);
    const char* blob = in.data() + sizeof ph;
    if (ph.data_len) {
      if (pk.data) ucp_rkey_destroy(pk.data);
      check_unpack(ucp_ep_rkey_unpack(ep(c.peer), blob, &pk.data), c.peer);
    }
    if (ph.flag_len) check_unpack(ucp_ep_rkey_unpack(ep(c.peer), blob + ph.data_len, &pk.flag), c.peer);
    pk.data_addr = ph.data_addr;
    pk.flag_addr = ph.flag_addr;
  }

  void check_unpack(ucs_status_t st, int peer) {
    if (st != UCS_OK)
      throw BackendError("ucx: ucp_ep_rkey_unpack of rank " + std::to_string(peer) + "'s key on " + where() + ": " +
                         status_text(st));
  }

  void put(const void* src, std::size_t bytes, std::uint64_t remote, ucp_rkey_h rkey, int peer) {
    if (bytes == 0) return;
    ucp_request_param_t prm = param_for(src);
    track(ucp_put_nbx(ep(peer), src, bytes, remote, rkey, &prm), "ucp_put_nbx", peer);
  }

  // Data first, then (fenced behind it) the new sequence number into the peer's flag word.
  void put_with_flag(const OpCall& c, std::size_t bytes, int count, bool flush, const void* src = nullptr) {
    const PeerKeys& pk = rkeys_.at(c.peer);
    for (int i = 0; i < count; ++i) put(src ? src : c.send, bytes, pk.data_addr, pk.data, c.peer);
    if (flush) {
      ucp_request_param_t prm{};
      track(ucp_ep_flush_nbx(ep(c.peer), &prm), "ucp_ep_flush_nbx", c.peer);
      wait_all();
    } else {
      const ucs_status_t st = ucp_worker_fence(worker_);
      if (st != UCS_OK) throw BackendError("ucx: ucp_worker_fence on " + where() + ": " + status_text(st));
    }
    flag_src_ = seq_;
    put(&flag_src_, sizeof flag_src_, pk.flag_addr, pk.flag, c.peer);
  }

  void wait_flag() {
    volatile std::uint64_t* f = flag_.get();
    while (*f < seq_) poll();
  }

  void run_put(const OpCall& c, std::size_t bytes, bool sender, int w) {
    ++seq_;
    switch (c.op->kind) {
      case OpKind::sendrecv:
        if (sender) {
          put_with_flag(c, bytes, w, true);
          wait_all();
        } else {
          wait_flag();
        }
        break;
      case OpKind::bidir:
        put_with_flag(c, bytes, w, false);
        wait_flag();
        wait_all();
        break;
      case OpKind::pingpong:
      case OpKind::relay:
        if (sender) {
          put_with_flag(c, bytes, 1, false);
          wait_flag();
          wait_all();
        } else {
          wait_flag();
          put_with_flag(c, bytes, 1, false, c.op->kind == OpKind::relay ? c.recv : c.send);
          wait_all();
        }
        break;
      default: break;
    }
  }

  // One round of progress. With more ranks on this host than CPUs they may run on, a rank that
  // found nothing to do yields its CPU, or busy-polling ranks starve the peers they wait for.
  void poll() {
    if (ucp_worker_progress(worker_) == 0 && yield_) sched_yield();
  }

  // More ranks on this host than online CPUs. (Not this rank's affinity: a launcher that binds
  // each rank to its own core leaves every rank one CPU, and none of them oversubscribed.)
  static bool oversubscribed(int local_ranks) {
    // FABRICBENCH_YIELD=1 (0) forces yielding on (off): ranks of emulated hosts that share one
    // machine's CPUs (scripts/emufab exec sets it) cannot see each other as local.
    if (const char* y = std::getenv("FABRICBENCH_YIELD"); y && *y) return std::string(y) != "0";
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 && local_ranks > cpus;
  }

  World& world_;
  UcxP2P p2p_;
  bool yield_ = oversubscribed(world_.local_size());
  ucp_context_h context_ = nullptr;
  ucp_worker_h worker_ = nullptr;
  std::uint64_t mem_types_ = 0;
  std::vector<std::string> addrs_;
  std::vector<ucp_ep_h> eps_;
  std::vector<std::vector<std::string>> ep_transports_;
  std::map<int, std::vector<std::string>> peer_transports_;
  std::vector<Pending> pending_;
  // Shared-memory get: the threshold (0: off), this rank's segments by address, segment ids
  // freed per peer not yet told, the peers' segment keys by (peer, id), and the descriptors in
  // flight (they live until wait_all() completes their sends).
  std::size_t get_min_ = kShmGetDefault;
  std::map<std::uintptr_t, Segment> segments_;
  std::uint64_t segment_ids_ = 0;
  std::map<int, std::vector<std::uint64_t>> released_;
  std::map<std::pair<int, std::uint64_t>, ucp_rkey_h> peer_segments_;
  std::deque<std::string> descriptors_;
  std::deque<Receive> receives_;  // stable addresses: each is a callback's user data
  std::string get_error_;         // from a completion callback, thrown by wait_all()
  // The algorithms over host memory; their scratch is a segment like the op's buffers.
  std::unique_ptr<P2PAlgorithms> algorithms_ = std::make_unique<P2PAlgorithms>(
      world_, AlgoMemory{&host_mem_ops(), [this](std::size_t n) { return host_alloc(n); },
                         [this](void* p) { host_release(p, 0); }});
  // --mem cuda: the GPU's memory and the algorithms over it (device(); destroyed in this order).
  mutable std::unique_ptr<DeviceMemory> device_;
  mutable std::unique_ptr<P2PAlgorithms> device_algorithms_;
  mutable bool device_tried_ = false;
  mutable std::string device_error_;
  // Active messages land in the current op's receive buffer.
  void* am_dest_ = nullptr;
  std::size_t am_capacity_ = 0;
  std::uint64_t am_expected_ = 0, am_arrived_ = 0;
  std::string am_error_;
  // put: registrations of receive buffers, the peers' keys, the flag word and its sequence.
  std::map<void*, ucp_mem_h> regs_;
  std::map<int, PeerKeys> rkeys_;
  std::unique_ptr<std::uint64_t[]> flag_{new std::uint64_t[8]()};
  ucp_mem_h flag_memh_ = nullptr;
  std::uint64_t seq_ = 0, flag_src_ = 0;
};

int UcxP2P::rank() const { return b_.rank(); }
int UcxP2P::size() const { return b_.size(); }
void UcxP2P::isend(const void* buf, std::size_t bytes, int peer, int tag) {
  b_.algo_send(buf, bytes, peer, tag);
}
void UcxP2P::irecv(void* buf, std::size_t bytes, int peer, int tag) {
  b_.algo_recv(buf, bytes, peer, tag);
}
void UcxP2P::wait_all() { b_.wait_all(); }

}  // namespace

std::unique_ptr<Backend> make_ucx_backend(World& world) { return std::make_unique<UcxBackend>(world); }

}  // namespace fb::transports
