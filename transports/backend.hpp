// A backend moves bytes for one op at a time: MPI, UCX or NCCL behind one interface.
// Backends register by name in transports/registry.cpp; the harness picks one with --backend.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collectives/dtype.hpp"
#include "collectives/op.hpp"
#include "collectives/p2p.hpp"
#include "collectives/pattern.hpp"
#include "transports/world.hpp"

namespace fb::transports {

// One op as the runner asks for it: the op's arguments plus what the backend needs to run it.
struct OpCall : OpArgs {
  int peer = -1;        // pairwise ops: this rank's partner (sendrecv: the rank it sends to), -1 when
                        // this rank sits out
  int from = -1;        // sendrecv (ring shift): the rank it receives from; the other ops: peer
  bool sender = false;  // unidir: this rank sends (pingpong: it sends first; sendrecv: true)
  // "native": the library's own collective; otherwise one of fabricbench's algorithms over
  // point-to-point (collectives/p2p.hpp), by name. The runner resolves "auto" before a backend
  // sees the call.
  std::string algo = "native";
  // Pairwise ops on backends with several point-to-point APIs (ucx: tag, put, am), and the
  // messages in flight per op for sendrecv/bidir bandwidth (--window).
  std::string p2p_api = "tag";
  int window = 1;
  std::size_t chunk_bytes = 0;  // the algorithms' pipeline chunk (--chunk); 0: their default
  // Device backends (nccl): ops captured per CUDA graph (0: no graph), a synchronisation after
  // every op (--blocking) instead of stream order, host-clock samples instead of device events
  // (--cpu-time), and NCCL_ALGO / NCCL_PROTO for the library ("" lets it choose).
  int cuda_graph = 0;
  bool blocking = false;
  bool cpu_time = false;
  std::string nccl_algo = {};
  std::string nccl_proto = {};
  // nccl-tests' -C: a sample is the host time to enqueue its ops, not to complete them (device
  // backends; host backends complete every op inside run()).
  bool enqueue_time = false;
  // nccl-tests' -m: ops per NCCL group (ncclGroupStart/End around `group` ops); an op of the row
  // is one of them.
  int group = 1;
};

// Where the algorithms' scratch lives and how they reduce and copy (AlgoCall::mem): host memory
// unless a backend with device buffers (ucx --mem cuda) gives its own.
struct AlgoMemory {
  const MemOps* ops = &host_mem_ops();
  std::function<void*(std::size_t)> alloc;  // empty: page-aligned host memory
  std::function<void(void*)> release;
};

// Runs fabricbench's algorithms (collectives/p2p.hpp) over a backend's P2P: the one place an
// OpCall becomes an AlgoCall (nodes from the World, scratch, chunk, memory ops), shared by every
// backend that returns true from runs_p2p_algorithms().
class P2PAlgorithms {
 public:
  explicit P2PAlgorithms(const World& world, AlgoMemory memory = {});
  ~P2PAlgorithms();
  P2PAlgorithms(const P2PAlgorithms&) = delete;
  P2PAlgorithms& operator=(const P2PAlgorithms&) = delete;
  // Look up call.algo and size the scratch for `call`. Throws UsageError for an unknown
  // algorithm or one that does not implement the op.
  void prepare(const OpCall& call);
  // Run the algorithm prepare() looked up (prepare must have seen a call of this shape).
  void run(P2P& p2p, const OpCall& call);
  // The AlgoCall run() hands the algorithm.
  AlgoCall algo_call(const OpCall& call);
  const std::vector<int>& node_of() const { return node_of_; }

 private:
  int nranks_ = 1;
  std::vector<int> node_of_;
  const CollectiveAlgorithm* algo_ = nullptr;
  AlgoMemory memory_;
  void free_scratch();
  void* scratch_ = nullptr;  // page-aligned host memory (like the op's own buffers) or memory_'s
  std::size_t scratch_bytes_ = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;
  // Library and version for the run metadata, e.g. "Open MPI v4.1.4".
  virtual std::string version() const = 0;
  // Why (op, dtype, redop, in-place) cannot run here, or nullopt when it can.
  virtual std::optional<std::string> unsupported(const OpDescriptor& op, DType dtype, RedOp redop,
                                                 bool inplace) const = 0;
  virtual InPlaceConvention inplace_convention() const { return InPlaceConvention::nccl; }
  // The per-rank block alignment, in bytes, of the ops that split a buffer into per-rank blocks
  // (OpDescriptor::layout): 1 = exact counts (mpi, ucx); nccl: 16, as nccl-tests rounds them.
  virtual std::size_t block_alignment() const { return 1; }
  // Whether this backend can run fabricbench's algorithms over its point-to-point (--algo NAME).
  virtual bool runs_p2p_algorithms() const { return false; }
  // Whether the library has collectives of its own (--algo native). Without them, native means
  // auto: fabricbench's algorithm chosen per size.
  virtual bool has_native_collectives() const { return true; }
  // Why buffers of memory type `mem` ("host", "cuda") cannot be used, or nullopt.
  virtual std::optional<std::string> unsupported_memory(const std::string& mem) const {
    if (mem == "host") return std::nullopt;
    return name() + " runs on host memory only";
  }
  // The memory a test's buffers are in when it does not say (--mem): "host", or "cuda" for a
  // backend whose library runs on the device only.
  virtual std::string default_memory() const { return "host"; }
  // Why the device modes of `call` (cuda_graph, blocking, nccl_algo, nccl_proto) cannot run
  // here, or nullopt. Host backends have none of them; cpu_time is how they always time.
  virtual std::optional<std::string> unsupported_modes(const OpCall& call) const;
  // The point-to-point APIs the pairwise ops can run over (--p2p-api; "tag": tag-matched
  // send/recv, which every backend has).
  virtual std::vector<std::string> p2p_apis() const { return {"tag"}; }
  // Why a buffer of this shape is too large for the library (e.g. MPI's int counts), or nullopt.
  virtual std::optional<std::string> unsupported_layout(const OpLayout&) const { return std::nullopt; }

