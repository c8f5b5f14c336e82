// The inference view (model/inference.hpp): the calls of a forward pass from a model's shape and
// scale (counts and bytes, exactly), their prices (each the model's predict() for that call), the
// shares, the presets and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "model/inference.hpp"
#include "model/moe_traffic.hpp"
#include "vocab/counts.hpp"

namespace fb::model {
namespace {

Fabric fabric(const std::string& name) {
  return load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/" + name + ".yaml");
}

ModelShape dense(std::uint64_t layers, std::uint64_t hidden) {
  ModelShape m;
  m.name = "t";
  m.layers = layers;
  m.hidden = hidden;
  return m;
}

ModelShape moe(std::uint64_t layers, std::uint64_t hidden, std::uint64_t experts, std::uint64_t k,
               std::uint64_t dense_layers) {
  ModelShape m = dense(layers, hidden);
  m.experts = experts;
  m.top_k = k;
  m.dense_layers = dense_layers;
  return m;
}

const CommCall& find(const std::vector<CommCall>& calls, const std::string& name) {
  for (const auto& c : calls)
    if (c.name == name) return c;
  throw std::runtime_error("no call " + name);
}

std::set<std::string> names(const std::vector<CommCall>& calls) {
  std::set<std::string> s;
  for (const auto& c : calls) s.insert(c.name);
  return s;
}

TEST(Inference, DenseTensorParallelAllReducesTwicePerLayer) {
  // Llama-3.1-70B, TP 8, decode with 4 sequences: 2 x 80 all-reduces of 4 x 8192 x 2 bytes.
  const ModelShape m = *find_model_preset("llama-3.1-70b");
  const auto calls = forward_pass_calls(m, {8, 1, 1}, 4, 8, false);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].name, "tp_allreduce");
  EXPECT_EQ(calls[0].op, "allreduce");
  EXPECT_EQ(calls[0].calls, 160u);
  EXPECT_EQ(calls[0].bytes, 4.0 * 8192 * 2);
  EXPECT_EQ(calls[0].placement.nranks, 8u);
  EXPECT_EQ(calls[0].placement.ranks_per_domain, 8u);
}

TEST(Inference, SequenceParallelReduceScattersAndAllGathersInstead) {
  const auto calls = forward_pass_calls(dense(10, 1000), {4, 1, 1}, 3, 8, true);
  EXPECT_EQ(names(calls), (std::set<std::string>{"tp_reducescatter", "tp_allgather"}));
  for (const auto& c : calls) {
    EXPECT_EQ(c.calls, 20u) << c.name;
    EXPECT_EQ(c.bytes, 3.0 * 1000 * 2) << c.name;
    EXPECT_EQ(c.placement.nranks, 4u);
  }
}

TEST(Inference, OneGpuSendsNothing) {
  EXPECT_TRUE(forward_pass_calls(dense(10, 1000), {1, 1, 1}, 7, 8, false).empty());
}

TEST(Inference, ExpertParallelDispatchAndCombinePerMoeLayer) {
  // DeepSeek-V3 at EP 64, data-parallel attention (TP 1), 16 tokens per rank: 58 MoE layers, each
  // rank sends 16 x 8 x 7168 x 2 bytes per dispatch and per combine; no TP call.
  const ModelShape m = *find_model_preset("deepseek-v3");
  EXPECT_EQ(m.moe_layers(), 58u);
  const auto calls = forward_pass_calls(m, {1, 64, 1}, 16, 8, false);
  EXPECT_EQ(names(calls), (std::set<std::string>{"ep_dispatch", "ep_combine"}));
  for (const auto& c : calls) {
    EXPECT_EQ(c.op, "alltoall");
    EXPECT_EQ(c.calls, 58u);
    EXPECT_EQ(c.bytes, 16.0 * 8 * 7168 * 2);
    EXPECT_EQ(c.placement.nranks, 64u);
    EXPECT_EQ(c.placement.ranks_per_domain, 8u);
  }
}

