// The UCX backend, split the way ucx_perftest splits its drivers:
//   ucx_worker   the context, the worker, endpoints and request tracking (progress by polling);
//   ucx_memory   host buffers (shared-memory segments), CUDA device memory, registrations;
//   ucx_tag      the tag API (--p2p-api tag);
//   ucx_am       active messages (--p2p-api am);
//   ucx_put      RMA put with a completion flag (--p2p-api put);
//   ucx_shm_get  the algorithms' tag matching with the shared-memory get (--p2p-api get).
// Each API presents itself as a P2P. Collectives run fabricbench's algorithms (collectives/
// algorithms/) over the shared-memory get's P2P; the pairwise ops (sendrecv, bidir, pingpong,
// relay) run the pairwise protocols (collectives/pairwise_protocols.hpp) over the P2P of the API
// --p2p-api chose, resolved once per series in prepare(). Over get, calibrating the model from
// these rows describes the algorithms' transfers.
//
// --mem cuda (a UCX whose ucp_context_query reports CUDA memory, and a CUDA build of fabricbench):
// buffers and the algorithms' scratch are device memory on this rank's GPU (one per node-local
// rank, as nccl), the algorithms reduce with CUDA kernels and copy device to device (AlgoCall::mem,
// transports/cuda/device_memory.hpp), each reduction complete before its result is sent; UCX moves
// the device buffers itself (tag, put, am), told their memory type.
#include <memory>
#include <string>
#include <vector>

#include "collectives/pairwise_protocols.hpp"
#include "transports/backend.hpp"
#include "transports/ucx/ucx_am.hpp"
#include "transports/ucx/ucx_memory.hpp"
#include "transports/ucx/ucx_put.hpp"
#include "transports/ucx/ucx_shm_get.hpp"
#include "transports/ucx/ucx_tag.hpp"
#include "transports/ucx/ucx_worker.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb::transports {

namespace {

using namespace ucx;

class UcxBackend final : public Backend {
 public:
  explicit UcxBackend(World& world)
      : worker_(world),
        memory_(worker_, *this),
        get_(worker_, memory_),
        tag_(worker_, memory_),
        am_(worker_, memory_),
        put_(worker_, memory_) {
    // Every step that can fail on one rank only is followed by an agreement (Worker::connect).
    std::string err = get_.read_threshold();
    if (err.empty()) err = worker_.open();
    if (err.empty() && worker_.handle()) err = am_.install();
    worker_.connect(err);
    memory_.use_segments(get_.threshold() != 0 && world.local_size() > 1);
  }

  ~UcxBackend() override {
    algorithms_.reset();  // its scratch may be a UCX segment: unmapped while the context lives
    if (worker_.handle()) {
      worker_.close_endpoints();
      put_.close();
      get_.close();
      memory_.close();
    }
    worker_.close();
  }

  std::string name() const override { return "ucx"; }
  // The version, and the algorithms' protocol on one host (a setting that changes their figures).
  std::string version() const override {
    return "UCX " + std::string(ucp_get_version_string()) + ", algorithms' shared-memory get " +
           (get_.threshold() ? "from " + format_bytes(get_.threshold()) : std::string("off"));
  }
  bool runs_p2p_algorithms() const override { return true; }
  bool has_native_collectives() const override { return false; }
  std::vector<std::string> p2p_apis() const override { return {"tag", "put", "am", "get"}; }

  std::optional<std::string> unsupported(const OpDescriptor&, DType, RedOp, bool) const override {
    return std::nullopt;
  }
  std::optional<std::string> unsupported_memory(const std::string& mem) const override {
    return memory_.unsupported(mem);
  }
  std::optional<std::uint64_t> available_memory(const std::string& mem, int ranks_on_host) const override {
    if (mem != "cuda") return Backend::available_memory(mem, ranks_on_host);
    if (!memory_.device()) return std::nullopt;
    return memory_.device()->free_bytes();
  }

  void* alloc(std::size_t bytes, const std::string& mem) override {
    if (mem == "host") return memory_.host_alloc(bytes);
    if (mem != "cuda") return Backend::alloc(bytes, mem);
    if (!memory_.device()) throw BackendError("ucx: " + memory_.device_error());
    return memory_.device()->alloc(bytes);
  }
  void release(void* p, std::size_t bytes) override {
    put_.forget(p);
    if (memory_.on_device(p))
      memory_.device()->release(p);
    else
      memory_.host_release(p, bytes);
  }

