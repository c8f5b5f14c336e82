#include "harness/moe_traffic.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

#include "vocab/error.hpp"

namespace fb {

namespace {

// The most loaded rank when every row keeps its total inside its domain (Traffic::domain_local):
// rank j receives each domain peer's row share for j, scaled by row total / the row's domain share.
double domain_local_max_rank(const model::Traffic& t, std::uint64_t n, std::uint64_t g, double row) {
  g = std::max<std::uint64_t>(1, std::min(g, n));
  const auto entry = [&](std::uint64_t i, std::uint64_t j) {
    return t.same_rows ? t.bytes[j] : t.bytes[i * n + j];
  };
  // Each row's total and its share for its own domain (one row when every row is alike).
  const std::uint64_t rows = t.same_rows ? 1 : n;
  std::vector<double> total(rows, 0), own(t.same_rows ? (n + g - 1) / g : n, 0);
  for (std::uint64_t i = 0; i < rows; ++i)
    for (std::uint64_t k = 0; k < n; ++k) total[i] += entry(i, k);
  for (std::uint64_t i = 0; i < own.size(); ++i) {
    const std::uint64_t lo = (t.same_rows ? i : i / g) * g, hi = std::min(n, lo + g);
    for (std::uint64_t k = lo; k < hi; ++k) own[i] += entry(t.same_rows ? 0 : i, k);
  }
  double most = row;  // every rank sends its row
  for (std::uint64_t j = 0; j < n; ++j) {
    const std::uint64_t lo = j / g * g, hi = std::min(n, lo + g);
    double in = 0;
    if (t.same_rows) {
      const double dom = own[j / g];
      in = dom > 0 ? static_cast<double>(hi - lo) * t.bytes[j] * total[0] / dom : 0;
    } else {
      for (std::uint64_t i = lo; i < hi; ++i)
        if (own[i] > 0) in += entry(i, j) * total[i] / own[i];
    }
    most = std::max(most, in);
  }
  return most;
}

}  // namespace

MoeTraffic moe_traffic(const CountsSpec& spec, vocab::OpKind op, std::uint64_t nranks, std::size_t tokens,
                       std::size_t esize, bool domain_local, std::uint64_t ranks_per_domain) {
  auto t = std::make_shared<model::Traffic>();
  t->domain_local = domain_local;
  const double per_token = static_cast<double>(spec.moe.hidden * esize);
  const int n = static_cast<int>(nranks);
  if (auto why = moe_unrunnable(spec, n); !why.empty()) throw UsageError(why);
  MoeTraffic out;
  const double row = static_cast<double>(tokens) * spec.moe.topk * per_token;  // every rank sends this
  if (spec.kind != CountsSpec::Kind::matrix) {
    // Every source routes alike: one row, the loads of each rank's experts.
    const std::vector<std::size_t> loads = expert_loads(expert_weights(spec, n, 0), tokens, spec.moe.topk);
    t->bytes.assign(nranks, 0);
    const std::size_t epr = static_cast<std::size_t>(spec.moe.experts_per_rank);
    for (std::size_t e = 0; e < loads.size(); ++e)
      t->bytes[e / epr] += static_cast<double>(loads[e]) * per_token;
    const double hottest = *std::max_element(t->bytes.begin(), t->bytes.end());
    out.max_rank_bytes = std::max(row, hottest * static_cast<double>(nranks));
  } else {
    t->same_rows = false;
    const CountsMatrix m(moe_token_counts(spec, n, tokens), n);
    t->bytes.resize(nranks * nranks);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) t->bytes[static_cast<std::size_t>(i) * nranks + j] = m.at(i, j) * per_token;
    out.max_rank_bytes = static_cast<double>(m.max_rank()) * per_token;
  }
  if (domain_local) out.max_rank_bytes = domain_local_max_rank(*t, nranks, ranks_per_domain, row);
  if (op == vocab::OpKind::moe_combine)
    t->reduce_bytes = (spec.moe.topk - 1) * static_cast<double>(tokens) * per_token;
  out.load_imbalance = row > 0 ? out.max_rank_bytes / row : 1;
  out.rank_bytes = row;
  out.traffic = std::move(t);
  return out;
}

std::optional<CountsSpec> parse_counts_label(const std::string& label) {
  std::istringstream in(label);
  std::string text, kv;
  if (!(in >> text)) return std::nullopt;
  CountsSpec s;
  std::uint64_t seed = 1;
  MoeShape moe;
  try {
    while (in >> kv) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos) return std::nullopt;
      const std::string k = kv.substr(0, eq);
      const unsigned long long v = std::stoull(kv.substr(eq + 1));
      if (k == "seed")
        seed = v;
      else if (k == "topk")
        moe.topk = static_cast<int>(v);
      else if (k == "experts_per_rank")
        moe.experts_per_rank = static_cast<int>(v);
      else if (k == "hidden")
        moe.hidden = v;
      else
        return std::nullopt;
    }
    s = parse_counts(text, seed);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  s.moe = moe;
  return s;
}

}  // namespace fb
