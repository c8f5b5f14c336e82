// fabricbench validate: the command (harness/validate.hpp has the options and the checks): the pair
// matrix, the collectives, each held against the model, and the verdict.
#include "harness/validate.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "harness/commands/mpi_command.hpp"
#include "harness/fabric_lookup.hpp"
#include "harness/job.hpp"
#include "harness/plan.hpp"
#include "harness/results_reader.hpp"
#include "harness/runner.hpp"
#include "harness/stats.hpp"
#include "harness/validate_collisions.hpp"
#include "harness/validate_console.hpp"
#include "harness/validate_pairs.hpp"
#include "harness/validate_verdict.hpp"
#include "harness/watchdog.hpp"
#include "model/flows.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {
namespace {

// Keeps rank 0's collective rows for the verdict (the pair rounds' rows, model_algo flows/...,
// go to the files only) and prints each in the console's collectives table as it completes.
class RowCollector final : public Sink {
 public:
  RowCollector(std::vector<Record>& rows, std::mutex& mu, const ValidateOptions& o,
               const ValidateConsole* console)
      : rows_(rows), mu_(mu), o_(o), console_(console) {}
  void begin(const RunMeta&) override {}
  void row(const Record& r) override {
    if (r.model_algo.rfind("flows/", 0) == 0) return;
    {
      std::lock_guard<std::mutex> g(mu_);
      rows_.push_back(r);
    }
    if (!console_) return;
    const bool bits = r.nnodes > 1;
    if (!headed_) std::cout << "#\n" << console_->collective_header(bits);
    headed_ = true;
    std::cout << console_->collective_line(grade_collective(r, o_), bits) << std::flush;
  }
  void end(const std::string&) override {}

