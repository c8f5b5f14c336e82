// The MPI commands' shared set-up (harness/commands/mpi_command.hpp).
#include "harness/commands/mpi_command.hpp"

#include <chrono>
#include <cstdlib>

#include "harness/interrupt.hpp"
#include "harness/job.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {
namespace {

// Collective: every rank must have resolved the same configuration.
void agree_arguments(transports::World& w, const std::string& mine, bool name_line) {
  const auto all = w.gather_strings(mine, 0);
  std::string msg;
  if (w.rank() == 0)
    for (int r = 1; r < w.size(); ++r)
      if (all[r] != all[0]) {
        if (!name_line) {
          msg = "ranks were launched with different arguments: rank " + std::to_string(r) + " (" +
                w.hostnames()[static_cast<std::size_t>(r)] + ") differs from rank 0";
          break;
        }
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

}  // namespace

void MpiCommand::step(transports::World& world, const std::function<void()>& f, bool root_only) {
  std::string err;
  try {
    f();
  } catch (const std::exception& e) {
    err = e.what();
  }
  agree(world, root_only && world.rank() != 0 ? std::string() : err);
}

double MpiCommand::parse_timeout_s(const std::string& text) {
  const auto t = parse_number(text);
  if (!t || *t < 0 || *t > 1e7)
    throw UsageError("command line: timeout: expected seconds >= 0, got '" + text + "'");
  return *t;
}

int MpiCommand::run(transports::World& world, const std::string& parse_error) {
  Job job(world);
  // Declared after the job, so run before its backends go.
  struct Release {
    MpiCommand& c;
    ~Release() { c.release(); }
  } release{*this};
  const bool root = job.root;
  try {
    agree(world, parse_error);
    agree_arguments(world, canonical(), name_differing_line());
    transports::set_setup_timeout_s(timeout_s());  // NCCL's communicators are made in prepare()
    prepare(job);
    // Rank 0 opens the outputs last, once the request is known to be good.
    std::string err;
    if (root) {
      try {
        open_outputs(job);
      } catch (const std::exception& e) {
        err = std::string("cannot write results: ") + e.what();
      }
    }
    agree(world, err);
  } catch (const UsageError& e) {
    if (root) error_line(error_prefix() + e.what());
    return exit_code::usage;
  }

  RunMeta meta = make_meta(world, command_line(), job.backends);
  meta.stages = job.stages;
  if (root) job.rows.begin(meta);
  if (job.fabric) job.rows.set_fabric(&*job.fabric);
  InterruptGuard interrupt([&job](const std::string& status) { job.rows.end(status); },
                           std::chrono::milliseconds(root ? 0 : 2000));
  int code = exit_code::ok;
  try {
    // On a hang the files are closed with the watchdog's status first; then backends that can
    // abort a stuck op do so (NCCL: ncclCommAbort) before the job ends.
    Watchdog watchdog(world, timeout_s(), [this, &job](const WatchdogReport& report) {
      job.rows.end(report.status);
      on_watchdog_abort(job, report);
      for (auto& b : job.backends) b->abort_from_watchdog();
    });
    code = run_measurements(job, watchdog);
    watchdog.finish();
  } catch (const std::exception& e) {
    // A failure on one rank while others may be inside an op: end the whole job.
    error_line(error_prefix() + "rank " + std::to_string(world.rank()) + " (" + world.hostname() +
               "): " + e.what());
    if (root) job.rows.end("error");
    world.abort(exit_code::timeout);
    std::_Exit(exit_code::timeout);  // not reached: abort() ends the job
  }
  return conclude(job, code);
}

}  // namespace fb
