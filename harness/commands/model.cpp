// fabricbench model (harness/commands/model.hpp): the options, the scale sweep, the table and files.
#include "harness/commands/model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <iostream>
#include <limits>

#include "harness/commands/cli_options.hpp"
#include "harness/commands/command.hpp"
#include "harness/sinks/sink.hpp"
#include "harness/utc.hpp"
#include "harness/version.hpp"
#include "model/cost.hpp"
#include "model/moe_traffic.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

// From one domain (at least 2 ranks: a fabric of one rank per host starts at a pair, so that the
// point-to-point ops, which need two, predict with the default sweep too), doubling to 2^20.
std::vector<std::uint64_t> default_scales(std::uint64_t domain_size) {
  constexpr std::uint64_t kMax = 1ull << 20;
  std::vector<std::uint64_t> v;
  for (std::uint64_t g = std::max<std::uint64_t>(domain_size, 2); g < kMax; g *= 2) v.push_back(g);
  v.push_back(kMax);
  return v;
}

Record model_record(const ModelOptions& o, const model::Fabric& f, const std::string& op, std::uint64_t bytes,
                    const model::Placement& p, const model::Prediction& pr) {
  Record r;
  r.source = "model";
  r.backend = "model";
  r.op = op;
  r.algo = pr.algo + (pr.protocol.empty() ? "" : "/" + pr.protocol);
  r.mem = f.endpoint.kind == "gpu" ? "cuda" : "host";
  r.dtype = "";
  r.nranks = static_cast<int>(std::min<std::uint64_t>(p.nranks, std::numeric_limits<int>::max()));
  r.nnodes = static_cast<int>(std::min<std::uint64_t>(p.domains(), std::numeric_limits<int>::max()));
  r.ranks_per_node = static_cast<int>(p.ranks_per_domain);
  r.requested_bytes = r.bytes = bytes;
  r.iters = r.warmup = r.check_iters = 0;
  r.time_us = r.time_min_us = r.time_p50_us = r.time_mean_us = r.time_p99_us = r.time_max_us = pr.time_us;
  r.algbw_GBps = pr.algbw_GBps;
  r.busbw_GBps = pr.busbw_GBps;
  r.slowest_rank = -1;
  r.timestamp = utc_now();
  r.model_fabric = f.name;
  r.model_algo = r.algo;
  r.model_basis = "algorithm";  // the prediction is the row
  r.model_time_us = pr.time_us;
  r.model_busbw_GBps = pr.busbw_GBps;
  r.model_bottleneck = pr.bottleneck;
  (void)o;
  return r;
}

std::vector<std::unique_ptr<Sink>> open_model_sinks(const ModelOptions& o) {
  std::vector<std::unique_ptr<Sink>> sinks;
  try {
    sinks = open_file_sinks(o.csv_path, o.json_path, o.force).sinks;
  } catch (const std::exception& e) {
    throw UsageError(std::string("cannot write results: ") + e.what());
  }
  RunMeta meta;
  meta.fabricbench_version = kVersion;
  meta.git_describe = kGitDescribe;
  meta.command_line = o.command_line;
  meta.started_utc = utc_now();
  for (auto& s : sinks) s->begin(meta);
  return sinks;
}

namespace {

// The MoE ops' activations: 2-byte elements (bfloat16), so --bytes / (topk x hidden x 2) tokens.
constexpr std::size_t kMoeElementBytes = 2;

// Where op runs on g ranks (rpd per domain); the MoE ops add their routing's traffic, and `bytes`
// becomes the size the model prices (the most loaded rank's) with `moe` the row's figures.
model::Placement placement_for(const ModelOptions& o, const std::string& op, std::uint64_t g,
                               std::uint64_t rpd, double& bytes, model::MoeTraffic* moe = nullptr) {
  model::Placement p{g, std::min(rpd, g)};
  const auto kind = vocab::parse_op(op);
  if (!kind || !vocab::is_moe(*kind)) return p;
  const std::size_t per =
      kMoeElementBytes * o.moe_counts.moe.hidden * static_cast<std::size_t>(o.moe_counts.moe.topk);
  const std::size_t tokens = static_cast<std::size_t>(bytes) / per;
  model::MoeTraffic t = model::moe_traffic(o.moe_counts, *kind, g, tokens, kMoeElementBytes, o.domain_local,
                                           p.ranks_per_domain);
  p.traffic = t.traffic;
  bytes = t.max_rank_bytes;
  if (moe) *moe = std::move(t);
  return p;
}

}  // namespace

