// Does the harness tax what it measures? In one MPI job, for each size, alternate a minimal
// hand-written MPI loop (OSU style: one timer around N ops) with fabricbench's own runner
// (measure(): per-sample timing, max over ranks, auto-batching of sub-20-us ops) on the same
// ranks, sizes and op, and print fabricbench / bare per size. Run through
// scripts/bench-overhead --in-process (its default compares against a separate bare C program).
//
//   mpirun -np 2 build/bench/fb_bench_overhead [--min 8] [--max 64M] [--rounds 7] [--ms 40]
//                                               [--same-buffers 1]
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_args.hpp"
#include "harness/runner.hpp"
#include "transports/backend.hpp"
#include "vocab/units.hpp"

namespace {

using fb::OpKind;

// The bare loop: one timer around `iters` ops; returns microseconds per op (max over ranks of
// each rank's average, as OSU reports; ping-pong: half the round trip, measured by rank 0).
double bare(OpKind kind, void* send, void* recv, std::size_t bytes, int iters) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int count = static_cast<int>(bytes / sizeof(float));
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = MPI_Wtime();
  for (int i = 0; i < iters; ++i) {
    if (kind == OpKind::allreduce) {
      MPI_Allreduce(send, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    } else if (rank == 0) {
      MPI_Send(send, static_cast<int>(bytes), MPI_BYTE, 1, 1, MPI_COMM_WORLD);
      MPI_Recv(recv, static_cast<int>(bytes), MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(recv, static_cast<int>(bytes), MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(send, static_cast<int>(bytes), MPI_BYTE, 0, 1, MPI_COMM_WORLD);
    }
  }
  double us = (MPI_Wtime() - t0) * 1e6 / iters;
  if (kind == OpKind::pingpong) {
    us /= 2;
    MPI_Bcast(&us, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    return us;
  }
  double out = 0;
  MPI_Allreduce(&us, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  fb::bench::SweepArgs args{8, 64ull << 20, 7, 40};
  // Both loops use the same buffers by default: on this VM two sets of 64 MiB buffers differ by
  // up to 30% in copy speed depending on where they land in memory, which would be measured as
  // "overhead" otherwise. --same-buffers 0 gives the bare loop its own buffers.
  int same_buffers = 1;
  if (!fb::bench::parse_sweep_args(argc, argv, "fb_bench_overhead", args,
                                   {fb::bench::count_option("--same-buffers", same_buffers)}))
    return 2;
  const auto [min_bytes, max_bytes, rounds, target_ms] = args;
  auto world = fb::transports::make_mpi_world(&argc, &argv);
  if (world->size() != 2) {
    if (world->rank() == 0) std::fprintf(stderr, "fb_bench_overhead: run with exactly 2 ranks\n");
    return 2;
  }
  auto backend = fb::transports::make_backend("mpi", *world);
  const bool root = world->rank() == 0;
  double worst = 0;
  if (root)
    std::printf(
        "# fabricbench runner vs a bare MPI loop, 2 ranks, median of %d alternating rounds\n"
        "%-10s %12s %14s %14s %8s\n",
        rounds, "op", "size(B)", "bare(us)", "fabricbench(us)", "ratio");

  for (OpKind kind : {OpKind::pingpong, OpKind::allreduce}) {
    const fb::OpDescriptor& op = fb::op_descriptor(kind);
    fb::Series series{&op, kind == OpKind::allreduce ? fb::DType::float32 : fb::DType::uint8, fb::RedOp::sum,
                      false, -1};
    // The bare loop's buffers hold real data too: zero-filled fresh memory can be backed by the
    // kernel's shared zero page, which makes reads from it artificially fast.
    std::vector<unsigned char> send(max_bytes, 0x5a), recv(max_bytes, 0xa5);
    fb::SeriesBuffers buffers(*backend, series, max_bytes, 2, world->rank());
    for (std::uint64_t bytes = min_bytes; bytes <= max_bytes; bytes *= 2) {
      // Size the loops so each measurement lasts about target_ms.
      const double est = bare(kind, send.data(), recv.data(), bytes, 20) * (kind == OpKind::pingpong ? 2 : 1);
      const int iters = std::clamp(static_cast<int>(target_ms * 1000 / std::max(est, 0.05)), 10, 200000);
      fb::TestSpec spec;
      spec.iters = iters;
      spec.warmup = std::max(5, iters / 20);
      spec.check = 0;
      spec.batch = 0;
      std::vector<double> b, f;
      for (int r = 0; r < rounds; ++r) {
        if (same_buffers) {
          const auto l = op.layout(bytes, series.dtype, 2, world->rank(), backend->inplace_convention(),
                                   nullptr, backend->block_alignment());
          const auto c = buffers.call(series, l, world->rank(), 2);
          b.push_back(bare(kind, const_cast<void*>(c.send), c.recv, bytes, iters));
        } else {
          b.push_back(bare(kind, send.data(), recv.data(), bytes, iters));
        }
        const fb::Record rec = fb::measure(*world, *backend, spec, series, bytes, buffers, {});
        double t = rec.time_mean_us;
        MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        f.push_back(t);
      }
      const double mb = fb::bench::median(b), mf = fb::bench::median(f), ratio = mf / mb;
      worst = std::max(worst, ratio);
      if (root)
        std::printf("%-10s %12llu %14.3f %14.3f %8.3f\n", std::string(op.name).c_str(),
                    static_cast<unsigned long long>(bytes), mb, mf, ratio);
      std::fflush(stdout);
    }
  }
  if (root) std::printf("# worst ratio %.3f (target <= 1.05)\n", worst);
  return 0;
}
