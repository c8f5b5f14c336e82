// alltoallv's and the MoE ops' per-pair counts (--counts, --seed), vocabulary because the ops
// (collectives/), the model (model/moe_traffic.hpp) and the harness all take them: how much each rank sends
// to each other rank, from a distribution, identical on every rank (computed, never exchanged, from the same
// spec and seed; the runner compares a digest across ranks before the first op).
//
//   uniform       every pair the same (alltoall's split)
//   zipf:S        destination j's share follows 1/(k+1)^S, k its place in a seeded ranking of the
//                 ranks (the popularity of the experts a MoE router picks): every rank sends the
//                 same, the popular ranks receive the most
//   hot:K:F       K seeded "hot" destinations carry fraction F of every rank's traffic, shared
//                 evenly; the other ranks share 1 - F
//   matrix:FILE   explicit relative weights, a plain text file (docs/operations.md): n rows of n
//                 non-negative numbers, row i what rank i sends to each rank j; '#' starts a comment
//
// Weights are scaled so that the average per-rank send equals the size asked for: pair (i, j)
// gets floor(w_ij / sum(w) x n x elems) elements (monotone in the size, so the buffers of the
// largest size hold every smaller one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fb {

// The MoE ops' shape (--hidden, --topk, --experts-per-rank; docs/moe.md). The routing
// distribution is CountsSpec's, over the n x experts_per_rank experts (expert e lives on rank
// e / experts_per_rank).
struct MoeShape {
  std::size_t tokens = 0;     // tokens per rank (--tokens); 0: from the size (moe_tokens)
  std::size_t hidden = 1024;  // elements per token
  int topk = 2;               // experts per token
  int experts_per_rank = 4;
};

struct CountsSpec {
  enum class Kind { uniform, zipf, hot, matrix };
  Kind kind = Kind::uniform;
  double exponent = 0;           // zipf:S
  int hot = 0;                   // hot:K:F
  double fraction = 0;           // hot:K:F
  int matrix_n = 0;              // matrix:FILE: the file's rank count
  std::vector<double> weights;   // matrix:FILE: matrix_n x matrix_n, row-major
  std::uint64_t seed = 1;        // --seed
  std::string text = "uniform";  // as given (canonical: compared across ranks)
  MoeShape moe{};                // moe_dispatch / moe_combine only

  // Why the distribution cannot be laid out on `nranks` ranks (hot K > n, a matrix of another
  // size), or "" when it can.
  std::string unrunnable(int nranks) const;
};

// Parses a --counts value; matrix:FILE reads the file now. Throws UsageError naming the value.
CountsSpec parse_counts(const std::string& text, std::uint64_t seed);

// One size's counts, in elements: at(i, j) = elements rank i sends to rank j.
class CountsMatrix {
 public:
  CountsMatrix(const CountsSpec& spec, int nranks, std::size_t elems_per_rank);
  // An explicit n x n matrix of element counts (row-major), e.g. moe_counts'.
  CountsMatrix(std::vector<std::size_t> counts, int nranks);
  int nranks() const { return n_; }
  std::size_t at(int i, int j) const { return c_[static_cast<std::size_t>(i) * n_ + j]; }
  std::size_t sent(int i) const;      // row sum
  std::size_t received(int j) const;  // column sum
  std::size_t total() const { return total_; }
  // The most loaded rank's elements: max over ranks of max(sent, received).
  std::size_t max_rank() const { return max_rank_; }
  // max_rank over the mean per-rank send (total / n); 1 for uniform counts.
  double imbalance() const;
  // FNV-1a over the counts: equal on every rank, else the ranks disagree.
  std::uint64_t digest() const;

 private:
  int n_ = 0;
  std::vector<std::size_t> c_;
  std::size_t total_ = 0, max_rank_ = 0;
  void sum_up();
};

// The counts column of a row (results/SCHEMA.md): "zipf:1.2 seed=1"; the MoE ops add their shape
// ("... topk=2 experts_per_rank=4 hidden=1024").
std::string counts_label(const CountsSpec& spec, bool moe);
// A row's counts column back into its spec ("zipf:1.2 seed=1 topk=2 ..."); nullopt when it does
// not parse (a file from another version).
std::optional<CountsSpec> parse_counts_label(const std::string& label);

// MoE routing (docs/moe.md). The weight of each of the n x experts_per_rank experts as seen from
// rank `source`: uniform 1; zipf:S 1/(k+1)^S, k the expert's place in a seeded ranking of the
// experts; hot:K:F K seeded hot experts share F; matrix:FILE (n x n) the weight of the expert's
// rank, split evenly over its experts. Identical for every source except matrix.
std::vector<double> expert_weights(const CountsSpec& spec, int nranks, int source);
// How many of one rank's `tokens` tokens go to each expert: tokens x topk copies (one per token
// and chosen expert, as Megatron-LM's all-to-all dispatcher), shared in proportion to the
// weights but at most `tokens` per expert (no token picks an expert twice): water-filling, then
// largest remainders, so the loads sum to exactly tokens x topk. Needs topk <= the experts with a
// non-zero weight (UsageError otherwise).
std::vector<std::size_t> expert_loads(const std::vector<double>& weights, std::size_t tokens, int topk);
// The same water-filling without the rounding: each expert's expected tokens when a source routes
// `tokens` tokens (any positive number) x topk copies, at most `tokens` per expert. Throws
// UsageError as expert_loads, and for tokens <= 0.
std::vector<double> expert_shares(const std::vector<double>& weights, double tokens, int topk);
// Rank i's copies for rank j's experts, summed over them (tokens per rank, not elements).
std::vector<std::size_t> moe_token_counts(const CountsSpec& spec, int nranks, std::size_t tokens);
// Tokens per rank for `elems_per_rank` elements sent per rank: elems / (topk x hidden), or
// m.tokens when given.
std::size_t moe_tokens(const MoeShape& m, std::size_t elems_per_rank);
// Why the MoE shape cannot run on n ranks (topk above the experts, zero sizes), or "".
std::string moe_unrunnable(const CountsSpec& spec, int nranks);

// The relative weights of spec on n ranks (n x n, row-major), before scaling; for tests.
std::vector<double> count_weights(const CountsSpec& spec, int nranks);

}  // namespace fb
