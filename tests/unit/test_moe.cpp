// The MoE ops (docs/moe.md): the routing arithmetic (vocab/counts.hpp: expert loads,
// per-rank token counts), the layouts and combine's reduction checked exactly in-process (the
// exchange done by hand, as alltoallv would), and the model's skewed-exchange loads
// (model/traffic.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "collectives/mem_ops.hpp"
#include "collectives/op.hpp"
#include "collectives/pattern.hpp"
#include "collectives/reduce.hpp"
#include "model/algorithms/common.hpp"
#include "model/cost.hpp"
#include "vocab/counts.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

// expert_loads before it selected the extra tokens instead of sorting every expert (stable_sort
// by remainder): the oracle the fast path must match exactly.
std::vector<std::size_t> sorted_expert_loads(const std::vector<double>& w, std::size_t tokens, int topk) {
  const std::size_t E = w.size(), k = static_cast<std::size_t>(topk);
  std::size_t positive = 0;
  for (double x : w) positive += x > 0 ? 1 : 0;
  if (topk < 1 || k > positive)
    throw UsageError("topk " + std::to_string(topk) +
                     " needs that many experts with traffic; the routing has " + std::to_string(positive));
  // Water-filling: experts whose share would exceed `tokens` are capped there, the rest share
  // what is left in proportion to their weights.
  std::vector<long double> q(E, 0);
  std::vector<bool> capped(E, false);
  const long double total = static_cast<long double>(tokens) * k;
  for (bool changed = true; changed;) {
    changed = false;
    long double left = total, wsum = 0;
    for (std::size_t e = 0; e < E; ++e) {
      if (capped[e])
        left -= tokens;
      else
        wsum += w[e];
    }
    for (std::size_t e = 0; e < E; ++e) {
      if (capped[e]) continue;
      q[e] = wsum > 0 ? w[e] / wsum * left : 0;
      if (q[e] > static_cast<long double>(tokens)) {
        capped[e] = changed = true;
        q[e] = static_cast<long double>(tokens);
      }
    }
  }
  // Largest remainders: floor every quota, then one more token to the largest fractional parts
  // (lower index first on ties) until the loads sum to tokens x topk.
  std::vector<std::size_t> load(E);
  std::size_t given = 0;
  for (std::size_t e = 0; e < E; ++e) {
    load[e] = std::min(tokens, static_cast<std::size_t>(std::floor(q[e] * (1 + 1e-15L))));
    given += load[e];
  }
  std::vector<std::size_t> order(E);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return q[a] - std::floor(q[a]) > q[b] - std::floor(q[b]);
  });
  const std::size_t want = tokens * k;
  for (std::size_t i = 0; given < want && i < E; ++i)
    if (load[order[i]] < tokens && w[order[i]] > 0) {
      ++load[order[i]];
      ++given;
    }
  for (std::size_t e = 0; given < want && e < E; ++e)  // only if rounding left some (never more than E)
    while (given < want && load[e] < tokens && w[e] > 0) {
      ++load[e];
      ++given;
    }
  return load;
}

std::size_t sum(const std::vector<std::size_t>& v) {
  return std::accumulate(v.begin(), v.end(), std::size_t{0});
}

TEST(MoeRouting, LoadsSumToTokensTimesTopkAndStayBelowTokens) {
  // Uniform: 10 tokens x 2 over 8 experts, 2.5 each: 2 or 3.
  const auto u = expert_loads(std::vector<double>(8, 1.0), 10, 2);
  EXPECT_EQ(sum(u), 20u);
  EXPECT_EQ(*std::max_element(u.begin(), u.end()) - *std::min_element(u.begin(), u.end()), 1u);
  // One expert wanted by far the most: capped at one copy per token, the rest share what is left.
  const auto c = expert_loads({100, 1, 1, 1}, 10, 3);
  EXPECT_EQ(sum(c), 30u);
  EXPECT_EQ(c[0], 10u);
  for (std::size_t e = 1; e < 4; ++e) EXPECT_TRUE(c[e] == 6 || c[e] == 7) << c[e];
  // topk above the experts with traffic: refused.
  EXPECT_THROW(expert_loads({1, 0, 0, 1}, 10, 3), UsageError);
}

