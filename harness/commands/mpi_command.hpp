// What the MPI commands (run, validate) share, written once: under mpirun every rank agrees on
// the request, then the command's collective steps (backends, fabric, tests) each agree on their
// errors, then rank 0 opens its outputs last; a bad request is one line on rank 0 and exit 2 on
// every rank. The rows go through one annotating sink (the fabric's prediction) into rank 0's
// outputs, under a watchdog and an interrupt guard; an error on any rank ends the whole job with
// exit 3, the files closed with status "error".
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/commands/command.hpp"
#include "harness/record.hpp"
#include "harness/sinks/annotate.hpp"
#include "harness/sinks/fan_out.hpp"
#include "harness/watchdog.hpp"
#include "model/fabric.hpp"
#include "transports/backend.hpp"
#include "transports/world.hpp"

namespace fb {

class MpiCommand : public Command {
 public:
  bool needs_mpi() const final { return true; }
  int run(transports::World& world, const std::string& parse_error) final;

 protected:
  // What the set-up makes, for the command's steps.
  struct Job {
    explicit Job(transports::World& w) : world(w), root(w.rank() == 0) {}
    transports::World& world;
    const bool root;
    // Every backend the job made, on whichever communicators (run --ranks/--split: every stage's, in
    // stage order): what the inventory lists and what the watchdog aborts on a hang.
    std::vector<std::unique_ptr<transports::Backend>> backends;
    std::vector<StageMeta> stages;        // run --ranks/--split: each stage's communicators (meta.stages)
    std::optional<model::Fabric> fabric;  // the rows' predictions; none: rows go unannotated
    FanOutSink outputs;                   // rank 0's console and files
    AnnotatingSink rows{outputs};         // where the command sends its rows
  };

  // What the ranks must agree on (one line per setting), and whether a difference names its line.
  virtual std::string canonical() const = 0;
  virtual bool name_differing_line() const { return true; }
  // The prefix of the command's error lines ("validate: "), the command line, the watchdog's limit.
  virtual std::string error_prefix() const { return ""; }
  virtual std::string command_line() const = 0;
  virtual double timeout_s() const = 0;
  // Collective: backends, fabric and tests, each through step(). Throws UsageError.
  virtual void prepare(Job& job) = 0;
  // Rank 0: its console and file sinks into job.outputs (and the command's own files).
  virtual void open_outputs(Job& job) = 0;
  // Runs under the watchdog; returns the exit code so far.
  virtual int run_measurements(Job& job, Watchdog& watchdog) = 0;
  // After the watchdog, on every rank: the exit code (run: closes the files; validate: the verdict).
  virtual int conclude(Job& job, int code) = 0;
  // Frees what the command holds on the backends (prepared tests, buffers) before they go.
  virtual void release() {}
  // On the rank the watchdog ends the job from (a hang or a dead peer), after the files are
  // closed and just before the job ends (exit 3): the command's last word (validate: a verdict).
  virtual void on_watchdog_abort(Job& /*job*/, const WatchdogReport& /*report*/) {}

  // One collective step: an error on any rank (with `root_only`, on rank 0) becomes every rank's
  // UsageError (harness/job.hpp agree()).
  static void step(transports::World& world, const std::function<void()>& f, bool root_only = false);
  // --timeout's seconds (>= 0, at most 1e7); UsageError otherwise.
  static double parse_timeout_s(const std::string& text);
};

}  // namespace fb
