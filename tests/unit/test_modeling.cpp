// The harness side of the model: link fits and the default scale sweep.
#include <gtest/gtest.h>

#include <tuple>

#include "harness/commands/calibrate.hpp"
#include "harness/commands/model.hpp"
#include "harness/fabric_lookup.hpp"
#include "harness/sinks/annotate.hpp"
#include "model/cost.hpp"
#include "model/fabric.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

using model::EvictionFit;
using model::fit_eviction;
using model::fit_forward;
using model::fit_forward_spilled;
using model::fit_link;
using model::fit_spill;
using model::FitTier;
using model::LinkFit;
using model::SpillPoint;

TEST(FitLink, RecoversLatencyAndBandwidthExactly) {
  // t = 2 us + bytes / (10 GB/s)
  std::vector<std::pair<double, double>> pts;
  for (double b = 8; b <= 64.0 * 1024 * 1024; b *= 4) pts.emplace_back(b, 2.0 + b / 10e3);
  const LinkFit f = fit_link(pts);
  EXPECT_NEAR(f.latency_us, 2.0, 1e-9);
  EXPECT_NEAR(f.bandwidth_GBps, 10.0, 1e-9);
  EXPECT_NEAR(f.r2, 1.0, 1e-12);
  EXPECT_NEAR(f.max_err_pct, 0.0, 1e-9);
  EXPECT_EQ(f.points, static_cast<int>(pts.size()));
}

TEST(FitLink, WeightsRelativeErrorsSoSmallSizesKeepTheirLatency) {
  // 10% noise on the large sizes must not swamp the 1 us latency of the small ones.
  std::vector<std::pair<double, double>> pts = {
      {8, 1.0}, {64, 1.0}, {1024, 1.1}, {1 << 20, 1.0 + 104.9 * 1.1}, {1 << 24, 1.0 + 1677.7 * 0.9}};
  const LinkFit f = fit_link(pts);
  EXPECT_GT(f.latency_us, 0.8);
  EXPECT_LT(f.latency_us, 1.2);
  EXPECT_GT(f.bandwidth_GBps, 8.0);
  EXPECT_LT(f.bandwidth_GBps, 12.5);
  EXPECT_GT(f.max_err_pct, 1.0);
}

TEST(FitLink, RejectsTooFewPointsAndFlatTimes) {
  EXPECT_THROW(fit_link({{8, 1.0}}), UsageError);
  EXPECT_THROW(fit_link({{8, 5.0}, {1 << 20, 5.0}, {1 << 24, 4.0}}), UsageError);
}

// A host whose shared-memory rate drops from 10 to 4 GB/s once the working set passes 8 MiB
// (a grid point: the grid starts at the smallest working set, 256 KiB, in steps of 2^(1/4)).
TEST(FitSpill, RecoversTheCacheKnee) {
  const double cache = 8.0 * (1 << 20);
  std::vector<SpillPoint> pts;
  for (double b = 64 << 10; b <= 64.0 * (1 << 20); b *= 2) {
    const double ws = 4 * b, fits = fb::model::cached_share(cache, ws);
    pts.push_back({b, ws, 1.5 + b * (fits / 10e3 + (1 - fits) / 4e3)});
  }
  const auto s = fit_spill(pts);
  ASSERT_TRUE(s.has_value());
  EXPECT_NEAR(s->cache_bytes, cache, cache * 1e-9);
  EXPECT_NEAR(s->link.latency_us, 1.5, 1e-6);
  EXPECT_NEAR(s->link.bandwidth_GBps, 10, 1e-6);
  EXPECT_NEAR(s->spilled_GBps, 4, 1e-6);
  EXPECT_NEAR(s->link.max_err_pct, 0, 1e-6);
}