TEST(MoeRouting, SelectedLoadsMatchTheSortedComputationExactly) {
  for (const char* dist : {"uniform", "zipf:1.2", "zipf:0.6", "hot:2:0.9", "hot:1:0.5"})
    for (int n : {1, 2, 3, 8, 16})
      for (int epr : {1, 4})
        for (std::size_t tokens : {1, 7, 64, 1000})
          for (int topk : {1, 2, 8}) {
            CountsSpec spec = parse_counts(dist, 7);
            spec.moe.experts_per_rank = epr;
            spec.moe.topk = topk;
            if (!moe_unrunnable(spec, n).empty()) continue;
            const auto w = expert_weights(spec, n, 0);
            EXPECT_EQ(expert_loads(w, tokens, topk), sorted_expert_loads(w, tokens, topk))
                << dist << " n=" << n << " epr=" << epr << " tokens=" << tokens << " topk=" << topk;
          }
}

TEST(MoeRouting, TokenCountsPerRank) {
  CountsSpec s = parse_counts("uniform", 1);
  s.moe = MoeShape{0, 16, 2, 2};
  const auto c = moe_token_counts(s, 4, 8);  // 16 copies per rank over 8 experts: 2 each, 4 per rank
  for (std::size_t v : c) EXPECT_EQ(v, 4u);
  // zipf: every rank sends tokens x topk; the same row from every rank; the hottest rank gets more.
  CountsSpec z = parse_counts("zipf:1.2", 7);
  z.moe = MoeShape{0, 16, 2, 4};
  const auto m = moe_token_counts(z, 4, 100);
  for (int i = 0; i < 4; ++i) {
    std::size_t row = 0;
    for (int j = 0; j < 4; ++j) {
      row += m[i * 4 + j];
      EXPECT_EQ(m[i * 4 + j], m[j]);  // row i equals row 0
    }
    EXPECT_EQ(row, 200u);
  }
  EXPECT_GT(*std::max_element(m.begin(), m.begin() + 4), 50u);
  EXPECT_EQ(moe_unrunnable(z, 1).empty(), true);  // 4 experts, topk 2
  z.moe.topk = 5;
  EXPECT_NE(moe_unrunnable(z, 1), "");
  // hot:K counts experts for the MoE ops: 8 hot experts on 4 ranks x 4 experts runs, 17 does not.
  CountsSpec h = parse_counts("hot:8:0.5", 1);
  h.moe = MoeShape{0, 16, 2, 4};
  EXPECT_EQ(moe_unrunnable(h, 4), "");
  EXPECT_FALSE(h.unrunnable(4).empty());  // as an alltoallv distribution it names ranks
  h = parse_counts("hot:17:0.5", 1);
  h.moe = MoeShape{0, 16, 2, 4};
  EXPECT_EQ(moe_unrunnable(h, 4), "counts hot:17:0.5: 17 hot experts on 16 experts (4 ranks x 4 per rank)");
  EXPECT_EQ(moe_tokens(MoeShape{0, 16, 2, 4}, 100), 3u);
  EXPECT_EQ(moe_tokens(MoeShape{7, 16, 2, 4}, 100), 7u);
  EXPECT_EQ(counts_label(z, true), "zipf:1.2 seed=7 topk=5 experts_per_rank=4 hidden=16");
}

// Runs `op` on n ranks by hand: each rank's receive blocks copied from the peers' send buffers
// (filled with the pattern), then combine's reduction; returns the wrong elements over ranks,
// after `corrupt` has had a chance to damage rank 0's receive buffer.
template <class Corrupt>
std::size_t run_by_hand(OpKind kind, const CountsSpec& spec, int n, std::size_t bytes, DType t,
                        Corrupt corrupt) {
  const OpDescriptor& op = op_descriptor(kind);
  const std::size_t es = dtype_size(t);
  const Pattern pat(t, op.sums_contributions, RedOp::sum, n, 3);
  std::vector<OpLayout> l;
  std::vector<std::vector<unsigned char>> send(n), recv(n);
  for (int r = 0; r < n; ++r) {
    l.push_back(op.layout(bytes, t, n, r, InPlaceConvention::nccl, &spec));
    send[r].resize(l[r].send_count * es);
    recv[r].resize(l[r].recv_count * es);
    pat.fill(send[r].data(), l[r].send_count, r, 0);
  }
  for (int r = 0; r < n; ++r)
    for (int p = 0; p < n; ++p) {
      EXPECT_EQ(l[r].recv_len(p), l[p].send_len(r));
      std::memcpy(recv[r].data() + l[r].recv_off(p) * es, send[p].data() + l[p].send_off(r) * es,
                  l[r].recv_len(p) * es);
    }
  corrupt(recv[0], l[0]);
  std::size_t wrong = 0;
  for (int r = 0; r < n; ++r) {
    OpArgs a;
    a.op = &op;
    a.layout = l[r];
    a.recv = recv[r].data();
    a.dtype = t;
    if (op.sums_contributions)
      moe_combine_reduce(a, [&](void* io, const void* in, std::size_t c) {
        host_mem_ops().reduce_inplace(io, in, c, t, RedOp::sum);
      });
    wrong += pat.check(recv[r].data(), op.segments(l[r], r, n, -1));
    if (op.sums)
      for (const SummedSegment& s : op.sums(l[r], r, n))
        wrong += pat.check_sum(recv[r].data() + s.recv_offset * es, s);
  }
  return wrong;
}

