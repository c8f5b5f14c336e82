// One result row, whatever produced it (a measurement now; the model later). Sinks render it.
// Every field is documented in results/SCHEMA.md; keep the two in step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fb {

constexpr int kSchemaVersion = 1;

struct Record {
  int schema_version = kSchemaVersion;
  // What ran
  std::string source = "measured";  // "measured" (later also "model")
  std::string backend;              // mpi | ucx | nccl
  std::string op;                   // allreduce, alltoall, ...
  std::string algo;                 // "native" when the library chose its own algorithm
  // The algo the test asked for (native, auto or a name), which algo resolves; not written to
  // files (the console groups a sweep by it). Empty where no test asked (validate, files read).
  std::string algo_asked;
  std::string transport;     // as the library reports it; "" when it cannot tell
  std::string mem = "host";  // host | cuda
  std::string dtype;
  std::string redop;  // "" for ops that do not reduce
  int root = -1;      // -1 for ops without a root
  bool inplace = false;
  int nranks = 0;
  int nnodes = 0;
  int ranks_per_node = 0;
  // Sizes
  std::uint64_t requested_bytes = 0;  // the size asked for
  std::uint64_t bytes = 0;            // the size that ran, after rounding to whole blocks
  std::uint64_t count = 0;            // elements, as nccl-tests' count column
  // alltoallv: the most loaded rank's bytes (max of sent and received; algbw's numerator) and that
  // over the mean per-rank send; 0 and empty for every other op.
  std::uint64_t max_rank_bytes = 0;
  std::optional<double> load_imbalance;
  // alltoallv and the MoE ops (docs/moe.md): bytes over all pairs; the counts distribution that
  // laid them out ("zipf:1.2 seed=1", MoE: "... topk=2 experts_per_rank=4 hidden=1024"); MoE
  // tokens per second over all ranks (tokens x nranks / time). 0, "" and empty otherwise.
  std::uint64_t total_bytes = 0;
  std::string counts;
  std::optional<double> tokens_per_s;
  // Method
  int iters = 0;                   // timed samples
  int warmup = 0;                  // untimed ops before them
  int ops_per_sample = 1;          // back-to-back ops in one sample
  int check_iters = 0;             // validated ops
  std::string timing = "samples";  // --timing: "samples" or "nccl-tests/<avg|rank0|min|max>"
  int cycle = 1;                   // run --cycles/--duration: the repetition of the plan this row is from
  // run --split (docs/split.md): the split ("" when the op ran on all the job's ranks), the ranks
  // of each group (= nranks) and the groups that ran the op at once.
  std::string group;
  int group_size = 0;
  int ngroups = 1;
  // Results (microseconds per op, after dividing by ops_per_sample and the op's time divisor)
  double time_us = 0;  // = time_p50_us, the headline figure
  double time_min_us = 0, time_p50_us = 0, time_mean_us = 0, time_p99_us = 0, time_max_us = 0;
  double algbw_GBps = 0;
  double busbw_GBps = 0;
  // Messages per second, millions, at time_us: per pair for the pairwise ops (bidir counts both
  // directions; windowed ops time one message), ops per second for collectives.
  double msg_rate_Mps = 0;
  std::uint64_t wrong = 0;  // wrong elements, summed over ranks and check iterations
  int slowest_rank = -1;    // the rank most often last to finish an iteration
  std::string slowest_host;
  double slowest_share = 0;  // fraction of iterations in which slowest_rank was last
  double skew = 0;           // max over ranks of per-rank median time / median of those medians
  std::string timestamp;     // UTC, ISO 8601, when the row completed
  // The fabric model's prediction for what ran (empty without a fabric): see model/cost.hpp.
  std::string model_fabric;  // fabric name
  std::string model_algo;    // algorithm the prediction is for (resolved)
  // Why model_algo: "algorithm" (the row ran it, or the model command predicted it) or
  // "best-modelled-bound" (the library chose its own algorithm, which the model cannot know: the
  // prediction is the fastest modelled algorithm, a lower bound on time). "" without a prediction.
  std::string model_basis;
  std::optional<double> model_time_us;  // predicted time per op
  std::optional<double> model_busbw_GBps;
  std::optional<double> model_err_pct;  // 100 * (time_us - model_time_us) / model_time_us
  std::string model_bottleneck;         // the dominant term of the prediction
  // Per-sample times (max over ranks, microseconds per op); JSON only.
  std::vector<double> samples_us;
  // Per-rank and per-host timing (microseconds per op), JSON only: each rank's median and mean
  // over its own samples, indexed by rank; each host's slowest rank median, in node order. Empty
  // beyond kMaxTimedRanks ranks / hosts (results/SCHEMA.md).
  std::vector<double> rank_p50_us, rank_mean_us, host_p50_us;