// Two knees (an L2 and a share of the last-level cache): both found, with their rates; a curve
// with one knee gets no outer one.
TEST(FitSpill, RecoversAnOuterKnee) {
  const double cache = 4.0 * (1 << 20), outer = 64.0 * (1 << 20);
  std::vector<SpillPoint> two, one;
  for (double b = 64 << 10; b <= 64.0 * (1 << 20); b *= 2) {
    const double ws = 4 * b, f1 = fb::model::cached_share(cache, ws),
                 f2 = std::max(f1, fb::model::cached_share(outer, ws));
    two.push_back({b, ws, 1.5 + b * (f1 / 10e3 + (f2 - f1) / 4e3 + (1 - f2) / 1e3)});
    one.push_back({b, ws, 1.5 + b * (f1 / 10e3 + (1 - f1) / 4e3)});
  }
  const auto s = fit_spill(two);
  ASSERT_TRUE(s.has_value());
  EXPECT_NEAR(s->cache_bytes, cache, cache * 1e-9);
  EXPECT_NEAR(s->outer_cache_bytes, outer, outer * 1e-9);
  EXPECT_NEAR(s->link.bandwidth_GBps, 10, 1e-6);
  EXPECT_NEAR(s->spilled_GBps, 4, 1e-6);
  EXPECT_NEAR(s->outer_spilled_GBps, 1, 1e-6);
  EXPECT_NEAR(s->link.latency_us, 1.5, 1e-6);
  // Knees given (as calibrate takes them from bidir rows): only those are tried.
  const auto given = fit_spill(two, cache, outer);
  ASSERT_TRUE(given.has_value());
  EXPECT_NEAR(given->outer_spilled_GBps, 1, 1e-6);
  const auto first_only = fit_spill(two, cache);
  ASSERT_TRUE(first_only.has_value());
  EXPECT_EQ(first_only->outer_cache_bytes, 0);
  const auto single = fit_spill(one);
  ASSERT_TRUE(single.has_value());
  EXPECT_NEAR(single->cache_bytes, cache, cache * 1e-9);
  EXPECT_EQ(single->outer_cache_bytes, 0);
  EXPECT_EQ(single->outer_spilled_GBps, 0);
}

// A host whose outer cache (64 MiB) other work drains at 16 GB/s: a pingpong round trip (twice
// its time) lets more in than a bidir exchange of the same working set, so pingpong spills from
// 16 MiB messages and bidir only from 32 MiB. fit_eviction finds the rate, the knees from the
// bidir rows and the rates from the pingpong ones, exactly; without other work it keeps none.
TEST(FitEviction, RecoversTheRateOfOtherWork) {
  const double cache = 4.0 * (1 << 20), outer = 64.0 * (1 << 20), X = 16;
  // time = 1.5 + b (f1 / in + (f2 - f1) / spilled + (1 - f2) / outer_rate) (GB/s = 1e3 B/us),
  // f2 from W + X 1e3 reuse, reuse = `round` x time: a fixed point, approached from below.
  auto point = [&](double b, double in, double sp, double out, double round, double x) {
    const double ws = 4 * b, f1 = fb::model::cached_share(cache, ws);
    double t = 0;
    for (int i = 0; i < 200; ++i) {
      const double f2 = std::max(f1, fb::model::cached_share(outer, ws + x * 1e3 * round * t));
      t = 1.5 + b * (f1 / (in * 1e3) + (f2 - f1) / (sp * 1e3) + (1 - f2) / (out * 1e3));
    }
    return SpillPoint{b, ws, t, round * t};
  };
  std::vector<SpillPoint> bidir, pp, bidir0, pp0;
  for (double b = 64 << 10; b <= 64.0 * (1 << 20); b *= 2) {
    bidir.push_back(point(b, 8, 6, 5, 1, X));
    pp.push_back(point(b, 10, 8, 6, 2, X));
    bidir0.push_back(point(b, 8, 6, 5, 1, 0));
    pp0.push_back(point(b, 10, 8, 6, 2, 0));
  }
  const EvictionFit e = fit_eviction(bidir, pp);
  ASSERT_TRUE(e.spill.has_value());
  EXPECT_DOUBLE_EQ(e.spill->outer_eviction_GBps, X);
  EXPECT_NEAR(e.spill->cache_bytes, cache, cache * 1e-9);
  EXPECT_NEAR(e.spill->outer_cache_bytes, outer, outer * 1e-9);
  EXPECT_NEAR(e.spill->link.bandwidth_GBps, 10, 1e-6);
  EXPECT_NEAR(e.spill->spilled_GBps, 8, 1e-6);
  EXPECT_NEAR(e.spill->outer_spilled_GBps, 6, 1e-6);
  EXPECT_LT(e.sse, 1e-12);
  EXPECT_GT(e.sse_without, 1e-6);
  const EvictionFit quiet = fit_eviction(bidir0, pp0);
  ASSERT_TRUE(quiet.spill.has_value());
  EXPECT_EQ(quiet.spill->outer_eviction_GBps, 0);
  EXPECT_NEAR(quiet.spill->outer_cache_bytes, outer, outer * 1e-9);
  // Without bidir rows the knees come from the pingpong rows alone.
  const EvictionFit alone = fit_eviction({}, pp0);
  ASSERT_TRUE(alone.spill.has_value());
  EXPECT_NEAR(alone.spill->cache_bytes, cache, cache * 1e-9);
}

