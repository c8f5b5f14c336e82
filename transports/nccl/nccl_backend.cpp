// The NCCL backend: one rank per GPU (the node-local rank selects the device), a communicator
// bootstrapped with an ncclUniqueId broadcast over MPI (World), device buffers, every op on one
// CUDA stream, samples timed with CUDA events (or the host clock with --cpu-time).
//
//   collectives  ncclAllReduce, ncclAllGather, ncclReduceScatter, ncclBroadcast
//   all-to-all   grouped ncclSend/ncclRecv, one pair per peer (out of place only); alltoallv the same
//                at the counts matrix's blocks
//   reduce       ncclReduce; gather and scatter grouped ncclSend/ncclRecv with the root (nccl-tests)
//   send/recv    grouped ncclSend/ncclRecv (--window messages per op); ping-pong one each way
//
// Modes: --cuda-graph N captures N ops in one graph and times its replays (validation replays a
// one-op graph); --blocking waits for each op before enqueueing the next (nccl-tests -z), else
// ops are stream-ordered; -m groups ops; --nccl-algo and --nccl-proto set NCCL_ALGO / NCCL_PROTO
// while a communicator is created (transports/nccl/nccl_comm.cpp).
//
// What NCCL used comes from NCCL itself (transports/nccl/nccl_debug.cpp, nccl_log.cpp): its INFO
// log, read after every batch of ops (connections are made at the first op since NCCL 2.22) for
// the transport column, and with TUNING switched on for one untimed op per size for the algo
// column. Variables the user set are left alone.
//
// Waiting never blocks inside CUDA: the stream is polled with cudaStreamQuery, and
// ncclCommGetAsyncError between polls; an NCCL error or the watchdog (--timeout) aborts the
// communicators with ncclCommAbort (from the watchdog's thread when this one is stuck).
//
// Buffers come from ncclMemAlloc (cuMem: NVLS and registration need it, as nccl-tests uses), zeroed
// on the op stream. Validation runs on the device (collectives/cuda/device_pattern.hpp).
#include <cuda_runtime.h>
#include <nccl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collectives/cuda/device_mem_ops.hpp"
#include "collectives/cuda/device_pattern.hpp"
#include "transports/backend.hpp"
#include "transports/cuda/gpu.hpp"
#include "transports/cuda/gpu_checks.hpp"
#include "transports/nccl/nccl_comm.hpp"
#include "transports/nccl/nccl_debug.hpp"
#include "transports/nccl/nccl_layout.hpp"
#include "transports/nccl/nccl_pairs.hpp"
#include "transports/nccl/nccl_types.hpp"
#include "vocab/error.hpp"

namespace fb::transports {

namespace {

std::string cuda_text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

// gethostname() cut at the first dot: what NCCL's %h is (MPI's processor name may differ).
std::string nccl_host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return nccl_log::nccl_hostname(buf);
}

// Memory NCCL allocates after the buffers (runtime connect, NVLS buffers, a communicator per
// --nccl-algo/proto pair): kept free as nccl-tests keeps 1 GiB.
constexpr std::uint64_t kNcclHeadroom = 1ull << 30;

class NcclBackend final : public Backend {
 public:
  explicit NcclBackend(World& world) : world_(world), log_(nccl_host()) {
    // A usable GPU on every rank, agreed before anything else: "no GPU" is one line and exit 2.
    const GpuChoice gpu = choose_gpu(world_, "nccl");
    std::string err = world_.first_error(gpu.error);
    if (!err.empty()) throw UsageError("nccl: " + err);
    device_ = gpu.device;
    err = init_device();
    err = world_.first_error(
        err.empty() ? "" : "rank " + std::to_string(world_.rank()) + " (" + world_.hostname() + "): " + err);
    if (!err.empty()) throw BackendError("nccl: " + err);
    // Two ranks of a host on one GPU: NCCL's "Duplicate GPU", said plainly first.
    const auto bus = world_.gather_strings(bus_id_, 0);
    err = world_.first_error(world_.rank() == 0 ? duplicate_gpu(world_.hostnames(), bus) : "");
    if (!err.empty()) throw UsageError("nccl: " + err);
    comms_ = std::make_unique<NcclComms>(world_, device_, abort_requested_);
    // The first communicator (NCCL's own choices) now, so a broken fabric fails here, on every rank.
    use_comm("", "");
  }

