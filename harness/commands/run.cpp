// fabricbench run: the tests of the command line or a plan, under mpirun/srun, rows to the console
// and --csv/--json, each held against the fabric's prediction.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <limits>
#include <memory>
#include <span>

#include "collectives/p2p.hpp"
#include "harness/commands/mpi_command.hpp"
#include "harness/compare.hpp"
#include "harness/config.hpp"
#include "harness/fabric_lookup.hpp"
#include "harness/groups.hpp"
#include "harness/job.hpp"
#include "harness/plan.hpp"
#include "harness/progress.hpp"
#include "harness/runner.hpp"
#include "harness/soak.hpp"
#include "transports/backend.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

// One CLI option per per-test key; the value is kept as text and applied by apply_test_key so
// the command line and plan files share one parser.
struct TestOption {
  const char* flags;
  const char* key;
  const char* help;
};

constexpr TestOption kTestOptions[] = {
    {"--backend", "backend", "mpi, ucx or nccl (default mpi)"},
    {"--op", "op", "ops to run, comma-separated, or 'all' (default allreduce)"},
    {"--algo", "algo",
     "native (the library's collective, default), auto, or one of fabricbench's algorithms over "
     "point-to-point: "
     "ring (allreduce, allgather, reducescatter), recursive_doubling (allreduce, allgather), rabenseifner "
     "(allreduce), hierarchical (allreduce), recursive_halving (reducescatter), pairwise, bruck, linear "
     "(alltoall), binomial, chain (broadcast). auto's rule is at the end of this help"},
    {"--chunk", "chunk",
     "pipeline chunk of the algorithms: large messages move in chunks of this many bytes so reduction "
     "overlaps transfer (ring, chain, and every reducing step); 0 = 256K (default; pairwise and linear "
     "all-to-all then send one message per block)"},
    {"-b,--minbytes", "minbytes", "smallest size: 8, 4K, 16MiB, 1G, ... (default 8)"},
    {"-e,--maxbytes", "maxbytes", "largest size (default 64M)"},
    {"-f,--stepfactor", "stepfactor", "multiply the size by this each step (default 2)"},
    {"-i,--stepbytes", "stepbytes", "add this many bytes each step instead of -f"},
    {"-n,--iters", "iters", "timed samples per size (default 20)"},
    {"-w,--warmup", "warmup", "untimed ops before timing (default 5)"},
    {"-c,--check", "check", "validated ops per size, 0 to skip validation (default 1)"},
    {"--batch", "batch",
     "ops per timed sample, or 'auto': ops under 20 us run back to back, a power of two of them, so a sample "
     "lasts at least 20 us (decided from the fastest of 3 ops timed after the warm-up; default auto)"},
    {"-d,--dtype,--datatype", "dtype",
     "int8 uint8 int32 uint32 int64 uint64 float16 bfloat16 float32 float64, list or all (default float32)"},
    {"-o,--redop", "redop", "sum prod min max, list or all (default sum)"},
    {"-r,--root", "root", "root rank of broadcast, reduce, gather and scatter (default 0)"},
    {"--counts", "counts",
     "alltoallv's per-pair counts: uniform (default), zipf:S (destination popularity 1/k^S), hot:K:F (K hot "
     "destinations carry fraction F), matrix:FILE (n rows of n weights); scaled so the average per-rank send "
     "is the size. moe_dispatch/moe_combine: the routing over their experts (docs/moe.md)"},
    {"--seed", "seed", "seed of the --counts ranking (zipf, hot); the same on every rank (default 1)"},
    // The MoE ops (docs/moe.md); --counts is their routing over the experts.
    {"--tokens", "tokens",
     "moe_dispatch/moe_combine: tokens per rank; runs one size (default: from -b/-e, the bytes each rank "
     "sends = tokens x topk x hidden x dtype size)"},
    {"--hidden", "hidden", "moe_dispatch/moe_combine: elements per token (default 1024)"},
    {"--topk", "topk", "moe_dispatch/moe_combine: experts per token, 1..32 (default 2)"},
    {"--experts-per-rank", "experts_per_rank", "moe_dispatch/moe_combine: experts on each rank (default 4)"},
    {"--place", "place", "out-of-place, in-place or both (also: out, in; default out-of-place)"},
    {"--p2p-api", "p2p_api",
     "sendrecv/unidir/bidir/pingpong over ucx: tag (default), put (RMA with a completion flag), am (active "
     "messages) or get (what the algorithms do: shared-memory get on one host, tag otherwise)"},
    {"--window", "window",
     "sendrecv/unidir/bidir: messages in flight per op, >= 1; times are reported per message (default 1)"},
    {"--mem", "mem", kMemHelp},
    {"--cuda-graph", "cuda_graph",
     "nccl: capture N ops in one CUDA graph and time its replays (one sample = N ops; 0 = off, default)"},
    {"--nccl-algo", "nccl_algo",
     "nccl: NCCL_ALGO for the communicator: Ring, Tree, NVLS, NVLSTree, CollnetDirect, CollnetChain, PAT, a "
     "list, ^ to exclude (default: NCCL chooses)"},
    {"--nccl-proto", "nccl_proto",
     "nccl: NCCL_PROTO: LL, LL128, Simple, a list, ^ to exclude (default: NCCL chooses)"},
    // nccl-tests' timing and flags, with nccl-tests' meaning (docs/nccl.md).
    {"--timing", "timing",
     "samples (default: each of -n samples timed, median of the slowest rank per sample) or nccl-tests "
     "(-n ops back to back on the host clock, one synchronisation, combined over ranks by -a); rows say "
     "which"},
    {"-z", "blocking", "nccl-tests' -z 0/1: 1 waits for every op before enqueueing the next (= --blocking)"},
    {"-C", "enqueue_time",
     "nccl-tests' -C 0/1: 1 reports the time to enqueue the ops, not to complete them (nccl)"},
    {"-G", "graph_launches",
     "nccl-tests' -G N: capture all -n iterations in one CUDA graph and launch it N times (needs --timing "
     "nccl-tests; nccl)"},
    {"-a", "average",
     "nccl-tests' -a 0/1/2/3: rank0, avg (default), min or max of the ranks' times (needs --timing "
     "nccl-tests)"},
    {"-m", "group",
     "nccl-tests' -m N: N ops per NCCL group (ncclGroupStart/End), time per op (nccl; default 1)"},
};