TEST(FitSpill, AStraightLineNeedsNoCacheTerm) {
  std::vector<SpillPoint> pts;
  for (double b = 64 << 10; b <= 64.0 * (1 << 20); b *= 2) pts.push_back({b, 4 * b, 1.5 + b / 10e3});
  EXPECT_FALSE(fit_spill(pts).has_value());
  EXPECT_FALSE(fit_spill({pts.begin(), pts.begin() + 3}).has_value());  // too few points
}

// relay = one clean leg (pingpong's one-way time) and one forwarded leg, averaged.
// Beyond twice the cache (none of the working set cached) and up to the outer knee, the forwarded
// legs less the forwarded latency give the forwarded spilled rate.
TEST(FitForward, RecoversTheForwardedRateBeyondTheCache) {
  const double a = 2, afw = 3, Bs = 8, Fs = 6, cache = 4.0 * (1 << 20), outer = 64.0 * (1 << 20);
  std::vector<SpillPoint> pp, relay;
  for (double b = 64 << 10; b <= 64.0 * (1 << 20); b *= 2) {
    // In cache, and beyond the outer knee, the legs are something else: those sizes must not count.
    const double ws = 4 * b, odd = ws < 2 * cache || ws > outer ? 5 : 1;
    const double clean = a + b / (Bs * 1e3), fwd = a + afw + odd * b / (Fs * 1e3);
    pp.push_back({b, ws, clean});
    relay.push_back({b, ws, (clean + fwd) / 2});
  }
  // Working sets 8 to 64 MiB: 2, 4, 8 and 16 MiB.
  const auto f = fit_forward_spilled(relay, pp, a + afw, cache, outer);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->points, 4);
  EXPECT_NEAR(f->bandwidth_GBps, Fs, 1e-9);
  EXPECT_NEAR(f->max_err_pct, 0, 1e-9);
  // Without an outer knee every size beyond twice the cache counts (and the odd ones spoil it).
  const auto all = fit_forward_spilled(relay, pp, a + afw, cache, 0);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->points, 6);
  EXPECT_GT(all->max_err_pct, 1);
  // No cache, or fewer than 2 sizes: no fit.
  EXPECT_FALSE(fit_forward_spilled(relay, pp, a + afw, 0, 0).has_value());
  EXPECT_FALSE(fit_forward_spilled(relay, pp, a + afw, cache, 12.0 * (1 << 20)).has_value());
}

TEST(FitForward, RecoversTheForwardRateFromRelayLessPingpong) {
  const double a = 2, B = 10, Bf = 4, cache = 8.0 * (1 << 20);
  std::vector<SpillPoint> pp, relay;
  for (double b = 64 << 10; b <= 16.0 * (1 << 20); b *= 2) {
    const double clean = a + b / (B * 1e3), fwd = a + b / (Bf * 1e3);
    pp.push_back({b, 4 * b, clean});
    relay.push_back({b, 4 * b, (clean + fwd) / 2});
  }
  const auto f = fit_forward(relay, pp, a, B);
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->bandwidth_GBps, Bf, 1e-9);
  EXPECT_NEAR(f->latency_us, a, 1e-9);
  EXPECT_NEAR(f->max_err_pct, 0, 1e-9);
  EXPECT_EQ(f->points, 9);
  // A forwarded leg that also pays a fixed overhead: the fit's latency carries it.
  std::vector<SpillPoint> slow_relay = relay;
  for (auto& q : slow_relay) q.time_us += 3.0 / 2;
  const auto o = fit_forward(slow_relay, pp, a, B);
  ASSERT_TRUE(o.has_value());
  EXPECT_NEAR(o->latency_us, a + 3, 1e-9);
  EXPECT_NEAR(o->bandwidth_GBps, Bf, 1e-9);
  // A negative intercept is no overhead: the slowdown is fitted alone.
  std::vector<SpillPoint> fast_start = relay;
  for (auto& q : fast_start) q.time_us -= 0.5 / 2;
  const auto z = fit_forward(fast_start, pp, a, B);
  ASSERT_TRUE(z.has_value());
  EXPECT_DOUBLE_EQ(z->latency_us, a);
  EXPECT_LT(z->bandwidth_GBps, B);
  // Only sizes whose working set fits the cache count: 64 KiB .. 2 MiB (4 b <= 8 MiB).
  relay.back().time_us *= 3;  // beyond the cache: ignored
  const auto in_cache = fit_forward(relay, pp, a, B, cache);
  ASSERT_TRUE(in_cache.has_value());
  EXPECT_EQ(in_cache->points, 6);
  EXPECT_NEAR(in_cache->bandwidth_GBps, Bf, 1e-9);
  // Sizes without a pingpong row, or fewer than 2 usable sizes: no fit.
  EXPECT_FALSE(fit_forward(relay, {pp.front()}, a, B).has_value());
  EXPECT_FALSE(fit_forward({relay.front()}, pp, a, B).has_value());
  // Latency-sized messages are noise, not a rate: 8 B and 64 B never count.
  std::vector<SpillPoint> tiny_pp{{8, 32, a}, {64, 256, a}}, tiny_relay{{8, 32, a + 0.1}, {64, 256, a + 0.2}};
  EXPECT_FALSE(fit_forward(tiny_relay, tiny_pp, a, B).has_value());
  // Relay no slower than pingpong: exactly the clean rate, however noisy the times.
  std::vector<SpillPoint> noisy_pp = pp, same = pp;
  for (std::size_t i = 0; i < noisy_pp.size(); ++i) noisy_pp[i].time_us *= 1 + 0.07 * ((i % 3) - 1.0);
  for (std::size_t i = 0; i < same.size(); ++i) same[i].time_us = noisy_pp[i].time_us;
  const auto flat = fit_forward(same, noisy_pp, a, B);
  ASSERT_TRUE(flat.has_value());
  EXPECT_DOUBLE_EQ(flat->bandwidth_GBps, B);
}

