// The errors fabricbench throws, and the exit codes they end in (vocab/exit_code.hpp; README.md,
// "Exit codes"); vocabulary, because collectives, model and harness all throw them. Wrong data is
// no error: the runner counts wrong elements into the rows, and a run with any exits
// exit_code::wrong_data.
#pragma once

#include <stdexcept>
#include <string>

#include "vocab/exit_code.hpp"

namespace fb {

// Bad user input, or a request this environment cannot run: one line on rank 0, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A library call failed. While a backend is set up (before any test) every rank agrees on it and
// it is reported as bad input (exit code 2: e.g. no usable UCX transport); during the tests it
// ends the job (exit code 3).
struct BackendError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A timeout or a peer failure: ends the job, exit code 3.
struct TimeoutError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace fb