// Per-test keys that are switches on the command line (--KEY) and true/false in plan files.
constexpr TestOption kTestFlags[] = {
    {"--blocking", "blocking", "nccl: wait for every op before enqueueing the next; default: stream order"},
    {"--cpu-time", "cpu_time",
     "nccl: time samples with the host clock, enqueue to completion, not CUDA events (nccl-tests' -C times "
     "the enqueue only: -C 1)"},
    {"--sample-barrier", "sample_barrier",
     "a barrier before every timed sample (as OSU's collective benchmarks): each sample times ops started "
     "together on all ranks, not back-to-back ops that drift apart (default off, as nccl-tests; validate: "
     "on)"},
};

class RunCommand final : public MpiCommand {
 public:
  CLI::App* add_to(CLI::App& app) override {
    CLI::App* run = app.add_subcommand("run", "Run tests under mpirun/srun and write results");
    run->footer(std::string("--algo ") + kAutoRule + ".");
    for (std::size_t i = 0; i < std::size(kTestOptions); ++i)
      options_.push_back(
          run->add_option(kTestOptions[i].flags, values_[i], kTestOptions[i].help)->type_name("VALUE"));
    for (std::size_t i = 0; i < std::size(kTestFlags); ++i) {
      flag_holders_.push_back(std::make_unique<bool>(false));  // CLI11 keeps a pointer to it
      flag_options_.push_back(run->add_flag(kTestFlags[i].flags, *flag_holders_.back(), kTestFlags[i].help));
    }
    RunConfig& cfg = cfg_;
    run->add_option("--plan", cfg.plan_path,
                    "YAML plan: a list of tests with the same keys; a file or a name in configs/plans/ "
                    "(quick, ci, default)");
    run->add_option("--csv", cfg.csv_path, "write rows as CSV to this file");
    run->add_option("--json", cfg.json_path, "write run metadata, rows and samples as JSON to this file");
    run->add_flag("--force", cfg.force, "replace --csv/--json files that exist (refused otherwise)");
    timeout_opt_ = run->add_option(
        "--timeout", timeout_text_,
        "seconds without progress after which the job ends with exit code 3 (0 = off, default)");
    run->add_flag("-q,--quiet", cfg.quiet, "no console table and no progress line (files are still written)");
    run->add_option(
        "--fabric", cfg.fabric,
        "fabric file or name (configs/fabrics/): predict every row; default localhost on one host");
    run->add_option("--set", cfg.sets,
                    "override a fabric field: --set scale_up.bandwidth_GBps=900 (repeatable)");
    add_soak_options(*run);
    split_opt_ =
        run->add_option("--split", split_text_,
                        "run the ops in sub-groups of the ranks, every group at once (as nccl-tests' "
                        "NCCL_TESTS_SPLIT): node (ranks sharing a host), rail (the same local rank "
                        "across hosts), stride:K (rank mod K), mask:0xM (rank & M); also div:K, "
                        "or:0xM and nccl-tests' %K &0xM /K |0xM (docs/split.md)")
            ->type_name("SPLIT");
    ranks_opt_ = run->add_option("--ranks", ranks_text_,
                                 "run each test on the first k ranks for each k (the others wait), as IMB's "
                                 "-npmin: a list 2,4,8 or a range 2:N (2, 4, 8, ... below N, then N; N may "
                                 "be max); rows carry nranks = k; with --split each k-prefix is split")
                     ->type_name("LIST");
    run->add_flag("--no-progress", no_progress_, "no progress line on stderr");
    run->add_flag("--progress", force_progress_,
                  "show the progress line even when stderr is not a terminal (mpirun gives ranks a pipe)");
    return run;
  }

