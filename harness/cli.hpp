// The command line: `fabricbench CMD [options]` (the commands of harness/commands/), `fabricbench
// --list`, `fabricbench --version`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness/commands/command.hpp"

namespace fb {

struct CliResult {
  // no_command: `fabricbench` alone (or with no command after global flags): a usage error.
  enum class Kind { command, list, version, help, no_command } kind = Kind::help;
  Command* command = nullptr;  // Kind::command: the one parsed, resolved
  std::string help_text;       // Kind::help, Kind::no_command and Kind::version
};

// Parses over `commands` (each adds its subcommand). Throws UsageError with a one-line message for
// anything invalid (flags, values, plan file).
CliResult parse_command_line(int argc, char** argv, const std::vector<std::unique_ptr<Command>>& commands);

// `fabricbench --list`: backends (compiled in or not, with the reason), ops, dtypes and redops.
std::string list_text();

}  // namespace fb
