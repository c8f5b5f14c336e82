// Does fabricbench's nccl backend tax what it measures? In one MPI job, for each size, alternate a
// minimal hand-written ncclAllReduce loop (nccl-tests style: CUDA events around N back-to-back ops
// on one stream, time per op = elapsed / N, max over ranks) with fabricbench's runner (measure():
// per-sample CUDA events, max over ranks per sample) on the same GPUs, buffers and sizes, and print
// latency and busbw of both and their ratio. Target: within 2% at every size. Needs GPUs; run it
// through scripts/bench-nccl-overhead.
//
//   mpirun -np N build/bench/fb_bench_nccl_overhead [--min 8] [--max 1G] [--rounds 5] [--ms 50]
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness/runner.hpp"
#include "transports/backend.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace {

#define CHECK_CUDA(x)                                               \
  do {                                                              \
    cudaError_t e_ = (x);                                           \
    if (e_ != cudaSuccess) {                                        \
      std::fprintf(stderr, "%s: %s\n", #x, cudaGetErrorString(e_)); \
      MPI_Abort(MPI_COMM_WORLD, 3);                                 \
    }                                                               \
  } while (0)
#define CHECK_NCCL(x)                                               \
  do {                                                              \
    ncclResult_t r_ = (x);                                          \
    if (r_ != ncclSuccess) {                                        \
      std::fprintf(stderr, "%s: %s\n", #x, ncclGetErrorString(r_)); \
      MPI_Abort(MPI_COMM_WORLD, 3);                                 \
    }                                                               \
  } while (0)

// The hand-written loop: microseconds per all-reduce, max over ranks.
double bare(ncclComm_t comm, cudaStream_t s, cudaEvent_t t0, cudaEvent_t t1, const void* send, void* recv,
            std::size_t count, int iters) {
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK_CUDA(cudaEventRecord(t0, s));
  for (int i = 0; i < iters; ++i) CHECK_NCCL(ncclAllReduce(send, recv, count, ncclFloat32, ncclSum, comm, s));
  CHECK_CUDA(cudaEventRecord(t1, s));
  CHECK_CUDA(cudaStreamSynchronize(s));
  float ms = 0;
  CHECK_CUDA(cudaEventElapsedTime(&ms, t0, t1));
  double us = ms * 1e3 / iters, out = 0;
  MPI_Allreduce(&us, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t min_bytes = 8, max_bytes = 1ull << 30;
  int rounds = 5;
  double target_ms = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--min")
      min_bytes = fb::parse_bytes(argv[i + 1]);
    else if (a == "--max")
      max_bytes = fb::parse_bytes(argv[i + 1]);
    else if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--ms")
      target_ms = std::atof(argv[i + 1]);
  }
  auto world = fb::transports::make_mpi_world(&argc, &argv);
  const bool root = world->rank() == 0;
  std::unique_ptr<fb::transports::Backend> backend;
  try {
    backend = fb::transports::make_backend("nccl", *world);  // selects this rank's GPU
  } catch (const std::exception& e) {
    if (root) std::fprintf(stderr, "fb_bench_nccl_overhead: %s\n", e.what());
    return 2;
  }
  const int n = world->size();

  // The bare loop's own communicator and stream, on the same GPU.
  ncclUniqueId id{};
  if (root) CHECK_NCCL(ncclGetUniqueId(&id));
  MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD);
  ncclComm_t comm = nullptr;
  CHECK_NCCL(ncclCommInitRank(&comm, n, id, world->rank()));
  cudaStream_t s = nullptr;
  cudaEvent_t t0 = nullptr, t1 = nullptr;
  CHECK_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  CHECK_CUDA(cudaEventCreate(&t0));
  CHECK_CUDA(cudaEventCreate(&t1));

  const fb::OpDescriptor& op = fb::op_descriptor(fb::OpKind::allreduce);
  fb::Series series{&op, fb::DType::float32, fb::RedOp::sum, false, -1};
  series.mem = "cuda";
  fb::SeriesBuffers buffers(*backend, series, max_bytes, n, world->rank());
  const double factor = op.busbw_factor(n);
  if (root)
    std::printf(
        "# fabricbench nccl all-reduce vs a bare ncclAllReduce loop, %d ranks, median of %d rounds\n"
        "%12s %12s %12s %8s %12s %12s %8s\n",
        n, rounds, "size(B)", "bare(us)", "fb(us)", "t-ratio", "bare(GB/s)", "fb(GB/s)", "bw-ratio");
  double worst = 0;
  for (std::uint64_t bytes = min_bytes; bytes <= max_bytes; bytes *= 2) {
    const auto l = op.layout(bytes, series.dtype, n, world->rank(), backend->inplace_convention());
    const auto c = buffers.call(series, l, world->rank(), n);
    // Both sides run about target_ms per measurement: `iters` ops, fabricbench in 20 samples.
    const double est = bare(comm, s, t0, t1, c.send, c.recv, l.count, 20);
    const int iters = std::clamp(static_cast<int>(target_ms * 1000 / std::max(est, 0.5)), 20, 200000);
    fb::TestSpec spec;
    spec.iters = 20;
    spec.batch = std::max(1, iters / 20);
    spec.warmup = std::max(5, iters / 20);
    spec.check = 0;
    std::vector<double> b, f;
    for (int r = 0; r < rounds; ++r) {
      b.push_back(bare(comm, s, t0, t1, c.send, c.recv, l.count, iters));
      const fb::Record rec = fb::measure(*world, *backend, spec, series, bytes, buffers, {});
      double t = rec.time_mean_us;
      MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
      f.push_back(t);
    }
    const double mb = median(b), mf = median(f);
    const double bwb = static_cast<double>(l.bytes) / mb / 1e3 * factor,
                 bwf = static_cast<double>(l.bytes) / mf / 1e3 * factor;
    worst = std::max(worst, std::abs(mf / mb - 1));
    if (root)
      std::printf("%12llu %12.3f %12.3f %8.3f %12.3f %12.3f %8.3f\n",
                  static_cast<unsigned long long>(l.bytes), mb, mf, mf / mb, bwb, bwf, bwf / bwb);
    std::fflush(stdout);
  }
  if (root) std::printf("# worst difference %.1f%% (target <= 2%%)\n", worst * 100);
  ncclCommDestroy(comm);
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  cudaStreamDestroy(s);
  return worst <= 0.02 ? 0 : 1;
}
