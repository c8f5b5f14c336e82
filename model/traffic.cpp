// A skewed exchange's per-rank loads (model/cost.hpp Traffic; model/algorithms/common.hpp
// exchange_load): for a shared row, O(g) per distinct domain (O(n) at most, O(runs x g) when the
// row is given as runs); O(n^2) for a matrix (whose n is a file's).
#include <algorithm>
#include <cstddef>
#include <vector>

#include "model/algorithms/common.hpp"

namespace fb::model {

std::vector<Traffic::Run> Traffic::row_runs() const {
  if (!runs.empty() || bytes.empty()) return runs;
  std::vector<Run> r;
  for (double b : bytes)
    if (!r.empty() && r.back().bytes == b)
      ++r.back().ranks;
    else
      r.push_back({b, 1});
  return r;
}

bool Traffic::row_fits(std::uint64_t n) const {
  if (runs.empty()) return bytes.size() == n;
  std::uint64_t ranks = 0;
  for (const Run& r : runs) ranks += r.ranks;
  return ranks == n;
}

}  // namespace fb::model

namespace fb::model::detail {

namespace {

// What row i of a matrix sends rank j, with domain_local's restriction and rescaling applied.
struct Rows {
  const Traffic& t;
  std::size_t n, g;
  std::vector<double> row_total, dom_total;  // per row; per (row, domain)

  std::size_t dom(std::size_t j) const { return j / g; }
  std::size_t dom_size(std::size_t d) const { return std::min(g, n - d * g); }
  double raw(std::size_t i, std::size_t j) const { return t.bytes[i * n + j]; }
  double at(std::size_t i, std::size_t j) const {
    const double r = raw(i, j);
    if (!t.domain_local) return r;
    if (dom(i) != dom(j)) return 0;
    const double d = dom_total[i];
    return d > 0 ? r * row_total[i] / d : 0;
  }
};

Rows make_rows(const Traffic& t, std::size_t n, std::size_t g) {
  Rows r{t, n, g, {}, {}};
  r.row_total.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) r.row_total[i] += r.raw(i, j);
  r.dom_total.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = r.dom(i) * g; j < r.dom(i) * g + r.dom_size(r.dom(i)); ++j)
      r.dom_total[i] += r.raw(i, j);
  return r;
}

// A shared row: rank i sends row[j] to every j: its domain's share over scale-up, the rest out;
// rank j receives its column from the g_d - 1 others of its domain and the n - g_d outside it.
// Every quantity of a rank follows from its entry and its domain's, so alike domains are priced
// once (for_each_distinct_domain).
ExchangeLoad shared_row_load(const Traffic& t, std::size_t n, std::size_t g, std::size_t share) {
  ExchangeLoad L;
  const std::vector<Traffic::Run> runs = t.row_runs();
  double row_total = 0;
  if (!t.bytes.empty())
    for (double b : t.bytes) row_total += b;
  else
    for (const Traffic::Run& r : runs) row_total += r.bytes * static_cast<double>(r.ranks);
  double big = 0;  // the largest entry a rank sends another (of its domain, when domain_local)
  std::vector<double> send_out;
  for_each_distinct_domain(runs, n, g, [&](std::uint64_t, const std::vector<double>& row) {
    const std::size_t gd = row.size();
    double dom_total = 0;
    for (double b : row) dom_total += b;
    // Domain-local: each row restricted to the domain, rescaled to keep its total.
    const auto entry = [&](double b) {
      return !t.domain_local ? b : dom_total > 0 ? b * row_total / dom_total : 0;
    };
    const double to_dom = t.domain_local ? row_total : dom_total;
    // (A domain holding every rank sends nothing out: not the rounding between the two sums.)
    send_out.assign(gd, gd >= n ? 0.0 : std::max(0.0, row_total - to_dom));
    std::vector<double> recv_out(gd, 0);
    for (std::size_t k = 0; k < gd; ++k) {
      const double self = entry(row[k]);
      L.own = std::max(L.own, self);
      L.up = std::max({L.up, to_dom - self, self * static_cast<double>(gd - 1)});
      recv_out[k] = t.domain_local ? 0 : row[k] * static_cast<double>(n - gd);
      if (!t.domain_local || gd >= 2) big = std::max(big, self);
    }
    // A NIC carries what its ranks send and receive outside their domain.
    for (std::size_t a = 0; a < gd; a += share) {
      double s = 0, r = 0;
      for (std::size_t k = a; k < std::min(gd, a + share); ++k) {
        s += send_out[k];
        r += recv_out[k];
      }
      L.out = std::max(L.out, std::max(s, r) / static_cast<double>(share));
    }
  });
  // Every pairwise step has some rank sending the largest entry to its owner: g - 1 steps meet
  // inside a domain, p - g outside it (as pairwise's uniform cost); domain-local, nothing leaves.
  const double p = static_cast<double>(n);
  const double steps_up = static_cast<double>(std::min(g, n) - 1), steps_out = p - std::min<double>(g, p);
  L.step_up = steps_up * big;
  L.step_out = t.domain_local ? 0 : steps_out * big;
  return L;
}

}  // namespace

