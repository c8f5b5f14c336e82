// The fabric model's full sweep: every algorithm x every op it implements (NCCL algorithms at each
// of their protocols) x 30 sizes (1 B .. 16 GiB) x 21 scales (1 .. 2^20 GPUs, 8 per NVLink
// domain) on an HGX H100-like fabric with a 4-tier radix-64 fat tree (2^21 endpoints) and SHARP,
// so that every algorithm has scales where it runs. One iteration = one full sweep; the target is
// < 50 ms on one core (closed forms: a prediction costs the same at 8 and at 2^20 GPUs).
// Each runs twice: /0 with the even spread over up-links, /1 with ECMP on every tier.
//   BM_FullSweep          the registry's cost functions directly (what predict() runs per algorithm)
//   BM_FullSweepPredict   predict() per algorithm at protocol "auto" (validation, protocol choice;
//                         combinations that cannot run throw and are counted)
//   BM_AutoSweep          predict() with "auto" and "nccl_auto" per op: `fabricbench model`'s default
//   BM_MoeSweep           `model --op moe_dispatch|moe_combine --bytes 16M --topk 8` at nccl_auto over the
//                         21 scales: the routing's traffic (model/moe_traffic.hpp) then predict();
//                         Arg 0 uniform, 1 zipf:1.2, 2 hot:2:0.5
//   BM_MoeAtMillion       one moe_dispatch of BM_MoeSweep's at 2^20 GPUs (target < 100 ms)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "model/moe_traffic.hpp"