  void fill(const Pattern& pattern, void* dst, std::size_t count, int rank, std::size_t offset) override {
    if (!memory_.on_device(dst)) return Backend::fill(pattern, dst, count, rank, offset);
    memory_.device()->fill(pattern, dst, count, rank, offset);
  }
  void poison(void* dst, std::size_t count, DType dtype) override {
    if (!memory_.on_device(dst)) return Backend::poison(dst, count, dtype);
    memory_.device()->poison(dst, count, dtype);
  }
  std::size_t check(const Pattern& pattern, const void* recv, const std::vector<Segment>& segments) override {
    if (!memory_.on_device(recv)) return Backend::check(pattern, recv, segments);
    return memory_.device()->check(pattern, recv, segments);
  }
  void download(void* host, const void* src, std::size_t bytes) override {
    if (!memory_.on_device(src)) return Backend::download(host, src, bytes);
    memory_.device()->copy(host, src, bytes);
  }

  void prepare(const OpCall& c) override {
    if (!c.op->pairwise) return algorithms_for(c).prepare(c);
    select_api(c);
  }

  void run(const OpCall& c) override {
    if (!c.op->pairwise) return algorithms_for(c).run(get_, c);
    if (pair_ == nullptr) select_api(c);
    run_pairwise(*pair_, PairwiseCall{c.op->kind, c.send, c.recv, c.layout.count * dtype_size(c.dtype),
                                      c.peer, c.sender, c.window, c.from});
  }

  std::string algo(const OpCall& c) const override {
    if (!c.op->pairwise) return c.algo;
    const bool windowed = !is_bounce(c.op->kind);
    return c.p2p_api + (windowed && c.window > 1 ? "/window" + std::to_string(c.window) : "");
  }

  std::string transport() const override { return worker_.transport(); }
  std::string peer_transport(int peer) const override { return worker_.peer_transport(peer); }
  void quiesce() override { worker_.quiesce(); }

 private:
  // The P2P of the API --p2p-api names (checked against p2p_apis() by the harness), once per
  // series; active messages land in the op's receive buffer, puts need the peer's keys.
  void select_api(const OpCall& c) {
    const std::size_t capacity = c.layout.recv_count * dtype_size(c.dtype);
    am_.set_destination(c.recv, capacity);
    if (c.p2p_api == "put") {
      pair_ = &put_;
      if (c.peer >= 0) put_.exchange_keys(c.recv, capacity, c.peer, c.from >= 0 ? c.from : c.peer);
    } else if (c.p2p_api == "am") {
      pair_ = &am_;
    } else if (c.p2p_api == "get") {
      pair_ = &get_;
    } else {
      pair_ = &tag_;
    }
  }

  // The algorithms for the op's memory: device buffers reduce and copy on the device.
  P2PAlgorithms& algorithms_for(const OpCall& c) {
    if (!memory_.on_device(c.recv) && !memory_.on_device(c.send)) return *algorithms_;
    if (!device_algorithms_) {
      DeviceMemory* d = memory_.device();
      AlgoMemory m;
      m.ops = &d->ops();
      m.alloc = [d](std::size_t n) { return d->alloc(n); };
      m.release = [d](void* p) { d->release(p); };
      device_algorithms_ = std::make_unique<P2PAlgorithms>(worker_.world(), std::move(m));
    }
    return *device_algorithms_;
  }

  Worker worker_;
  Memory memory_;
  ShmGetP2P get_;
  TagP2P tag_;
  AmP2P am_;
  PutP2P put_;
  P2P* pair_ = nullptr;  // the pairwise ops' API, chosen in prepare()
  // The algorithms over host memory; their scratch is a segment like the op's buffers.
  std::unique_ptr<P2PAlgorithms> algorithms_ = std::make_unique<P2PAlgorithms>(
      worker_.world(), AlgoMemory{&host_mem_ops(), [this](std::size_t n) { return memory_.host_alloc(n); },
                                  [this](void* p) { memory_.host_release(p, 0); }});
  // --mem cuda: the algorithms over the GPU's memory (memory_.device()), made on first use.
  std::unique_ptr<P2PAlgorithms> device_algorithms_;
};

}  // namespace

std::unique_ptr<Backend> make_ucx_backend(World& world) {
  return std::make_unique<UcxBackend>(world);
}

}  // namespace fb::transports
