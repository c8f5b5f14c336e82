// fabricbench calibrate: fit a fabric file's latencies and bandwidths to measured rows. The
// fitters are model/calibrate.hpp; this command reads the rows, picks what each fitter takes and
// writes the fabric file. No MPI here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "harness/record.hpp"
#include "model/calibrate.hpp"
#include "model/fabric.hpp"

namespace fb {

struct CalibrateOptions {
  std::vector<std::string> inputs;
  std::string output;
  std::string base;  // fabric to start from; default localhost (one host)
  std::vector<std::string> sets;
  bool force = false;
  std::string command_line;
};

// Whether a row is one calibrate can fit a tier from: a collective (not a pairwise op) the model
// predicts, on 2 or more ranks.
bool is_collective_row(const Record& r);
// model::fit_tier_from_collectives over the collective rows among `rows` (is_collective_row), each
// with the model's algorithm for what it ran (model_algorithm_for).
std::optional<model::LinkFit> fit_tier_from_collectives(model::Fabric& f, model::FitTier tier,
                                                        const std::vector<Record>& rows);

int run_calibrate_command(const CalibrateOptions& o);

}  // namespace fb