 private:
  std::vector<Record>& rows_;
  std::mutex& mu_;
  const ValidateOptions& o_;
  const ValidateConsole* console_;
  bool headed_ = false;
};

class ValidateCommand final : public MpiCommand {
 public:
  CLI::App* add_to(CLI::App& app) override {
    ValidateOptions& vo = o_;
    CLI::App* validate = app.add_subcommand("validate",
                                            "Validate a rack under mpirun: all-pairs matrix, collectives, "
                                            "model, transports; exit 0 pass, 1 fail");
    validate->footer(
        "Thresholds: a measurement passes when ratio >= the pass threshold, warns between the warn and pass\n"
        "thresholds, fails below the warn threshold. Bandwidth ratio = measured / model bandwidth (pairs:\n"
        "bidir at --bw-bytes against the round's concurrent flows; collectives: model time / measured "
        "time);\n"
        "latency ratio = model latency / measured pingpong latency. A pair also fails when its transport is\n"
        "not what the fabric implies (shared memory inside a host, scale_out.transport between hosts) or "
        "its\n"
        "round saw wrong data. A bandwidth or collective ratio above --max-ratio is a warning (WARN line, "
        "verdict\n"
        "WARN, exit 0): faster than the model allows, the model may be wrong. The verdict names the worst "
        "links\n"
        "(host:rank pairs) and the hosts most of whose pairs fail; pairs that lose bandwidth only to a flow\n"
        "collision (--flow-paths) and pass alone are a warning, not a suspect. Exit codes: 0 pass (warnings\n"
        "allowed), 1 "
        "fail, 2 bad input (a fabric that does not fit the job), 3 a rank died, a timeout or a library "
        "error\n"
        "(rows so far are kept; a hang still ends with a verdict line naming the suspect host or link).\n"
        "docs/validate.md has the console's tables and units.");
    validate->add_option("--fabric", vo.fabric, "fabric file or name in configs/fabrics/ (required)")
        ->required();
    validate->add_option("--set", vo.sets, "override a fabric field (repeatable)");
    validate->add_option(
        "--plan", vo.plan_path,
        "YAML plan of the collectives to hold against the model (default: allreduce ring and "
        "alltoall pairwise at 1M and 4M, 5 iterations)");
    validate->add_option(
        "--backend", vo.backend,
        "mpi, ucx or nccl (default: ucx when compiled in, else mpi); applies to the plan too");
    validate->add_option("--mem", vo.mem, kMemHelp)->type_name("VALUE");
    validate->add_option("--bw-bytes", bw_bytes_text,
                         "message size of the pair bandwidth test, bidir (default 1M)");
    validate->add_option("--lat-bytes", lat_bytes_text,
                         "message size of the pair latency test, pingpong (default 8)");
    validate->add_option("-n,--iters", vo.iters,
                         "timed samples per pair measurement (default 5; latency: 4x, at least 20)");
    validate->add_option("-w,--warmup", vo.warmup, "untimed ops before each pair measurement (default 1)");
    validate->add_flag(
        "--pairs-alone", vo.pairs_alone,
        "test each pair alone, one at a time (n(n-1)/2 rounds), instead of rounds of disjoint pairs");
    validate->add_flag("--no-pairs", vo.no_pairs, "skip the pair matrix");
    validate->add_flag("--no-collectives", vo.no_collectives, "skip the collectives");
    validate->add_flag("--no-transport-check", vo.no_transport_check,
                       "report transports but do not fail on them");
    validate->add_option("--bw-pass", vo.bw_pass, "bandwidth pass threshold, measured/model (default 0.85)");
    validate->add_option("--bw-warn", vo.bw_warn,
                         "bandwidth warn threshold: below it a measurement fails (default 0.70)");
    validate->add_option("--lat-pass", vo.lat_pass, "latency pass threshold, model/measured (default 0.5)");
    validate->add_option("--lat-warn", vo.lat_warn,
                         "latency warn threshold: below it a pair fails (default 0.25)");
    validate->add_option(
        "--max-ratio", vo.max_ratio,
        "upper bound: a pair's bandwidth or a collective faster than the model by more than this "
        "ratio is a warning that the model may be wrong; exit code unchanged (default 1.25, 0 = "
        "off)");
    validate->add_option("--matrix-csv", vo.matrix_csv, "write the pair matrix (one line per pair) as CSV");
    validate->add_option("--csv", vo.csv_path,
                         "write the rounds' and collectives' rows as CSV (results schema)");
    validate->add_option("--json", vo.json_path, "write them as JSON");
    validate->add_flag("--force", vo.force,
                       "replace --csv/--json/--matrix-csv files that exist (refused otherwise)");
    validate->add_option("--timeout", v_timeout_text,
                         "seconds without progress after which the job ends with exit code 3 and a verdict "
                         "naming the suspects "
                         "(default 120, 0 = off)");
    validate->add_flag("-q,--quiet", vo.quiet, "only the verdict line");
    validate->add_option(
        "--flow-paths", flow_paths_file_,
        "the links each host-to-host flow crosses (JSON, harness/validate_collisions.hpp): "
        "pairs that lose bandwidth together on a shared link are named and measured alone "
        "(default: $FABRICBENCH_FLOW_PATHS, which scripts/emufab exec sets on a routed fabric)");
    return validate;
  }

