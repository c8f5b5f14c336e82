// chain: broadcast pipelined down the rank chain 0 -> 1 -> ... -> p-1 in k segments. With A the
// sum of the p-1 hop latencies, (a_b, B_b) the slowest hop and X the sum of 1/B over the other
// hops, T(k) = A - a_b + n/B_b + k a_b + n X / k; the best real k = sqrt(n X / a_b) (at least 1)
// gives T = A - a_b + n/B_b + 2 sqrt(a_b n X). Uniform links: (sqrt((p-2) a) + sqrt(n/B))^2.
#include <algorithm>
#include <cmath>
#include <limits>

#include "model/algorithms/common.hpp"

namespace fb::model::detail {

Prediction cost_chain(const Fabric& f, const std::string& op_name, const Placement& pl, double n,
                      const std::string&) {
  const Op op = parse_op(op_name);
  if (op != Op::broadcast) return unavailable("chain does not implement " + op_name);
  const Topo T = make_topo(f, pl);
  Prediction out;
  if (local_case(T, op, n, "chain", Proto::none, out)) return out;

  const bool aligned = T.aligned_at(1);
  const double inter_hops = T.m - 1, intra_hops = T.p - 1 - inter_hops;
  // A middle rank receives a segment while it sends the previous one: exchange latency.
  // Every intra-domain hop after the root's forwards: it also pays the forward overhead.
  const double A = intra_hops * T.aux + std::max(0.0, intra_hops - 1) * T.afw +
                   boundaries_latency(T, aligned, [&](int t) { return T.lat[t]; });
  Rate bottleneck{std::numeric_limits<double>::infinity(), kScaleUp};
  double a_b = T.aux, H = 0;  // H: sum over hops of us per byte
  if (intra_hops > 0) {       // the root's hop sends its send buffer; the others forward what arrived
    bottleneck = intra_hops > 1 ? scaleup_fwd_rate(T) : Rate{T.bu, kScaleUp};
    H += 1 / (T.bu * 1e3) + (intra_hops - 1) / (scaleup_fwd_rate(T).GBps * 1e3);
  }
  if (inter_hops > 0) {
    const Rate r = ring_rate(T, aligned);
    H += inter_hops / (r.GBps * 1e3);
    if (r.GBps <= bottleneck.GBps) {
      bottleneck = r;
      a_b = T.lat[T.top];
    }
  }
  const double X = std::max(0.0, H - 1 / (bottleneck.GBps * 1e3));
  double lat = A, bw = xfer_us(n, bottleneck.GBps);
  if (X > 0 && n > 0) {
    if (a_b > 0) {
      const double k = std::max(1.0, std::sqrt(n * X / a_b));
      lat += (k - 1) * a_b;
      bw += n * X / k;
    }  // a_b == 0: infinitely many segments cost nothing extra
  }
  Cost c;
  c.add(kLatency, lat);
  c.add(bottleneck.slot, bw);
  return finish(T, op, n, c, "chain", Proto::none);
}

}  // namespace fb::model::detail