TEST(MoeOps, DispatchAndCombineAreExactInEveryDtype) {
  CountsSpec spec = parse_counts("zipf:1.2", 5);
  spec.moe = MoeShape{0, 5, 3, 3};
  for (int n : {1, 3, 4}) {
    for (DType t : all_dtypes()) {
      const std::size_t bytes = 7 * 3 * 5 * dtype_size(t);  // 7 tokens per rank
      for (OpKind k : {OpKind::moe_dispatch, OpKind::moe_combine}) {
        SCOPED_TRACE(std::string(vocab::op_name(k)) + " n=" + std::to_string(n) + " " +
                     std::string(dtype_name(t)));
        const OpLayout l = op_descriptor(k).layout(bytes, t, n, 0, InPlaceConvention::nccl, &spec);
        EXPECT_EQ(l.moe_tokens, 7u);
        EXPECT_EQ(l.bytes, bytes);  // every rank sends tokens x topk x hidden on average
        EXPECT_EQ(l.total_bytes, bytes * n);
        if (k == OpKind::moe_combine) {
          EXPECT_EQ(l.recv_count, 7u * 3 * 5);  // each home rank gets k copies back
        }
        EXPECT_EQ(run_by_hand(k, spec, n, bytes, t, [](auto&, const OpLayout&) {}), 0u);
        // A damaged element of a returned copy shows in the sum (and in its block).
        if (k == OpKind::moe_combine && n > 1) {
          const auto damage = [&](std::vector<unsigned char>& b, const OpLayout& lo) {
            const std::size_t at = lo.moe_tokens * lo.moe_hidden + 2;  // copy 1 of token 0
            b[at * dtype_size(t)] ^= 0x1;
          };
          EXPECT_GT(run_by_hand(k, spec, n, bytes, t, damage), 0u);
        }
      }
    }
  }
}

TEST(MoeOps, CombineIsDispatchTransposed) {
  CountsSpec spec = parse_counts("hot:1:0.5", 2);
  spec.moe = MoeShape{0, 4, 2, 2};
  const int n = 4;
  for (int r = 0; r < n; ++r) {
    const OpLayout d = op_descriptor(OpKind::moe_dispatch)
                           .layout(4096, DType::float32, n, r, InPlaceConvention::nccl, &spec);
    const OpLayout c =
        op_descriptor(OpKind::moe_combine).layout(4096, DType::float32, n, r, InPlaceConvention::nccl, &spec);
    for (int p = 0; p < n; ++p) {
      EXPECT_EQ(d.send_len(p), c.recv_len(p));
      EXPECT_EQ(d.recv_len(p), c.send_len(p));
    }
    EXPECT_EQ(d.max_rank_bytes, c.max_rank_bytes);
    EXPECT_GT(d.load_imbalance, 1.0);
  }
}

// ---- the model --------------------------------------------------------------------------------

model::Fabric two_level() {
  model::Fabric f;
  f.name = "two-level";
  f.scale_up.domain_size = 4;
  f.scale_up.bandwidth_GBps = 300;
  f.scale_up.latency_us = 0.5;
  f.scale_out.nic_bandwidth_Gbps = 400;
  f.scale_out.nics_per_domain = 4;
  f.scale_out.rails = 1;
  f.scale_out.latency_us = 2.0;
  f.scale_out.tiers = {{"switch", 4096, 1, 1}};
  return f;
}

