// The MoE ops' traffic (model/moe_traffic.hpp).
#include "model/moe_traffic.hpp"

#include <algorithm>
#include <vector>

#include "model/algorithms/common.hpp"
#include "vocab/error.hpp"

namespace fb::model {

namespace {

// The most loaded rank when every row keeps its total inside its domain (Traffic::domain_local):
// rank j receives each domain peer's row share for j, scaled by row total / the row's domain share.
double domain_local_max_rank(const Traffic& t, std::uint64_t n, std::uint64_t g, double row) {
  g = std::max<std::uint64_t>(1, std::min(g, n));
  double most = row;  // every rank sends its row
  if (t.same_rows) {
    // Every row alike: a domain's ranks receive g_d x entry x total / the domain's share.
    double total = 0;
    for (const Traffic::Run& r : t.runs) total += r.bytes * static_cast<double>(r.ranks);
    detail::for_each_distinct_domain(t.runs, n, g, [&](std::uint64_t, const std::vector<double>& dom) {
      double own = 0;
      for (double b : dom) own += b;
      if (own > 0)
        for (double b : dom) most = std::max(most, static_cast<double>(dom.size()) * b * total / own);
    });
    return most;
  }
  // Each row's total and its share for its own domain.
  std::vector<double> total(n, 0), own(n, 0);
  for (std::uint64_t i = 0; i < n; ++i)
    for (std::uint64_t k = 0; k < n; ++k) total[i] += t.bytes[i * n + k];
  for (std::uint64_t i = 0; i < n; ++i)
    for (std::uint64_t k = i / g * g; k < std::min(n, i / g * g + g); ++k) own[i] += t.bytes[i * n + k];
  for (std::uint64_t j = 0; j < n; ++j) {
    const std::uint64_t lo = j / g * g, hi = std::min(n, lo + g);
    double in = 0;
    for (std::uint64_t i = lo; i < hi; ++i)
      if (own[i] > 0) in += t.bytes[i * n + j] * total[i] / own[i];
    most = std::max(most, in);
  }
  return most;
}

// What both variants do once the per-pair bytes are known: the placement what-if, combine's
// reduction, the imbalance.
MoeTraffic finish(std::shared_ptr<Traffic> t, MoeTraffic out, const CountsSpec& spec, vocab::OpKind op,
                  std::uint64_t nranks, double tokens, double per_token, bool domain_local,
                  std::uint64_t ranks_per_domain) {
  const double row = tokens * spec.moe.topk * per_token;  // every rank sends this
  t->domain_local = domain_local;
  if (domain_local) out.max_rank_bytes = domain_local_max_rank(*t, nranks, ranks_per_domain, row);
  if (op == vocab::OpKind::moe_combine) t->reduce_bytes = (spec.moe.topk - 1) * tokens * per_token;
  out.load_imbalance = row > 0 ? out.max_rank_bytes / row : 1;
  out.rank_bytes = row;
  out.traffic = std::move(t);
  return out;
}

// One shared row (every source routes alike) from per-expert token counts: rank r holds experts
// r x epr .. (r + 1) x epr - 1. Kept as runs of equal ranks (Traffic::runs): at 2^20 ranks most
// receive nothing, and uniform routing is a handful of runs.
template <typename Load>
void shared_row(Traffic& t, MoeTraffic& out, const std::vector<Load>& loads, std::size_t epr,
                std::uint64_t nranks, double per_token, double row) {
  t.runs.clear();
  double hottest = 0;
  for (std::uint64_t r = 0; r < nranks; ++r) {
    double b = 0;
    for (std::size_t e = r * epr; e < (r + 1) * epr; ++e) b += static_cast<double>(loads[e]) * per_token;
    hottest = std::max(hottest, b);
    if (!t.runs.empty() && t.runs.back().bytes == b)
      ++t.runs.back().ranks;
    else
      t.runs.push_back({b, 1});
  }
  out.max_rank_bytes = std::max(row, hottest * static_cast<double>(nranks));
}

// moe_traffic (whole tokens per expert, as the ops run) or moe_expected_traffic (`expected`).
MoeTraffic route(const CountsSpec& spec, vocab::OpKind op, std::uint64_t nranks, double tokens,
                 std::size_t esize, bool domain_local, std::uint64_t ranks_per_domain, bool expected) {
  auto t = std::make_shared<Traffic>();
  const double per_token = static_cast<double>(spec.moe.hidden * esize);
  const int n = static_cast<int>(nranks);
  if (auto why = moe_unrunnable(spec, n); !why.empty()) throw UsageError(why);
  MoeTraffic out;
  const double row = tokens * spec.moe.topk * per_token;  // every rank sends this
  const std::size_t epr = static_cast<std::size_t>(spec.moe.experts_per_rank);
  const std::size_t whole = static_cast<std::size_t>(tokens);
  if (spec.kind != CountsSpec::Kind::matrix) {
    // Every source routes alike: one row, the loads of each rank's experts.
    const std::vector<double> w = expert_weights(spec, n, 0);
    if (expected)
      shared_row(*t, out, expert_shares(w, tokens, spec.moe.topk), epr, nranks, per_token, row);
    else
      shared_row(*t, out, expert_loads(w, whole, spec.moe.topk), epr, nranks, per_token, row);
  } else if (expected) {
    t->same_rows = false;
    t->bytes.assign(nranks * nranks, 0);
    std::vector<double> received(nranks, 0);
    for (std::uint64_t i = 0; i < nranks; ++i) {
      const std::vector<double> s =
          expert_shares(expert_weights(spec, n, static_cast<int>(i)), tokens, spec.moe.topk);
      for (std::size_t e = 0; e < s.size(); ++e) t->bytes[i * nranks + e / epr] += s[e] * per_token;
      for (std::uint64_t j = 0; j < nranks; ++j) received[j] += t->bytes[i * nranks + j];
    }
    out.max_rank_bytes = std::max(row, *std::max_element(received.begin(), received.end()));
  } else {
    t->same_rows = false;
    const CountsMatrix m(moe_token_counts(spec, n, whole), n);
    t->bytes.resize(nranks * nranks);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) t->bytes[static_cast<std::size_t>(i) * nranks + j] = m.at(i, j) * per_token;
    out.max_rank_bytes = static_cast<double>(m.max_rank()) * per_token;
  }
  return finish(std::move(t), out, spec, op, nranks, tokens, per_token, domain_local, ranks_per_domain);
}

}  // namespace

MoeTraffic moe_traffic(const CountsSpec& spec, vocab::OpKind op, std::uint64_t nranks, std::size_t tokens,
                       std::size_t esize, bool domain_local, std::uint64_t ranks_per_domain) {
  return route(spec, op, nranks, static_cast<double>(tokens), esize, domain_local, ranks_per_domain, false);
}

MoeTraffic moe_expected_traffic(const CountsSpec& spec, vocab::OpKind op, std::uint64_t nranks, double tokens,
                                std::size_t esize, bool domain_local, std::uint64_t ranks_per_domain) {
  return route(spec, op, nranks, tokens, esize, domain_local, ranks_per_domain, true);
}

}  // namespace fb::model
