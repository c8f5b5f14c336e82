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
// Modes: --cuda-graph N captures N ops in one graph and times its replays; --blocking waits for
// each op before enqueueing the next (nccl-tests -z), else ops are stream-ordered; --nccl-algo and
// --nccl-proto set NCCL_ALGO / NCCL_PROTO while a communicator is created (one communicator per
// distinct pair, created on first use).
//
// What NCCL used comes from NCCL itself: NCCL_DEBUG=INFO with NCCL_DEBUG_SUBSYS=INIT,NET,GRAPH,
// TUNING goes to a file (NCCL_DEBUG_FILE) that transports/nccl/nccl_log.cpp reads: the channels'
// transports and NICs (transport column) and the tuner's algorithm/protocol per collective (algo
// column). Variables the user set are left alone.
//
// Waiting never blocks inside CUDA: the stream is polled with cudaStreamQuery, and
// ncclCommGetAsyncError between polls; an NCCL error or the watchdog (--timeout) aborts the
// communicator with ncclCommAbort and the op's name and size go into the error.
//
// Validation runs on the device (collectives/cuda/device_pattern.hpp): only counts come back.
#include <cuda_runtime.h>
#include <nccl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collectives/cuda/device_pattern.hpp"
#include "transports/backend.hpp"
#include "transports/cuda/gpu.hpp"
#include "transports/nccl/nccl_log.hpp"
#include "vocab/error.hpp"

namespace fb::transports {

namespace {

std::string cuda_text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::int8:
      return ncclInt8;
    case DType::uint8:
      return ncclUint8;
    case DType::int32:
      return ncclInt32;
    case DType::uint32:
      return ncclUint32;
    case DType::int64:
      return ncclInt64;
    case DType::uint64:
      return ncclUint64;
    case DType::float16:
      return ncclFloat16;
    case DType::bfloat16:
      return ncclBfloat16;
    case DType::float32:
      return ncclFloat32;
    case DType::float64:
      return ncclFloat64;
  }
  return ncclFloat32;
}

ncclRedOp_t nccl_op(RedOp o) {
  switch (o) {
    case RedOp::sum:
      return ncclSum;
    case RedOp::prod:
      return ncclProd;
    case RedOp::min:
      return ncclMin;
    case RedOp::max:
      return ncclMax;
  }
  return ncclSum;
}

// NCCL's own name of a collective, as its tuning log prints it.
const char* nccl_func(OpKind k) {
  switch (k) {
    case OpKind::allreduce:
      return "AllReduce";
    case OpKind::allgather:
      return "AllGather";
    case OpKind::reducescatter:
      return "ReduceScatter";
    case OpKind::broadcast:
      return "Broadcast";
    case OpKind::reduce:
      return "Reduce";
    default:
      return "";
  }
}

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

class NcclBackend final : public Backend {
 public:
  explicit NcclBackend(World& world) : world_(world) {
    // A usable GPU on every rank, agreed before anything else: "no GPU" is one line and exit 2.
    // One GPU visible per rank (e.g. Slurm's --gpus-per-task=1) means device 0; else the node-local
    // rank picks the device (transports/cuda/gpu.hpp).
    const GpuChoice gpu = choose_gpu(world_, "nccl");
    std::string err = world_.first_error(gpu.error);
    if (!err.empty()) throw UsageError("nccl: " + err);
    device_ = gpu.device;
    err = init_device();
    err = world_.first_error(
        err.empty() ? "" : "rank " + std::to_string(world_.rank()) + " (" + world_.hostname() + "): " + err);
    if (!err.empty()) throw BackendError("nccl: " + err);
    setup_debug_log();
    // The first communicator (NCCL's own choices) now, so a broken fabric fails here, on every rank.
    try {
      comm_for("", "");
    } catch (const std::exception& ex) {
      err = ex.what();
    }
    err = world_.first_error(err);
    if (!err.empty()) throw BackendError(err);
  }

  ~NcclBackend() override {
    release_graph();
    patterns_.reset();
    for (auto& [key, c] : comms_) {
      if (!c.comm) continue;
      if (aborted_) continue;
      ncclCommDestroy(c.comm);
    }
    if (start_) cudaEventDestroy(start_);
    if (stop_) cudaEventDestroy(stop_);
    if (stream_) cudaStreamDestroy(stream_);
    if (owns_log_ && !log_path_.empty()) ::unlink(log_path_.c_str());
  }

  std::string name() const override { return "nccl"; }