  void resolve(const std::string& command_line) override {
    ValidateOptions& vo = o_;
    vo.command_line = command_line;
    auto size_of = [](const char* key, const std::string& text) {
      std::uint64_t v = 0;
      try {
        v = parse_bytes(text);
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("command line: ") + key + ": " + e.what());
      }
      if (v == 0) throw UsageError(std::string("command line: ") + key + ": must be at least 1 byte");
      return v;
    };
    vo.bw_bytes = size_of("bw-bytes", bw_bytes_text);
    vo.lat_bytes = size_of("lat-bytes", lat_bytes_text);
    if (vo.iters < 1) throw UsageError("command line: iters: must be at least 1");
    if (vo.warmup < 0) throw UsageError("command line: warmup: must be at least 0");
    for (auto [key, pass, warn] : {std::tuple<const char*, double, double>{"bw", vo.bw_pass, vo.bw_warn},
                                   {"lat", vo.lat_pass, vo.lat_warn}})
      if (!(warn >= 0 && warn <= pass && pass <= 10))
        throw UsageError(fmt::format(
            "command line: --{0}-pass {1} and --{0}-warn {2}: need 0 <= warn <= pass", key, pass, warn));
    if (!(vo.max_ratio == 0 || (vo.max_ratio >= 1 && vo.max_ratio <= 1e6)))
      throw UsageError(
          fmt::format("command line: --max-ratio {}: need 0 (off) or a ratio >= 1", vo.max_ratio));
    if (!vo.mem.empty()) {
      TestSpec probe;  // the same parser as run's --mem and the plans' mem key
      apply_test_key(probe, "mem", vo.mem, "command line");
    }
    vo.timeout_s = parse_timeout_s(v_timeout_text);
    if (vo.backend.empty()) {
      const auto* ucx = transports::find_backend("ucx");
      vo.backend = ucx && ucx->factory ? "ucx" : "mpi";
    }
    if (!transports::find_backend(vo.backend))
      throw UsageError("command line: backend: unknown backend '" + vo.backend + "' (known: mpi, ucx, nccl)");
    const std::vector<std::string> outs{vo.csv_path, vo.json_path, vo.matrix_csv};
    for (std::size_t i = 0; i < outs.size(); ++i)
      for (std::size_t j = i + 1; j < outs.size(); ++j)
        if (!outs[i].empty() && outs[i] == outs[j])
          throw UsageError("command line: two outputs name the same file '" + outs[i] + "'");
    if (!vo.plan_path.empty()) {
      // validate times every collective sample from a barrier: the model predicts one op that
      // starts together on all ranks, not back-to-back ops drifting into each other.
      KeyValues overrides{{"backend", vo.backend}, {"sample_barrier", "true"}};
      if (!vo.mem.empty()) overrides.emplace_back("mem", vo.mem);
      vo.tests = load_plan(vo.plan_path, overrides);
    } else {
      vo.tests = default_validate_tests(vo.backend, vo.mem);
    }
  }

 protected:
  std::string canonical() const override { return o_.canonical(); }
  bool name_differing_line() const override { return false; }
  std::string error_prefix() const override { return "validate: "; }
  std::string command_line() const override { return o_.command_line; }
  double timeout_s() const override { return o_.timeout_s; }

  void prepare(Job& job) override {
    transports::World& world = job.world;
    const ValidateOptions& o = o_;
    const int n = world.size();
    step(
        world,
        [&] {
          job.fabric = load_fabric_for_cli(o.fabric, o.sets);
          if (auto why = placement_mismatch(*job.fabric, world.hostnames())) throw UsageError(*why);
          if (!flow_paths_file_.empty())
            flow_paths_ = load_flow_paths(flow_paths_file_);
          else
            flow_paths_ = flow_paths_from_env();
        },
        /*root_only=*/true);
    step(world, [&] { job.backends.push_back(transports::make_backend(o.backend, world)); });
    std::vector<std::string> notes;
    step(world, [&] {
      // The pair measurements: bidir for bandwidth, pingpong for latency.
      for (int k = 0; k < 2; ++k) {
        TestSpec& t = pair_specs_[static_cast<std::size_t>(k)];
        t.name = k == 0 ? "pair bandwidth" : "pair latency";
        t.origin = "the pair tests";
        t.backend = o.backend;
        t.ops = {find_op(k == 0 ? "bidir" : "pingpong")};
        t.minbytes = t.maxbytes = k == 0 ? o.bw_bytes : o.lat_bytes;
        t.iters = k == 0 ? o.iters : std::max(20, 4 * o.iters);
        t.warmup = std::max(o.warmup, k == 0 ? 0 : 2);
        t.check = 1;
        t.dtypes = {DType::uint8};
        t.mem = o.mem;
        // The series as run would expand it: the memory resolved (the backend's own unless --mem)
        // and checked against what the backend can run.
        pair_series_[static_cast<std::size_t>(k)] = expand(t, *job.backends.front(), n, notes).at(0);
      }
      if (!o.no_collectives) {
        coll_config_.tests = o.tests;
        tests_ = prepare_tests(coll_config_, job.backends, n, notes);  // points into coll_config_
        check_memory(tests_, n, world.rank(), world.max_ranks_per_node());
      }
    });
    if (job.root && !o.quiet)
      for (const auto& note : notes) error_line("note: " + note);
  }

