// The MoE routing's traffic in the model (model/moe_traffic.hpp) and the routing arithmetic it
// builds on (vocab/counts.hpp: expert_shares, parse_counts_label): per-pair bytes, the most
// loaded rank, the placement what-if and combine's reduction, exactly.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "model/algorithms/common.hpp"
#include "model/moe_traffic.hpp"
#include "vocab/counts.hpp"
#include "vocab/error.hpp"

namespace fb::model {
namespace {

CountsSpec spec(const std::string& text, int topk, int experts_per_rank, std::size_t hidden) {
  CountsSpec s = parse_counts(text, 1);
  s.moe.topk = topk;
  s.moe.experts_per_rank = experts_per_rank;
  s.moe.hidden = hidden;
  return s;
}

double sum(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0);
}

// A shared row's entries, rank by rank.
std::vector<double> row(const MoeTraffic& t) {
  std::vector<double> v;
  for (const Traffic::Run& r : t.traffic->row_runs()) v.insert(v.end(), r.ranks, r.bytes);
  return v;
}

TEST(MoeTraffic, UniformIsTheAllToAllSplit) {
  // 8 ranks x 4 experts, 16 tokens of top-2: one token per expert, 4 per rank; 100 x 2 bytes each.
  const MoeTraffic t = moe_traffic(spec("uniform", 2, 4, 100), vocab::OpKind::moe_dispatch, 8, 16, 2);
  ASSERT_TRUE(t.traffic->same_rows);
  EXPECT_EQ(row(t), std::vector<double>(8, 4 * 200.0));
  EXPECT_EQ(t.rank_bytes, 16 * 2 * 200.0);
  EXPECT_EQ(t.max_rank_bytes, t.rank_bytes);
  EXPECT_EQ(t.load_imbalance, 1.0);
  EXPECT_EQ(t.traffic->reduce_bytes, 0.0);
}

TEST(MoeTraffic, OneHotExpertTakesEveryRanksTokens) {
  // hot:1:1: one expert has all the weight; top-1: every rank's 64 tokens go to its rank, which
  // receives 8 x 64 of them.
  const MoeTraffic t = moe_traffic(spec("hot:1:1", 1, 1, 10), vocab::OpKind::moe_dispatch, 8, 64, 4);
  const std::vector<double> r = row(t);
  EXPECT_EQ(sum(r), 64 * 40.0);
  EXPECT_EQ(*std::max_element(r.begin(), r.end()), 64 * 40.0);
  EXPECT_EQ(t.max_rank_bytes, 8 * 64 * 40.0);
  EXPECT_EQ(t.load_imbalance, 8.0);
}

TEST(MoeTraffic, CombineReducesTheOtherCopies) {
  const MoeTraffic t = moe_traffic(spec("zipf:1.2", 4, 2, 8), vocab::OpKind::moe_combine, 16, 32, 2);
  EXPECT_EQ(t.traffic->reduce_bytes, 3 * 32 * 16.0);  // (topk - 1) x tokens x hidden x esize
  EXPECT_EQ(sum(row(t)), 4 * 32 * 16.0);              // every copy of every token, once
  EXPECT_GT(t.load_imbalance, 1.0);
}

TEST(MoeTraffic, MatrixRowsAreTheTokenCounts) {
  CountsSpec s;
  s.kind = CountsSpec::Kind::matrix;
  s.text = "matrix:t";
  s.matrix_n = 3;
  s.weights = {1, 1, 2, 0, 1, 3, 5, 0, 1};
  s.moe.topk = 1;
  s.moe.experts_per_rank = 1;
  s.moe.hidden = 4;
  const MoeTraffic t = moe_traffic(s, vocab::OpKind::moe_dispatch, 3, 8, 1);
  ASSERT_FALSE(t.traffic->same_rows);
  const CountsMatrix m(moe_token_counts(s, 3, 8), 3);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(t.traffic->bytes[i * 3 + j], m.at(i, j) * 4.0) << i << "," << j;
  EXPECT_EQ(t.max_rank_bytes, m.max_rank() * 4.0);
}

TEST(MoeTraffic, ExpectedTrafficOfWholeSharesIsTheRoundedOne) {
  // 32 tokens x top-2 over 8 x 4 equal experts: two tokens each, nothing to round.
  const CountsSpec s = spec("uniform", 2, 4, 64);
  const MoeTraffic a = moe_traffic(s, vocab::OpKind::moe_combine, 8, 32, 2);
  const MoeTraffic b = moe_expected_traffic(s, vocab::OpKind::moe_combine, 8, 32.0, 2);
  EXPECT_EQ(row(a), row(b));
  EXPECT_EQ(a.max_rank_bytes, b.max_rank_bytes);
  EXPECT_EQ(a.traffic->reduce_bytes, b.traffic->reduce_bytes);
}

TEST(MoeTraffic, ExpectedTrafficSplitsAFractionOfATokenEvenly) {
  // Half a token per rank (a decode step over TP 2), top-2 over 64 experts on 16 ranks: each rank
  // sends 1/16 of its one token-copy to every rank.
  const MoeTraffic t =
      moe_expected_traffic(spec("uniform", 2, 4, 1000), vocab::OpKind::moe_dispatch, 16, 0.5, 2);
  for (double b : row(t)) EXPECT_DOUBLE_EQ(b, 2000.0 / 16);
  EXPECT_DOUBLE_EQ(t.max_rank_bytes, 2000.0);
  EXPECT_DOUBLE_EQ(t.load_imbalance, 1.0);
}

TEST(MoeTraffic, DomainLocalPlacementKeepsTheBytesInTheDomain) {
  // 32 ranks, 8 per domain: spread experts send 3/4 of every row out; domain-local sends none.
  const CountsSpec s = spec("zipf:1.2", 2, 4, 512);
  const MoeTraffic spread = moe_expected_traffic(s, vocab::OpKind::moe_dispatch, 32, 64.0, 2, false, 8);
  const MoeTraffic local = moe_expected_traffic(s, vocab::OpKind::moe_dispatch, 32, 64.0, 2, true, 8);
  const detail::ExchangeLoad a = detail::exchange_load(*spread.traffic, 32, 8, 1);
  const detail::ExchangeLoad b = detail::exchange_load(*local.traffic, 32, 8, 1);
  EXPECT_GT(a.out, 0.0);
  EXPECT_EQ(b.out, 0.0);
  EXPECT_EQ(sum(row(local)), sum(row(spread)));           // the routing is the same
  EXPECT_LE(local.max_rank_bytes, 8 * local.rank_bytes);  // at most its domain's 8 rows
}

TEST(MoeTraffic, RoutingsThatCannotRunAreRefused) {
  EXPECT_THROW(moe_traffic(spec("hot:9:0.5", 2, 1, 8), vocab::OpKind::moe_dispatch, 8, 4, 2), UsageError);
  EXPECT_THROW(moe_expected_traffic(spec("uniform", 9, 1, 8), vocab::OpKind::moe_dispatch, 8, 4, 2),
               UsageError);
  EXPECT_THROW(moe_expected_traffic(spec("uniform", 2, 1, 8), vocab::OpKind::moe_dispatch, 8, 0, 2),
               UsageError);
}

TEST(MoeTraffic, RunsPriceAsTheExpandedRow) {
  // A row of runs (long runs of equal ranks, short ones across domain edges) loads every resource
  // exactly as the same row rank by rank, whole domains or not, spread or domain-local.
  Traffic runs;
  runs.runs = {{3, 37}, {0, 5}, {9, 1}, {0, 100}, {2, 17}, {5, 3}};  // 163 ranks
  Traffic flat;
  for (const Traffic::Run& r : runs.runs) flat.bytes.insert(flat.bytes.end(), r.ranks, r.bytes);
  for (const bool local : {false, true})
    for (const double g : {1.0, 4.0, 8.0, 10.0, 200.0}) {
      runs.domain_local = flat.domain_local = local;
      const detail::ExchangeLoad a = detail::exchange_load(runs, 163, g, 2),
                                 b = detail::exchange_load(flat, 163, g, 2);
      EXPECT_EQ(a.up, b.up) << g << local;
      EXPECT_EQ(a.out, b.out) << g << local;
      EXPECT_EQ(a.own, b.own) << g << local;
      EXPECT_EQ(a.step_up, b.step_up) << g << local;
      EXPECT_EQ(a.step_out, b.step_out) << g << local;
    }
  // Runs that do not cover the ranks give no load.
  EXPECT_EQ(detail::exchange_load(runs, 164, 8).up, 0.0);
}

TEST(ExpertShares, WaterFilledAndCappedAtTheTokens) {
  // Weights 8:1:1:0, 3 tokens of top-2 (6 copies): the heavy expert is capped at 3, the two light
  // ones share the other 3, the weightless one gets none.
  const std::vector<double> s = expert_shares({8, 1, 1, 0}, 3, 2);
  EXPECT_EQ(s, (std::vector<double>{3, 1.5, 1.5, 0}));
  // The rounded loads sum to the same copies and stay within one of the shares.
  const std::vector<std::size_t> l = expert_loads({8, 1, 1, 0}, 3, 2);
  EXPECT_EQ(std::accumulate(l.begin(), l.end(), std::size_t{0}), 6u);
  for (std::size_t e = 0; e < s.size(); ++e) EXPECT_LT(std::abs(static_cast<double>(l[e]) - s[e]), 1.0);
  EXPECT_THROW(expert_shares({1, 0, 0}, 1, 2), UsageError);  // top-2 of one expert with weight
}

TEST(CountsLabel, ParsesBackIntoItsSpec) {
  CountsSpec s = parse_counts("hot:2:0.75", 7);
  s.moe = {0, 512, 3, 5};
  const auto back = parse_counts_label(counts_label(s, true));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->text, "hot:2:0.75");
  EXPECT_EQ(back->seed, 7u);
  EXPECT_EQ(back->moe.topk, 3);
  EXPECT_EQ(back->moe.experts_per_rank, 5);
  EXPECT_EQ(back->moe.hidden, 512u);
  EXPECT_FALSE(parse_counts_label("zipf:1.2 colour=blue").has_value());
  EXPECT_FALSE(parse_counts_label("").has_value());
}

}  // namespace
}  // namespace fb::model
