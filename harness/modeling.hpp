// The harness side of the fabric model: find fabric files, annotate measured rows with the
// model's prediction, `fabricbench model` (predict and extrapolate), `fabricbench calibrate`
// (fit a fabric file to measurements). No MPI here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/record.hpp"
#include "model/calibrate.hpp"
#include "model/cost.hpp"
#include "model/fabric.hpp"

namespace fb {

// A fabric given as a path, or as a name found in the fabric directories: $FABRICBENCH_CONFIGS/
// fabrics, then configs/fabrics beside the binary's build or install tree. "hgx-h100" and
// "hgx-h100.yaml" both work. Throws UsageError naming what was searched.
std::string find_fabric_file(const std::string& name_or_path);
// Loads with `sets` overrides; errors become UsageError.
model::Fabric load_fabric_for_cli(const std::string& name_or_path, const std::vector<std::string>& sets);

// The model's algorithm and protocol for what a measured row ran (its backend, op and algo
// column): fabricbench's algorithms by name; the pairwise ops (whose algo column names the p2p
// API, e.g. tag/put/am, or native) the point-to-point model ("native"; "nccl_p2p" on nccl);
// NCCL's logged choice (RING/LL128 -> nccl_ring, ll128; several choices in one row or none
// logged -> nccl_auto; send/recv-based ops -> nccl_p2p). Suffixes /windowN and /graphN go.
std::pair<std::string, std::string> model_algorithm_for(const Record& r);

// Fill the model_* fields of a measured row (leaves them empty when the model has no algorithm
// for what ran).
void annotate_with_model(Record& r, const model::Fabric& f);

struct ModelOptions {
  std::string fabric;
  std::vector<std::string> sets;
  std::vector<std::string> ops{"allreduce", "alltoall"};
  std::vector<std::uint64_t> bytes{1ull << 30};
  std::vector<std::string> algos;        // empty: nccl_auto for GPU fabrics, auto for hosts
  std::string protocol = "auto";
  std::vector<std::uint64_t> gpus;       // empty: one domain, then doubling to 2^20
  std::uint64_t ranks_per_domain = 0;    // 0: the fabric's domain size
  std::string csv_path, json_path;
  bool quiet = false;
  bool force = false;  // replace existing --csv/--json files
  std::string command_line;
};

// The default scale sweep: the domain size, then doubling, up to and including 2^20.
std::vector<std::uint64_t> default_scales(std::uint64_t domain_size);

int run_model_command(const ModelOptions& o);

struct CalibrateOptions {
  std::vector<std::string> inputs;
  std::string output;
  std::string base;                  // fabric to start from; default localhost (one host) 
  std::vector<std::string> sets;
  bool force = false;
  std::string command_line;
};

// The calibration fitters (model/calibrate.hpp) by their harness names.
using model::EvictionFit;
using model::FitTier;
using model::LinkFit;
using model::SpillFit;
using model::SpillPoint;
using model::fit_eviction;
using model::fit_forward;
using model::fit_forward_spilled;
using model::fit_link;
using model::fit_spill;
using model::outer_ws;

// Whether a row is one calibrate can fit a tier from: a collective (not a pairwise op) the model
// predicts, on 2 or more ranks.
bool is_collective_row(const Record& r);
// model::fit_tier_from_collectives over the collective rows among `rows` (is_collective_row), each
// with the model's algorithm for what it ran (model_algorithm_for).
std::optional<LinkFit> fit_tier_from_collectives(model::Fabric& f, FitTier tier, const std::vector<Record>& rows);

int run_calibrate_command(const CalibrateOptions& o);

}  // namespace fb