  ~NcclBackend() override {
    release_graphs();
    patterns_.reset();
    comms_.reset();
    if (start_) cudaEventDestroy(start_);
    if (stop_) cudaEventDestroy(stop_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  std::string name() const override { return "nccl"; }

  std::string version() const override {
    int v = 0, rt = 0, drv = 0;
    ncclGetVersion(&v);
    cudaRuntimeGetVersion(&rt);
    cudaDriverGetVersion(&drv);
    const int major = v / 10000, minor = (v % 10000) / 100, patch = v % 100;
    return "NCCL " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch) +
           " (CUDA runtime " + cuda_version_text(rt) + ", driver " + cuda_version_text(drv) + ", " +
           device_name_ + ")";
  }

  std::optional<std::string> unsupported(const OpDescriptor& op, DType, RedOp, bool inplace) const override {
    if (op.kind == OpKind::alltoall && inplace)
      return "nccl runs all-to-all as ncclAlltoAll or grouped ncclSend/ncclRecv, out of place only (a "
             "receive "
             "would overwrite a block before it is sent)";
    return std::nullopt;
  }

  std::string default_memory() const override { return "cuda"; }
  // The device's free memory less NCCL's headroom (this rank's GPU is its own: one rank per GPU).
  std::size_t block_alignment() const override { return nccl_layout::kBlockAlignBytes; }

  std::optional<std::uint64_t> available_memory(const std::string& mem, int ranks_on_host) const override {
    if (mem != "cuda") return Backend::available_memory(mem, ranks_on_host);
    std::size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) return std::nullopt;
    return free > kNcclHeadroom ? static_cast<std::uint64_t>(free) - kNcclHeadroom : 0;
  }
  std::optional<std::string> unsupported_memory(const std::string& mem) const override {
    if (mem == "cuda") return std::nullopt;
    if (mem == "host") return std::string("nccl runs on GPU memory only (--mem cuda, its default)");
    return "unknown memory type '" + mem + "' (host or cuda)";
  }
  std::optional<std::string> unsupported_modes(const OpCall&) const override { return std::nullopt; }

  void* alloc(std::size_t bytes, const std::string&) override {
    void* p = nullptr;
    const std::size_t n = bytes == 0 ? 256 : bytes;
    const ncclResult_t r = ncclMemAlloc(&p, n);
    if (r != ncclSuccess)
      throw BackendError("nccl: ncclMemAlloc(" + std::to_string(n) + " B): " + ncclGetErrorString(r));
    // On the op stream (non-blocking: the legacy stream would not order against it).
    cuda_check(cudaMemsetAsync(p, 0, n, stream_), "cudaMemsetAsync");
    wait(nullptr, "zeroing a buffer");
    return p;
  }
  void release(void* p, std::size_t) override { ncclMemFree(p); }

  void fill(const Pattern& pattern, void* dst, std::size_t count, int rank, std::size_t offset) override {
    patterns().fill(pattern.params(), dst, count, rank, offset);
    wait(nullptr, "pattern fill");
  }
  void poison(void* dst, std::size_t count, DType dtype) override {
    patterns().poison(dst, count, dtype);
    wait(nullptr, "poison");
  }
  std::size_t check(const Pattern& pattern, const void* recv, const std::vector<Segment>& segments) override {
    return patterns().check(pattern.params(), recv, segments);
  }
  void download(void* host, const void* src, std::size_t bytes) override {
    cuda_check(cudaMemcpy(host, src, bytes, cudaMemcpyDefault), "cudaMemcpy to host");
  }

