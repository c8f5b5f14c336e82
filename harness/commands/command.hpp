// A fabricbench command (run, validate, model, calibrate, compare, report): one file each under
// harness/commands/. A command adds its own CLI11 subcommand and options, resolves what was
// parsed (a bad value: UsageError, one line, exit 2) and runs. harness/cli.cpp parses the command
// line over all_commands(); main.cpp dispatches.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fb {
namespace transports {
class World;
}

class Command {
 public:
  virtual ~Command() = default;
  // Adds the subcommand and its options to `app`; returns the subcommand.
  virtual CLI::App* add_to(CLI::App& app) = 0;
  // After a parse that chose this command: checks and resolves what was given.
  virtual void resolve(const std::string& command_line) = 0;
  // An MPI command runs under mpirun/srun with a World (harness/commands/mpi_command.hpp); the
  // others run alone, in one process.
  virtual bool needs_mpi() const { return false; }
  // Alone: the exit code; UsageError is bad input (exit 2), any other error exits 3.
  virtual int run() { return 0; }
  // Under MPI, on every rank. `parse_error`: the command line's error, which every rank reports
  // through the command's agreement.
  virtual int run(transports::World& world, const std::string& parse_error);
};

std::unique_ptr<Command> make_run_command();
std::unique_ptr<Command> make_validate_command();
std::unique_ptr<Command> make_model_command();
std::unique_ptr<Command> make_inference_command();
std::unique_ptr<Command> make_calibrate_command();
std::unique_ptr<Command> make_compare_command();
std::unique_ptr<Command> make_report_command();

// Every command, in the order `fabricbench --help` lists them; run first (a command line that
// does not parse under mpirun is reported through run's agreement).
std::vector<std::unique_ptr<Command>> all_commands();

}  // namespace fb
