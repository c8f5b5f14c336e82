// What a run is asked to do, resolved from the command line and/or a plan file. Every rank
// resolves its own copy; the runner compares canonical() across ranks before any test runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collectives/dtype.hpp"
#include "collectives/op.hpp"
#include "vocab/counts.hpp"

namespace fb {

enum class Place { out, in, both };

// One test: a set of ops x dtypes x redops x placements swept over a size range.
struct TestSpec {
  std::string name;    // plan entry name, or "command line"
  std::string origin;  // "command line" or "plan.yaml:12", for error messages
  std::string backend = "mpi";
  std::vector<const OpDescriptor*> ops;
  std::string algo = "native";  // the library's collective, or an algorithm over point-to-point
                                // (by name, or "auto": chosen per op and size)
  std::uint64_t chunk = 0;      // algorithms' pipeline chunk in bytes; 0: their default
  std::uint64_t minbytes = 8;
  std::uint64_t maxbytes = 64ull << 20;
  double stepfactor = 2.0;
  std::uint64_t stepbytes = 0;  // > 0: arithmetic steps instead of the factor
  int iters = 20;
  int warmup = 5;
  int check = 1;
  int batch = 0;  // ops per timed sample; 0 = auto (auto_batch in harness/runner.hpp)
  std::vector<DType> dtypes{DType::float32};
  std::vector<RedOp> redops{RedOp::sum};
  int root = 0;
  // alltoallv's per-pair counts (--counts, its seed --seed; vocab/counts.hpp).
  CountsSpec counts;
  std::uint64_t seed = 1;
  Place place = Place::out;
  std::string p2p_api = "tag";  // pairwise ops over ucx: tag, put, am or get
  int window = 1;               // sendrecv/unidir/bidir: messages in flight per op
  std::string mem;              // buffer memory: host or cuda; "" = the backend's own
  // Device backends (nccl): ops per CUDA graph (0 = no graphs), a synchronisation after every
  // op, host-clock samples (enqueue to completion; nccl-tests' -C is enqueue_time), NCCL_ALGO / NCCL_PROTO.
  int cuda_graph = 0;
  bool blocking = false;
  bool cpu_time = false;
  bool sample_barrier = false;  // a barrier before every timed sample (OSU-style)
  std::string nccl_algo = {};
  std::string nccl_proto = {};
  // How samples are taken (harness/timing.hpp): "samples" (every sample timed, median of the
  // per-sample max over ranks) or "nccl-tests" (iters ops back to back on the host clock, one
  // synchronisation, combined over ranks by `average`). nccl-tests' -C, -G, -a, -m.
  std::string timing = "samples";
  bool enqueue_time = false;    // -C: time to enqueue, not to complete
  int graph_launches = 0;       // -G: launches of a graph of all iterations (nccl-tests timing)
  std::string average = "avg";  // -a: rank0, avg, min or max over ranks (nccl-tests timing)
  int group = 1;                // -m: ops per NCCL group

  // The sizes to run, in order (nccl-tests: min, then *factor or +step while <= max).
  std::vector<std::uint64_t> sizes() const;
};

struct RunConfig {
  std::vector<TestSpec> tests;
  std::string csv_path;
  std::string json_path;
  double timeout_s = 0;  // 0: no watchdog
  bool quiet = false;
  bool force = false;  // replace existing --csv/--json files
  int progress = 1;    // Progress::Mode: 0 off, 1 when stderr is a terminal, 2 always
  std::string command_line;
  std::string plan_path;
  std::string fabric;             // --fabric: predict every row with this fabric
  std::vector<std::string> sets;  // --set path=value overrides of the fabric

  // Canonical text of everything that must agree across ranks (not the output paths' presence
  // on other ranks, which only rank 0 uses, but their values too: a difference is a mistake).
  std::string canonical() const;
};

}  // namespace fb

namespace fb {

// The help of the per-test key `mem` (run's and validate's --mem): one text for both commands.
inline constexpr const char* kMemHelp =
    "buffer memory: host or cuda (default: host for mpi and ucx, cuda for nccl)";

// The per-test keys, shared by the command line (--KEY) and plan files (KEY:). Values are text
// as typed; lists are comma-separated. Throws UsageError "KEY: why ('value')" on bad input;
// `where` ("plan.yaml:12" or "command line") prefixes the message.
void apply_test_key(TestSpec& spec, const std::string& key, const std::string& value,
                    const std::string& where);
const std::vector<std::string>& test_keys();
// Cross-field checks (min <= max, factor > 1, ...), after all keys are applied.
void validate_test(const TestSpec& spec);

const char* place_name(Place p);

}  // namespace fb