  void prepare(const OpCall& c) override {
    release_graphs();  // before a communicator they use may be destroyed
    use_comm(c.nccl_algo, c.nccl_proto);
    learn_algo(c);
    if (c.cuda_graph <= 0) return;
    // The timed graph (cuda_graph ops) and a one-op graph that run() replays: validation checks
    // what a replay computes.
    timed_graph_ = capture(c, c.cuda_graph);
    OpCall one = c;
    one.group = 1;
    check_graph_ = capture(one, 1);
    wait(&c, "graph upload");
  }

  void run(const OpCall& c) override {
    if (check_graph_)
      cuda_check(cudaGraphLaunch(check_graph_, stream_), "cudaGraphLaunch");
    else
      enqueue(c);
    wait(&c, "op");
  }

  void run_timed(const OpCall& c, int iters, int ops_per_sample, double* samples_us,
                 std::atomic<std::uint64_t>* progress) override {
    using clock = std::chrono::steady_clock;
    const bool host_clock = c.cpu_time || c.enqueue_time;
    // A graph of cuda_graph ops replays ops_per_sample / cuda_graph times per sample (nccl-tests' -G:
    // a graph of every iteration, launched N times).
    const int launches = c.cuda_graph > 0 ? std::max(1, ops_per_sample / c.cuda_graph) : 0;
    for (int i = 0; i < iters; ++i) {
      const auto t0 = clock::now();
      if (!host_clock) cuda_check(cudaEventRecord(start_, stream_), "cudaEventRecord");
      if (timed_graph_) {
        for (int k = 0; k < launches; ++k)
          cuda_check(cudaGraphLaunch(timed_graph_, stream_), "cudaGraphLaunch");
      } else {
        for (int k = 0; k < ops_per_sample; ++k) {
          enqueue(c);
          if (c.blocking) wait(&c, "op");
        }
      }
      const auto enqueued = clock::now();
      if (!host_clock) cuda_check(cudaEventRecord(stop_, stream_), "cudaEventRecord");
      wait(&c, "timed sample");
      if (c.enqueue_time) {
        samples_us[i] = std::chrono::duration<double, std::micro>(enqueued - t0).count();
      } else if (c.cpu_time) {
        samples_us[i] = std::chrono::duration<double, std::micro>(clock::now() - t0).count();
      } else {
        float ms = 0;
        cuda_check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
        samples_us[i] = static_cast<double>(ms) * 1e3;
      }
      progress->fetch_add(1, std::memory_order_relaxed);
    }
  }

  std::string algo(const OpCall& c) const override {
    std::string a = learnt_algo_;
    if (a.empty()) a = "native";  // NCCL did not say (send/recv, one rank, or its log is off)
    if (c.op->pairwise && !is_bounce(c.op->kind) && c.window > 1) a += "/window" + std::to_string(c.window);
    if (c.group > 1) a += "/group" + std::to_string(c.group);
    if (c.cuda_graph > 0) a += "/graph" + std::to_string(c.cuda_graph);
    return a;
  }

  std::string transport() const override {
    absorb_log();
    return transports_[cur_key_].str();
  }
  std::string peer_transport(int peer) const override {
    absorb_log();
    return transports_[cur_key_].str_for(peer);
  }

  std::vector<std::pair<std::string, std::string>> device_facts() const override {
    auto f = gpu_facts(device_);
    int v = 0;
    ncclGetVersion(&v);
    f.emplace_back("nccl", std::to_string(v / 10000) + "." + std::to_string((v % 10000) / 100) + "." +
                               std::to_string(v % 100));
    return f;
  }

  void abort_from_watchdog() override {
    // The main thread polls and aborts; when it is blocked elsewhere (inside CUDA, a lazy connect
    // in ncclGroupEnd, MPI), this thread aborts the communicators itself.
    abort_requested_.store(true);
    for (int i = 0; i < 100 && !comms_->aborted(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    comms_->abort_all();
  }

 private:
  std::string init_device() {
    cudaError_t e = cudaSetDevice(device_);
    if (e != cudaSuccess) return "cudaSetDevice(" + std::to_string(device_) + "): " + cuda_text(e);
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device_) == cudaSuccess)
      device_name_ =
          std::string(prop.name) + " sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
    char bus[32] = {};
    if (cudaDeviceGetPCIBusId(bus, sizeof(bus), device_) == cudaSuccess) bus_id_ = bus;
    if ((e = cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)) != cudaSuccess)
      return "cudaStreamCreate: " + cuda_text(e);
    if ((e = cudaEventCreate(&start_)) != cudaSuccess || (e = cudaEventCreate(&stop_)) != cudaSuccess)
      return "cudaEventCreate: " + cuda_text(e);
    return "";
  }

