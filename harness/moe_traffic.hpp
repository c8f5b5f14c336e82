// The model's view of the MoE ops (docs/moe.md): the routing's bytes per pair (model::Traffic)
// from the counts spec, for a row that ran (run --fabric) or a prediction (model --op moe_*).
// The harness builds it because it alone holds both the routing (collectives/counts.hpp) and
// the model (model/cost.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "collectives/counts.hpp"
#include "model/cost.hpp"
#include "vocab/op.hpp"

namespace fb {

struct MoeTraffic {
  std::shared_ptr<const model::Traffic> traffic;
  double max_rank_bytes = 0;  // the most loaded rank's bytes, sent or received (the model's size)
  double load_imbalance = 1;  // max_rank_bytes over the mean per-rank send
  double rank_bytes = 0;      // what every rank sends: tokens x topk x hidden x esize
};

// `tokens` per rank of `esize`-byte elements on n ranks; uniform, zipf and hot give one shared
// row (O(experts) however many ranks), a matrix n rows. domain_local: the what-if placement
// (model::Traffic::domain_local) on domains of ranks_per_domain ranks.
MoeTraffic moe_traffic(const CountsSpec& spec, vocab::OpKind op, std::uint64_t nranks, std::size_t tokens,
                       std::size_t esize, bool domain_local = false, std::uint64_t ranks_per_domain = 1);

// A row's counts column (counts_label) back into its spec: "zipf:1.2 seed=1 topk=2 ..."; nullopt
// when it does not parse (a file from another version).
std::optional<CountsSpec> parse_counts_label(const std::string& label);

}  // namespace fb
