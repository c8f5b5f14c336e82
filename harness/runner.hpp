// The one runner: every op, dtype, redop, placement and size goes through measure().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "harness/config.hpp"
#include "harness/record.hpp"
#include "transports/backend.hpp"

namespace fb {

class Sink;
class Watchdog;
class Progress;

// One line of a test: an op with a dtype, redop, placement and root, swept over sizes.
struct Series {
  const OpDescriptor* op = nullptr;
  DType dtype = DType::float32;
  RedOp redop = RedOp::sum;
  bool inplace = false;
  int root = 0;
  CountsSpec counts{};  // alltoallv's per-pair counts
  std::string algo = "native";
  std::string p2p_api = "tag";
  int window = 1;
  // Pairwise ops: each rank's partner (-1: sits out), indexed by rank; empty: the default pairs
  // (r, r + n/2). With explicit partners the lower rank of a pair is the sender.
  std::vector<int> peers{};
  std::string mem = "host";  // resolved: the test's mem, or the backend's own
  int cuda_graph = 0;
  bool blocking = false;
  bool cpu_time = false;
  std::string nccl_algo = {};
  std::string nccl_proto = {};
  std::string label() const;  // "allreduce float32 sum out-of-place"
};

// Expand a test into the series `backend` can run on `nranks` ranks. Combinations that cannot
// run are skipped with a note; a test left with nothing to run is a UsageError.
std::vector<Series> expand(const TestSpec& test, const transports::Backend& backend, int nranks,
                           std::vector<std::string>& notes);

// Buffers for one series, sized for its largest size, owned by the backend's allocator.
class SeriesBuffers {
 public:
  SeriesBuffers(transports::Backend& backend, const Series& s, std::uint64_t max_bytes, int nranks, int rank);
  ~SeriesBuffers();
  SeriesBuffers(const SeriesBuffers&) = delete;
  SeriesBuffers& operator=(const SeriesBuffers&) = delete;
  // The op call for `layout` with this series' buffers.
  transports::OpCall call(const Series& s, const OpLayout& layout, int rank, int nranks) const;

 private:
  transports::Backend& backend_;
  void* send_ = nullptr;
  void* recv_ = nullptr;
  std::size_t send_bytes_ = 0, recv_bytes_ = 0;
};

// --batch auto: a timed sample lasts at least kAutoBatchTargetUs, so clock reads and the
// per-sample maximum over ranks stay near 1% of what is measured. An op that takes op_us (measured
// after the warm-up) runs the smallest power of two of times back to back per sample that reaches
// the target, at most kMaxAutoBatch: 1 for ops of 20 us or more, 2 for 10-20 us, 32 for 0.7 us.
// Powers of two make ops of nearly equal time get equal factors.
constexpr double kAutoBatchTargetUs = 20.0;
constexpr int kMaxAutoBatch = 1024;
int auto_batch(double op_us);

// The ranks that run the op when they are a sub-group of the ranks that time it (run --split):
// every group runs the op at once on its own sub-world; the job's world times the samples (a
// sample's time is the slowest rank of all groups), validates, and gathers the rows.
struct OpGroup {
  transports::World* world = nullptr;  // this rank's group; null: the op runs on all the ranks
  std::string spec;                    // the split as rows name it (Record::group)
  int ngroups = 1;
};

struct MeasureHooks {
  Watchdog* watchdog = nullptr;                    // may be null
  std::atomic<std::uint64_t>* progress = nullptr;  // bumped per sample and op; may be null
  // When set, rank 0 receives every rank's samples (rank-major, `iters` per rank, each the time
  // of one sample of the row's ops_per_sample ops, before any division): per-pair statistics.
  std::vector<double>* rank_samples = nullptr;
  // Appended to what the watchdog reports this measurement as (validate: the pairs of the round,
  // with their hosts, so that a hang names the link it hung on).
  std::string context;
  const OpGroup* group = nullptr;  // null: the op runs on every rank of the world
};

// Measure one size of one series on every rank (collective). Rank 0 gets the complete record;
// other ranks get a record without statistics. `wrong` is summed over ranks on every rank.
Record measure(transports::World& world, transports::Backend& backend, const TestSpec& test, const Series& s,
               std::uint64_t requested_bytes, SeriesBuffers& buffers, const MeasureHooks& hooks);

struct RunOutcome {
  std::uint64_t wrong = 0;
  int rows = 0;
};

// A test resolved against its backend: what will run, in order.
struct PreparedTest {
  const TestSpec* spec = nullptr;
  transports::Backend* backend = nullptr;
  std::vector<Series> series;
};

// Expand every test against the backend of its name among `backends` (notes collect the skipped
// combinations). Throws UsageError.
std::vector<PreparedTest> prepare_tests(const RunConfig& config,
                                        std::span<const std::unique_ptr<transports::Backend>> backends,
                                        int nranks, std::vector<std::string>& notes);

// Refuses (UsageError, before anything is allocated) a test whose buffers at its largest size
// would not fit this rank's share of its memory: "needs 3 x 64 GiB per rank, 22 GiB available".
// Buffers: send and receive (one in place), and one of scratch for fabricbench's own algorithms.
void check_memory(const std::vector<PreparedTest>& tests, int nranks, int rank, int ranks_on_host);

// Run prepared tests. Sinks (rank 0 only; empty elsewhere) receive each row as soon as it
// completes. The watchdog may be null. progress_mode: Progress::Mode on rank 0.
// With a group (run --split), `tests` are prepared for the group's size and backends made on the
// group's world, and the op runs in every group at once. `context` is appended to what the
// watchdog reports each measurement as (run --ranks: the stage, "--ranks k=2, stage 1/3").
RunOutcome run_tests(transports::World& world, const std::vector<PreparedTest>& tests,
                     const std::vector<Sink*>& sinks, Watchdog* watchdog, int progress_mode,
                     const OpGroup& group = {}, const std::string& context = {});

}  // namespace fb