TEST(Inference, TensorParallelAttentionInsideExpertParallelism) {
  // TP 4 attention inside EP 32, 3 dense layers of 10: all-reduce after every attention (10) and
  // after each dense MLP (3); after each of the 7 combines an all-gather of the group's tokens;
  // each rank dispatches its quarter of the group's 12 tokens to top-2 experts.
  const ModelShape m = moe(10, 1000, 64, 2, 3);
  const auto calls = forward_pass_calls(m, {4, 32, 1}, 12, 8, false);
  EXPECT_EQ(find(calls, "tp_allreduce").calls, 13u);
  EXPECT_EQ(find(calls, "tp_allreduce").bytes, 12.0 * 1000 * 2);
  EXPECT_EQ(find(calls, "tp_allgather").calls, 7u);
  EXPECT_EQ(find(calls, "tp_allgather").bytes, 12.0 * 1000 * 2);
  EXPECT_EQ(find(calls, "ep_dispatch").calls, 7u);
  EXPECT_EQ(find(calls, "ep_dispatch").bytes, 12.0 / 4 * 2 * 1000 * 2);
  EXPECT_EQ(find(calls, "ep_combine").bytes, find(calls, "ep_dispatch").bytes);
  // With sequence parallelism the gather is the SP one: RS and AG around each of the 13 TP blocks.
  const auto sp = forward_pass_calls(m, {4, 32, 1}, 12, 8, true);
  EXPECT_EQ(find(sp, "tp_reducescatter").calls, 13u);
  EXPECT_EQ(find(sp, "tp_allgather").calls, 13u);
  EXPECT_EQ(names(sp).count("tp_allreduce"), 0u);
}

TEST(Inference, MoeWithoutExpertParallelismShardsExpertsLikeAnMlp) {
  const auto calls = forward_pass_calls(*find_model_preset("mixtral-8x7b"), {8, 1, 1}, 2, 8, false);
  EXPECT_EQ(names(calls), (std::set<std::string>{"tp_allreduce"}));
  EXPECT_EQ(calls[0].calls, 64u);
  EXPECT_EQ(calls[0].bytes, 2.0 * 4096 * 2);
}

TEST(Inference, PipelineHopsInAndAcrossDomains) {
  // Stages of 2 GPUs, 8 per domain, 8 stages: boundaries at GPU 2, 4, 6 stay in the first
  // domain, 8 crosses, 10, 12, 14 stay in the second. Each GPU sends tokens/TP of the activation.
  const auto calls = forward_pass_calls(dense(16, 1000), {2, 1, 8}, 6, 8, false);
  EXPECT_EQ(find(calls, "pp_send_scaleup").calls, 6u);
  EXPECT_EQ(find(calls, "pp_send_scaleout").calls, 1u);
  EXPECT_EQ(find(calls, "pp_send_scaleout").bytes, 6.0 / 2 * 1000 * 2);
  EXPECT_EQ(find(calls, "pp_send_scaleout").placement.ranks_per_domain, 1u);
  EXPECT_EQ(find(calls, "pp_send_scaleup").placement.ranks_per_domain, 2u);
  EXPECT_EQ(find(calls, "tp_allreduce").calls, 32u);  // counted over the whole model, not per stage
  // A stage that fills a domain: every hop crosses.
  const auto wide = forward_pass_calls(dense(16, 1000), {8, 1, 4}, 6, 8, false);
  EXPECT_EQ(names(wide).count("pp_send_scaleup"), 0u);
  EXPECT_EQ(find(wide, "pp_send_scaleout").calls, 3u);
}

TEST(Inference, PricesAreThePredictionsAndSharesSumToOne) {
  const Fabric f = fabric("hgx-h100");
  const std::string algo = default_algorithm(f);
  EXPECT_EQ(algo, "nccl_auto");
  const auto calls = forward_pass_calls(moe(10, 1000, 64, 2, 3), {4, 32, 2}, 12, 8, false);
  const PassCost p = price_pass(f, calls, algo);
  ASSERT_EQ(p.calls.size(), calls.size());
  double total = 0, shares = 0;
  for (const auto& c : p.calls) {
    const Prediction want = predict(f, c.call.op, algo, c.call.placement, c.call.bytes);
    EXPECT_EQ(c.per_call.time_us, want.time_us) << c.call.name;
    EXPECT_EQ(c.per_call.algo, want.algo) << c.call.name;
    EXPECT_EQ(c.time_us, static_cast<double>(c.call.calls) * want.time_us) << c.call.name;
    EXPECT_GT(c.time_us, 0) << c.call.name;
    total += c.time_us;
    shares += c.share;
  }
  EXPECT_EQ(p.total_us, total);
  EXPECT_NEAR(shares, 1.0, 1e-12);
  ASSERT_GE(p.dominant(), 0);
  for (const auto& c : p.calls) EXPECT_LE(c.time_us, p.calls[static_cast<std::size_t>(p.dominant())].time_us);
}

TEST(Inference, NothingToSendHasNoShares) {
  const PassCost p = price_pass(fabric("hgx-h100"), {}, "nccl_auto");
  EXPECT_EQ(p.total_us, 0);
  EXPECT_EQ(p.dominant(), -1);
}