TEST(DefaultScales, FromOneDomainDoublingToTwoToTheTwenty) {
  const auto s = default_scales(8);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.front(), 8u);
  EXPECT_EQ(s.back(), 1u << 20);
  EXPECT_EQ(s.size(), 18u);  // 8 .. 2^20 by doubling
  const auto nvl = default_scales(72);
  EXPECT_EQ(nvl.front(), 72u);
  EXPECT_EQ(nvl.back(), 1u << 20);
  for (std::size_t i = 1; i + 1 < nvl.size(); ++i) EXPECT_EQ(nvl[i], 2 * nvl[i - 1]);
  // One rank per domain (hosts): from a pair, which every op (pingpong, sendrecv) can run on.
  EXPECT_EQ(default_scales(1).front(), 2u);
  EXPECT_EQ(default_scales(1).size(), 20u);
}

// A shipped fabric by name (configs/fabrics/NAME.yaml).
model::Fabric shipped(const char* name) {
  return load_fabric_for_cli(std::string(FB_SOURCE_DIR) + "/configs/fabrics/" + name + ".yaml", {});
}

// A measured row of `op` run by `backend` with `algo`: n ranks, rpn per node, `bytes` in 100 us.
Record row(const char* backend, const char* op, const char* algo, int n = 16, int rpn = 8,
           std::uint64_t bytes = 1 << 20) {
  Record r;
  r.backend = backend;
  r.op = op;
  r.algo = algo;
  r.nranks = n;
  r.ranks_per_node = rpn;
  r.nnodes = n / rpn;
  r.bytes = bytes;
  r.time_us = 100;
  return r;
}

// The model's algorithm for what a row ran: the algo column names a p2p API on the pairwise ops
// (ucx: tag, put, am) and NCCL's logged choice on nccl rows; neither is a model algorithm name.
TEST(ModelAlgorithmFor, MapsEveryBackendsAlgoColumn) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(model_algorithm_for(row("ucx", "pingpong", "tag")), P("native", "auto"));
  EXPECT_EQ(model_algorithm_for(row("ucx", "sendrecv", "put/window8")), P("native", "auto"));
  EXPECT_EQ(model_algorithm_for(row("mpi", "bidir", "native")), P("native", "auto"));
  EXPECT_EQ(model_algorithm_for(row("ucx", "allreduce", "ring")), P("ring", "auto"));
  EXPECT_EQ(model_algorithm_for(row("mpi", "alltoall", "native")), P("native", "auto"));
  EXPECT_EQ(model_algorithm_for(row("mpi", "allreduce", "")), P("native", "auto"));
  EXPECT_EQ(model_algorithm_for(row("nccl", "allreduce", "RING/LL128")), P("nccl_ring", "ll128"));
  EXPECT_EQ(model_algorithm_for(row("nccl", "allreduce", "NVLS_TREE/SIMPLE/graph20")),
            P("nccl_nvlstree", "simple"));
  EXPECT_EQ(model_algorithm_for(row("nccl", "allreduce", "COLLNET_DIRECT/SIMPLE")),
            P("nccl_collnet_direct", "simple"));
  EXPECT_EQ(model_algorithm_for(row("nccl", "allgather", "PAT/SIMPLE")), P("nccl_pat", "simple"));
  EXPECT_EQ(model_algorithm_for(row("nccl", "allreduce", "RING/LL+TREE/SIMPLE")), P("nccl_auto", "auto"));
  EXPECT_EQ(model_algorithm_for(row("nccl", "broadcast", "native")), P("nccl_auto", "auto"));
  EXPECT_EQ(model_algorithm_for(row("nccl", "alltoall", "native")), P("nccl_p2p", "auto"));
  EXPECT_EQ(model_algorithm_for(row("nccl", "pingpong", "native")), P("nccl_p2p", "auto"));
}