// The scales to predict: --gpus, or the default sweep cut where the topology ends (then `clipped`
// says so); any scale the fabric cannot hold is a usage error.
std::vector<std::uint64_t> model_scales(const ModelOptions& o, const model::Fabric& f, std::uint64_t rpd,
                                        std::string& clipped) {
  const std::uint64_t capacity = f.max_endpoints();
  std::vector<std::uint64_t> scales = o.gpus;
  if (scales.empty()) {
    // The default sweep stops where the topology does.
    for (auto g : default_scales(rpd))
      if (g <= capacity) scales.push_back(g);
    if (scales.empty() || scales.back() < (1ull << 20)) {
      if (scales.empty() || scales.back() < capacity) scales.push_back(capacity);
      clipped = fmt::format(
          "# {} holds {} endpoints: the sweep stops there (grow it with --set, e.g. more "
          "tiers or planes)\n",
          f.name, capacity);
    }
  }
  for (auto g : scales)
    if (g > capacity)
      throw UsageError(
          fmt::format("gpus: {} exceeds what fabric '{}' holds ({} endpoints); scale the topology "
                      "with --set (more tiers, planes or radix)",
                      g, f.name, capacity));
  return scales;
}

// Every op is known and every (op, algo) predicts, checked before anything is written.
void check_ops_and_algos(const ModelOptions& o, const model::Fabric& f, const std::vector<std::string>& algos,
                         const std::vector<std::uint64_t>& scales, std::uint64_t rpd) {
  for (const auto& op : o.ops)
    if (std::find(model::model_ops().begin(), model::model_ops().end(), op) == model::model_ops().end())
      throw UsageError("op: unknown op '" + op +
                       "' (the model's ops: " + fmt::format("{}", fmt::join(model::model_ops(), ", ")) + ")");
  for (const auto& op : o.ops)
    for (const auto& a : algos) try {
        double n = static_cast<double>(o.bytes.front());
        const model::Placement p = placement_for(o, op, scales.front(), rpd, n);
        model::predict(f, op, a, p, n, o.protocol);
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("algo: ") + e.what());
      }
}

namespace {

// One table: op at one size with one algorithm, a line per scale, each row to the sinks.
void model_sweep(const ModelOptions& o, const model::Fabric& f, const std::string& op, std::uint64_t bytes,
                 const std::string& a, const std::vector<std::uint64_t>& scales, std::uint64_t rpd,
                 std::vector<std::unique_ptr<Sink>>& sinks) {
  if (!o.quiet)
    std::cout << fmt::format("#\n# {} {} algo={}\n# {:>9} {:>9} {:<24} {:>12} {:>12} {:>12}  {}\n", op,
                             format_bytes(bytes), a, "gpus", "domains", "algorithm", "time", "algbw", "busbw",
                             "bottleneck");
  for (auto g : scales) {
    double n = static_cast<double>(bytes);
    model::MoeTraffic moe;
    const model::Placement p = placement_for(o, op, g, rpd, n, &moe);
    model::Prediction pr;
    try {
      pr = model::predict(f, op, a, p, n, o.protocol);
    } catch (const std::invalid_argument& e) {
      if (!o.quiet) std::cout << fmt::format("  {:>9} {:>9} {}\n", g, p.domains(), e.what());
      continue;
    }
    Record r = model_record(o, f, op, bytes, p, pr);
    if (moe.traffic) {                                       // the MoE columns (results/SCHEMA.md)
      r.bytes = static_cast<std::uint64_t>(moe.rank_bytes);  // whole tokens of what was asked
      r.max_rank_bytes = static_cast<std::uint64_t>(n);
      r.load_imbalance = moe.load_imbalance;
      r.total_bytes = r.bytes * g;
      r.counts = counts_label(o.moe_counts, true) + (o.domain_local ? " placement=domain-local" : "");
      const double tokens = static_cast<double>(bytes / (kMoeElementBytes * o.moe_counts.moe.hidden *
                                                         static_cast<std::size_t>(o.moe_counts.moe.topk)));
      if (pr.time_us > 0) r.tokens_per_s = tokens * static_cast<double>(g) / (pr.time_us * 1e-6);
    }
    if (!o.quiet)
      std::cout << fmt::format("  {:>9} {:>9} {:<24} {:>12} {:>12} {:>12}  {}\n", g, p.domains(), r.algo,
                               format_duration_us(pr.time_us), format_rate_GBps(pr.algbw_GBps),
                               format_rate_GBps(pr.busbw_GBps), pr.bottleneck);
    for (auto& s : sinks) s->row(r);
  }
}

}  // namespace