ExchangeLoad exchange_load(const Traffic& t, double p, double g_ranks, double nic_share) {
  const std::size_t n = static_cast<std::size_t>(p),
                    g = std::max<std::size_t>(1, static_cast<std::size_t>(g_ranks));
  const std::size_t share = std::clamp<std::size_t>(static_cast<std::size_t>(nic_share), 1, g);
  ExchangeLoad L;
  if (n == 0 || (t.same_rows ? !t.row_fits(n) : t.bytes.size() != n * n)) return L;
  if (t.same_rows) return shared_row_load(t, n, g, share);
  const Rows R = make_rows(t, n, g);
  std::vector<double> send_up(n, 0), send_out(n, 0), recv_up(n, 0), recv_out(n, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double b = R.at(i, j);
      if (i == j) {
        L.own = std::max(L.own, b);
      } else if (R.dom(i) == R.dom(j)) {
        send_up[i] += b;
        recv_up[j] += b;
      } else {
        send_out[i] += b;
        recv_out[j] += b;
      }
    }
  // A NIC carries what its ranks send and receive outside their domain.
  for (std::size_t i = 0; i < n; ++i) L.up = std::max({L.up, send_up[i], recv_up[i]});
  for (std::size_t d = 0; d * g < n; ++d)
    for (std::size_t a = d * g; a < std::min(n, (d + 1) * g); a += share) {
      double s = 0, r = 0;
      for (std::size_t i = a; i < std::min({n, a + share, (d + 1) * g}); ++i) {
        s += send_out[i];
        r += recv_out[i];
      }
      L.out = std::max(L.out, std::max(s, r) / static_cast<double>(share));
    }
  // Pairwise exchange: step s pairs (i, i + s); it lasts as long as its largest message, charged
  // to the link it crosses.
  for (std::size_t s = 1; s < n; ++s) {
    double big = 0;
    bool inside = true;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = (i + s) % n;
      if (R.at(i, j) > big) {
        big = R.at(i, j);
        inside = R.dom(i) == R.dom(j);
      }
    }
    (inside ? L.step_up : L.step_out) += big;
  }
  return L;
}

Prediction skewed_exchange(const Topo& T, Op op, double n, const Traffic& t, ExchangeKind kind,
                           double latency_us, double eff, const char* algo, Proto pr) {
  // Host ranks share their host's NICs; GPUs share one NIC per domain_size / nics_per_domain.
  const Fabric& f = *T.f;
  const double per_nic =
      f.endpoint.kind == "host"
          ? T.g
          : std::max(1.0, static_cast<double>(f.scale_up.domain_size) /
                              std::max(1.0, static_cast<double>(f.scale_out.nics_per_domain)));
  const ExchangeLoad L = exchange_load(t, T.p, T.g, std::min(per_nic, T.g));
  Cost c;
  c.add(kLatency, latency_us);
  const bool nccl = kind == ExchangeKind::nccl;
  Rate inter{T.b0, kNic};
  if (T.m > 1) inter = dense_rate(T, nccl ? 1.0 : rail_aligned_share(T));
  if (kind == ExchangeKind::stepped) {
    c.add(kScaleUp, xfer_us(L.step_up, T.bu));
    if (L.step_out > 0) c.add(inter.slot, xfer_us(L.step_out, inter.GBps));
  } else {
    const double relay = nccl ? (1 - rail_aligned_share(T)) * L.out : 0;
    const double intra_us = xfer_us(L.up + relay, T.bu) / eff;
    const double inter_us = L.out > 0 ? xfer_us(L.out, inter.GBps) / eff : 0;
    if (intra_us >= inter_us)
      c.add(kScaleUp, intra_us);
    else
      c.add(inter.slot, inter_us);
  }
  if (!nccl) add_own_block_copy(c, T, L.own);
  if (t.reduce_bytes > 0) add_reduction(c, T, t.reduce_bytes);
  return finish(T, op, n, c, algo, pr);
}

}  // namespace fb::model::detail