// Every measured row gets a prediction: a ucx ping-pong (algo "tag") was left without one.
TEST(AnnotateWithModel, FillsPairwiseRowsOfEveryP2PApi) {
  const model::Fabric f = shipped("localhost");
  for (const char* api : {"tag", "put", "am", "native"}) {
    Record r = row("ucx", "pingpong", api, 2, 2);
    annotate_with_model(r, f);
    ASSERT_TRUE(r.model_time_us.has_value()) << api;
    EXPECT_GT(*r.model_time_us, 0) << api;
    EXPECT_EQ(r.model_fabric, f.name) << api;
  }
}

// A row that ran the library's own choice (--algo native on mpi; nccl without a logged choice) is
// held against the fastest modelled algorithm and says so; a row that ran a named algorithm is
// held against that algorithm.
TEST(AnnotateWithModel, LibraryChoiceIsTheBestModelledBound) {
  const model::Fabric f = shipped("hgx-h100");
  Record native = row("mpi", "allreduce", "native");
  annotate_with_model(native, f);
  EXPECT_EQ(native.model_basis, "best-modelled-bound");
  ASSERT_TRUE(native.model_time_us);
  const model::Placement p{16, 8};
  bool equals_one = false;
  for (const char* algo : {"ring", "recursive_doubling", "rabenseifner", "hierarchical"}) {
    const double t = model::predict(f, "allreduce", algo, p, 1 << 20).time_us;
    EXPECT_LE(*native.model_time_us, t) << algo;
    equals_one = equals_one || *native.model_time_us == t;
  }
  EXPECT_TRUE(equals_one);

  for (auto [backend, op, algo, basis] :
       {std::tuple{"ucx", "allreduce", "ring", "algorithm"},
        std::tuple{"mpi", "alltoall", "native", "best-modelled-bound"},
        std::tuple{"nccl", "allreduce", "RING/LL128", "algorithm"},
        std::tuple{"nccl", "allreduce", "native", "best-modelled-bound"},
        std::tuple{"nccl", "allreduce", "RING/LL+TREE/SIMPLE", "best-modelled-bound"},
        std::tuple{"nccl", "alltoall", "native", "algorithm"},
        std::tuple{"mpi", "pingpong", "native", "algorithm"}}) {
    Record r = row(backend, op, algo);
    annotate_with_model(r, f);
    EXPECT_EQ(r.model_basis, basis) << backend << " " << op << " " << algo;
  }
  Record none = row("mpi", "allreduce", "native");
  EXPECT_EQ(none.model_basis, "");  // no prediction, no basis
}

// A zero-byte row (an alltoall of 8 B on 4 ranks of float32 is 0 elements) moves nothing and the
// libraries return at once: it gets no prediction, so no time/model of 0.01 heads the summary.
TEST(AnnotateWithModel, ZeroBytesGetNoPrediction) {
  const model::Fabric f = shipped("localhost");
  Record r = row("mpi", "alltoall", "native", 4, 4, 0);
  r.time_us = 0.009;
  annotate_with_model(r, f);
  EXPECT_FALSE(r.model_time_us.has_value());
  EXPECT_EQ(r.model_fabric, "");
  r.bytes = 32;
  annotate_with_model(r, f);
  EXPECT_TRUE(r.model_time_us.has_value());
}

}  // namespace
}  // namespace fb

