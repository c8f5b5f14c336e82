// fabricbench model: predict ops on a fabric and extrapolate to 2^20 GPUs. No MPI here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collectives/counts.hpp"
#include "harness/commands/model_against.hpp"

namespace fb {

class Sink;

struct ModelOptions {
  std::string fabric;
  AgainstOptions against;  // --against FILE...: predict those files' rows (model_against.hpp)
  std::vector<std::string> sets;
  std::vector<std::string> ops{"allreduce", "alltoall"};
  std::vector<std::uint64_t> bytes{1ull << 30};
  std::vector<std::string> algos;  // empty: nccl_auto for GPU fabrics, auto for hosts
  std::string protocol = "auto";
  std::vector<std::uint64_t> gpus;     // empty: one domain, then doubling to 2^20
  std::uint64_t ranks_per_domain = 0;  // 0: the fabric's domain size
  std::string csv_path, json_path;
  bool quiet = false;
  bool force = false;  // replace existing --csv/--json files
  std::string command_line;
  // The MoE ops (docs/moe.md): their routing (--counts, --seed, --topk, --experts-per-rank,
  // --hidden; tokens per rank from --bytes at 2-byte elements) and --expert-placement.
  CountsSpec moe_counts;
  bool domain_local = false;
};

// The default scale sweep: the domain size, then doubling, up to and including 2^20.
std::vector<std::uint64_t> default_scales(std::uint64_t domain_size);

// The --csv/--json sinks, begun with this command's metadata (model and model --against).
std::vector<std::unique_ptr<Sink>> open_model_sinks(const ModelOptions& o);

int run_model_command(const ModelOptions& o);

}  // namespace fb
