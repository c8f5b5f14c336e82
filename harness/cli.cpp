#include "harness/cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "collectives/error.hpp"
#include "harness/plan.hpp"
#include "harness/progress.hpp"
#include "harness/version.hpp"
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
    {"-b,--minbytes", "minbytes", "smallest size: 8, 4K, 16MiB, 1G, ... (default 8)"},
    {"-e,--maxbytes", "maxbytes", "largest size (default 64M)"},
    {"-f,--stepfactor", "stepfactor", "multiply the size by this each step (default 2)"},
    {"-i,--stepbytes", "stepbytes", "add this many bytes each step instead of -f"},
    {"-n,--iters", "iters", "timed samples per size (default 20)"},
    {"-w,--warmup", "warmup", "untimed ops before timing (default 5)"},
    {"-c,--check", "check", "validated ops per size, 0 to skip validation (default 1)"},
    {"--batch", "batch", "ops per timed sample, or 'auto' to batch only ops under 5 us (default auto)"},
    {"-d,--dtype,--datatype", "dtype", "int8 uint8 int32 uint32 int64 uint64 float16 bfloat16 float32 float64, list or all"},
    {"-o,--redop", "redop", "sum prod min max, list or all (default sum)"},
    {"-r,--root", "root", "root rank of broadcast (default 0)"},
    {"--place", "place", "out (out-of-place), in (in-place) or both (default out)"},
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
  std::vector<std::string> values(std::size(kTestOptions));
  std::vector<CLI::Option*> options;
  for (std::size_t i = 0; i < std::size(kTestOptions); ++i)
    options.push_back(run->add_option(kTestOptions[i].flags, values[i], kTestOptions[i].help)->type_name("VALUE"));
  RunConfig& cfg = result.config;
  std::string timeout_text;
  run->add_option("--plan", cfg.plan_path, "YAML plan: a list of tests with the same keys (configs/plans/)");
  run->add_option("--csv", cfg.csv_path, "write rows as CSV to this file");
  run->add_option("--json", cfg.json_path, "write run metadata, rows and samples as JSON to this file");
  CLI::Option* timeout_opt = run->add_option("--timeout", timeout_text,
                  "seconds without progress after which the job ends with exit code 3 (0 = off, default)");
  run->add_flag("-q,--quiet", cfg.quiet, "no console table and no progress line (files are still written)");
  bool no_progress = false, force_progress = false;
  run->add_flag("--no-progress", no_progress, "no progress line on stderr");
  run->add_flag("--progress", force_progress,
                "show the progress line even when stderr is not a terminal (mpirun gives ranks a pipe)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.command = Command::help;
    result.help_text = (run->parsed() ? run->help() : app.help());
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