  std::string version() const override {
    int v = 0, rt = 0, drv = 0;
    ncclGetVersion(&v);
    cudaRuntimeGetVersion(&rt);
    cudaDriverGetVersion(&drv);
    const int major = v / 10000, minor = (v % 10000) / 100, patch = v % 100;
    auto cv = [](int x) { return std::to_string(x / 1000) + "." + std::to_string((x % 1000) / 10); };
    return "NCCL " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch) +
           " (CUDA runtime " + cv(rt) + ", driver " + cv(drv) + ", " + device_name_ + ")";
  }

  std::optional<std::string> unsupported(const OpDescriptor& op, DType, RedOp, bool inplace) const override {
    if (op.kind == OpKind::alltoall && inplace)
      return "nccl runs all-to-all as grouped ncclSend/ncclRecv, which cannot run in place (a receive would "
             "overwrite a block before it is sent)";
    return std::nullopt;
  }

  std::string default_memory() const override { return "cuda"; }
  // The device's free memory (this rank's GPU is its own: one rank per GPU).
  std::optional<std::uint64_t> available_memory(const std::string& mem, int ranks_on_host) const override {
    if (mem != "cuda") return Backend::available_memory(mem, ranks_on_host);
    std::size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) return std::nullopt;
    return static_cast<std::uint64_t>(free);
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
    cuda_check(cudaMalloc(&p, n), "cudaMalloc(" + std::to_string(n) + " B)");
    cuda_check(cudaMemset(p, 0, n), "cudaMemset");
    return p;
  }
  void release(void* p, std::size_t) override { cudaFree(p); }

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

  void prepare(const OpCall& c) override {
    cur_ = &comm_for(c.nccl_algo, c.nccl_proto);
    release_graph();
    if (c.cuda_graph <= 0) return;
    // Capture cuda_graph ops once per size; samples replay it.
    cudaGraph_t graph = nullptr;
    cuda_check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    try {
      for (int k = 0; k < c.cuda_graph; ++k) enqueue(c);
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    cuda_check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
    const cudaError_t e = cudaGraphInstantiate(&graph_exec_, graph, 0);
    cudaGraphDestroy(graph);
    cuda_check(e, "cudaGraphInstantiate");
    cuda_check(cudaGraphUpload(graph_exec_, stream_), "cudaGraphUpload");
    wait(&c, "graph upload");
  }

  void run(const OpCall& c) override {
    enqueue(c);
    wait(&c, "op");
  }

  void run_timed(const OpCall& c, int iters, int ops_per_sample, double* samples_us,
                 std::atomic<std::uint64_t>* progress) override {
    using clock = std::chrono::steady_clock;
    for (int i = 0; i < iters; ++i) {
      const auto t0 = clock::now();
      if (!c.cpu_time) cuda_check(cudaEventRecord(start_, stream_), "cudaEventRecord");
      if (graph_exec_) {
        cuda_check(cudaGraphLaunch(graph_exec_, stream_), "cudaGraphLaunch");
      } else {
        for (int k = 0; k < ops_per_sample; ++k) {
          enqueue(c);
          if (c.blocking) wait(&c, "op");
        }
      }
      if (!c.cpu_time) cuda_check(cudaEventRecord(stop_, stream_), "cudaEventRecord");
      wait(&c, "timed sample");
      if (c.cpu_time) {
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
    std::string a;
    const char* func = nccl_func(c.op->kind);
    if (*func) a = nccl_log::algorithms(new_log_lines(), func);
    if (a.empty()) a = "native";  // NCCL did not say (send/recv, one rank, or its log is off)
    if (c.op->pairwise && !is_bounce(c.op->kind) && c.window > 1) a += "/window" + std::to_string(c.window);
    if (c.cuda_graph > 0) a += "/graph" + std::to_string(c.cuda_graph);
    return a;
  }

  std::string transport() const override { return cur_ ? cur_->transport : ""; }

  void abort_from_watchdog() override {
    // The main thread polls and aborts; give it a moment to do so before the job is ended.
    abort_requested_.store(true);
    for (int i = 0; i < 300 && !aborted_.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

 private:
  struct Comm {
    ncclComm_t comm = nullptr;
    std::string transport;
  };

  std::string init_device() {
    cudaError_t e = cudaSetDevice(device_);
    if (e != cudaSuccess) return "cudaSetDevice(" + std::to_string(device_) + "): " + cuda_text(e);
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device_) == cudaSuccess)
      device_name_ =
          std::string(prop.name) + " sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
    if ((e = cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)) != cudaSuccess)
      return "cudaStreamCreate: " + cuda_text(e);
    if ((e = cudaEventCreate(&start_)) != cudaSuccess || (e = cudaEventCreate(&stop_)) != cudaSuccess)
      return "cudaEventCreate: " + cuda_text(e);
    return "";
  }

  // NCCL's INFO log into a file this backend reads (before the first NCCL call reads the variables).
  void setup_debug_log() {
    const char* level = std::getenv("NCCL_DEBUG");
    const bool set_level = level == nullptr;
    if (set_level) {
      ::setenv("NCCL_DEBUG", "INFO", 1);
      if (!std::getenv("NCCL_DEBUG_SUBSYS")) ::setenv("NCCL_DEBUG_SUBSYS", nccl_log::kSubsystems, 1);
    } else {
      std::string l = level;
      for (auto& ch : l) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (l != "INFO" && l != "TRACE") return;  // the user turned NCCL's log down: nothing to read
    }
    if (const char* f = std::getenv("NCCL_DEBUG_FILE")) {
      log_path_ = nccl_log::expand_debug_file(f, world_.hostname(), static_cast<long>(::getpid()));
    } else {
      const char* tmp = std::getenv("TMPDIR");
      log_path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/fabricbench-nccl." + world_.hostname() + "." +
                  std::to_string(::getpid()) + ".log";
      ::setenv("NCCL_DEBUG_FILE", log_path_.c_str(), 1);
      owns_log_ = set_level;  // the user's own NCCL_DEBUG=INFO log is kept for them
    }
  }

  // Lines NCCL appended to its log since the last call.
  std::vector<std::string> new_log_lines() const {
    std::vector<std::string> out;
    if (log_path_.empty()) return out;
    std::ifstream in(log_path_, std::ios::binary);
    if (!in) return out;
    in.seekg(static_cast<std::streamoff>(log_offset_));
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a partial last line: read it next time
      log_offset_ += line.size() + 1;
      out.push_back(line);
    }
    return out;
  }

  Comm& comm_for(const std::string& algo, const std::string& proto) {
    const std::string key = algo + "|" + proto;
    auto it = comms_.find(key);
    if (it != comms_.end()) return it->second;
    // NCCL reads NCCL_ALGO / NCCL_PROTO when a communicator is created.
    if (!user_env_saved_) {
      if (const char* v = std::getenv("NCCL_ALGO")) user_algo_ = v;
      if (const char* v = std::getenv("NCCL_PROTO")) user_proto_ = v;
      user_env_saved_ = true;
    }
    const auto want_algo = algo.empty() ? user_algo_ : std::optional<std::string>(algo);
    const auto want_proto = proto.empty() ? user_proto_ : std::optional<std::string>(proto);
    swap_env("NCCL_ALGO", want_algo);
    swap_env("NCCL_PROTO", want_proto);

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
    new_log_lines();  // skip what came before this communicator
    Comm c;
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 1;
    const ncclResult_t r = ncclCommInitRankConfig(&c.comm, world_.size(), id, world_.rank(), &config);
    swap_env("NCCL_ALGO", user_algo_);
    swap_env("NCCL_PROTO", user_proto_);
    if (r != ncclSuccess)
      err = "rank " + std::to_string(world_.rank()) + " (" + world_.hostname() +
            "): ncclCommInitRank: " + ncclGetErrorString(r) + last_error(nullptr);
    err = world_.first_error(err);
    if (!err.empty()) throw BackendError("nccl: " + err);
    c.transport = nccl_log::transports(new_log_lines());
    return comms_.emplace(key, c).first->second;
  }

  cuda::DevicePattern& patterns() {
    if (!patterns_) patterns_ = std::make_unique<cuda::DevicePattern>(stream_);
    return *patterns_;
  }

  void release_graph() {
    if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
    graph_exec_ = nullptr;
  }

  static std::string last_error(ncclComm_t comm) {
    const char* s = ncclGetLastError(comm);
    return s && *s ? std::string(" (") + s + ")" : "";
  }

  std::string what_of(const OpCall* c) const {
    if (!c) return "";
    return std::string(c->op->name) + " " + std::string(dtype_name(c->dtype)) + " " +
           std::to_string(c->layout.bytes) + " B: ";
  }

  void cuda_check(cudaError_t e, const std::string& what) {
    if (e != cudaSuccess) throw BackendError("nccl: " + what + ": " + cuda_text(e));
  }

  void nccl_check(ncclResult_t r, const OpCall& c, const char* call) {
    if (r == ncclSuccess || r == ncclInProgress) return;
    throw BackendError("nccl: " + what_of(&c) + call + ": " + ncclGetErrorString(r) + last_error(cur_->comm));
  }

  // Wait for the stream without blocking inside CUDA: poll, and between polls ask NCCL for an
  // asynchronous error and the watchdog for an abort.
  void wait(const OpCall* c, const char* stage) {
    for (unsigned spins = 0;; ++spins) {
      const cudaError_t q = cudaStreamQuery(stream_);
      if (q == cudaSuccess) return;
      if (q != cudaErrorNotReady) {
        abort_comms();
        throw BackendError("nccl: " + what_of(c) + stage + ": " + cuda_text(q));
      }
      if ((spins & 0x3ff) == 0 && cur_) {
        ncclResult_t async = ncclSuccess;
        ncclCommGetAsyncError(cur_->comm, &async);
        if (async != ncclSuccess && async != ncclInProgress) {
          const std::string detail = ncclGetErrorString(async) + last_error(cur_->comm);
          abort_comms();
          throw BackendError("nccl: " + what_of(c) + stage + ": " + detail + "; communicator aborted");
        }
      }
      if (abort_requested_.load(std::memory_order_relaxed)) {
        abort_comms();
        throw TimeoutError("nccl: " + what_of(c) + stage +
                           ": no progress within --timeout; communicator aborted");
      }
      if ((spins & 0xff) == 0xff) sched_yield();
    }
  }

  void abort_comms() {
    for (auto& [key, c] : comms_)
      if (c.comm) ncclCommAbort(c.comm);
    aborted_.store(true);
  }

  void enqueue(const OpCall& c) {
    const ncclDataType_t dt = nccl_type(c.dtype);
    const std::size_t es = dtype_size(c.dtype);
    const OpLayout& l = c.layout;
    ncclComm_t comm = cur_->comm;
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
      case OpKind::alltoallv: {  // alltoallv: the counts matrix's blocks (OpLayout::send_off/recv_off)
        nccl_check(ncclGroupStart(), c, "ncclGroupStart");
        for (int p = 0; p < world_.size(); ++p) {
          if (l.send_len(p) > 0)
            nccl_check(ncclSend(at(c.send, l.send_off(p)), l.send_len(p), dt, p, comm, stream_), c,
                       "ncclSend");
          if (l.recv_len(p) > 0)
            nccl_check(ncclRecv(at(c.recv, l.recv_off(p)), l.recv_len(p), dt, p, comm, stream_), c,
                       "ncclRecv");
        }
        return nccl_check(ncclGroupEnd(), c, "ncclGroupEnd");
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
      case OpKind::sendrecv:
      case OpKind::bidir: {
        if (c.peer < 0) return;
        const bool sender = pair_is_sender(world_.rank(), world_.size());
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
        const bool first = pair_is_sender(world_.rank(), world_.size());
        if (first) {
          nccl_check(ncclSend(c.send, l.count, dt, c.peer, comm, stream_), c, "ncclSend");
          return nccl_check(ncclRecv(c.recv, l.count, dt, c.peer, comm, stream_), c, "ncclRecv");
        }
        nccl_check(ncclRecv(c.recv, l.count, dt, c.peer, comm, stream_), c, "ncclRecv");
        const void* reply = c.op->kind == OpKind::relay ? c.recv : c.send;
        return nccl_check(ncclSend(reply, l.count, dt, c.peer, comm, stream_), c, "ncclSend");
      }
    }
  }

  World& world_;
  int device_ = 0;
  std::string device_name_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  cudaGraphExec_t graph_exec_ = nullptr;
  std::map<std::string, Comm> comms_;
  Comm* cur_ = nullptr;
  std::optional<std::string> user_algo_, user_proto_;
  bool user_env_saved_ = false;
  std::string log_path_;
  bool owns_log_ = false;
  mutable std::size_t log_offset_ = 0;
  std::unique_ptr<cuda::DevicePattern> patterns_;
  std::atomic<bool> abort_requested_{false};
  std::atomic<bool> aborted_{false};
};

}  // namespace

std::unique_ptr<Backend> make_nccl_backend(World& world) {
  return std::make_unique<NcclBackend>(world);
}

}  // namespace fb::transports
