// The exit codes every command ends with (README.md, "Exit codes").
#pragma once

namespace fb::exit_code {

constexpr int ok = 0;
// A run found wrong data (the wrong column says where).
constexpr int wrong_data = 1;
// compare's gate failed: a slower row, rows missing from the candidate, a candidate whose status is
// not ok or whose rows hold wrong data, or no row matched (docs/ci-gate.md).
constexpr int gate_failed = 1;
// run --cycles/--duration --fail-on-drift: a row drifted against its first cycle.
constexpr int drift = 1;
// Bad input (UsageError): one line on rank 0, nothing written. Includes a request the environment
// cannot run, found while setting up (no GPU for --backend nccl, no usable UCX transport).
constexpr int usage = 2;
// A timeout, a rank that died, or a library error that ended the job (any other error).
constexpr int timeout = 3;

}  // namespace fb::exit_code
