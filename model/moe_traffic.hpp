// The model's view of the MoE ops (docs/moe.md) and of an inference pass's expert-parallel
// exchange (docs/inference.md): the routing's bytes per pair (Traffic) from a counts spec
// (vocab/counts.hpp), for a row that ran (run --fabric), a prediction (model --op moe_*) or a
// forward pass (inference --counts). Pure arithmetic: no CLI, no MPI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "model/cost.hpp"
#include "vocab/counts.hpp"
#include "vocab/op.hpp"

namespace fb::model {

struct MoeTraffic {
  std::shared_ptr<const Traffic> traffic;
  double max_rank_bytes = 0;  // the most loaded rank's bytes, sent or received (the model's size)
  double load_imbalance = 1;  // max_rank_bytes over the mean per-rank send
  double rank_bytes = 0;      // what every rank sends: tokens x topk x hidden x esize
};

// `tokens` per rank of `esize`-byte elements on n ranks, routed as the ops run them (expert_loads:
// whole tokens per expert); uniform, zipf and hot give one shared row (O(experts) however many
// ranks), a matrix n rows. domain_local: the what-if placement (Traffic::domain_local) on domains
// of ranks_per_domain ranks. Throws UsageError when the routing cannot run on n ranks.
MoeTraffic moe_traffic(const CountsSpec& spec, vocab::OpKind op, std::uint64_t nranks, std::size_t tokens,
                       std::size_t esize, bool domain_local = false, std::uint64_t ranks_per_domain = 1);

// The same exchange in expectation: each source's `tokens` (any positive number, e.g. a decode
// step's 1/TP of a token) shared over the experts by expert_shares (the water-filled weights,
// unrounded), as the average over many steps routes them. Uniform routing gives exactly the
// all-to-all's split. Throws UsageError as moe_traffic.
MoeTraffic moe_expected_traffic(const CountsSpec& spec, vocab::OpKind op, std::uint64_t nranks, double tokens,
                                std::size_t esize, bool domain_local = false,
                                std::uint64_t ranks_per_domain = 1);

}  // namespace fb::model