  void open_outputs(Job& job) override {
    const ValidateOptions& o = o_;
    FileSinks files = open_file_sinks(o.csv_path, o.json_path, o.force, {o.matrix_csv});
    try {
      if (!o.matrix_csv.empty()) matrix_ = std::make_unique<MatrixWriter>(o.matrix_csv);
    } catch (...) {
      files.remove();
      throw;
    }
    console_ = std::make_unique<ValidateConsole>(o, job.world.hostnames());
    job.outputs.add(
        std::make_unique<RowCollector>(collected_, results_mu_, o, o.quiet ? nullptr : console_.get()));
    for (auto& s : files.sinks) job.outputs.add(std::move(s));
  }

  int run_measurements(Job& job, Watchdog& watchdog) override {
    MeasureHooks hooks;
    hooks.watchdog = &watchdog;
    hooks.progress = watchdog.progress();

    // ---- the pair matrix ----
    const Rounds rounds = pair_rounds(job.world.size(), o_);
    if (job.root && !o_.quiet) print_header(job, rounds);
    PairProbes probes = pair_probes(job);
    for (std::size_t ri = 0; ri < rounds.size(); ++ri) measure_round(job, hooks, probes, rounds, ri);
    recheck_alone(job, hooks, probes);

    // ---- the collectives ----
    if (!tests_.empty()) run_tests(job.world, tests_, {&job.rows}, &watchdog, 0);
    return 0;
  }

  using Rounds = PairRounds;

  void print_header(Job& job, const Rounds& rounds) const {
    transports::World& world = job.world;
    const ValidateOptions& o = o_;
    const int n = world.size();
    const model::Fabric& f = *job.fabric;
    std::cout << fmt::format("# validate: fabric {} ({}), {} ranks on {} hosts ({} per host), backend {}\n",
                             f.name, f.source, n, world.nnodes(), world.max_ranks_per_node(),
                             job.backends.front()->name())
              << (rounds.empty()
                      ? std::string()
                      : fmt::format("# pair matrix: {} pairs in {} {}\n", n * (n - 1) / 2, rounds.size(),
                                    o.pairs_alone ? "rounds of one pair (--pairs-alone)"
                                                  : "rounds of disjoint pairs"))
              << (rounds.empty() ? std::string() : "#\n" + console_->pair_header()) << std::flush;
  }

  // The two pair measurements (bidir, pingpong) and their buffers, allocated once for all rounds.
  struct PairProbes {
    std::vector<Series> series;
    std::vector<std::unique_ptr<SeriesBuffers>> buffers;
  };

  PairProbes pair_probes(Job& job) const {
    PairProbes probes;
    for (std::size_t k = 0; k < pair_specs_.size(); ++k) {
      const TestSpec& t = pair_specs_[k];
      const Series& s = pair_series_[k];
      probes.series.push_back(s);
      probes.buffers.push_back(std::make_unique<SeriesBuffers>(*job.backends.front(), s, t.maxbytes,
                                                               job.world.size(), job.world.rank()));
    }
    return probes;
  }

  // One round: its pairs measured together (bandwidth, then latency), graded on rank 0.
  void measure_round(Job& job, MeasureHooks& hooks, PairProbes& probes, const Rounds& rounds,
                     std::size_t ri) {
    transports::World& world = job.world;
    transports::Backend& backend = *job.backends.front();
    const int n = world.size();
    std::vector<int> peers(static_cast<std::size_t>(n), -1);
    for (auto [a, b] : rounds[ri]) {
      peers[static_cast<std::size_t>(a)] = b;
      peers[static_cast<std::size_t>(b)] = a;
    }
    hooks.context = round_context(world.hostnames(), rounds[ri]);
    {
      std::lock_guard<std::mutex> g(results_mu_);
      in_flight_ = rounds[ri];
    }
    Record rec[2];
    std::vector<double> all[2];
    for (int k = 0; k < 2; ++k) {
      Series s = probes.series[static_cast<std::size_t>(k)];
      s.peers = peers;
      hooks.rank_samples = &all[k];
      const TestSpec& t = pair_specs_[static_cast<std::size_t>(k)];
      rec[k] = measure(world, backend, t, s, t.maxbytes, *probes.buffers[static_cast<std::size_t>(k)], hooks);
    }
    hooks.rank_samples = nullptr;
    const int mine = peers[static_cast<std::size_t>(world.rank())];
    const auto tps = world.gather_strings(mine >= 0 ? backend.peer_transport(mine) : "", 0);
    hooks.context.clear();
    {
      std::lock_guard<std::mutex> g(results_mu_);
      in_flight_.clear();
    }
    if (!job.root) return;
    grade_round(job, rounds, ri, rec, all, tps);
  }

