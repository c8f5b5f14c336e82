// fabricbench: parse, dispatch to the command (harness/commands/). Exit codes: 0 ok, 1 wrong data,
// 2 bad input, 3 timeout, peer failure or a library error that ended the job.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "harness/cli.hpp"
#include "harness/job.hpp"
#include "transports/world.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

// Rank as the launcher tells it, before MPI is initialised (for help text and early errors).
int launcher_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return -1;
}

bool under_launcher() {
  return launcher_rank() >= 0 || std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr;
}

}  // namespace
}  // namespace fb

int main(int argc, char** argv) {
  using namespace fb;
  launch_environment();  // recorded as launched, before any backend changes it
  const auto commands = all_commands();
  CliResult cli;
  std::string parse_error;
  try {
    cli = parse_command_line(argc, argv, commands);
  } catch (const std::exception& e) {
    parse_error = e.what();
  }
  const bool print = launcher_rank() <= 0;
  if (parse_error.empty() && cli.command && !cli.command->needs_mpi()) {
    try {
      return cli.command->run();
    } catch (const UsageError& e) {
      error_line(e.what());
      return exit_code::usage;
    } catch (const std::exception& e) {
      error_line(e.what());
      return exit_code::timeout;
    }
  }
  if (parse_error.empty() && cli.kind == CliResult::Kind::no_command) {
    if (print) std::cerr << cli.help_text << "fabricbench: no command given (run, validate, model, ...)\n";
    return exit_code::usage;
  }
  if (parse_error.empty() && !cli.command) {
    if (print) {
      if (cli.kind == CliResult::Kind::list)
        std::cout << list_text();
      else
        std::cout << cli.help_text;
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
    Command& command = cli.command ? *cli.command : *commands.front();
    rc = command.run(*world, parse_error);
  }
  return rc;
}
