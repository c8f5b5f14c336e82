#include "harness/moe_traffic.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

#include "vocab/error.hpp"

namespace fb {

MoeTraffic moe_traffic(const CountsSpec& spec, vocab::OpKind op, std::uint64_t nranks, std::size_t tokens,
                       std::size_t esize, bool domain_local) {
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