TEST(Inference, MoeExchangeIsTheUniformAllToAll) {
  const Fabric f = fabric("hgx-h100");
  const Placement p{64, 8};
  EXPECT_EQ(predict_moe_exchange(f, "dispatch", p, 1 << 20, "nccl_auto").time_us,
            predict(f, "alltoall", "nccl_auto", p, 1 << 20).time_us);
  EXPECT_EQ(predict_moe_exchange(f, "combine", p, 1 << 20, "nccl_auto").time_us,
            predict(f, "alltoall", "nccl_auto", p, 1 << 20).time_us);
  EXPECT_THROW(predict_moe_exchange(f, "gather", p, 1 << 20, "nccl_auto"), std::invalid_argument);
}

// The skew-aware EP exchange (--counts, --expert-placement): priced as model --op moe_* prices
// the routing's expected traffic.
ExpertRouting routing(const std::string& counts, bool domain_local = false) {
  ExpertRouting r;
  r.counts = parse_counts(counts, 1);
  r.domain_local = domain_local;
  return r;
}

TEST(Inference, HotExpertsPriceTheExchangeAboveUniform) {
  const Fabric f = fabric("hgx-h100");
  const ModelShape m = moe(10, 4096, 256, 8, 0);
  const Placement p{64, 8};
  const double bytes = 64 * 8 * 4096 * 2;  // 64 tokens per rank
  for (const char* phase : {"dispatch", "combine"}) {
    const double uniform = predict_moe_exchange(f, phase, p, bytes, "nccl_auto", m).time_us;
    const double hot = predict_moe_exchange(f, phase, p, bytes, "nccl_auto", m, routing("hot:4:0.8")).time_us;
    EXPECT_GT(hot, 1.5 * uniform) << phase;
  }
}

TEST(Inference, SkewedExchangeIsTheMoeOpsPrediction) {
  const Fabric f = fabric("hgx-h100");
  const ModelShape m = moe(10, 1024, 64, 2, 0);
  const Placement p{16, 8};
  CountsSpec s = parse_counts("zipf:1.2", 1);
  s.moe = {0, 1024, 2, 4};
  const MoeTraffic t = moe_expected_traffic(s, vocab::OpKind::moe_combine, 16, 32, 2);
  Placement q = p;
  q.traffic = t.traffic;
  EXPECT_EQ(
      predict_moe_exchange(f, "combine", p, 32 * 2 * 1024 * 2, "nccl_auto", m, routing("zipf:1.2")).time_us,
      predict(f, "moe_combine", "nccl_auto", q, t.max_rank_bytes).time_us);
}

TEST(Inference, DomainLocalExpertsPriceBelowSpreadAcrossDomains) {
  const Fabric f = fabric("hgx-h100");
  const ModelShape m = moe(10, 7168, 256, 8, 0);
  const Placement p{32, 8};
  const double bytes = 1024 * 8 * 7168 * 2;  // a 1024-token prefill per rank
  const Prediction spread =
      predict_moe_exchange(f, "dispatch", p, bytes, "nccl_auto", m, routing("zipf:1.2"));
  const Prediction local =
      predict_moe_exchange(f, "dispatch", p, bytes, "nccl_auto", m, routing("zipf:1.2", true));
  EXPECT_LT(local.time_us, spread.time_us);
  EXPECT_EQ(local.bottleneck, "scale-up");  // nothing leaves the domain
}

// EP inside one domain (Mixtral's 8 experts on 8 or 4 GPUs): nothing leaves the domain, so the
// time is finite and set by scale-up, whichever routing (hot:K counts experts, so 6 on 4 ranks).
// The sums of a row by runs and by entries once differed by a rounding, priced on no NIC: inf.
TEST(Inference, SkewedExchangeInsideOneDomainStaysOnScaleUp) {
  const Fabric f = fabric("hgx-h100");
  const ModelShape m = moe(32, 4096, 8, 2, 0);
  for (const std::uint64_t ep : {8u, 4u})
    for (const char* counts : {"hot:1:0.5", "hot:3:0.5", "hot:6:0.5", "zipf:1.2"}) {
      const Prediction d = predict_moe_exchange(f, "dispatch", Placement{ep, 8}, 2048 * 2 * 4096 * 2,
                                                "nccl_auto", m, routing(counts));
      EXPECT_TRUE(std::isfinite(d.time_us)) << ep << " " << counts;
      EXPECT_GT(d.time_us, 0) << ep << " " << counts;
      EXPECT_EQ(d.bottleneck, "scale-up") << ep << " " << counts;
    }
}

TEST(Inference, SkewedRoutingNeedsExpertsSplitOverTheEpRanks) {
  const Fabric f = fabric("hgx-h100");
  EXPECT_THROW(predict_moe_exchange(f, "dispatch", Placement{16, 8}, 1e6, "nccl_auto", moe(10, 1024, 8, 2, 0),
                                    routing("zipf:1.2")),
               std::invalid_argument);  // 8 experts over 16 ranks
  // The all-to-all needs no split.
  EXPECT_NO_THROW(
      predict_moe_exchange(f, "dispatch", Placement{16, 8}, 1e6, "nccl_auto", moe(10, 1024, 8, 2, 0)));
}