  void resolve(const std::string& command_line) override {
    RunConfig& cfg = cfg_;
    cfg.command_line = command_line;
    cfg.progress = no_progress_ || cfg.quiet ? Progress::off : force_progress_ ? Progress::on : Progress::tty;
    if (timeout_opt_->count() > 0) cfg.timeout_s = parse_timeout_s(timeout_text_);
    resolve_soak();
    resolve_groups();

    if (!cfg.csv_path.empty() && cfg.csv_path == cfg.json_path)
      throw UsageError("command line: --csv and --json name the same file '" + cfg.csv_path + "'");

    KeyValues given;
    for (std::size_t i = 0; i < std::size(kTestOptions); ++i)
      if (options_[i]->count() > 0) given.emplace_back(kTestOptions[i].key, values_[i]);
    for (std::size_t i = 0; i < std::size(kTestFlags); ++i)
      if (flag_options_[i]->count() > 0) given.emplace_back(kTestFlags[i].key, "true");

    if (!cfg.plan_path.empty()) {
      cfg.tests = load_plan(cfg.plan_path, given);
    } else {
      TestSpec spec;
      spec.name = "command line";
      spec.origin = "command line";
      spec.ops = {find_op("allreduce")};
      for (const auto& [k, v] : given) apply_test_key(spec, k, v, "command line");
      validate_test(spec);
      cfg.tests.push_back(std::move(spec));
    }
    for (const auto& t : cfg.tests)
      if (!transports::find_backend(t.backend))
        throw UsageError(t.origin + ": backend: unknown backend '" + t.backend + "' (known: mpi, ucx, nccl)");
  }

 protected:
  std::string canonical() const override {
    return cfg_.canonical() + soak_.canonical() + "split=" + split_.name() + "\nranks=" + ranks_text_ + "\n";
  }
  std::string command_line() const override { return cfg_.command_line; }
  double timeout_s() const override { return cfg_.timeout_s; }

