// The command line: `fabricbench run [options]`, `fabricbench --list`, `fabricbench --version`.
#pragma once

#include <string>

#include "harness/compare.hpp"
#include "harness/config.hpp"
#include "harness/modeling.hpp"
#include "harness/report.hpp"
#include "harness/validate.hpp"

namespace fb {

enum class Command { run, validate, model, calibrate, compare, report, list, version, help };

struct CliResult {
  Command command = Command::help;
  RunConfig config;
  ModelOptions model;
  CalibrateOptions calibrate;
  CompareOptions compare;
  ReportOptions report;
  ValidateOptions validate;
  std::string help_text;  // for Command::help
};

// Throws UsageError with a one-line message for anything invalid (flags, values, plan file).
CliResult parse_command_line(int argc, char** argv);

// `fabricbench --list`: backends (compiled in or not, with the reason), ops, dtypes, redops.
std::string list_text();

}  // namespace fb