TEST(MoeModel, LoadsFromASharedRow) {
  // 8 ranks, 4 per domain; every rank sends rank j bytes[j].
  model::Traffic t;
  t.bytes = {10, 1, 1, 1, 1, 1, 1, 1};
  const auto L = model::detail::exchange_load(t, 8, 4);
  // Rank 0 receives 10 from each of the 3 others of its domain and the 4 outside it.
  EXPECT_DOUBLE_EQ(L.up, std::max(30.0, 12.0));  // a domain-1 rank sends 12 - 1 = 11 up, rank 0 receives 30
  EXPECT_DOUBLE_EQ(L.out, 40.0);                 // rank 0's NIC receives 4 x 10; each rank sends at most 13
  EXPECT_DOUBLE_EQ(L.own, 10.0);
  // The same as an explicit matrix.
  model::Traffic m;
  m.same_rows = false;
  for (int i = 0; i < 8; ++i) m.bytes.insert(m.bytes.end(), t.bytes.begin(), t.bytes.end());
  const auto M = model::detail::exchange_load(m, 8, 4);
  EXPECT_DOUBLE_EQ(M.up, L.up);
  EXPECT_DOUBLE_EQ(M.out, L.out);
  EXPECT_DOUBLE_EQ(M.step_up + M.step_out, 7 * 10.0);  // every pairwise step waits for a 10
  EXPECT_DOUBLE_EQ(L.step_up + L.step_out, 7 * 10.0);
  // Domain-local placement: nothing leaves a domain; the rows keep their totals.
  t.domain_local = m.domain_local = true;
  const auto D = model::detail::exchange_load(t, 8, 4), DM = model::detail::exchange_load(m, 8, 4);
  EXPECT_DOUBLE_EQ(D.out, 0.0);
  EXPECT_DOUBLE_EQ(DM.out, 0.0);
  EXPECT_DOUBLE_EQ(D.up, DM.up);
}

TEST(MoeModel, UniformDispatchIsLinearAlltoallAndSkewCostsMore) {
  const model::Fabric f = two_level();
  const double per_rank = 8 << 20;  // bytes each rank sends
  model::Placement p{16, 4};
  auto u = std::make_shared<model::Traffic>();
  u->bytes.assign(16, per_rank / 16);
  p.traffic = u;
  const model::Prediction moe = model::predict(f, "moe_dispatch", "linear", p, per_rank);
  const model::Prediction a2a = model::predict(f, "alltoall", "linear", model::Placement{16, 4}, per_rank);
  EXPECT_NEAR(moe.time_us, a2a.time_us, 1e-9 * a2a.time_us);
  EXPECT_EQ(moe.bottleneck, a2a.bottleneck);
  // Skewed: one rank receives half of everything; its NIC sets the time.
  auto z = std::make_shared<model::Traffic>(*u);
  z->bytes.assign(16, per_rank / 2 / 15);
  z->bytes[5] = per_rank / 2;
  p.traffic = z;
  const model::Prediction skew = model::predict(f, "moe_dispatch", "linear", p, 8 * per_rank);
  EXPECT_GT(skew.time_us, 4 * a2a.time_us);
  EXPECT_EQ(skew.bottleneck, "nic");
  // Combine adds the home rank's reduction only where the fabric models one.
  auto zc = std::make_shared<model::Traffic>(*z);
  zc->reduce_bytes = per_rank;
  p.traffic = zc;
  EXPECT_GE(model::predict(f, "moe_combine", "linear", p, 8 * per_rank).time_us, skew.time_us);
  // Domain-local experts: everything over scale-up.
  auto dl = std::make_shared<model::Traffic>(*z);
  dl->domain_local = true;
  p.traffic = dl;
  const model::Prediction local = model::predict(f, "moe_dispatch", "linear", p, 8 * per_rank);
  EXPECT_EQ(local.bottleneck, "scale-up");
  EXPECT_LT(local.time_us, skew.time_us);
  // Without the routing's traffic the model has nothing to price.
  EXPECT_THROW(model::predict(f, "moe_dispatch", "linear", model::Placement{16, 4}, per_rank),
               std::invalid_argument);
}

}  // namespace
}  // namespace fb