namespace fb {
namespace {

// Collective rows whose times the model itself gives on `truth`: a fit from another fabric's
// starting point must find truth's numbers again.
std::vector<Record> model_rows(const model::Fabric& truth, int nranks, int per_node,
                               const std::vector<std::pair<std::string, std::string>>& runs) {
  std::vector<Record> rows;
  for (const auto& [op, algo] : runs)
    for (std::uint64_t b = 64; b <= (16u << 20); b *= 4) {
      Record r;
      r.backend = "ucx";
      r.op = op;
      r.algo = algo;
      r.nranks = nranks;
      r.ranks_per_node = per_node;
      r.nnodes = (nranks + per_node - 1) / per_node;
      r.bytes = b;
      r.time_us = model::predict(truth, op, algo,
                                 {static_cast<std::uint64_t>(nranks), static_cast<std::uint64_t>(per_node)},
                                 static_cast<double>(b))
                      .time_us;
      rows.push_back(r);
    }
  return rows;
}

TEST(FitCollectives, RecoversTheScaleUpTierThroughTheModel) {
  model::Fabric truth = model::load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/localhost.yaml");
  truth.scale_up.latency_us = 2.5;
  truth.scale_up.bandwidth_GBps = 9;
  const auto rows =
      model_rows(truth, 4, 4, {{"allreduce", "ring"}, {"alltoall", "pairwise"}, {"broadcast", "binomial"}});
  model::Fabric f = model::load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/localhost.yaml");
  const auto fit = fit_tier_from_collectives(f, FitTier::scale_up, rows);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->latency_us, 2.5, 1e-6);
  EXPECT_NEAR(fit->bandwidth_GBps, 9, 1e-6);
  EXPECT_NEAR(f.scale_up.latency_us, 2.5, 1e-6);
  EXPECT_NEAR(f.scale_up.bandwidth_GBps, 9, 1e-6);
  EXPECT_NEAR(fit->max_err_pct, 0, 1e-6);
  EXPECT_NEAR(fit->r2, 1, 1e-9);
  EXPECT_EQ(fit->points, static_cast<int>(rows.size()));
}

TEST(FitCollectives, RecoversTheNicThroughTheModel) {
  model::Fabric truth =
      model::load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/emulated-2leaf.yaml");
  truth.scale_out.latency_us = 45;
  truth.scale_out.nic_bandwidth_Gbps = 0.25;
  // 8 ranks on 4 hosts, 2 per host: the ring crosses the leaf and the spine.
  const auto rows = model_rows(truth, 8, 2, {{"allreduce", "ring"}, {"allgather", "recursive_doubling"}});
  model::Fabric f = model::load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/emulated-2leaf.yaml");
  const auto fit = fit_tier_from_collectives(f, FitTier::scale_out, rows);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(f.scale_out.latency_us, 45, 1e-4);
  EXPECT_NEAR(f.scale_out.nic_bandwidth_Gbps, 0.25, 1e-8);
  EXPECT_NEAR(fit->bandwidth_GBps, 0.25 / 8 * truth.scale_out.wire_efficiency, 1e-8);
  EXPECT_NEAR(fit->max_err_pct, 0, 1e-4);
  // Scale-up rows do not fix the scale-out tier: their times do not move with it.
  model::Fabric g = model::load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/emulated-2leaf.yaml");
  EXPECT_FALSE(
      fit_tier_from_collectives(g, FitTier::scale_out, model_rows(truth, 2, 2, {{"allreduce", "ring"}}))
          .has_value());
}

TEST(FitCollectives, NeedsTwoSizesAndRowsTheModelKnows) {
  model::Fabric f = model::load_fabric(std::string(FB_SOURCE_DIR) + "/configs/fabrics/localhost.yaml");
  auto rows = model_rows(f, 2, 2, {{"allreduce", "ring"}});
  EXPECT_FALSE(fit_tier_from_collectives(f, FitTier::scale_up, {rows.front()}).has_value());
  // Pairwise ops, one rank, and algorithms the model does not have are not collective rows.
  Record pp = rows.front();
  pp.op = "pingpong";
  EXPECT_FALSE(is_collective_row(pp));
  Record one = rows.front();
  one.nranks = 1;
  EXPECT_FALSE(is_collective_row(one));
  EXPECT_TRUE(is_collective_row(rows.front()));
  for (auto& r : rows) r.algo = "no_such_algorithm";
  EXPECT_FALSE(fit_tier_from_collectives(f, FitTier::scale_up, rows).has_value());
}

}  // namespace
}  // namespace fb