int run_model_command(const ModelOptions& o) {
  if (!o.against.files.empty()) return run_model_against(o);
  if (!o.traffic.empty()) return run_model_traffic(o);
  if (!o.compare_set.empty()) return run_model_compare(o);
  const CliFabric loaded = load_cli_fabric(o.fabric, o.sets, o.ranks_per_domain);
  const model::Fabric& f = loaded.fabric;
  const std::uint64_t rpd = loaded.ranks_per_domain;
  const std::vector<std::string> algos =
      o.algos.empty() ? std::vector<std::string>{model::default_algorithm(f)} : o.algos;
  std::string clipped;
  const std::vector<std::uint64_t> scales = model_scales(o, f, rpd, clipped);
  check_ops_and_algos(o, f, algos, scales, rpd);
  std::vector<std::unique_ptr<Sink>> sinks = open_model_sinks(o);

  if (!o.quiet)
    std::cout << fmt::format(
                     "# fabric {} ({}): {} {}{} per domain at {:.6g} GB/s each way, {} endpoints at most\n",
                     f.name, f.source, f.scale_up.domain_size, f.endpoint.kind,
                     f.scale_up.domain_size == 1 ? "" : "s", f.scale_up.bandwidth_GBps, f.max_endpoints())
              << clipped;
  for (const auto& op : o.ops)
    for (auto bytes : o.bytes)
      for (const auto& a : algos) model_sweep(o, f, op, bytes, a, scales, rpd, sinks);
  for (auto& s : sinks) s->end("ok");
  return 0;
}

