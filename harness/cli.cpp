#include "harness/cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <charconv>
#include <tuple>
#include <memory>

#include "collectives/error.hpp"
#include "collectives/p2p.hpp"
#include "harness/plan.hpp"
#include "harness/progress.hpp"
#include "harness/version.hpp"
#include "vocab/units.hpp"
#include "transports/backend.hpp"

namespace fb {

namespace {

std::string join_args(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    std::string a = argv[i];
    const bool quote = a.empty() || a.find_first_of(" \t'\"$") != std::string::npos;
    if (quote) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    s += a;
  }
  return s;
}

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
    {"--batch", "batch", "ops per timed sample, or 'auto' to batch only ops under 5 us (default auto)"},
    {"-d,--dtype,--datatype", "dtype",
     "int8 uint8 int32 uint32 int64 uint64 float16 bfloat16 float32 float64, list or all"},
    {"-o,--redop", "redop", "sum prod min max, list or all (default sum)"},
    {"-r,--root", "root", "root rank of broadcast (default 0)"},
    {"--place", "place", "out (out-of-place), in (in-place) or both (default out)"},
    {"--p2p-api", "p2p_api",
     "sendrecv/bidir/pingpong over ucx: tag (default), put (RMA with a completion flag), am (active "
     "messages) or get (what the algorithms do: shared-memory get on one host, tag otherwise)"},
    {"--window", "window",
     "sendrecv/bidir: messages in flight per op, >= 1; times are reported per message (default 1)"},
    {"--mem", "mem", "buffer memory: host or cuda (default: host for mpi and ucx, cuda for nccl)"},
    {"--cuda-graph", "cuda_graph",
     "nccl: capture N ops in one CUDA graph and time its replays (one sample = N ops; 0 = off, default)"},
    {"--nccl-algo", "nccl_algo",
     "nccl: NCCL_ALGO for the communicator: Ring, Tree, NVLS, NVLSTree, CollnetDirect, CollnetChain, PAT, a "
     "list, ^ to exclude (default: NCCL chooses)"},
    {"--nccl-proto", "nccl_proto",
     "nccl: NCCL_PROTO: LL, LL128, Simple, a list, ^ to exclude (default: NCCL chooses)"},
};

// Per-test keys that are switches on the command line (--KEY) and true/false in plan files.
constexpr TestOption kTestFlags[] = {
    {"--blocking", "blocking", "nccl: wait for every op before enqueueing the next (nccl-tests -z); default: stream order"},
    {"--cpu-time", "cpu_time", "nccl: time samples with the host clock, enqueue to completion (nccl-tests -C), not CUDA events"},
    {"--sample-barrier", "sample_barrier",
     "a barrier before every timed sample (as OSU's collective benchmarks): each sample times ops started "
     "together on all ranks, not back-to-back ops that drift apart (default off, as nccl-tests; validate: on)"},
};

}  // namespace

std::string list_text() {
  std::string s = "backends:\n";
  for (const auto& b : transports::backends()) {
    s += fmt::format("  {:<6} {}\n", b.name,
                     b.factory ? b.summary : fmt::format("not compiled in ({})", b.why_missing));
  }
  s += "ops:\n";
  for (const auto* d : all_ops()) s += fmt::format("  {:<14} {}\n", d->name, d->summary);
  s += "algorithms (--algo; also native, the library's own, and auto):\n";
  for (const auto* a : collective_algorithms()) {
    std::string ops;
    for (OpKind k : a->ops.kinds()) ops += (ops.empty() ? "" : ", ") + std::string(op_descriptor(k).name);
    s += fmt::format("  {:<18} {}\n", a->name, ops);
  }
  s += "dtypes:\n ";
  for (auto t : all_dtypes()) s += fmt::format(" {}", dtype_name(t));
  s += "\nredops:\n ";
  for (auto r : all_redops()) s += fmt::format(" {}", redop_name(r));
  s += "\n";
  return s;
}

