// Error kinds and the exit codes they map to (DESIGN.md, "Conventions").
#pragma once

#include <stdexcept>
#include <string>

namespace fb {

// Bad user input: one line on rank 0, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A library call failed or the environment cannot run the request (exit code 2 when it is the
// user's environment, e.g. "nccl: no GPU"; otherwise 1).
struct BackendError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Wrong data detected by validation: exit code 1.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A timeout or a peer failure: exit code 3.
struct TimeoutError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace exit_code {
constexpr int ok = 0;
constexpr int wrong_data = 1;
constexpr int usage = 2;
constexpr int timeout = 3;
}  // namespace exit_code

}  // namespace fb