namespace fb::model {
namespace {

Fabric hgx_fabric() {
  Fabric f;
  f.name = "hgx-h100-like";
  f.description = "8x H100 per NVLink4 domain, 8x 400G rails, 4-tier radix-64 fat tree, SHARP";
  f.endpoint.generation = "hopper";  // NCCL's Hopper caps, as a real HGX H100 gets
  f.endpoint.memory_bandwidth_GBps = 3350;
  f.endpoint.reduce_bandwidth_GBps = 3350.0 / 3;
  f.scale_up.domain_size = 8;
  f.scale_up.bandwidth_GBps = 450;
  f.scale_up.latency_us = 0.6;
  f.scale_up.in_switch_reduction = true;
  f.scale_out.nic_bandwidth_Gbps = 400;
  f.scale_out.nics_per_domain = 8;
  f.scale_out.rails = 8;
  f.scale_out.latency_us = 2.7;
  f.scale_out.wire_efficiency = 0.99369;
  f.scale_out.in_network_reduction = true;
  f.scale_out.tiers = {{"leaf", 64, 0, 1}, {"spine", 64, 0, 1}, {"core", 64, 0, 1}, {"super", 64, 0, 1}};
  return f;
}

// The fabric of a benchmark run: Arg(0) as built (an even spread over the up-links), Arg(1) every
// tier hashing flows (ECMP: model/routing.hpp's expected maximum load on every tier-crossing step).
Fabric bench_fabric(const benchmark::State& state) {
  Fabric f = hgx_fabric();
  if (state.range(0) == 1)
    for (SwitchTier& t : f.scale_out.tiers) t.load_balancing = "ecmp";
  return f;
}

std::vector<double> sizes() {
  std::vector<double> s;
  for (int i = 0; i < 30; ++i) s.push_back(std::round(std::exp2(34.0 * i / 29)));
  return s;
}

std::vector<Placement> scales() {
  std::vector<Placement> s;
  for (int i = 0; i <= 20; ++i) {
    const std::uint64_t p = std::uint64_t{1} << i;
    s.push_back(Placement{p, p < 8 ? p : 8});
  }
  return s;
}

bool pair_op(const std::string& op) {
  return op == "sendrecv" || op == "unidir" || op == "bidir" || op == "pingpong" || op == "relay";
}

bool moe_op(const std::string& op) {
  const auto k = vocab::parse_op(op);
  return k && vocab::is_moe(*k);
}

void BM_FullSweep(benchmark::State& state) {
  const Fabric f = bench_fabric(state);
  const auto sz = sizes();
  const auto sc = scales();
  const char* protocols[] = {"ll", "ll128", "simple"};
  std::int64_t evaluated = 0, unavailable = 0;
  for (auto _ : state) {
    double sum = 0;
    for (const Algorithm& a : algorithms())
      for (const std::string& op : a.ops)
        for (const Placement& pl : sc) {
          if (pair_op(op) && pl.nranks < 2) continue;
          for (double n : sz) {
            for (int pr = 0; pr < (a.has_protocols ? 3 : 1); ++pr) {
              const Prediction r = a.cost(f, op, pl, n, a.has_protocols ? protocols[pr] : "");
              if (r.time_us < 0) {
                ++unavailable;
                continue;
              }
              sum += r.time_us;
              ++evaluated;
            }
          }
        }
    benchmark::DoNotOptimize(sum);
  }
  state.counters["predictions"] = static_cast<double>(evaluated) / static_cast<double>(state.iterations());
  state.counters["unavailable"] = static_cast<double>(unavailable) / static_cast<double>(state.iterations());
  state.counters["ns_per_prediction"] = benchmark::Counter(
      static_cast<double>(evaluated + unavailable) / static_cast<double>(state.iterations()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FullSweep)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_FullSweepPredict(benchmark::State& state) {
  const Fabric f = bench_fabric(state);
  const auto sz = sizes();
  const auto sc = scales();
  std::int64_t evaluated = 0, refused = 0;
  for (auto _ : state) {
    double sum = 0;
    for (const Algorithm& a : algorithms())
      for (const std::string& op : a.ops)
        for (const Placement& pl : sc) {
          if (pair_op(op) && pl.nranks < 2) continue;
          for (double n : sz) {
            try {
              sum += predict(f, op, a.name, pl, n).time_us;
              ++evaluated;
            } catch (const std::invalid_argument&) {
              ++refused;
            }
          }
        }
    benchmark::DoNotOptimize(sum);
  }
  state.counters["predictions"] = static_cast<double>(evaluated) / static_cast<double>(state.iterations());
  state.counters["refused"] = static_cast<double>(refused) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_FullSweepPredict)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_AutoSweep(benchmark::State& state) {
  const Fabric f = bench_fabric(state);
  const auto sz = sizes();
  const auto sc = scales();
  for (auto _ : state) {
    double sum = 0;
    for (const std::string& op : model_ops())
      for (const Placement& pl : sc) {
        if (pair_op(op) && pl.nranks < 2) continue;
        if (moe_op(op)) continue;  // priced from a routing's traffic: BM_MoeSweep
        for (double n : sz)
          for (const char* algo : {"auto", "nccl_auto"}) sum += predict(f, op, algo, pl, n).time_us;
      }
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_AutoSweep)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_MoeSweep(benchmark::State& state) {
  const Fabric f = bench_fabric(state);
  const char* dists[] = {"uniform", "zipf:1.2", "hot:2:0.5"};
  CountsSpec spec = parse_counts(dists[state.range(1)], 1);
  spec.moe.topk = 8;
  const std::size_t esize = 2, tokens = (16u << 20) / (esize * spec.moe.hidden * 8);
  for (auto _ : state) {
    double sum = 0;
    for (const vocab::OpKind op : {vocab::OpKind::moe_dispatch, vocab::OpKind::moe_combine})
      for (Placement pl : scales()) {
        if (pl.nranks < 2) continue;  // 4 experts on one rank: fewer than topk
        const MoeTraffic t = moe_traffic(spec, op, pl.nranks, tokens, esize);
        pl.traffic = t.traffic;
        sum += predict(f, std::string(vocab::op_name(op)), "nccl_auto", pl, t.max_rank_bytes).time_us;
      }
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_MoeSweep)->ArgsProduct({{0}, {0, 1, 2}})->Unit(benchmark::kMillisecond);

// One moe_dispatch at 2^20 GPUs (4 experts each, 2^22 in all), as BM_MoeSweep's largest scale:
// the routing's traffic then predict(). Arg as BM_MoeSweep's second (uniform, zipf:1.2, hot:2:0.5).
void BM_MoeAtMillion(benchmark::State& state) {
  const Fabric f = hgx_fabric();
  const char* dists[] = {"uniform", "zipf:1.2", "hot:2:0.5"};
  CountsSpec spec = parse_counts(dists[state.range(0)], 1);
  spec.moe.topk = 8;
  const std::size_t esize = 2, tokens = (16u << 20) / (esize * spec.moe.hidden * 8);
  for (auto _ : state) {
    Placement pl{std::uint64_t{1} << 20, 8};
    const MoeTraffic t = moe_traffic(spec, vocab::OpKind::moe_dispatch, pl.nranks, tokens, esize);
    pl.traffic = t.traffic;
    benchmark::DoNotOptimize(predict(f, "moe_dispatch", "nccl_auto", pl, t.max_rank_bytes).time_us);
  }
}
BENCHMARK(BM_MoeAtMillion)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fb::model