  // Memory the backend's ops read and write, of memory type `mem` (one unsupported_memory()
  // accepted). Host backends return page-aligned host memory.
  // Bytes this rank may still allocate for buffers of memory type `mem`, or nullopt when the
  // backend cannot tell (no check then). Host: the kernel's MemAvailable shared by the ranks on
  // this host; device backends report the device's free memory.
  virtual std::optional<std::uint64_t> available_memory(const std::string& mem, int ranks_on_host) const;
  virtual void* alloc(std::size_t bytes, const std::string& mem);
  virtual void release(void* p, std::size_t bytes);

  // Validation data, where the buffers live: fill `count` elements of `dst` with rank `rank`'s
  // pattern from pattern element `offset` on, poison a receive region, and count the wrong
  // elements of a receive region against the op's segments. The defaults run collectives/
  // pattern.hpp on host memory; device backends override them with kernels over the same math
  // (collectives/pattern_math.hpp) and copy only the count back.
  virtual void fill(const Pattern& pattern, void* dst, std::size_t count, int rank, std::size_t offset);
  virtual void poison(void* dst, std::size_t count, DType dtype);
  virtual std::size_t check(const Pattern& pattern, const void* recv, const std::vector<Segment>& segments);
  // moe_combine's summed tokens (OpDescriptor::sums), checked on the host after download().
  std::size_t check_sums(const Pattern& pattern, const void* recv, const std::vector<SummedSegment>& sums);
  // Copy `bytes` of this backend's memory at `src` to host memory (device backends override it).
  virtual void download(void* host, const void* src, std::size_t bytes);

  // Prepare for a run of ops of this shape (e.g. build persistent requests). Called before
  // warm-up at every size; the default does nothing.
  virtual void prepare(const OpCall& call);
  // Run one op to completion (the data is in `recv` when it returns).
  virtual void run(const OpCall& call) = 0;
  // Time `iters` samples of `ops_per_sample` back-to-back ops each, into samples_us (one per
  // sample, microseconds), bumping `progress` after each sample (the watchdog reads it). The
  // default times on the host with a monotonic clock; device backends override it to time with
  // device events.
  virtual void run_timed(const OpCall& call, int iters, int ops_per_sample, double* samples_us,
                         std::atomic<std::uint64_t>* progress);
  // Finish whatever this rank's completed ops still owe its peers before the harness stops calling
  // the backend and talks over the bootstrap (World) instead: a library that completes a receive
  // locally may still hold the acknowledgement the sender waits for (UCX's rendezvous ATS queued
  // behind a full shared-memory FIFO), and only its own progress sends it. Called after warm-up,
  // after the timed samples and after each validation op. The default does nothing.
  virtual void quiesce() {}

  // The algorithm that ran the op ("native" when the library chose) and the transport that
  // carried it, as the library reports them ("" when it cannot tell).
  virtual std::string algo(const OpCall& call) const;
  virtual std::string transport() const { return ""; }
  // The transport of this rank's connection to `peer` ("a+b" as transport(); "" when the library
  // cannot tell or no connection was opened).
  virtual std::string peer_transport(int /*peer*/) const { return ""; }
  // Facts about the device this rank's backend drives, for the results' inventory
  // (harness/inventory.hpp): GPU model, uuid, pci_bus_id, driver and library versions, as
  // name/value pairs; none for a backend on host memory only.
  virtual std::vector<std::pair<std::string, std::string>> device_facts() const { return {}; }

  // Called from the watchdog's thread when the job is about to be ended for a hang: a backend
  // whose library can abort a stuck operation does so (NCCL: ncclCommAbort) before the job ends.
  // Must be safe to call while run() is blocked in another thread. The default does nothing.
  virtual void abort_from_watchdog() {}
};

// --timeout for what a backend sets up before the watchdog runs (NCCL: communicator creation):
// the command sets it before it creates the backends; 0 = no limit.
void set_setup_timeout_s(double seconds);
double setup_timeout_s();

using BackendFactory = std::function<std::unique_ptr<Backend>(World& world)>;

// Every backend fabricbench knows, compiled in or not: `--list` shows them all.
struct BackendInfo {
  std::string name;
  std::string summary;
  BackendFactory factory;   // empty when not compiled in
  std::string why_missing;  // "CUDA toolkit or NCCL not found at configure time"
  // Whether it runs fabricbench's algorithms over point-to-point (as Backend::runs_p2p_algorithms,
  // known without creating it): validate's defaults use `native` where it does not.
  bool p2p_algorithms = true;
};

const std::vector<BackendInfo>& backends();
const BackendInfo* find_backend(const std::string& name);
// Creates the backend or throws UsageError ("nccl: not compiled in (...)", unknown name).
std::unique_ptr<Backend> make_backend(const std::string& name, World& world);

}  // namespace fb::transports