  // Switch to the communicator of this pair; what NCCL logged so far belongs to the previous one.
  void use_comm(const std::string& algo, const std::string& proto) {
    absorb_log();
    comm_ = comms_->get(algo, proto, setup_timeout_s());
    cur_key_ = algo + "|" + proto;
    transports_[cur_key_].set_self(world_.rank());
  }

  // New log lines into the current communicator's transports.
  void absorb_log() const {
    const auto lines = log_.new_lines();
    if (!lines.empty()) transports_[cur_key_].add(lines, log_.names());
  }

  // The algo column: one untimed op with NCCL's TUNING log on (off while timing: a line per op).
  void learn_algo(const OpCall& c) {
    learnt_algo_.clear();
    const char* func = nccl_func(c.op->kind);
    if (!*func || !log_.can_tune()) return;
    log_.tuning(true);
    try {
      enqueue(c);
      wait(&c, "op learning NCCL's algorithm");
    } catch (...) {
      log_.tuning(false);
      throw;
    }
    const auto lines = log_.new_lines();
    transports_[cur_key_].add(lines, log_.names());
    learnt_algo_ = nccl_log::algorithms(lines, func);
    log_.tuning(false);
  }

  cudaGraphExec_t capture(const OpCall& c, int ops) {
    cudaGraph_t graph = nullptr;
    cuda_check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    try {
      for (int k = 0; k < ops; ++k) enqueue(c);
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    cuda_check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    cuda_check(e, "cudaGraphInstantiate");
    cuda_check(cudaGraphUpload(exec, stream_), "cudaGraphUpload");
    return exec;
  }

  cuda::DevicePattern& patterns() {
    if (!patterns_) patterns_ = std::make_unique<cuda::DevicePattern>(stream_);
    return *patterns_;
  }

  void release_graphs() {
    for (cudaGraphExec_t* g : {&timed_graph_, &check_graph_}) {
      if (*g) cudaGraphExecDestroy(*g);
      *g = nullptr;
    }
  }

  std::string what_of(const OpCall* c) const {
    if (!c) return "";
    return std::string(c->op->name) + " " + std::string(dtype_name(c->dtype)) + " " +
           std::to_string(c->layout.bytes) + " B: ";
  }

  void cuda_check(cudaError_t e, const std::string& what) {
    if (e != cudaSuccess) throw BackendError("nccl: " + what + ": " + cuda_text(e));
  }

  // The communicator is non-blocking: a call may return ncclInProgress (a runtime connect) and
  // must finish before the next.
  void nccl_check(ncclResult_t r, const OpCall& c, const char* call) {
    std::string err;
    if (r == ncclInProgress)
      err = comms_->settle(comm_);
    else if (r != ncclSuccess)
      err = ncclGetErrorString(r) + NcclComms::last_error(comm_);
    if (err.empty()) return;
    comms_->abort_all();
    throw BackendError("nccl: " + what_of(&c) + call + ": " + err);
  }

  // Wait for the stream without blocking inside CUDA: poll, and between polls ask NCCL for an
  // asynchronous error and the watchdog for an abort.
  void wait(const OpCall* c, const char* stage) {
    for (unsigned spins = 0;; ++spins) {
      const cudaError_t q = cudaStreamQuery(stream_);
      if (q == cudaSuccess) return;
      if (q != cudaErrorNotReady) {
        comms_->abort_all();
        throw BackendError("nccl: " + what_of(c) + stage + ": " + cuda_text(q));
      }
      if ((spins & 0x3ff) == 0 && comm_) {
        ncclResult_t async = ncclSuccess;
        ncclCommGetAsyncError(comm_, &async);
        if (async != ncclSuccess && async != ncclInProgress) {
          const std::string detail = ncclGetErrorString(async) + NcclComms::last_error(comm_);
          comms_->abort_all();
          throw BackendError("nccl: " + what_of(c) + stage + ": " + detail + "; communicator aborted");
        }
      }
      if (abort_requested_.load(std::memory_order_relaxed)) {
        comms_->abort_all();
        throw TimeoutError("nccl: " + what_of(c) + stage +
                           ": no progress within --timeout; communicator aborted");
      }
      if ((spins & 0xff) == 0xff) sched_yield();
    }
  }

  void enqueue(const OpCall& c) {
    if (c.group <= 1) return enqueue_one(c);
    // moe_combine's reduction kernel must follow its exchange, not sit inside an open group.
    if (c.op->sums_contributions) throw UsageError("nccl: moe_combine runs one op per NCCL group (-m 1)");
    nccl_check(ncclGroupStart(), c, "ncclGroupStart");
    for (int k = 0; k < c.group; ++k) enqueue_one(c);
    nccl_check(ncclGroupEnd(), c, "ncclGroupEnd");
  }

  void enqueue_one(const OpCall& c) {
    const ncclDataType_t dt = nccl_type(c.dtype);
    const std::size_t es = dtype_size(c.dtype);
    const OpLayout& l = c.layout;
    ncclComm_t comm = comm_;
    auto at = [&](const void* base, std::size_t elems) {
      return static_cast<char*>(const_cast<void*>(base)) + elems * es;
    };
    switch (c.op->kind) {
      case OpKind::allreduce:
        return nccl_check(ncclAllReduce(c.send, c.recv, l.count, dt, nccl_op(c.redop), comm, stream_), c,
                          "ncclAllReduce");
      case OpKind::allgather:
        return nccl_check(ncclAllGather(c.send, c.recv, l.block, dt, comm, stream_), c, "ncclAllGather");
      case OpKind::reducescatter:
        return nccl_check(ncclReduceScatter(c.send, c.recv, l.block, dt, nccl_op(c.redop), comm, stream_), c,
                          "ncclReduceScatter");
      case OpKind::broadcast:
        return nccl_check(ncclBroadcast(c.send, c.recv, l.count, dt, c.root, comm, stream_), c,
                          "ncclBroadcast");
      case OpKind::reduce:
        return nccl_check(ncclReduce(c.send, c.recv, l.count, dt, nccl_op(c.redop), c.root, comm, stream_), c,
                          "ncclReduce");
      case OpKind::alltoall:
      case OpKind::alltoallv:  // alltoallv and the MoE ops: the counts matrix's blocks
                               // (OpLayout::send_off/recv_off)
      case OpKind::moe_dispatch:
      case OpKind::moe_combine: {
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 28, 0)
        // NCCL's own all-to-all where the library has it (as nccl-tests uses from 2.28).
        if (c.op->kind == OpKind::alltoall && has_alltoall())
          return nccl_check(ncclAlltoAll(c.send, c.recv, l.block, dt, comm, stream_), c, "ncclAlltoAll");
#endif
        nccl_check(ncclGroupStart(), c, "ncclGroupStart");
        for (int p = 0; p < world_.size(); ++p) {
          if (l.send_len(p) > 0)
            nccl_check(ncclSend(at(c.send, l.send_off(p)), l.send_len(p), dt, p, comm, stream_), c,
                       "ncclSend");
          if (l.recv_len(p) > 0)
            nccl_check(ncclRecv(at(c.recv, l.recv_off(p)), l.recv_len(p), dt, p, comm, stream_), c,
                       "ncclRecv");
        }
        nccl_check(ncclGroupEnd(), c, "ncclGroupEnd");
        if (c.op->sums_contributions)  // moe_combine: sum each token's k copies, in stream order
          moe_combine_reduce(c, [&](void* io, const void* in, std::size_t cnt) {
            cuda::reduce_into_async(io, io, in, cnt, c.dtype, RedOp::sum, stream_);
          });
        return;
      }
      case OpKind::gather:
      case OpKind::scatter: {  // as nccl-tests: grouped ncclSend/ncclRecv, the root with every rank
        const bool gather = c.op->kind == OpKind::gather;
        nccl_check(ncclGroupStart(), c, "ncclGroupStart");
        if (world_.rank() == c.root)
          for (int p = 0; p < world_.size(); ++p) {
            if (gather)
              nccl_check(ncclRecv(at(c.recv, p * l.block), l.block, dt, p, comm, stream_), c, "ncclRecv");
            else
              nccl_check(ncclSend(at(c.send, p * l.block), l.block, dt, p, comm, stream_), c, "ncclSend");
          }
        if (gather)
          nccl_check(ncclSend(c.send, l.block, dt, c.root, comm, stream_), c, "ncclSend");
        else
          nccl_check(ncclRecv(c.recv, l.block, dt, c.root, comm, stream_), c, "ncclRecv");
        return nccl_check(ncclGroupEnd(), c, "ncclGroupEnd");
      }
      case OpKind::sendrecv: {  // the ring shift, as nccl-tests' sendrecv_perf: to r + 1, from r - 1
        if (c.peer < 0) return;
        nccl_check(ncclGroupStart(), c, "ncclGroupStart");
        for (int w = 0; w < c.window; ++w) {
          nccl_check(ncclSend(c.send, l.count, dt, c.peer, comm, stream_), c, "ncclSend");
          nccl_check(ncclRecv(c.recv, l.count, dt, c.from, comm, stream_), c, "ncclRecv");
        }
        return nccl_check(ncclGroupEnd(), c, "ncclGroupEnd");
      }
      case OpKind::unidir:
      case OpKind::bidir: {
        if (c.peer < 0) return;
        const bool sender = nccl_pairs::sends_first(c);
        const bool both = c.op->kind == OpKind::bidir;
        nccl_check(ncclGroupStart(), c, "ncclGroupStart");
        for (int w = 0; w < c.window; ++w) {
          if (both || sender) nccl_check(ncclSend(c.send, l.count, dt, c.peer, comm, stream_), c, "ncclSend");
          if (both || !sender)
            nccl_check(ncclRecv(c.recv, l.count, dt, c.peer, comm, stream_), c, "ncclRecv");
        }
        return nccl_check(ncclGroupEnd(), c, "ncclGroupEnd");
      }
      case OpKind::pingpong:
      case OpKind::relay: {
        if (c.peer < 0) return;
        // Stream order makes the reply wait for the message (relay: and send what arrived).
        if (nccl_pairs::sends_first(c)) {
          nccl_check(ncclSend(c.send, l.count, dt, c.peer, comm, stream_), c, "ncclSend");
          return nccl_check(ncclRecv(c.recv, l.count, dt, c.peer, comm, stream_), c, "ncclRecv");
        }
        nccl_check(ncclRecv(c.recv, l.count, dt, c.peer, comm, stream_), c, "ncclRecv");
        const void* reply = c.op->kind == OpKind::relay ? c.recv : c.send;
        return nccl_check(ncclSend(reply, l.count, dt, c.peer, comm, stream_), c, "ncclSend");
      }
    }
  }

  // The library's version at run time (a newer build may meet an older libnccl.so.2).
  static bool has_alltoall() {
    int v = 0;
    ncclGetVersion(&v);
    return v >= 22800;
  }

  World& world_;
  mutable NcclDebugLog log_;  // before the first NCCL call
  int device_ = 0;
  std::string device_name_, bus_id_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  cudaGraphExec_t timed_graph_ = nullptr, check_graph_ = nullptr;
  std::atomic<bool> abort_requested_{false};
  std::unique_ptr<NcclComms> comms_;
  ncclComm_t comm_ = nullptr;
  std::string cur_key_;
  mutable std::map<std::string, nccl_log::Transports> transports_;  // per communicator
  std::string learnt_algo_;
  std::unique_ptr<cuda::DevicePattern> patterns_;
};

}  // namespace

std::unique_ptr<Backend> make_nccl_backend(World& world) {
  return std::make_unique<NcclBackend>(world);
}

}  // namespace fb::transports