  void prepare(Job& job) override {
    transports::World& world = job.world;
    const RunConfig& cfg = cfg_;
    if (split_.kind != SplitSpec::Kind::none || ranks_given_) {
      prepare_stages(job);
    } else {
      step(world, [&] { job.backends = make_backends(world); });
    }
    // The fabric the rows are held against: --fabric, else localhost on a single host.
    step(world, [&] {
      if (!cfg.fabric.empty()) {
        job.fabric = load_fabric_for_cli(cfg.fabric, cfg.sets);
      } else if (world.nnodes() == 1) {
        try {
          job.fabric = load_fabric_for_cli("localhost", cfg.sets);
        } catch (const UsageError& e) {
          if (!cfg.sets.empty()) throw;  // a --set for a fabric that is not there
          if (job.root)
            error_line(std::string("warning: no model_* columns: the default fabric is missing (") +
                       e.what() + "); give --fabric");
        }
      } else if (!cfg.sets.empty()) {
        throw UsageError("--set needs --fabric on a multi-host run");
      }
    });
    if (!stages_.empty()) return;
    std::vector<std::string> notes;
    step(world, [&] {
      tests_ = prepare_tests(cfg, job.backends, world.size(), notes);
      check_memory(tests_, world.size(), world.rank(), world.max_ranks_per_node());
    });
    print_notes(job, notes);
  }

  void print_notes(const Job& job, const std::vector<std::string>& notes) const {
    if (job.root && !cfg_.quiet)
      for (const auto& n : notes) error_line("note: " + n);
  }

  // One backend per backend the tests name, made on `world` (collective over it).
  std::vector<std::unique_ptr<transports::Backend>> make_backends(transports::World& world) const {
    std::vector<std::string> names;
    for (const auto& t : cfg_.tests)
      if (std::find(names.begin(), names.end(), t.backend) == names.end()) names.push_back(t.backend);
    std::vector<std::unique_ptr<transports::Backend>> out;
    for (const auto& n : names) out.push_back(transports::make_backend(n, world));
    return out;
  }

