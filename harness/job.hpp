// Pieces every MPI-launched command shares (run, validate): one-line errors, agreement on an
// error across ranks, the run metadata.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/record.hpp"
#include "transports/backend.hpp"
#include "transports/world.hpp"

namespace fb {

// "fabricbench: MSG" on stderr, flushed; control characters in MSG are written as \xNN (one line).
void error_line(const std::string& msg);

// Collective: when any rank has an error, every rank throws it as a UsageError (the first in
// rank order, prefixed with the rank and host when it is not rank 0's).
void agree(transports::World& w, const std::string& error);

// The variables the results record (NCCL_*, UCX_*, OMPI_*, ...) of an environment block.
std::map<std::string, std::string> recorded_environment(char** env);
// recorded_environment of the process as launched: a snapshot taken at the first call (main()
// calls it first), before a backend sets its own NCCL_DEBUG*, NCCL_ALGO, ...
const std::map<std::string, std::string>& launch_environment();

// The run metadata (versions, hosts, environment, the host memory probe, the inventory) for the results
// files. Collective (every rank probes its memory at once); the result is complete on rank 0 only.
RunMeta make_meta(transports::World& w, const std::string& command_line,
                  const std::vector<std::unique_ptr<transports::Backend>>& backends);

}  // namespace fb
