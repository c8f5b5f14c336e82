// A skewed exchange's per-rank loads (model/cost.hpp Traffic; model/algorithms/common.hpp
// exchange_load): O(n) for a shared row, O(n^2) for a matrix (whose n is a file's).
#include <algorithm>
#include <cstddef>
#include <vector>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

namespace {

// What row i sends rank j, with domain_local's restriction and rescaling applied.
struct Rows {
  const Traffic& t;
  std::size_t n, g;
  std::vector<double> row_total, dom_total;  // per row; per (row, domain) when rows differ

  std::size_t dom(std::size_t j) const { return j / g; }
  std::size_t dom_size(std::size_t d) const { return std::min(g, n - d * g); }
  double raw(std::size_t i, std::size_t j) const { return t.same_rows ? t.bytes[j] : t.bytes[i * n + j]; }
  // Row i's bytes to its own domain (before restriction).
  double own_domain(std::size_t i) const { return t.same_rows ? dom_total[dom(i)] : dom_total[i]; }
  double at(std::size_t i, std::size_t j) const {
    const double r = raw(i, j);
    if (!t.domain_local) return r;
    if (dom(i) != dom(j)) return 0;
    const double d = own_domain(i);
    return d > 0 ? r * row_total[t.same_rows ? 0 : i] / d : 0;
  }
};

Rows make_rows(const Traffic& t, std::size_t n, std::size_t g) {
  Rows r{t, n, g, {}, {}};
  const std::size_t rows = t.same_rows ? 1 : n;
  r.row_total.assign(rows, 0);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < n; ++j) r.row_total[i] += r.raw(i, j);
  if (t.same_rows) {
    r.dom_total.assign((n + g - 1) / g, 0);
    for (std::size_t j = 0; j < n; ++j) r.dom_total[j / g] += t.bytes[j];
  } else {
    r.dom_total.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = r.dom(i) * g; j < r.dom(i) * g + r.dom_size(r.dom(i)); ++j)
        r.dom_total[i] += r.raw(i, j);
  }
  return r;
}

}  // namespace

ExchangeLoad exchange_load(const Traffic& t, double p, double g_ranks, double nic_share) {
  const std::size_t n = static_cast<std::size_t>(p),
                    g = std::max<std::size_t>(1, static_cast<std::size_t>(g_ranks));
  ExchangeLoad L;
  if (n == 0 || t.bytes.size() != (t.same_rows ? n : n * n)) return L;
  const Rows R = make_rows(t, n, g);
  std::vector<double> send_up(n, 0), send_out(n, 0), recv_up(n, 0), recv_out(n, 0);
  if (t.same_rows) {
    // Rank i sends row[j] to every j: its domain's share over scale-up, the rest out; rank j
    // receives its column from the g_d - 1 others of its domain and the n - g_d outside it.
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t d = R.dom(j), gd = R.dom_size(d);
      const double self = R.at(j, j);
      const double to_dom = t.domain_local ? R.row_total[0] : R.dom_total[d];
      send_up[j] = to_dom - self;
      send_out[j] = R.row_total[0] - to_dom;
      // What the others of j's domain send j (every row the same, restricted rows rescaled alike).
      recv_up[j] = self * static_cast<double>(gd - 1);
      recv_out[j] = t.domain_local ? 0 : t.bytes[j] * static_cast<double>(n - gd);
      L.own = std::max(L.own, self);
    }
  } else {
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
  }
  // A NIC carries what its ranks send and receive outside their domain.
  const std::size_t share = std::clamp<std::size_t>(static_cast<std::size_t>(nic_share), 1, g);
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
  // Pairwise exchange: step s pairs (i, i + s); it lasts as long as its largest message.
  if (t.same_rows) {
    // Every step has some rank sending the largest entry to its owner: g - 1 steps meet inside
    // a domain, p - g outside it (as pairwise's uniform cost).
    // (domain_local: the largest entry a rank sends another of its domain; nothing leaves).
    double big = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t d = R.dom(j);
      if (t.domain_local && R.dom_size(d) < 2) continue;
      const std::size_t other = d * g + (j == d * g ? 1 : 0);  // a rank of j's domain other than j
      big = std::max(big, t.domain_local ? R.at(other, j) : t.bytes[j]);
    }
    const double steps_up = static_cast<double>(std::min(g, n) - 1), steps_out = p - std::min<double>(g, p);
    L.step_up = steps_up * big;
    L.step_out = t.domain_local ? 0 : steps_out * big;
  } else {
    for (std::size_t s = 1; s < n; ++s) {
      // The step's largest message, charged to the link it crosses.
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