  // The pairs of a collision (rank 0 finds them from the flow paths) measured again, each alone
  // on the connection it had: passing alone shows the round's shared link cost the bandwidth.
  void recheck_alone(Job& job, MeasureHooks& hooks, PairProbes& probes) {
    std::string list;
    if (job.root && flow_paths_ && !o_.pairs_alone) {
      collisions_ = find_collisions(pairs_, *flow_paths_, o_.bw_pass);
      for (std::size_t i : pairs_to_recheck(collisions_, pairs_, o_.bw_pass))
        list += fmt::format("{} {} {} ", i, pairs_[i].a, pairs_[i].b);
    }
    std::istringstream in(job.world.broadcast_string(list, 0));
    Rounds alone;
    std::vector<std::size_t> index;
    std::size_t i = 0;
    int a = 0, b = 0;
    while (in >> i >> a >> b) {
      alone.push_back({{a, b}});
      index.push_back(i);
    }
    if (alone.empty()) return;
    if (job.root && !o_.quiet)
      std::cout << fmt::format("# {} pairs of a collision (flow paths: {}) measured again, each alone\n",
                               alone.size(), flow_paths_->source)
                << std::flush;
    for (std::size_t k = 0; k < alone.size(); ++k) {
      alone_index_ = index[k];
      measure_round(job, hooks, probes, alone, k);
    }
    alone_index_ = kNotAlone;
  }

  // Rank 0: the round's pairs and rows against the model's expectation for it.
  void grade_round(Job& job, const std::vector<std::vector<std::pair<int, int>>>& rounds, std::size_t ri,
                   const Record (&rec)[2], const std::vector<double> (&all)[2],
                   const std::vector<std::string>& tps) {
    transports::World& world = job.world;
    const ValidateOptions& o = o_;
    const model::Fabric& f = *job.fabric;
    const model::Placement placement{static_cast<std::uint64_t>(world.size()),
                                     static_cast<std::uint64_t>(world.max_ranks_per_node())};
    std::vector<PairResult>& pairs = pairs_;
    auto& matrix = matrix_;
    auto& sinks = job.rows;
    // The model's expectation for this round: every pair's two directions at once.
    std::vector<model::Flow> flows;
    for (auto [a, b] : rounds[ri]) {
      flows.push_back({static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(b)});
      flows.push_back({static_cast<std::uint64_t>(b), static_cast<std::uint64_t>(a)});
    }
    const auto pred = model::predict_flows(f, placement, flows);
    double round_expected[2] = {0, 0};
    std::string round_bottleneck;
    for (std::size_t j = 0; j < rounds[ri].size(); ++j) {
      const auto [a, b] = rounds[ri][j];
      const SampleStats sb = pair_stats(all[0], pair_specs_[0].iters, a, b, rec[0].ops_per_sample);
      const SampleStats sl = pair_stats(all[1], pair_specs_[1].iters, a, b, 2.0 * rec[1].ops_per_sample);
      double expected[2] = {0, 0};
      PairResult p = grade_pair(a, b, pred[2 * j], pred[2 * j + 1], sb, sl, o, expected);
      p.round = static_cast<int>(ri);
      p.host_a = world.hostnames()[static_cast<std::size_t>(a)];
      p.host_b = world.hostnames()[static_cast<std::size_t>(b)];
      if (expected[0] > round_expected[0]) {
        round_expected[0] = expected[0];
        round_bottleneck = p.bottleneck;
      }
      round_expected[1] = std::max(round_expected[1], expected[1]);
      if (alone_index_ != kNotAlone) {  // recheck_alone(): the ratio alone is all it wants
        alone_ratio_[alone_index_] = p.bw_ratio;
        continue;
      }
      p.transport = tps[static_cast<std::size_t>(a)];
      if (auto why = transport_mismatch(p.transport, p.tier, f.scale_out.transport)) p.transport_why = *why;
      p.wrong = rec[0].wrong + rec[1].wrong;
      p.overall = pair_grade(p, o);
      if (matrix) matrix->pair(p, o);
      if (!o.quiet) std::cout << console_->pair_line(p) << std::flush;
      std::lock_guard<std::mutex> g(results_mu_);
      pairs.push_back(p);
    }
    // The round's rows: measured as run measures them (max over ranks), held against the
    // slowest pair the model expects in this round.
    for (int k = 0; k < 2 && alone_index_ == kNotAlone; ++k) {
      Record r = rec[k];
      r.model_fabric = f.name;
      r.model_algo = o.pairs_alone ? "flows/alone" : "flows/round";
      r.model_basis = "algorithm";  // the round's flows: the point-to-point model of a pairwise op
      r.model_time_us = round_expected[k];
      r.model_busbw_GBps = r.bytes / round_expected[k] / 1e3 * (k == 0 ? 2.0 : 1.0);
      r.model_err_pct = 100.0 * (r.time_us - round_expected[k]) / round_expected[k];
      r.model_bottleneck = k == 0 ? round_bottleneck : "latency";
      sinks.row(r);
    }
  }

