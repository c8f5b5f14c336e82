// fabricbench model: predict ops on a fabric and extrapolate to 2^20 GPUs. No MPI here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/commands/model_against.hpp"
#include "vocab/counts.hpp"

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
  bool force = false;        // replace existing --csv/--json files
  std::string compare_set;   // --compare-set KEY=V1,V2,...: one prediction per value (model_compare.cpp)
  std::string traffic;       // --traffic PATTERN (model_traffic.cpp)
  std::uint64_t nranks = 0;  // --traffic: ranks (0: the fabric's, at most 1024)
  int seeds = 20;            // --traffic: runs drawn
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

// ---- what-ifs (model_compare.cpp, model_traffic.cpp) ---------------------------------------------
struct Record;
namespace model {
struct Fabric;
struct Placement;
struct Prediction;
}  // namespace model
// --compare-set's values ({""} when none) and its key.
std::vector<std::string> compare_set_values(const std::string& compare_set);
std::string compare_set_key(const std::string& compare_set);
// The --set list for one --compare-set value: o.sets, then KEY=VALUE; a `*` tier index
// (scale_out.tiers.*.load_balancing) sets that key on every tier of the fabric.
std::vector<std::string> compare_set_sets(const ModelOptions& o, const std::string& value);
// Usage errors of --compare-set, --traffic and their options (`given`: the options on the command
// line among --op, --bytes, --algo, --protocol, --gpus, --nranks, --seeds, ...).
void check_whatif_options(const ModelOptions& o, const std::vector<std::string>& given);
int run_model_compare(const ModelOptions& o);
int run_model_traffic(const ModelOptions& o);
// Shared with model.cpp's sweep: the row of one prediction, the scales, the checks of ops/algos.
Record model_record(const ModelOptions& o, const model::Fabric& f, const std::string& op, std::uint64_t bytes,
                    const model::Placement& p, const model::Prediction& pr);
std::vector<std::uint64_t> model_scales(const ModelOptions& o, const model::Fabric& f, std::uint64_t rpd,
                                        std::string& clipped);
void check_ops_and_algos(const ModelOptions& o, const model::Fabric& f, const std::vector<std::string>& algos,
                         const std::vector<std::uint64_t>& scales, std::uint64_t rpd);

}  // namespace fb