  // --ranks: a stage per count k, on the first k ranks (the others wait); --split: the ranks of
  // each stage cut into groups that run at once (one stage without --ranks). Every stage's
  // backends are made before any test runs, on its groups' communicators, and go into the job's
  // backends (the inventory lists them, the watchdog aborts them); job.stages describes them.
  void prepare_stages(Job& job) {
    transports::World& world = job.world;
    std::vector<int> counts{world.size()};
    if (ranks_given_) step(world, [&] { counts = parse_rank_counts(ranks_text_, world.size()); });
    std::vector<std::string> notes;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      const int k = counts[i];
      Stage stage;
      StageMeta meta;
      meta.label = ranks_given_ ? "--ranks k=" + std::to_string(k) : "";
      if (split_.kind != SplitSpec::Kind::none)
        meta.label += std::string(ranks_given_ ? " " : "") + "--split " + split_.name();
      meta.nranks = meta.group_size = k;
      meta.ranks = k == 1 ? "0" : "0-" + std::to_string(k - 1);
      meta.group = split_.name();
      stage.context =
          meta.label +
          (counts.size() > 1 ? ", stage " + std::to_string(i + 1) + "/" + std::to_string(counts.size()) : "");
      if (ranks_given_) {
        sub_worlds_.push_back(world.split(world.rank() < k ? 0 : -1));
        stage.world = sub_worlds_.back().get();
      } else {
        stage.world = &world;
      }
      if (split_.kind != SplitSpec::Kind::none) stage.group = split_stage(world, stage.world, meta);
      transports::World* op_world = stage.group.world ? stage.group.world : stage.world;
      const std::size_t first = job.backends.size();
      step(world, [&] {
        if (!op_world) return;
        for (auto& b : make_backends(*op_world)) job.backends.push_back(std::move(b));
        const std::span<const std::unique_ptr<transports::Backend>> mine(job.backends.begin() + first,
                                                                         job.backends.end());
        for (const auto& b : mine) meta.backends.push_back(b->name() + ": " + b->version());
        stage.tests = prepare_tests(cfg_, mine, op_world->size(), notes);
        check_memory(stage.tests, op_world->size(), op_world->rank(), world.max_ranks_per_node());
      });
      job.stages.push_back(std::move(meta));
      stages_.push_back(std::move(stage));
    }
    std::sort(notes.begin(), notes.end());
    notes.erase(std::unique(notes.begin(), notes.end()), notes.end());
    print_notes(job, notes);
  }

  // --split within a stage: this rank's group of the stage's ranks (`stage`; null: not in the
  // stage), refused (on every rank, exit code 2) when the groups are not all of one size.
  // Collective over the job's world.
  OpGroup split_stage(transports::World& world, transports::World* stage, StageMeta& meta) {
    const int color = stage ? split_color(split_, world.rank(), world.local_rank(), world.node()) : -1;
    OpGroup group;
    if (stage) {
      sub_worlds_.push_back(stage->split(color));
      group = OpGroup{sub_worlds_.back().get(), split_.name(), 0};
      group.ngroups = static_cast<int>(stage->allreduce_sum(group.world->rank() == 0));
      meta.ngroups = group.ngroups;
      meta.group_size = group.world->size();
    }
    // The group sizes, seen by rank 0 (the first rank of every stage), refused there.
    step(
        world,
        [&] {
          const std::vector<double> all = world.gather({static_cast<double>(color)}, 0);
          std::vector<int> colours(all.begin(), all.end());
          if (const std::string why = unequal_groups_error(group_sizes(colours)); !why.empty())
            throw UsageError(meta.label + " on " + std::to_string(meta.nranks) + " ranks: " + why);
        },
        true);
    return group;
  }

  std::uint64_t run_stages(Job& job, Watchdog& watchdog) {
    std::uint64_t wrong = 0;
    for (const Stage& stage : stages_) {
      if (stage.world)
        wrong += run_tests(*stage.world, stage.tests, {&job.rows}, &watchdog, cfg_.progress, stage.group,
                           stage.context)
                     .wrong;
      watchdog.enter("waiting for the ranks of " + stage.context, true);
      job.world.barrier();
    }
    return static_cast<std::uint64_t>(job.world.allreduce_max(static_cast<double>(wrong)));
  }

  void open_outputs(Job& job) override {
    FileSinks files = open_file_sinks(cfg_.csv_path, cfg_.json_path, cfg_.force);
    if (!cfg_.quiet && soak_.active()) job.outputs.add(make_soak_console_sink(std::cout));
    if (!cfg_.quiet) job.outputs.add(make_console_sink(std::cout, ConsoleOptions{!cfg_.fabric.empty()}));
    if (!cfg_.quiet) job.outputs.add(make_summary_sink(std::cout));
    for (auto& s : files.sinks) job.outputs.add(std::move(s));
  }

  int run_measurements(Job& job, Watchdog& watchdog) override {
    if (soak_.active()) {
      DriftSink drift(job.rows, soak_, std::cerr);
      const SoakOutcome out = run_soak(job.world, tests_, drift, &watchdog, cfg_.progress, soak_);
      wrong_ = out.wrong;
      drifts_ = out.drifts;
    } else if (!stages_.empty()) {
      wrong_ = run_stages(job, watchdog);
    } else {
      wrong_ = run_tests(job.world, tests_, {&job.rows}, &watchdog, cfg_.progress).wrong;
    }
    if (wrong_) return exit_code::wrong_data;
    return drifts_ > 0 && soak_.fail_on_drift ? exit_code::drift : exit_code::ok;
  }

  int conclude(Job& job, int code) override {
    if (job.root) job.rows.end(wrong_ ? "wrong-data" : "ok");
    if (wrong_ && job.root)
      error_line("validation failed: " + std::to_string(wrong_) + " wrong elements (see the wrong column)");
    if (drifts_ > 0 && soak_.fail_on_drift && job.root)
      error_line("soak: " + std::to_string(drifts_) + " drifts against cycle 1 (--fail-on-drift)");
    return code;
  }

  // The stages' tests go before the job's backends; the sub-worlds stay until the command goes (the
  // job's backends, released after this, were made on them).
  void release() override {
    tests_.clear();
    stages_.clear();
  }

  void resolve_groups() {
    if (split_opt_->count() > 0) split_ = parse_split(split_text_);
    if ((split_opt_->count() > 0 || ranks_opt_->count() > 0) && soak_.active())
      throw UsageError("command line: --split and --ranks cannot be combined with --cycles/--duration");
    ranks_given_ = ranks_opt_->count() > 0;  // the options go with the parser, before prepare()
    if (ranks_given_) parse_rank_counts(ranks_text_, std::numeric_limits<int>::max());
  }

  // --cycles/-N, --duration, --drift, --fail-on-drift (harness/soak.hpp).
  void add_soak_options(CLI::App& run) {
    cycles_opt_ =
        run.add_option("-N,--cycles", soak_.cycles,
                       "soak: run the whole plan K times (0: until --duration or a signal, as nccl-tests' -N "
                       "0), rows tagged with their cycle, each row's p50 held against cycle 1 (drift)")
            ->type_name("K");
    duration_opt_ =
        run.add_option("--duration", duration_text_,
                       "soak: repeat the whole plan until this time has passed (90s, 30m, 2h); the "
                       "cycle under way completes")
            ->type_name("TIME");
    drift_opt_ =
        run.add_option("--drift", drift_text_,
                       "soak: a row whose p50 moved more than this against cycle 1 drifted, as compare "
                       "judges it (default 10%)")
            ->type_name("PCT");
    run.add_flag("--fail-on-drift", soak_.fail_on_drift,
                 "soak: exit 1 when a row drifted (default: report only)");
  }

  void resolve_soak() {
    soak_.cycles_given = cycles_opt_->count() > 0;
    if (soak_.cycles_given && soak_.cycles < 0)
      throw UsageError("command line: cycles: expected a number of cycles >= 0 (0: until stopped), got " +
                       std::to_string(soak_.cycles));
    if (duration_opt_->count() > 0) soak_.duration_s = parse_duration_s(duration_text_);
    if (drift_opt_->count() > 0) soak_.drift_pct = parse_threshold_pct(drift_text_, "drift");
    if (!soak_.active() && (drift_opt_->count() > 0 || soak_.fail_on_drift))
      throw UsageError("command line: --drift and --fail-on-drift need --cycles or --duration");
  }

 private:
  RunConfig cfg_;
  std::vector<std::string> values_ = std::vector<std::string>(std::size(kTestOptions));
  std::vector<std::unique_ptr<bool>> flag_holders_;
  std::vector<CLI::Option*> options_;
  std::vector<CLI::Option*> flag_options_;
  std::string timeout_text_;
  CLI::Option* timeout_opt_ = nullptr;
  bool no_progress_ = false, force_progress_ = false;
  std::vector<PreparedTest> tests_;
  std::uint64_t wrong_ = 0;
  SoakOptions soak_;
  std::string duration_text_, drift_text_;
  CLI::Option *cycles_opt_ = nullptr, *duration_opt_ = nullptr, *drift_opt_ = nullptr;
  int drifts_ = 0;
  // --split / --ranks (harness/groups.hpp).
  struct Stage {
    transports::World* world = nullptr;  // the stage's ranks, which time it; null: not in this stage
    OpGroup group;                       // --split: this rank's group of them, all groups at once
    std::vector<PreparedTest> tests;     // on the stage's backends (in the job's)
    std::string context;                 // what the watchdog names: "--ranks k=2, stage 1/3"
  };
  std::string split_text_, ranks_text_;
  CLI::Option *split_opt_ = nullptr, *ranks_opt_ = nullptr;
  bool ranks_given_ = false;
  SplitSpec split_;
  std::vector<std::unique_ptr<transports::World>> sub_worlds_;
  std::vector<Stage> stages_;
};

}  // namespace

std::unique_ptr<Command> make_run_command() {
  return std::make_unique<RunCommand>();
}

}  // namespace fb