  int conclude(Job& job, int) override {
    // Rank 0 decides; every rank exits with its code.
    const int code = job.root ? verdict(job) : 0;
    return std::stoi(job.world.broadcast_string(std::to_string(code), 0));
  }

  void release() override {
    tests_.clear();
    matrix_.reset();
  }

  // Rank 0 decides, once the files are closed: the pairs and rows against the model.
  int verdict(Job& job) {
    // Pairs that lost bandwidth only in their round's collision are graded as one, not as a bad host.
    grade_collided_pairs(pairs_, collisions_, alone_ratio_, o_);
    const Verdict v = judge(pairs_, collected_, o_, job.world.hostnames());
    job.rows.end(v.wrong ? "wrong-data" : "ok");
    for (const auto& line : collision_report(collisions_, pairs_, alone_ratio_, o_.bw_pass))
      std::cout << (o_.quiet ? "validate: " : "# ") << line << "\n";
    std::cout << (o_.quiet ? v.line + "\n" : console_->ending(v, pairs_.size())) << std::flush;
    return v.grade == Grade::fail ? 1 : 0;
  }

  // A hang or a dead peer: the job ends with exit 3, but still with a verdict line naming the
  // suspects, from what the watchdog saw and what was measured before (judge_hang()).
  void on_watchdog_abort(Job& job, const WatchdogReport& report) override {
    if (!job.root || !console_) return;
    std::lock_guard<std::mutex> g(results_mu_);
    std::string line;
    if (report.status == "timeout") {
      HangFacts hang{report.phase, report.silent, report.in_op,     report.waiting,
                     in_flight_,   o_.timeout_s,  report.lost_links};
      line = judge_hang(pairs_, collected_, o_, job.world.hostnames(), hang).line;
    } else {
      line = "validate: FAIL: " + report.message;
    }
    std::cout << line << "\n" << std::flush;
  }

 private:
  ValidateOptions o_;
  std::string bw_bytes_text = "1M", lat_bytes_text = "8", v_timeout_text = "120";
  RunConfig coll_config_;
  std::vector<PreparedTest> tests_;  // points into coll_config_
  std::vector<TestSpec> pair_specs_ = std::vector<TestSpec>(2);
  std::vector<Series> pair_series_ = std::vector<Series>(2);
  std::unique_ptr<ValidateConsole> console_;
  // Guards what the watchdog's thread reads on a hang (on_watchdog_abort).
  std::mutex results_mu_;
  std::vector<std::pair<int, int>> in_flight_;  // the round being measured
  std::unique_ptr<MatrixWriter> matrix_;
  std::vector<PairResult> pairs_;
  std::vector<Record> collected_;
  // Flow collisions (harness/validate_collisions.hpp): rank 0's flow paths, what they showed, and
  // the ratios of the pairs measured again alone (pair index -> ratio).
  static constexpr std::size_t kNotAlone = static_cast<std::size_t>(-1);
  std::string flow_paths_file_;
  std::optional<FlowPaths> flow_paths_;
  std::vector<Collision> collisions_;
  std::map<std::size_t, double> alone_ratio_;
  std::size_t alone_index_ = kNotAlone;
};

}  // namespace

std::unique_ptr<Command> make_validate_command() {
  return std::make_unique<ValidateCommand>();
}

}  // namespace fb
