// The inference view of the model: what one forward pass of a transformer sends over the fabric
// when it is split tensor-parallel (TP), expert-parallel (EP) and pipeline-parallel (PP), and how
// long each of those calls takes (model/cost.hpp's predict, with the algorithm `model` picks).
// docs/inference.md derives every count and size below.
//
// One instance of the model runs on TP x EP x PP GPUs, laid out as cost.hpp's Placement does
// (consecutive ranks fill a scale-up domain): a pipeline stage is max(TP, EP) consecutive GPUs; in
// it, attention runs tensor-parallel over TP GPUs and data-parallel over the stage's
// max(TP, EP) / TP attention groups; routed experts are spread over the stage's EP GPUs. A forward
// pass carries `tokens` tokens through each attention group: one per sequence in decode, a
// request's prompt in prefill.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "vocab/counts.hpp"

namespace fb::model {

// A transformer's shape as its communication sees it.
struct ModelShape {
  std::string name;                // a preset's name, or "custom"
  std::uint64_t layers = 0;        // transformer layers
  std::uint64_t hidden = 0;        // hidden size (elements per token's activation)
  std::uint64_t dtype_bytes = 2;   // bytes per element of the activations sent (2: bf16)
  std::uint64_t experts = 0;       // routed experts per MoE layer; 0: a dense model
  std::uint64_t top_k = 0;         // experts each token is routed to (MoE)
  std::uint64_t dense_layers = 0;  // of `layers`, those with a dense MLP in an MoE model
  std::string source;              // where the numbers come from (presets)
  bool moe() const { return experts > 0; }
  std::uint64_t moe_layers() const { return moe() ? layers - dense_layers : 0; }
};

// Well-known shapes, each citing its source: llama-3.1-8b, llama-3.1-70b, llama-3.1-405b,
// mixtral-8x7b, deepseek-v3.
const std::vector<ModelShape>& model_presets();
const ModelShape* find_model_preset(const std::string& name);

// How one instance is split.
struct InferenceScale {
  std::uint64_t tp = 1, ep = 1, pp = 1;
  std::uint64_t stage_gpus() const { return tp > ep ? tp : ep; }
  std::uint64_t gpus() const { return stage_gpus() * pp; }
  std::uint64_t attention_groups() const { return stage_gpus() / tp; }  // attention data-parallel
};

// The scale `--gpus G` means: a dense model fills a scale-up domain with TP (TP = min(G, domain))
// and pipelines across domains (PP = G / TP); an MoE model spreads its experts over all G GPUs
// (EP = G) with data-parallel attention (TP = 1), as DeepSeek-V3's deployment does. Throws
// std::invalid_argument when G does not split that way.
InferenceScale scale_for_gpus(const ModelShape& m, std::uint64_t gpus, std::uint64_t domain);

// Throws std::invalid_argument (one line, naming the value) for a shape or scale that cannot run:
// zero sizes, top-k outside 1..experts, more dense layers than layers, EP > 1 on a dense model,
// EP not a multiple of TP, more stages than layers.
void check_shape(const ModelShape& m);
void check_scale(const ModelShape& m, const InferenceScale& s);
// The layout in domains of ranks_per_domain GPUs: where there is more than one TP group (or stage),
// each must lie in one domain or span whole domains, as cost.hpp's Placement prices them.
void check_layout(const InferenceScale& s, std::uint64_t ranks_per_domain);

// One kind of call in a forward pass, before it is priced.
struct CommCall {
  std::string name;     // tp_allreduce, tp_reducescatter, tp_allgather, ep_dispatch, ep_combine,
                        // pp_send (one row per kind of hop: in a domain, across domains)
  std::string op;       // the op priced: allreduce, reducescatter, allgather, alltoall, sendrecv
  std::uint64_t calls;  // per forward pass (a decode step, or a prefill)
  double bytes;         // per call, as cost.hpp sizes `op` (each rank's alltoall send buffer, ...)
  Placement placement;  // the ranks taking part in one call
};

// The calls of one forward pass that carries `tokens` tokens through each attention group:
//  - TP (TP > 1): after attention and after a dense MLP (or an MoE block whose experts are
//    TP-sharded, EP = 1) an all-reduce of tokens x hidden x dtype bytes; with sequence parallelism
//    a reduce-scatter and an all-gather of that size instead. Without it, an MoE layer with EP and
//    TP > 1 also all-gathers after combine (each rank combined its 1/TP share of the tokens);
//  - EP (EP > 1), per MoE layer: dispatch and combine, each an all-to-all in which each rank sends
//    its tokens / TP tokens x top-k x hidden x dtype bytes (uniform routing);
//  - PP (PP > 1): per stage boundary, each of the stage's GPUs sends tokens / TP x hidden x dtype
//    bytes to its peer in the next stage; the hop is priced in a domain or across domains.
// Calls of a kind that does not happen (TP = 1, ...) are left out. `ranks_per_domain`: GPUs of
// the instance per scale-up domain.
std::vector<CommCall> forward_pass_calls(const ModelShape& m, const InferenceScale& s, double tokens,
                                         std::uint64_t ranks_per_domain, bool sequence_parallel);

// How tokens pick experts in the EP exchange (inference --counts, --seed, --expert-placement;
// docs/inference.md): a distribution over the experts as the MoE ops take it (vocab/counts.hpp)
// and the placement what-if. Uniform routing with spread experts is the all-to-all.
struct ExpertRouting {
  CountsSpec counts;          // kind, seed (its MoE shape is the model's, set per call)
  bool domain_local = false;  // each token's experts inside its scale-up domain
  bool all_to_all() const { return counts.kind == CountsSpec::Kind::uniform && !domain_local; }
};

// The MoE exchange (dispatch or combine, `phase`) of `bytes_per_rank` per rank over the EP group
// of `m` (experts spread evenly over its p.nranks ranks). Uniform, spread routing: the model's
// all-to-all. Any other: the routing's expected traffic (model/moe_traffic.hpp
// moe_expected_traffic, tokens per rank = bytes_per_rank / (top-k x hidden x dtype)) priced as
// `model --op moe_dispatch|moe_combine` prices it, the most loaded rank, NIC or tier setting the
// time. Throws std::invalid_argument for a bad phase, or when the experts do not split evenly over
// the EP ranks (or a matrix is not EP x EP, or top-k exceeds the experts with traffic).
Prediction predict_moe_exchange(const Fabric& f, const std::string& phase, const Placement& p,
                                double bytes_per_rank, const std::string& algo, const ModelShape& m = {},
                                const ExpertRouting& routing = {});

struct PricedCall {
  CommCall call;
  Prediction per_call;
  double time_us = 0;  // calls x per_call.time_us
  double share = 0;    // time_us / the pass's total (0 when the pass sends nothing)
};

struct PassCost {
  std::vector<PricedCall> calls;
  double total_us = 0;
  // The call with the largest time; -1 when there is none.
  int dominant() const;
};

// Prices each call with predict(f, op, algo, ...) (predict_moe_exchange of `m` under `routing` for
// dispatch and combine). Throws std::invalid_argument when a call cannot be predicted on this
// fabric.
PassCost price_pass(const Fabric& f, const std::vector<CommCall>& calls, const std::string& algo,
                    const ModelShape& m = {}, const ExpertRouting& routing = {});

}  // namespace fb::model