namespace {

class ModelCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    ModelOptions& mo = options_;
    CLI::App* model =
        app.add_subcommand("model", "Predict ops on a fabric and extrapolate to 2^20 GPUs (no MPI)");
    add_fabric_options(model, mo.fabric, mo.sets,
                       "fabric file or name in configs/fabrics/ (with --against: for rows that name none)");
    model->add_option("--op", ops_text, "ops, comma-separated (default allreduce,alltoall)");
    model->add_option("--bytes", bytes_text, "sizes, comma-separated: 1G,64M (default 1G)");
    // -b was model's short --bytes; run's -b is --minbytes: kept for scripts, not shown.
    model->add_option("-b", bytes_text)->group("");
    model->add_option("--algo", algo_text,
                      "algorithms, comma-separated: a name, auto (best UCX/MPI algorithm), nccl_auto (NCCL's "
                      "choice); default nccl_auto on GPU fabrics, auto on hosts");
    model->add_option("--protocol", mo.protocol, "NCCL protocol: auto, ll, ll128, simple (default auto)");
    model->add_option("--gpus", gpus_text,
                      "scales, comma-separated (default: one domain, doubling to 1048576)");
    model->add_option("--ranks-per-domain", rpd_text,
                      "ranks in each scale-up domain (default: the domain size)");
    model->add_option("--csv", mo.csv_path, "write predictions as CSV (results schema, source=model)");
    model->add_option("--json", mo.json_path, "write predictions as JSON");
    // The MoE ops' routing (docs/moe.md), as run's options.
    add_routing_options(model, routing_, "moe_dispatch/moe_combine");
    model->add_option("--topk", mo.moe_counts.moe.topk, "MoE: experts per token (default 2)")
        ->check(CLI::Range(1, 32));
    model
        ->add_option("--experts-per-rank", mo.moe_counts.moe.experts_per_rank,
                     "MoE: experts per rank (default 4)")
        ->check(CLI::Range(1, 1 << 16));
    model
        ->add_option("--hidden", mo.moe_counts.moe.hidden,
                     "MoE: elements per token, 2 bytes each; --bytes / (topk x hidden x 2) tokens per rank "
                     "(default 1024)")
        ->check(CLI::Range(1, 1 << 24));
    model->add_flag("--force", mo.force, "replace --csv/--json files that exist (refused otherwise)");
    model->add_flag("-q,--quiet", mo.quiet, "no table");
    model
        ->add_option("--compare-set", mo.compare_set,
                     "KEY=V1,V2,...: predict once per value of a fabric field (as --set takes it) and show "
                     "them side by side: --compare-set scale_out.tiers.1.load_balancing=ecmp,adaptive")
        ->type_name("PATH=V1,V2,...");
    model
        ->add_option("--traffic", mo.traffic,
                     "permutation, ring, alltoall, shift or halves: per-flow throughput of that pattern on "
                     "each tier it crosses under the fabric's load balancing (docs/routing.md)")
        ->type_name("PATTERN");
    model->add_option("--nranks", mo.nranks, "with --traffic: ranks (default: the fabric's, at most 1024)")
        ->type_name("N");
    model
        ->add_option("--seeds", mo.seeds,
                     "with --traffic: runs drawn (permutations, ECMP hashes; default 20)")
        ->type_name("N");
    model->add_option("--against", mo.against.files,
                      "results files (published, measured or model; CSV or JSON): predict each row on its "
                      "fabric and report the error per row, by op, by fabric");
    model->add_option("--trust", against_.trust, "with --against: only rows of these trust grades, e.g. A,B");
    model->add_option("--min-bytes", against_.min_bytes, "with --against: only rows of at least this size");
    model->add_option("--max-bytes", against_.max_bytes, "with --against: only rows of at most this size");
    model->add_option("--max-error", against_.max_error,
                      "with --against: exit 1 when a row's |error| exceeds this %");
    model_ = model;
    return model;
  }
  void resolve(const std::string& command_line) override {
    ModelOptions& mo = options_;
    mo.command_line = command_line;
    std::vector<std::string> given;
    for (const char* name : {"--op", "--bytes", "--algo", "--protocol", "--gpus", "--ranks-per-domain",
                             "--trust", "--min-bytes", "--max-bytes", "--max-error"})
      if (model_->get_option(name)->count() > 0) given.emplace_back(name);
    if (model_->get_option("-b")->count() > 0 && model_->get_option("--bytes")->count() == 0)
      given.emplace_back("--bytes");
    parse_against_options(against_, given, mo.against);
    if (!mo.against.files.empty()) return;
    if (mo.fabric.empty()) throw UsageError("--fabric is required (fabricbench --help)");
    const auto list = comma_list;
    auto sizes = [&](const std::string& key, const std::string& text) {
      std::vector<std::uint64_t> v;
      for (const auto& item : list(text)) {
        try {
          v.push_back(parse_bytes(item));
        } catch (const std::invalid_argument& e) {
          throw UsageError("command line: " + key + ": " + e.what());
        }
        if (v.back() == 0)
          throw UsageError("command line: " + key + ": must be at least 1, got '" + item + "'");
      }
      if (v.empty()) throw UsageError("command line: " + key + ": no values given");
      return v;
    };
    mo.ops = list(ops_text);
    if (mo.ops.empty()) throw UsageError("command line: op: no ops given");
    mo.bytes = sizes("bytes", bytes_text);
    mo.algos = list(algo_text);
    if (!gpus_text.empty()) {
      for (const auto& item : list(gpus_text)) {
        std::uint64_t g = 0;
        auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), g);
        if (ec != std::errc() || p != item.data() + item.size() || g == 0)
          throw UsageError("command line: gpus: expected whole numbers >= 1, got '" + item + "'");
        mo.gpus.push_back(g);
      }
    }
    if (!rpd_text.empty()) mo.ranks_per_domain = sizes("ranks-per-domain", rpd_text).front();
    for (const char* name : {"--nranks", "--seeds"})
      if (model_->get_option(name)->count() > 0) given.emplace_back(name);
    check_whatif_options(mo, given);
    const MoeShape moe = mo.moe_counts.moe;
    const CliRouting routing = resolve_routing(routing_);
    mo.moe_counts = routing.counts;
    mo.moe_counts.moe = moe;
    mo.domain_local = routing.domain_local;
    if (!mo.csv_path.empty() && mo.csv_path == mo.json_path)
      throw UsageError("command line: --csv and --json name the same file '" + mo.csv_path + "'");
  }
  int run() override { return run_model_command(options_); }

 private:
  ModelOptions options_;
  AgainstTexts against_;
  CLI::App* model_ = nullptr;
  std::string ops_text = "allreduce,alltoall", bytes_text = "1G", algo_text, gpus_text, rpd_text;
  RoutingTexts routing_;
};

}  // namespace

std::unique_ptr<Command> make_model_command() {
  return std::make_unique<ModelCommand>();
}

}  // namespace fb
