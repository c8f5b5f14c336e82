// fabricbench: parse, agree across ranks, run, write. Exit codes: 0 ok, 1 wrong data, 2 bad
// input, 3 timeout, peer failure or a library error that ended the job.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <algorithm>
#include <optional>
#include <set>

#include "collectives/error.hpp"
#include "harness/cli.hpp"
#include "harness/interrupt.hpp"
#include "harness/job.hpp"
#include "harness/modeling.hpp"
#include "harness/report.hpp"
#include "harness/runner.hpp"
#include "harness/sinks/sink.hpp"
#include "harness/utc.hpp"
#include "harness/version.hpp"
#include "harness/watchdog.hpp"

namespace fb {
namespace {

// Rank as the launcher tells it, before MPI is initialised (for help text and early errors).
int launcher_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return -1;
}

bool under_launcher() { return launcher_rank() >= 0 || std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

// Collective: every rank must have resolved the same configuration.
void agree_config(transports::World& w, const RunConfig& cfg) {
  const std::string mine = cfg.canonical();
  const auto all = w.gather_strings(mine, 0);
  std::string msg;
  if (w.rank() == 0)
    for (int r = 1; r < w.size(); ++r)
      if (all[r] != all[0]) {
        // Name the first line that differs.
        std::size_t a = 0, b = 0;
        std::string la, lb;
        while (la == lb && (a < all[0].size() || b < all[r].size())) {
          auto ea = all[0].find('\n', a), eb = all[r].find('\n', b);
          la = all[0].substr(a, ea - a);
          lb = all[r].substr(b, eb - b);
          a = ea == std::string::npos ? all[0].size() : ea + 1;
          b = eb == std::string::npos ? all[r].size() : eb + 1;
        }
        msg = "ranks were launched with different arguments: rank " + std::to_string(r) + " (" +
              w.hostnames()[r] + ") has " + (lb.empty() ? "fewer tests" : lb) + " where rank 0 has " +
              (la.empty() ? "fewer tests" : la);
        break;
      }
  msg = w.broadcast_string(msg, 0);
  if (!msg.empty()) throw UsageError(msg);
}

// Rank 0's sinks as one. Each sink serialises its own calls and keeps the first end() (see
// harness/sinks/guard.hpp), so the watchdog's abort hook may call end() from its thread.
class SinkSet final : public Sink {
 public:
  void add(std::unique_ptr<Sink> s) { sinks_.push_back(std::move(s)); }
  void begin(const RunMeta& m) override {
    for (auto& s : sinks_) s->begin(m);
  }
  void row(const Record& measured) override {
    Record r = measured;
    if (fabric_) annotate_with_model(r, *fabric_);
    for (auto& s : sinks_) s->row(r);
  }
  // Every row is held against this fabric's prediction before it is written.
  void set_fabric(const model::Fabric* f) { fabric_ = f; }
  void end(const std::string& status) override {
    for (auto& s : sinks_) {
      try {
        s->end(status);
      } catch (const std::exception& e) {
        error_line(std::string("writing results: ") + e.what());
      }
    }
  }

 private:
  std::vector<std::unique_ptr<Sink>> sinks_;
  const model::Fabric* fabric_ = nullptr;
};

int run_command(transports::World& world, const CliResult& cli, const std::string& parse_error) {
  const bool root = world.rank() == 0;
  std::vector<std::unique_ptr<transports::Backend>> backends;
  std::vector<PreparedTest> tests;
  SinkSet sinks;
  std::optional<model::Fabric> fabric;
  const RunConfig& cfg = cli.config;
  try {
    agree(world, parse_error);
    agree_config(world, cfg);

    std::string err;
    try {
      std::vector<std::string> names;
      for (const auto& t : cfg.tests)
        if (std::find(names.begin(), names.end(), t.backend) == names.end()) names.push_back(t.backend);
      for (const auto& n : names) backends.push_back(transports::make_backend(n, world));
    } catch (const std::exception& e) {
      err = e.what();
    }
    agree(world, err);

    // The fabric the rows are held against: --fabric, else localhost on a single host.
    try {
      if (!cfg.fabric.empty()) {
        fabric = load_fabric_for_cli(cfg.fabric, cfg.sets);
      } else if (world.nnodes() == 1) {
        try {
          fabric = load_fabric_for_cli("localhost", cfg.sets);
        } catch (const UsageError&) {
          if (!cfg.sets.empty()) throw;  // a --set for a fabric that is not there
        }
      } else if (!cfg.sets.empty()) {
        throw UsageError("--set needs --fabric on a multi-host run");
      }
    } catch (const std::exception& e) {
      err = e.what();
    }
    agree(world, err);

    std::vector<std::string> notes;
    try {
      tests = prepare_tests(cfg, backends, world.size(), notes);
      check_memory(tests, world.size(), world.rank(), world.max_ranks_per_node());
    } catch (const std::exception& e) {
      err = e.what();
    }
    agree(world, err);
    if (root && !cfg.quiet)
      for (const auto& n : notes) error_line("note: " + n);

    // Rank 0 opens the outputs last, once the request is known to be good.
    if (root) {
      try {
        FileSinks files = open_file_sinks(cfg.csv_path, cfg.json_path, cfg.force);
        if (!cfg.quiet) sinks.add(make_console_sink(std::cout));
        for (auto& s : files.sinks) sinks.add(std::move(s));
      } catch (const std::exception& e) {
        err = std::string("cannot write results: ") + e.what();
      }
    }
    agree(world, err);
  } catch (const UsageError& e) {
    if (root) error_line(e.what());
    return exit_code::usage;
  }

  const RunMeta meta = make_meta(world, cfg.command_line, backends);
  if (root) sinks.begin(meta);
  if (fabric) sinks.set_fabric(&*fabric);
  InterruptGuard interrupt([&sinks](const std::string& status) { sinks.end(status); },
                           std::chrono::milliseconds(root ? 0 : 2000));
  try {
    // On a hang the files are closed with the watchdog's status first; then backends that can
    // abort a stuck op do so (NCCL: ncclCommAbort) before the job ends.
    Watchdog watchdog(world, cfg.timeout_s, [&sinks, &backends](const std::string& status) {
      sinks.end(status);
      for (auto& b : backends) b->abort_from_watchdog();
    });
    const RunOutcome out = run_tests(world, tests, {&sinks}, &watchdog, cfg.progress);
    watchdog.finish();
    if (root) sinks.end(out.wrong ? "wrong-data" : "ok");
    if (out.wrong && root)
      error_line("validation failed: " + std::to_string(out.wrong) + " wrong elements (see the wrong column)");
    return out.wrong ? exit_code::wrong_data : exit_code::ok;
  } catch (const std::exception& e) {
    // A failure on one rank while others may be inside an op: end the whole job.
    error_line("rank " + std::to_string(world.rank()) + " (" + world.hostname() + "): " + e.what());
    if (root) sinks.end("error");
    world.abort(exit_code::timeout);
    std::_Exit(exit_code::timeout);  // not reached: abort() ends the job
  }
}

}  // namespace
}  // namespace fb

