// The exit codes every command ends with (README.md, "Exit codes").
#pragma once

namespace fb::exit_code {

constexpr int ok = 0;
// A run found wrong data (the wrong column says where); compare: a slower row.
constexpr int wrong_data = 1;
// Bad input (UsageError): one line on rank 0, nothing written. Includes a request the environment
// cannot run, found while setting up (no GPU for --backend nccl, no usable UCX transport).
constexpr int usage = 2;
// A timeout, a rank that died, or a library error that ended the job (any other error).
constexpr int timeout = 3;

}  // namespace fb::exit_code
