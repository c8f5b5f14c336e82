// Rows held against the model: the model's algorithm for what a row ran, its prediction in the
// row's model_* columns, and the sink that does this to every row on its way to the outputs.
#pragma once

#include <string>
#include <utility>

#include "harness/sinks/sink.hpp"
#include "model/cost.hpp"
#include "model/fabric.hpp"

namespace fb {

// The model's algorithm and protocol for what a measured row ran (its backend, op and algo
// column): fabricbench's algorithms by name; the pairwise ops (whose algo column names the p2p
// API, e.g. tag/put/am, or native) the point-to-point model ("native"; "nccl_p2p" on nccl);
// NCCL's logged choice (RING/LL128 -> nccl_ring, ll128; several choices in one row or none
// logged -> nccl_auto; send/recv-based ops -> nccl_p2p). Suffixes /windowN and /graphN go.
std::pair<std::string, std::string> model_algorithm_for(const Record& r);

// The model_basis of a prediction with model algorithm `algo` (model_algorithm_for's) for `op`:
// "best-modelled-bound" where the row ran its library's own choice, which the model cannot know
// (native collectives of MPI; NCCL's when its log did not say: native, nccl_auto, auto), else
// "algorithm" (fabricbench's algorithms, NCCL's logged choice, the point-to-point ops).
std::string model_basis_for(const std::string& op, const std::string& algo);
inline constexpr const char* kBasisAlgorithm = "algorithm";
inline constexpr const char* kBasisBound = "best-modelled-bound";

// Fill the model_* fields of a measured row (leaves them empty when the model has no algorithm
// for what ran).
void annotate_with_model(Record& r, const model::Fabric& f);
// Fill them from a prediction of that row on fabric `fabric_name`, made for model algorithm
// `algo` (as given to model::predict; sets model_basis).
void set_prediction(Record& r, const std::string& fabric_name, const model::Prediction& pr,
                    const std::string& algo = kBasisAlgorithm);

// Annotates each row that has no prediction yet (validate's pair rows carry their own) with the
// fabric's, when one is set, and hands it on. run and validate send their rows through one.
class AnnotatingSink final : public Sink {
 public:
  explicit AnnotatingSink(Sink& next) : next_(next) {}
  // Every row is held against this fabric's prediction before it is written.
  void set_fabric(const model::Fabric* f) { fabric_ = f; }
  void begin(const RunMeta& m) override { next_.begin(m); }
  void row(const Record& measured) override;
  void end(const std::string& status) override { next_.end(status); }
  void soak(const SoakSummary& s) override { next_.soak(s); }

 private:
  Sink& next_;
  const model::Fabric* fabric_ = nullptr;
};

}  // namespace fb