int main(int argc, char** argv) {
  using namespace fb;
  CliResult cli;
  std::string parse_error;
  try {
    cli = parse_command_line(argc, argv);
  } catch (const std::exception& e) {
    parse_error = e.what();
  }
  const bool print = launcher_rank() <= 0;
  if (parse_error.empty() &&
      (cli.command == Command::model || cli.command == Command::calibrate || cli.command == Command::compare ||
       cli.command == Command::report)) {
    try {
      if (cli.command == Command::compare) return run_compare_command(cli.compare);
      if (cli.command == Command::report) return run_report_command(cli.report);
      return cli.command == Command::model ? run_model_command(cli.model) : run_calibrate_command(cli.calibrate);
    } catch (const UsageError& e) {
      error_line(e.what());
      return exit_code::usage;
    } catch (const std::exception& e) {
      error_line(e.what());
      return exit_code::timeout;
    }
  }
  if (parse_error.empty() && cli.command != Command::run && cli.command != Command::validate) {
    if (print) {
      if (cli.command == Command::list) std::cout << list_text();
      else std::cout << cli.help_text;
    }
    return 0;
  }
  if (!parse_error.empty() && !under_launcher()) {
    error_line(parse_error);
    return exit_code::usage;
  }
  int rc = 0;
  {
    std::unique_ptr<transports::World> world;
    try {
      world = transports::make_mpi_world(&argc, &argv);
    } catch (const std::exception& e) {
      error_line(std::string("cannot start MPI: ") + e.what());
      return exit_code::timeout;
    }
    // A parse error under mpirun: every rank reports it through run's agreement (one line, exit 2).
    rc = cli.command == Command::validate ? run_validate_command(*world, cli.validate, parse_error)
                                          : run_command(*world, cli, parse_error);
  }
  return rc;
}