TEST(Inference, ScalesFromGpuCounts) {
  const ModelShape d = dense(80, 8192), m = *find_model_preset("deepseek-v3");
  const InferenceScale a = scale_for_gpus(d, 4, 8), b = scale_for_gpus(d, 32, 8),
                       c = scale_for_gpus(m, 64, 8);
  EXPECT_EQ((std::vector<std::uint64_t>{a.tp, a.ep, a.pp}), (std::vector<std::uint64_t>{4, 1, 1}));
  EXPECT_EQ((std::vector<std::uint64_t>{b.tp, b.ep, b.pp}), (std::vector<std::uint64_t>{8, 1, 4}));
  EXPECT_EQ((std::vector<std::uint64_t>{c.tp, c.ep, c.pp}), (std::vector<std::uint64_t>{1, 64, 1}));
  EXPECT_EQ(c.attention_groups(), 64u);
  EXPECT_EQ(b.gpus(), 32u);
  EXPECT_THROW(scale_for_gpus(d, 12, 8), std::invalid_argument);  // not whole stages of 8
}

TEST(Inference, PresetsCiteTheirSources) {
  for (const auto& p : model_presets()) {
    EXPECT_NE(p.source.find("arXiv:"), std::string::npos) << p.name;
    EXPECT_NO_THROW(check_shape(p)) << p.name;
  }
  EXPECT_EQ(find_model_preset("llama-3.1-405b")->layers, 126u);
  EXPECT_EQ(find_model_preset("llama-3.1-405b")->hidden, 16384u);
  EXPECT_EQ(find_model_preset("no-such-model"), nullptr);
}

TEST(Inference, BadShapesAndScalesAreRefused) {
  EXPECT_THROW(check_shape(dense(0, 10)), std::invalid_argument);
  EXPECT_THROW(check_shape(dense(10, 0)), std::invalid_argument);
  EXPECT_THROW(check_shape(moe(10, 10, 8, 9, 0)), std::invalid_argument);             // top-k > experts
  EXPECT_THROW(check_shape(moe(10, 10, 8, 0, 0)), std::invalid_argument);             // top-k 0
  EXPECT_THROW(check_shape(moe(10, 10, 8, 2, 10)), std::invalid_argument);            // no MoE layer left
  EXPECT_THROW(check_shape(moe(10, 10, 1, 1, 0)), std::invalid_argument);             // one expert
  EXPECT_THROW(check_scale(dense(10, 10), {1, 8, 1}), std::invalid_argument);         // EP on dense
  EXPECT_THROW(check_scale(moe(10, 10, 8, 2, 0), {4, 6, 1}), std::invalid_argument);  // 6 % 4
  EXPECT_THROW(check_scale(dense(10, 10), {8, 1, 11}), std::invalid_argument);        // pp > layers
  EXPECT_THROW(check_scale(dense(10, 10), {0, 1, 1}), std::invalid_argument);
  EXPECT_NO_THROW(check_scale(moe(10, 10, 8, 2, 0), {4, 8, 2}));
  EXPECT_THROW(check_shape(dense((1ull << 32) + 1, 10)), std::invalid_argument);  // 2 x layers stays exact
  EXPECT_THROW(check_scale(dense(10, 10), {(1ull << 32) + 1, 1, 1}), std::invalid_argument);
}

TEST(Inference, GroupsThatStraddleDomainsAreRefused) {
  // Stages of 4 in domains of 6: the second stage's TP group would sit in two domains.
  EXPECT_THROW(check_layout({4, 1, 3}, 6), std::invalid_argument);
  EXPECT_THROW(forward_pass_calls(dense(10, 10), {4, 1, 3}, 1, 6, false), std::invalid_argument);
  // Attention groups of 3 in an EP group of 12 over domains of 8.
  EXPECT_THROW(check_layout({3, 12, 1}, 8), std::invalid_argument);
  EXPECT_THROW(check_layout({8, 1, 1}, 0), std::invalid_argument);
  // One group may be any size; groups that divide or span whole domains are fine.
  EXPECT_NO_THROW(check_layout({3, 1, 1}, 8));
  EXPECT_NO_THROW(check_layout({12, 1, 1}, 8));
  EXPECT_NO_THROW(check_layout({4, 1, 3}, 8));
  EXPECT_NO_THROW(check_layout({2, 32, 2}, 8));
  EXPECT_NO_THROW(check_layout({16, 1, 4}, 8));
}

}  // namespace
}  // namespace fb::model
