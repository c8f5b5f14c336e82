// Does fabricbench's nccl backend tax what it measures? In one MPI job, for each size, alternate a
// minimal hand-written ncclAllReduce loop (CUDA events around N back-to-back ops on one stream,
// time per op = elapsed / N, max over ranks) with fabricbench's runner (measure()) in each timing
// mode: samples with the default batching (--batch auto), samples in ~2.5 ms batches, and
// --timing nccl-tests. Same GPUs, buffers and sizes; prints latency of each and the ratios.
// Target: within 2% at every size from 1 MiB (exit 1 otherwise); below that a sample's fixed
// costs (event records, the poll) show and are reported, not judged. Needs GPUs; run it through
// scripts/bench-nccl-overhead.
//
// The bare communicator is created before the backend, so NCCL starts with the environment the
// job was launched with, not the NCCL_DEBUG=INFO log fabricbench sets for its columns.
//
//   mpirun -np N build/bench/fb_bench_nccl_overhead [--min 8] [--max 1G] [--rounds 5] [--ms 50]
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_args.hpp"
#include "harness/runner.hpp"
#include "transports/backend.hpp"
#include "transports/cuda/gpu.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  fb::bench::SweepArgs args{8, 1ull << 30, 5, 50};
  if (!fb::bench::parse_sweep_args(argc, argv, "fb_bench_nccl_overhead", args)) return 2;
  const auto [min_bytes, max_bytes, rounds, target_ms] = args;
  auto world = fb::transports::make_mpi_world(&argc, &argv);
  const bool root = world->rank() == 0;
  const int n = world->size();
  // The bare loop's own communicator and stream, on the GPU the backend will choose, made first.
  const fb::transports::GpuChoice gpu = fb::transports::choose_gpu(*world, "nccl");
  if (!gpu.error.empty()) {
    std::fprintf(stderr, "fb_bench_nccl_overhead: %s\n", gpu.error.c_str());
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  CHECK_CUDA(cudaSetDevice(gpu.device));
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
  std::unique_ptr<fb::transports::Backend> backend;
  try {
    backend = fb::transports::make_backend("nccl", *world);
  } catch (const std::exception& e) {
    if (root) std::fprintf(stderr, "fb_bench_nccl_overhead: %s\n", e.what());
    return 2;
  }

  const fb::OpDescriptor& op = fb::op_descriptor(fb::OpKind::allreduce);
  fb::Series series{&op, fb::DType::float32, fb::RedOp::sum, false, -1};
  series.mem = "cuda";
  fb::SeriesBuffers buffers(*backend, series, max_bytes, n, world->rank());
  const double factor = op.busbw_factor(n);
  if (root)
    std::printf(
        "# fabricbench nccl all-reduce vs a bare ncclAllReduce loop, %d ranks, median of %d rounds\n"
        "# auto: --timing samples --batch auto; batched: samples of ~2.5 ms; nccl-tests: --timing "
        "nccl-tests\n"
        "%12s %11s %11s %11s %11s %7s %7s %7s %11s\n",
        n, rounds, "size(B)", "bare(us)", "auto(us)", "batched(us)", "nccltst(us)", "auto/b", "batch/b",
        "ncclt/b", "bare(GB/s)");
  double worst = 0;
  constexpr std::uint64_t kJudgedFrom = 1ull << 20;
  for (std::uint64_t bytes = min_bytes; bytes <= max_bytes; bytes *= 2) {
    const auto l = op.layout(bytes, series.dtype, n, world->rank(), backend->inplace_convention(), nullptr,
                             backend->block_alignment());
    const auto c = buffers.call(series, l, world->rank(), n);
    // Both sides run about target_ms per measurement: `iters` ops, fabricbench in 20 samples.
    const double est = bare(comm, s, t0, t1, c.send, c.recv, l.count, 20);
    const int iters = std::clamp(static_cast<int>(target_ms * 1000 / std::max(est, 0.5)), 20, 200000);
    fb::TestSpec modes[3];
    for (auto& spec : modes) {
      spec.iters = 20;
      spec.warmup = std::max(5, iters / 20);
      spec.check = 0;
    }
    modes[0].batch = 0;  // the default: batch only sub-5-microsecond ops
    modes[1].batch = std::max(1, iters / 20);
    modes[2].timing = "nccl-tests";
    modes[2].iters = iters;
    std::vector<double> b, f[3];
    for (int r = 0; r < rounds; ++r) {
      b.push_back(bare(comm, s, t0, t1, c.send, c.recv, l.count, iters));
      for (int m = 0; m < 3; ++m) {
        const fb::Record rec = fb::measure(*world, *backend, modes[m], series, bytes, buffers, {});
        double t = rec.time_us;
        MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        f[m].push_back(t);
      }
    }
    const double mb = fb::bench::median(b);
    double mf[3];
    for (int m = 0; m < 3; ++m) {
      mf[m] = fb::bench::median(f[m]);
      if (l.bytes >= kJudgedFrom) worst = std::max(worst, std::abs(mf[m] / mb - 1));
    }
    const double bwb = static_cast<double>(l.bytes) / mb / 1e3 * factor;
    if (root)
      std::printf("%12llu %11.3f %11.3f %11.3f %11.3f %7.3f %7.3f %7.3f %11.3f\n",
                  static_cast<unsigned long long>(l.bytes), mb, mf[0], mf[1], mf[2], mf[0] / mb, mf[1] / mb,
                  mf[2] / mb, bwb);
    std::fflush(stdout);
  }
  if (root) std::printf("# worst difference from 1 MiB on %.1f%% (target <= 2%%)\n", worst * 100);
  ncclCommDestroy(comm);
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  cudaStreamDestroy(s);
  return worst <= 0.02 ? 0 : 1;
}