  // The bytes algbw is computed from and the model prices: `bytes`, alltoallv's most loaded rank's.
  std::uint64_t bw_bytes() const { return max_rank_bytes > 0 ? max_rank_bytes : bytes; }
};

// Per-rank and per-host timing stays in a row up to this many ranks (hosts): a row's size is bounded.
constexpr int kMaxTimedRanks = 1024;

// The host memory probe (harness/host_probe.hpp): rates while every rank of the run probes at once.
struct HostMemoryProbe {
  std::size_t bytes = 0;   // buffer size of the probe
  double copy_GBps = 0;    // memcpy: bytes copied per second (median over ranks)
  double reduce_GBps = 0;  // float32 sum: bytes of output per second (median over ranks)
  int ranks = 0;           // ranks that probed at once
  // The same with buffers beyond the CPU caches (0: not probed; files written before it).
  std::size_t spilled_bytes = 0;
  double copy_spilled_GBps = 0;
  double reduce_spilled_GBps = 0;
};

// run --cycles/--duration (docs/ci-gate.md): a row whose p50 moved beyond the drift threshold
// against the same row of the first cycle, as compare judges a slower or faster row.
struct DriftEvent {
  int cycle = 0;
  std::string key;                // the row's key, as compare prints it
  std::string direction;          // "slower" | "faster"
  double first_p50_us = 0;        // in cycle 1
  double p50_us = 0;              // in this cycle
  double change_pct = 0;          // 100 * (p50_us - first_p50_us) / first_p50_us
  std::optional<double> p_value;  // the U test's, when both rows had enough samples
};

// The soak so far: what the JSON's "soak" object and the console's summary hold.
struct SoakSummary {
  int cycles_requested = 0;  // --cycles; 0: until --duration
  double duration_s = 0;     // --duration; 0: none
  double drift_pct = 0;      // --drift
  int cycles_done = 0;       // complete cycles
  double elapsed_s = 0;      // since the first cycle started, at the last update
  std::vector<DriftEvent> drifts;
};

// run --ranks / --split: one stage's communicators (meta.stages, results/SCHEMA.md).
struct StageMeta {
  std::string label;                  // "--ranks k=2", "--split stride:2", "--ranks k=4 --split stride:2"
  int nranks = 0;                     // the ranks that took part (k under --ranks; the job's under --split)
  std::string ranks;                  // those ranks as a list, "0-3"
  std::string group;                  // the split, canonically spelt; "" without --split
  int ngroups = 1;                    // communicators made (one per group), all of group_size ranks
  int group_size = 0;                 // ranks in each
  std::vector<std::string> backends;  // the backends made on each of them: "mpi: Open MPI v4.1.4", ...
};

// Run metadata: one object in the JSON, constant columns are not repeated in CSV.
struct RunMeta {
  std::string fabricbench_version;
  std::string git_describe;
  std::string command_line;
  std::string started_utc;
  std::string mpi_library;                    // full MPI_Get_library_version string
  std::vector<std::string> backend_versions;  // "mpi: Open MPI v4.1.4", ...
  int nranks = 0;
  int nnodes = 0;
  int ranks_per_node = 0;
  std::vector<std::string> hosts;                  // one per node, in node order
  std::vector<std::string> rank_hosts;             // one per rank
  std::map<std::string, std::string> environment;  // NCCL_*, UCX_*, OMPI_*, ... as launched
  std::optional<HostMemoryProbe> host_memory;      // absent in files written before the probe
  std::string mpi_thread_level;                    // the MPI thread level provided ("single", ...)
  std::string inventory;          // meta.inventory as JSON text (harness/inventory.hpp); "" when absent
  std::vector<StageMeta> stages;  // run --ranks/--split: every stage, in the order they ran; else empty
};

}  // namespace fb
