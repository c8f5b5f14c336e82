/* The bare program scripts/bench-overhead holds fabricbench against: MPI started with plain
 * MPI_Init (as OSU and IMB start it), an 8 B ... MAX ping-pong and float32-sum all-reduce on two
 * ranks, nothing else in the process. Per size: warm-up, then BLOCKS blocks of ITERS ops each
 * (a block lasts about 2 ms), each block timed as a whole (OSU style); prints the median block's
 * time per op (ping-pong: half the round trip, as fabricbench's time_us), max over ranks.
 *
 *   mpirun -np 2 fb_bare_mpi [MIN_BYTES [MAX_BYTES [BLOCKS]]]
 * Output: "op bytes time_us" lines (op: pingpong | allreduce).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* One block of `iters` ops; returns seconds per op on this rank. */
static double block(int allreduce, char* send, char* recv, int bytes, int iters, int rank) {
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = MPI_Wtime();
  for (int i = 0; i < iters; ++i) {
    if (allreduce) {
      MPI_Allreduce(send, recv, bytes / 4, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    } else if (rank == 0) {
      MPI_Send(send, bytes, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
      MPI_Recv(recv, bytes, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(recv, bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(send, bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
    }
  }
  return (MPI_Wtime() - t0) / iters;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long min_bytes = argc > 1 ? atol(argv[1]) : 8, max_bytes = argc > 2 ? atol(argv[2]) : 8;
  const int blocks = argc > 3 ? atoi(argv[3]) : 500;
  if (size != 2 || min_bytes < 4 || max_bytes < min_bytes || blocks < 1) {
    if (rank == 0) fprintf(stderr, "fb_bare_mpi: 2 ranks, MIN_BYTES >= 4, MAX_BYTES >= MIN_BYTES\n");
    MPI_Finalize();
    return 2;
  }
  char* send = malloc((size_t)max_bytes);
  char* recv = malloc((size_t)max_bytes);
  double* t = malloc(sizeof(double) * (size_t)blocks);
  memset(send, 0x5a, (size_t)max_bytes);
  memset(recv, 0xa5, (size_t)max_bytes);
  for (int allreduce = 0; allreduce <= 1; ++allreduce)
    for (long bytes = min_bytes; bytes <= max_bytes; bytes *= 2) {
      /* Warm-up, then the block length: about 20 us at the fastest of 20 short probes. */
      block(allreduce, send, recv, (int)bytes, 1000, rank);
      double per_op = 1e9;
      for (int k = 0; k < 20; ++k) {
        const double t = block(allreduce, send, recv, (int)bytes, 10, rank);
        per_op = t < per_op ? t : per_op;
      }
      MPI_Bcast(&per_op, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
      int iters = (int)(20e-6 / (per_op > 1e-9 ? per_op : 1e-9));
      iters = iters < 1 ? 1 : iters > 10000 ? 10000 : iters;
      for (int b = 0; b < blocks; ++b) {
        double mine = block(allreduce, send, recv, (int)bytes, iters, rank), most = 0;
        MPI_Allreduce(&mine, &most, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        t[b] = most * 1e6 / (allreduce ? 1 : 2);
      }
      qsort(t, (size_t)blocks, sizeof(double), compare_doubles);
      const double median = blocks % 2 ? t[blocks / 2] : 0.5 * (t[blocks / 2 - 1] + t[blocks / 2]);
      if (rank == 0) printf("%s %ld %.4f\n", allreduce ? "allreduce" : "pingpong", bytes, median);
      fflush(stdout);
    }
  free(send);
  free(recv);
  free(t);
  MPI_Finalize();
  return 0;
}