CliResult parse_command_line(int argc, char** argv) {
  CliResult result;
  CLI::App app{"fabricbench: benchmark and validate the fabric between GPUs and hosts", "fabricbench"};
  app.set_version_flag("--version", std::string("fabricbench ") + kVersion + " (" + kGitDescribe + ")");
  bool list = false;
  app.add_flag("--list", list, "List backends (compiled in or not), ops, dtypes and redops");
  app.require_subcommand(0, 1);

  CLI::App* run = app.add_subcommand("run", "Run tests under mpirun/srun and write results");
  run->footer(std::string("--algo ") + kAutoRule + ".");
  std::vector<std::string> values(std::size(kTestOptions));
  std::vector<std::unique_ptr<bool>> flag_holders;
  std::vector<CLI::Option*> options;
  for (std::size_t i = 0; i < std::size(kTestOptions); ++i)
    options.push_back(run->add_option(kTestOptions[i].flags, values[i], kTestOptions[i].help)->type_name("VALUE"));
  std::vector<CLI::Option*> flag_options;
  for (std::size_t i = 0; i < std::size(kTestFlags); ++i) {
    flag_holders.push_back(std::make_unique<bool>(false));  // CLI11 keeps a pointer to it
    flag_options.push_back(run->add_flag(kTestFlags[i].flags, *flag_holders.back(), kTestFlags[i].help));
  }
  RunConfig& cfg = result.config;
  std::string timeout_text;
  run->add_option("--plan", cfg.plan_path, "YAML plan: a list of tests with the same keys (configs/plans/)");
  run->add_option("--csv", cfg.csv_path, "write rows as CSV to this file");
  run->add_option("--json", cfg.json_path, "write run metadata, rows and samples as JSON to this file");
  run->add_flag("--force", cfg.force, "replace --csv/--json files that exist (refused otherwise)");
  CLI::Option* timeout_opt = run->add_option("--timeout", timeout_text,
                  "seconds without progress after which the job ends with exit code 3 (0 = off, default)");
  run->add_flag("-q,--quiet", cfg.quiet, "no console table and no progress line (files are still written)");
  run->add_option("--fabric", cfg.fabric,
                  "fabric file or name (configs/fabrics/): predict every row; default localhost on one host");
  run->add_option("--set", cfg.sets, "override a fabric field: --set scale_up.bandwidth_GBps=900 (repeatable)");
  bool no_progress = false, force_progress = false;
  run->add_flag("--no-progress", no_progress, "no progress line on stderr");
  run->add_flag("--progress", force_progress,
                "show the progress line even when stderr is not a terminal (mpirun gives ranks a pipe)");

  // fabricbench validate: rack validation against the model (harness/validate.hpp).
  ValidateOptions& vo = result.validate;
  CLI::App* validate = app.add_subcommand(
      "validate", "Validate a rack under mpirun: all-pairs matrix, collectives, model, transports; exit 0 pass, 1 fail");
  validate->footer(
      "Thresholds: a measurement passes when ratio >= the pass threshold, warns between the warn and pass\n"
      "thresholds, fails below the warn threshold. Bandwidth ratio = measured / model bandwidth (pairs:\n"
      "bidir at --bw-bytes against the round's concurrent flows; collectives: model time / measured time);\n"
      "latency ratio = model latency / measured pingpong latency. A pair also fails when its transport is\n"
      "not what the fabric implies (shared memory inside a host, scale_out.transport between hosts) or its\n"
      "round saw wrong data. The verdict names the worst links (host:rank pairs) and the hosts most of\n"
      "whose pairs fail. Exit codes: 0 pass (warnings allowed), 1 fail, 2 bad input (a fabric that does\n"
      "not fit the job), 3 a rank died, a timeout or a library error (rows so far are kept).");
  std::string bw_bytes_text = "1M", lat_bytes_text = "8", v_timeout_text = "120";
  validate->add_option("--fabric", vo.fabric, "fabric file or name in configs/fabrics/ (required)")->required();
  validate->add_option("--set", vo.sets, "override a fabric field (repeatable)");
  validate->add_option("--plan", vo.plan_path,
                       "YAML plan of the collectives to hold against the model (default: allreduce ring and "
                       "alltoall pairwise at 1M and 4M, 5 iterations)");
  validate->add_option("--backend", vo.backend, "ucx (default when compiled in) or mpi; applies to the plan too");
  validate->add_option("--bw-bytes", bw_bytes_text, "message size of the pair bandwidth test, bidir (default 1M)");
  validate->add_option("--lat-bytes", lat_bytes_text, "message size of the pair latency test, pingpong (default 8)");
  validate->add_option("-n,--iters", vo.iters, "timed samples per pair measurement (default 5; latency: 4x, at least 20)");
  validate->add_option("-w,--warmup", vo.warmup, "untimed ops before each pair measurement (default 1)");
  validate->add_flag("--pairs-alone", vo.pairs_alone,
                     "test each pair alone, one at a time (n(n-1)/2 rounds), instead of rounds of disjoint pairs");
  validate->add_flag("--no-pairs", vo.no_pairs, "skip the pair matrix");
  validate->add_flag("--no-collectives", vo.no_collectives, "skip the collectives");
  validate->add_flag("--no-transport-check", vo.no_transport_check, "report transports but do not fail on them");
  validate->add_option("--bw-pass", vo.bw_pass, "bandwidth pass threshold, measured/model (default 0.85)");
  validate->add_option("--bw-warn", vo.bw_warn, "bandwidth warn threshold: below it a measurement fails (default 0.70)");
  validate->add_option("--lat-pass", vo.lat_pass, "latency pass threshold, model/measured (default 0.5)");
  validate->add_option("--lat-warn", vo.lat_warn, "latency warn threshold: below it a pair fails (default 0.25)");
  validate->add_option("--matrix-csv", vo.matrix_csv, "write the pair matrix (one line per pair) as CSV");
  validate->add_option("--csv", vo.csv_path, "write the rounds' and collectives' rows as CSV (results schema)");
  validate->add_option("--json", vo.json_path, "write them as JSON");
  validate->add_flag("--force", vo.force, "replace --csv/--json/--matrix-csv files that exist (refused otherwise)");
  validate->add_option("--timeout", v_timeout_text,
                       "seconds without progress after which the job ends with exit code 3 naming the ranks "
                       "(default 120, 0 = off)");
  validate->add_flag("-q,--quiet", vo.quiet, "only the verdict line");

  // fabricbench model: predictions and extrapolation, no MPI.
  ModelOptions& mo = result.model;
  CLI::App* model = app.add_subcommand("model", "Predict ops on a fabric and extrapolate to 2^20 GPUs (no MPI)");
  std::string ops_text = "allreduce,alltoall", bytes_text = "1G", algo_text, gpus_text, rpd_text;
  model->add_option("--fabric", mo.fabric,
                    "fabric file or name in configs/fabrics/ (with --against: for rows that name none)");
  model->add_option("--set", mo.sets, "override a fabric field: --set scale_out.tiers.1.oversubscription=7");
  model->add_option("--op", ops_text, "ops, comma-separated (default allreduce,alltoall)");
  model->add_option("--bytes,-b", bytes_text, "sizes, comma-separated: 1G,64M (default 1G)");
  model->add_option("--algo", algo_text,
                    "algorithms, comma-separated: a name, auto (best UCX/MPI algorithm), nccl_auto (NCCL's "
                    "choice); default nccl_auto on GPU fabrics, auto on hosts");
  model->add_option("--protocol", mo.protocol, "NCCL protocol: auto, ll, ll128, simple (default auto)");
  model->add_option("--gpus", gpus_text, "scales, comma-separated (default: one domain, doubling to 1048576)");
  model->add_option("--ranks-per-domain", rpd_text, "ranks in each scale-up domain (default: the domain size)");
  model->add_option("--csv", mo.csv_path, "write predictions as CSV (results schema, source=model)");
  model->add_option("--json", mo.json_path, "write predictions as JSON");
  model->add_flag("--force", mo.force, "replace --csv/--json files that exist (refused otherwise)");
  model->add_flag("-q,--quiet", mo.quiet, "no table");
  std::string trust_text, min_bytes_text, max_bytes_text, max_error_text;
  model->add_option(
      "--against", mo.against.files,
      "results files (published, measured or model; CSV or JSON): predict each row on its fabric "
      "and report the error per row, by op, by fabric");
  model->add_option("--trust", trust_text, "with --against: only rows of these trust grades, e.g. A,B");
  model->add_option("--min-bytes", min_bytes_text, "with --against: only rows of at least this size");
  model->add_option("--max-bytes", max_bytes_text, "with --against: only rows of at most this size");
  model->add_option("--max-error", max_error_text,
                    "with --against: exit 1 when a row's |error| exceeds this %");

  // fabricbench calibrate: fit a fabric file to measured rows.
  CalibrateOptions& co = result.calibrate;
  CLI::App* calibrate = app.add_subcommand("calibrate", "Fit a fabric file's latencies and bandwidths to measurements");
  calibrate->add_option("results", co.inputs, "CSV or JSON results with pingpong rows")->required();
  calibrate->add_option("-o,--output", co.output, "fabric file to write")->required();
  calibrate->add_option("--base", co.base, "fabric to start from (default localhost)");
  calibrate->add_option("--set", co.sets, "override a field of the base fabric");
  calibrate->add_flag("--force", co.force, "replace the output file if it exists");

  // fabricbench compare: the CI gate (harness/compare.hpp).
  CompareOptions& cmp = result.compare;
  CLI::App* compare = app.add_subcommand("compare", "Compare two results files (CSV or JSON); exit 1 on a regression");
  std::string threshold_text = "5%";
  compare->add_option("base", cmp.base, "baseline results (CSV or JSON)")->required();
  compare->add_option("cand", cmp.cand, "candidate results (CSV or JSON)")->required();
  compare->add_option("--metric", cmp.metric, "busbw (higher is better), time_p50 or time_p99 (default busbw)");
  compare->add_option("--threshold", threshold_text,
                      "smallest change that counts, a percentage: 5% or 5 (default 5%)");
  compare->add_option("--alpha", cmp.alpha, "significance level of the Mann-Whitney U test (default 0.05)");
  compare->add_option("--min-samples", cmp.min_samples,
                      "per-iteration samples each row needs for the U test (default 8)");
  compare->add_option("--format", cmp.format, "text, markdown, junit or csv (default text)");
  compare->add_option("-o,--output", cmp.output, "write the report to this file (default stdout)");

  // fabricbench report: plots and an index (harness/report.hpp).
  ReportOptions& rep = result.report;
  CLI::App* report = app.add_subcommand("report", "Plot results files (PNG and SVG) with an index.md and index.html");
  report->add_option("results", rep.inputs, "CSV or JSON results: measured runs and/or fabricbench model output");
  report->add_option("-o,--output", rep.output_dir, "directory to write the plots and index into")->required();
  report->add_option("--compare", rep.compare, "BASE CAND: also plot the relative change of each row")
      ->expected(2)
      ->type_name("BASE CAND");
  report->add_option("--metric", rep.metric, "metric of --compare: busbw, time_p50 or time_p99 (default busbw)");
  report->add_option("--title", rep.title, "title of the index (default 'fabricbench report')");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.command = Command::help;
    result.help_text = run->parsed()        ? run->help()
                       : validate->parsed() ? validate->help()
                       : compare->parsed()  ? compare->help()
                       : report->parsed()  ? report->help()
                                           : app.help();
    return result;
  } catch (const CLI::CallForAllHelp&) {
    result.command = Command::help;
    result.help_text = app.help("", CLI::AppFormatMode::All);
    return result;
  } catch (const CLI::CallForVersion&) {
    result.command = Command::version;
    result.help_text = std::string("fabricbench ") + kVersion + " (" + kGitDescribe + ")\n";
    return result;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    for (auto& c : msg)
      if (c == '\n') c = ' ';
    throw UsageError(msg + " (fabricbench --help)");
  }

  if (list) {
    result.command = Command::list;
    return result;
  }
  if (model->parsed()) {
    result.command = Command::model;
    mo.command_line = join_args(argc, argv);
    {
      std::vector<std::string> given;
      for (const char* name : {"--op", "--bytes", "--algo", "--protocol", "--gpus", "--ranks-per-domain",
                               "--trust", "--min-bytes", "--max-bytes", "--max-error"})
        if (model->get_option(name)->count() > 0) given.emplace_back(name);
      parse_against_options({trust_text, min_bytes_text, max_bytes_text, max_error_text}, given, mo.against);
    }
    if (!mo.against.files.empty()) return result;
    if (mo.fabric.empty()) throw UsageError("--fabric is required (fabricbench --help)");
    auto list = [](const std::string& s) {
      std::vector<std::string> v;
      std::string cur;
      for (char c : s + ",") {
        if (c == ',') {
          if (!cur.empty()) v.push_back(cur);
          cur.clear();
        } else if (c != ' ') {
          cur += c;
        }
      }
      return v;
    };
    auto sizes = [&](const std::string& key, const std::string& text) {
      std::vector<std::uint64_t> v;
      for (const auto& item : list(text)) {
        try {
          v.push_back(parse_bytes(item));
        } catch (const std::invalid_argument& e) {
          throw UsageError("command line: " + key + ": " + e.what());
        }
        if (v.back() == 0) throw UsageError("command line: " + key + ": must be at least 1, got '" + item + "'");
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
    if (!mo.csv_path.empty() && mo.csv_path == mo.json_path)
      throw UsageError("command line: --csv and --json name the same file '" + mo.csv_path + "'");
    return result;
  }
  if (validate->parsed()) {
    result.command = Command::validate;
    vo.command_line = join_args(argc, argv);
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
        throw UsageError(fmt::format("command line: --{0}-pass {1} and --{0}-warn {2}: need 0 <= warn <= pass", key,
                                     pass, warn));
    {
      std::size_t used = 0;
      double t = -1;
      try {
        t = std::stod(v_timeout_text, &used);
      } catch (const std::exception&) {
      }
      if (used != v_timeout_text.size() || !(t >= 0) || t > 1e7)
        throw UsageError("command line: timeout: expected seconds >= 0, got '" + v_timeout_text + "'");
      vo.timeout_s = t;
    }
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
      vo.tests = load_plan(vo.plan_path, KeyValues{{"backend", vo.backend}, {"sample_barrier", "true"}});
    } else {
      vo.tests = default_validate_tests(vo.backend);
    }
    return result;
  }
  if (compare->parsed()) {
    result.command = Command::compare;
    cmp.threshold_pct = parse_threshold_pct(threshold_text);
    return result;
  }
  if (report->parsed()) {
    result.command = Command::report;
    if (rep.inputs.empty() && rep.compare.empty())
      throw UsageError("command line: report: no results files given (fabricbench report --help)");
    return result;
  }
  if (calibrate->parsed()) {
    result.command = Command::calibrate;
    co.command_line = join_args(argc, argv);
    return result;
  }
  if (!run->parsed()) {
    result.command = Command::help;
    result.help_text = app.help();
    return result;
  }

  result.command = Command::run;
  cfg.command_line = join_args(argc, argv);
  cfg.progress = no_progress || cfg.quiet ? Progress::off : force_progress ? Progress::on : Progress::tty;
  if (timeout_opt->count() > 0) {
    std::size_t used = 0;
    double t = -1;
    try {
      t = std::stod(timeout_text, &used);
    } catch (const std::exception&) {
    }
    if (used != timeout_text.size() || !(t >= 0) || t > 1e7)
      throw UsageError("command line: timeout: expected seconds >= 0, got '" + timeout_text + "'");
    cfg.timeout_s = t;
  }

  if (!cfg.csv_path.empty() && cfg.csv_path == cfg.json_path)
    throw UsageError("command line: --csv and --json name the same file '" + cfg.csv_path + "'");

  KeyValues given;
  for (std::size_t i = 0; i < std::size(kTestOptions); ++i)
    if (options[i]->count() > 0) given.emplace_back(kTestOptions[i].key, values[i]);
  for (std::size_t i = 0; i < std::size(kTestFlags); ++i)
    if (flag_options[i]->count() > 0) given.emplace_back(kTestFlags[i].key, "true");

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
  return result;
}

}  // namespace fb
