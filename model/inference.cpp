// The inference view (model/inference.hpp): presets, the calls of a forward pass, their prices.
#include "model/inference.hpp"

#include <stdexcept>

#include "model/moe_traffic.hpp"
#include "vocab/error.hpp"

namespace fb::model {

namespace {

std::string num(std::uint64_t v) {
  return std::to_string(v);
}

// Sizes and degrees up to 2^32: counts like 2 x layers and GPUs like max(TP, EP) x PP stay exact.
constexpr std::uint64_t kMaxCount = std::uint64_t{1} << 32;

std::string scale_text(const InferenceScale& s) {
  return "tp=" + num(s.tp) + " ep=" + num(s.ep) + " pp=" + num(s.pp);
}

}  // namespace

const std::vector<ModelShape>& model_presets() {
  // clang-format off
  static const std::vector<ModelShape> presets = {
      {"llama-3.1-8b", 32, 4096, 2, 0, 0, 0,
       "The Llama 3 Herd of Models, arXiv:2407.21783, Table 3 (8B: 32 layers, model dimension 4096)"},
      {"llama-3.1-70b", 80, 8192, 2, 0, 0, 0,
       "The Llama 3 Herd of Models, arXiv:2407.21783, Table 3 (70B: 80 layers, model dimension 8192)"},
      {"llama-3.1-405b", 126, 16384, 2, 0, 0, 0,
       "The Llama 3 Herd of Models, arXiv:2407.21783, Table 3 (405B: 126 layers, model dimension 16384)"},
      {"mixtral-8x7b", 32, 4096, 2, 8, 2, 0,
       "Mixtral of Experts, arXiv:2401.04088, Table 1 (32 layers, dim 4096, 8 experts, top-2 in every layer)"},
      {"deepseek-v3", 61, 7168, 2, 256, 8, 3,
       "DeepSeek-V3 Technical Report, arXiv:2412.19437, sec. 4.2 (61 layers, hidden 7168, 256 routed "
       "experts, 8 per token, the first 3 layers dense)"},
  };
  // clang-format on
  return presets;
}

const ModelShape* find_model_preset(const std::string& name) {
  for (const auto& p : model_presets())
    if (p.name == name) return &p;
  return nullptr;
}

void check_shape(const ModelShape& m) {
  if (m.layers == 0) throw std::invalid_argument("layers: must be at least 1");
  if (m.hidden == 0) throw std::invalid_argument("hidden: must be at least 1");
  if (m.dtype_bytes == 0) throw std::invalid_argument("dtype-bytes: must be at least 1");
  if (m.layers > kMaxCount || m.hidden > kMaxCount || m.dtype_bytes > kMaxCount || m.experts > kMaxCount)
    throw std::invalid_argument("shape: layers, hidden, dtype-bytes and experts must each be at most " +
                                num(kMaxCount));
  if (!m.moe()) {
    if (m.top_k != 0)
      throw std::invalid_argument("top-k: " + num(m.top_k) + " given for a dense model (experts 0)");
    if (m.dense_layers != 0)
      throw std::invalid_argument("dense-layers: " + num(m.dense_layers) +
                                  " given for a dense model (experts 0)");
    return;
  }
  if (m.experts < 2)
    throw std::invalid_argument("experts: an MoE model needs at least 2 (got " + num(m.experts) + ")");
  if (m.top_k < 1 || m.top_k > m.experts)
    throw std::invalid_argument("top-k: must be 1 to experts (" + num(m.experts) + "), got " + num(m.top_k));
  if (m.dense_layers >= m.layers)
    throw std::invalid_argument("dense-layers: " + num(m.dense_layers) + " leaves no MoE layer of " +
                                num(m.layers));
}

void check_scale(const ModelShape& m, const InferenceScale& s) {
  if (s.tp == 0 || s.ep == 0 || s.pp == 0)
    throw std::invalid_argument("scale " + scale_text(s) + ": every degree must be at least 1");
  if (s.tp > kMaxCount || s.ep > kMaxCount || s.pp > kMaxCount)
    throw std::invalid_argument("scale " + scale_text(s) + ": every degree must be at most " +
                                num(kMaxCount));
  if (s.ep > 1 && !m.moe())
    throw std::invalid_argument("scale " + scale_text(s) + ": ep > 1 needs an MoE model (experts > 0)");
  if (s.ep > 1 && s.ep % s.tp != 0)
    throw std::invalid_argument(
        "scale " + scale_text(s) +
        ": ep must be a multiple of tp (attention groups of tp GPUs inside the ep group)");
  if (s.pp > m.layers)
    throw std::invalid_argument("scale " + scale_text(s) + ": more pipeline stages than layers (" +
                                num(m.layers) + ")");
}

InferenceScale scale_for_gpus(const ModelShape& m, std::uint64_t gpus, std::uint64_t domain) {
  if (gpus == 0) throw std::invalid_argument("gpus: must be at least 1");
  InferenceScale s;
  if (m.moe()) {
    s.ep = gpus;
  } else {
    s.tp = gpus < domain ? gpus : domain;
    if (gpus % s.tp != 0)
      throw std::invalid_argument("gpus: " + num(gpus) + " is not a whole number of " + num(s.tp) +
                                  "-GPU tensor-parallel stages (use --scale TPxEPxPP)");
    s.pp = gpus / s.tp;
  }
  check_scale(m, s);
  return s;
}

void check_layout(const InferenceScale& s, std::uint64_t ranks_per_domain) {
  const std::uint64_t r = ranks_per_domain;
  if (r == 0) throw std::invalid_argument("ranks-per-domain: must be at least 1");
  // Groups of n consecutive GPUs, more than one of them: each lies in one domain or spans whole ones.
  auto aligned = [&](std::uint64_t n, std::uint64_t groups, const char* what) {
    if (groups > 1 && n % r != 0 && r % n != 0)
      throw std::invalid_argument(
          "scale " + scale_text(s) + ": " + what + " of " + num(n) + " GPUs straddle the " + num(r) +
          "-GPU domains (use sizes that divide, or are multiples of, " + num(r) + ")");
  };
  aligned(s.tp, s.attention_groups() * s.pp, "tensor-parallel groups");
  aligned(s.stage_gpus(), s.pp, "pipeline stages");
}

std::vector<CommCall> forward_pass_calls(const ModelShape& m, const InferenceScale& s, double tokens,
                                         std::uint64_t ranks_per_domain, bool sequence_parallel) {
  check_shape(m);
  check_scale(m, s);
  check_layout(s, ranks_per_domain);
  const double h = static_cast<double>(m.hidden), d = static_cast<double>(m.dtype_bytes);
  const double activation = tokens * h * d;  // one attention group's tokens
  const bool ep = s.ep > 1;
  const std::uint64_t dense = m.moe() ? m.dense_layers : m.layers, moe = m.moe_layers();
  auto in_domains = [&](std::uint64_t n) {
    return Placement{n, n < ranks_per_domain ? n : ranks_per_domain};
  };

  std::vector<CommCall> calls;
  if (s.tp > 1) {
    // Where TP reduces: after attention and after each MLP that is TP-sharded (every dense one; an
    // MoE block only when its experts are not spread by EP).
    const std::uint64_t blocks = 2 * dense + moe * (ep ? 1 : 2);
    const Placement tp = in_domains(s.tp);
    if (sequence_parallel) {
      calls.push_back({"tp_reducescatter", "reducescatter", blocks, activation, tp});
      calls.push_back({"tp_allgather", "allgather", blocks, activation, tp});
    } else {
      calls.push_back({"tp_allreduce", "allreduce", blocks, activation, tp});
      // After combine each rank holds its 1/tp share of the tokens: the next attention needs all.
      if (ep && moe > 0) calls.push_back({"tp_allgather", "allgather", moe, activation, tp});
    }
  }
  if (ep && moe > 0) {
    const double per_rank = tokens / static_cast<double>(s.tp) * static_cast<double>(m.top_k) * h * d;
    const Placement e = in_domains(s.ep);
    calls.push_back({"ep_dispatch", "alltoall", moe, per_rank, e});
    calls.push_back({"ep_combine", "alltoall", moe, per_rank, e});
  }
  if (s.pp > 1) {
    // Boundary i joins stage i-1 (GPUs (i-1)S .. iS-1) to stage i (iS .. (i+1)S-1), GPU to GPU:
    // in one domain when all 2S GPUs are, across domains otherwise.
    const std::uint64_t S = s.stage_gpus(), r = ranks_per_domain;
    std::uint64_t inside = 0;
    for (std::uint64_t i = 1; i < s.pp; ++i)
      if ((i - 1) * S / r == ((i + 1) * S - 1) / r) ++inside;
    const double per_pair = activation / static_cast<double>(s.tp);
    if (inside > 0) calls.push_back({"pp_send_scaleup", "unidir", inside, per_pair, Placement{2, 2}});
    if (s.pp - 1 - inside > 0)
      calls.push_back({"pp_send_scaleout", "unidir", s.pp - 1 - inside, per_pair, Placement{2, 1}});
  }
  return calls;
}

Prediction predict_moe_exchange(const Fabric& f, const std::string& phase, const Placement& p,
                                double bytes_per_rank, const std::string& algo, const ModelShape& m,
                                const ExpertRouting& routing) {
  if (phase != "dispatch" && phase != "combine")
    throw std::invalid_argument("model: MoE exchange phase must be dispatch or combine (got '" + phase +
                                "')");
  // Uniform routing: dispatch and combine move the same bytes per rank, as an all-to-all does.
  if (routing.all_to_all()) return predict(f, "alltoall", algo, p, bytes_per_rank);
  const std::uint64_t ep = p.nranks;
  if (ep == 0 || m.experts % ep != 0 || m.experts / ep > (1u << 16))
    throw std::invalid_argument("ep " + num(ep) + ": the " + num(m.experts) +
                                " experts do not split evenly over the EP ranks (a skewed --counts places " +
                                "experts / ep on each)");
  CountsSpec spec = routing.counts;
  spec.moe.topk = static_cast<int>(m.top_k);
  spec.moe.experts_per_rank = static_cast<int>(m.experts / ep);
  spec.moe.hidden = m.hidden;
  const double tokens = bytes_per_rank / (static_cast<double>(m.top_k * m.hidden * m.dtype_bytes));
  const auto kind = phase == "dispatch" ? vocab::OpKind::moe_dispatch : vocab::OpKind::moe_combine;
  MoeTraffic t;
  try {
    t = moe_expected_traffic(spec, kind, ep, tokens, m.dtype_bytes, routing.domain_local, p.ranks_per_domain);
  } catch (const UsageError& e) {
    throw std::invalid_argument(e.what());
  }
  Placement skewed = p;
  skewed.traffic = t.traffic;
  return predict(f, std::string(vocab::op_name(kind)), algo, skewed, t.max_rank_bytes);
}

int PassCost::dominant() const {
  int best = -1;
  for (std::size_t i = 0; i < calls.size(); ++i)
    if (calls[i].time_us > 0 &&
        (best < 0 || calls[i].time_us > calls[static_cast<std::size_t>(best)].time_us))
      best = static_cast<int>(i);
  return best;
}

PassCost price_pass(const Fabric& f, const std::vector<CommCall>& calls, const std::string& algo,
                    const ModelShape& m, const ExpertRouting& routing) {
  PassCost pass;
  for (const CommCall& c : calls) {
    PricedCall pc{c, {}, 0, 0};
    if (c.name == "ep_dispatch" || c.name == "ep_combine") {
      pc.per_call = predict_moe_exchange(f, c.name.substr(3), c.placement, c.bytes, algo, m, routing);
      if (!routing.all_to_all()) pc.call.op = "moe_" + c.name.substr(3);  // the op priced
    } else {
      pc.per_call = predict(f, c.op, algo, c.placement, c.bytes);
    }
    pc.time_us = static_cast<double>(c.calls) * pc.per_call.time_us;
    pass.total_us += pc.time_us;
    pass.calls.push_back(std::move(pc));
  }
  for (auto& pc : pass.calls) pc.share = pass.total_us > 0 ? pc.time_us / pass.total_us : 0;
  return pass;
}

}  // namespace fb::model
