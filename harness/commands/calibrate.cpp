// fabricbench calibrate (harness/commands/calibrate.hpp): read the rows, fit tier by tier, write
// the fabric file, show the fits.
#include "harness/commands/calibrate.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "collectives/op.hpp"
#include "harness/commands/command.hpp"
#include "harness/fabric_lookup.hpp"
#include "harness/job.hpp"
#include "harness/results_reader.hpp"
#include "harness/sinks/annotate.hpp"
#include "harness/utc.hpp"
#include "harness/version.hpp"
#include "model/cost.hpp"
#include "vocab/error.hpp"

namespace fb {

namespace fs = std::filesystem;
using model::EvictionFit;
using model::fit_link;
using model::FitTier;
using model::LinkFit;
using model::SpillFit;
using model::SpillPoint;

bool is_collective_row(const Record& r) {
  const OpDescriptor* d = find_op(r.op);
  const auto& ops = model::model_ops();
  return d && !d->pairwise && r.nranks >= 2 && std::find(ops.begin(), ops.end(), r.op) != ops.end();
}

std::optional<LinkFit> fit_tier_from_collectives(model::Fabric& f, FitTier tier,
                                                 const std::vector<Record>& rows) {
  std::vector<model::CollectiveRow> use;
  for (const Record& r : rows) {
    if (!is_collective_row(r)) continue;
    const auto [algo, protocol] = model_algorithm_for(r);
    use.push_back({r.op, algo, protocol, r.nranks, r.ranks_per_node, r.bytes, r.time_us});
  }
  return model::fit_tier_from_collectives(f, tier, use);
}

namespace {

// A one-host p2p row as the cache fits see it: the host's working set, and how long the op takes
// to come back to its buffers.
SpillPoint spill_point(const Record& r) {
  const double bytes = static_cast<double>(r.bytes);
  return {bytes, model::host_working_set(static_cast<double>(r.ranks_per_node), bytes), r.time_us,
          model::reuse_interval_us(r.op, r.time_us)};
}

// What the input files hold for the fits, row by row.
struct CalibrationRows {
  std::vector<std::pair<double, double>> up, out;
  std::vector<SpillPoint> up_ws;  // the one-host rows again, with the host's working set
  std::vector<SpillPoint> relay;  // one-host relay rows (the forward rate)
  // One-host bidir rows by the number of shared-memory transfers running at once (2 per pair).
  std::map<int, std::vector<SpillPoint>> concurrent;
  std::string sources;
  std::vector<HostMemoryProbe> probes;    // from the inputs' metadata (JSON)
  std::vector<Record> coll_up, coll_out;  // collective rows on one host, across hosts
  std::string ucx_api;  // the --p2p-api of one-host ucx pairwise rows that did not run over get
};

// What the fits make: the fabric, each field's reason (written as its comment), the fit table.
struct Calibration {
  model::Fabric f;
  std::vector<std::pair<std::string, std::string>> notes;
  std::vector<LinkFit> fits;
  std::optional<LinkFit> fwd_spilled;  // scale_up.forward_spilled_bandwidth_GBps, when fitted
  EvictionFit eviction;                // scale_up.outer_eviction_GBps, when fitted
  std::string probe_line;              // the host memory probe, when used
};

CalibrationRows read_rows(const CalibrateOptions& o) {
  CalibrationRows rows;
  auto& [up, out, up_ws, relay, concurrent, sources, probes, coll_up, coll_out, ucx_api] = rows;
  for (const auto& in : o.inputs) {
    const ResultsFile rf = read_results(in);
    if (rf.meta.host_memory) probes.push_back(*rf.meta.host_memory);
    int used = 0;
    for (const Record& r : rf.rows) {
      if (r.source != "measured" || r.wrong != 0 || r.bytes == 0 || !(r.time_us > 0)) continue;
      if (r.backend == "ucx" && r.nnodes == 1 && (r.op == "pingpong" || r.op == "bidir" || r.op == "relay") &&
          r.algo.rfind("get", 0) != 0)
        ucx_api = r.algo.substr(0, r.algo.find('/'));
      if (r.op == "bidir" && r.nnodes == 1 && r.nranks >= 2) {
        const int pairs = static_cast<int>(r.ranks_per_node) - static_cast<int>(r.nranks / 2);
        if (pairs > 0) concurrent[2 * pairs].push_back(spill_point(r));
        ++used;
        continue;
      }
      if (r.op == "relay" && r.nnodes == 1 && r.nranks >= 2) {
        relay.push_back(spill_point(r));
        ++used;
        continue;
      }
      if (is_collective_row(r)) {
        (r.nnodes > 1 ? coll_out : coll_up).push_back(r);
        ++used;
        continue;
      }
      if (r.op != "pingpong") continue;
      (r.nnodes > 1 ? out : up).emplace_back(static_cast<double>(r.bytes), r.time_us);
      if (r.nnodes == 1) up_ws.push_back(spill_point(r));
      ++used;
    }
    sources +=
        (sources.empty() ? "" : ", ") + fs::path(in).filename().string() + fmt::format(" ({} rows)", used);
  }
  if (up.empty() && out.empty() && coll_up.empty() && coll_out.empty())
    throw UsageError("calibrate: no pingpong or collective rows to fit in " + sources +
                     " (measure some: fabricbench run --op pingpong,bidir,relay -b 8 -e 64M)");
  if (!ucx_api.empty())
    error_line("note: calibrate: the one-host ucx pairwise rows ran over --p2p-api " + ucx_api +
               "; ucx's algorithms move large messages on one host by shared-memory get (from "
               "FABRICBENCH_UCX_SHM_GET, 16K by default), which --p2p-api get measures: calibrate from "
               "those rows to predict them");
  return rows;
}

// Forwarding: a relay's reply sends what has just arrived, dirty in the replier's cache.
void fit_forwarding(const CalibrationRows& in, Calibration& c, const LinkFit& fit) {
  model::Fabric& f = c.f;
  auto& notes = c.notes;
  auto& fits = c.fits;
  auto& fwd_spilled = c.fwd_spilled;
  const auto& relay = in.relay;
  const auto& up_ws = in.up_ws;
  if (f.endpoint.kind == "host" && !relay.empty()) {
    if (auto fwd = fit_forward(relay, up_ws, fit.latency_us, fit.bandwidth_GBps, f.scale_up.cache_bytes)) {
      fwd->tier = "scale-up fwd";
      const bool slower = fwd->bandwidth_GBps < 0.97 * fit.bandwidth_GBps;
      f.scale_up.forward_bandwidth_GBps = slower ? fwd->bandwidth_GBps : 0;
      // Below 1% of the latency an overhead is rounding, not a cost.
      const double overhead = fwd->latency_us - fit.latency_us;
      f.scale_up.forward_overhead_us = overhead > 0.01 * fit.latency_us ? overhead : 0;
      const std::string fwd_why = fmt::format(
          "calibrate: {} one-host relay rows, each less the pingpong one-way time at its size (max err "
          "{:.1f}%): "
          "data the sender has just written",
          fwd->points, fwd->max_err_pct);
      if (slower) notes.emplace_back("scale_up.forward_bandwidth_GBps", fwd_why);
      if (f.scale_up.forward_overhead_us > 0) notes.emplace_back("scale_up.forward_overhead_us", fwd_why);
      fits.push_back(*fwd);
    }
    // Beyond the cache forwarded data has been written back; whether it still moves slower
    // than clean data there, the relay rows beyond twice the cache say.
    if (auto fs = fit_forward_spilled(relay, up_ws, fit.latency_us + f.scale_up.forward_overhead_us,
                                      f.scale_up.cache_bytes, f.scale_up.outer_cache_bytes,
                                      f.scale_up.outer_eviction_GBps);
        fs && fs->bandwidth_GBps < 0.97 * f.scale_up.spilled_bandwidth_GBps) {
      fwd_spilled = fs;
      f.scale_up.forward_spilled_bandwidth_GBps = fs->bandwidth_GBps;
      notes.emplace_back(
          "scale_up.forward_spilled_bandwidth_GBps",
          fmt::format("calibrate: {} one-host relay rows beyond twice the cache, each less the "
                      "pingpong one-way time at its size (max err {:.1f}%): forwarded data that "
                      "has left the cache",
                      fs->points, fs->max_err_pct));
    }
  }
}

// Shared memory is a copy through the host's memory system: k copies at once share it. The
// bidir rows with the most points give each copy's rate under k-fold concurrency; below the
// single-copy rate, the product is what the host delivers in total.
// With a cache term, only the bidir rows that fit in the cache say what concurrency costs.
void fit_concurrency(const CalibrationRows& in, Calibration& c, const LinkFit& fit,
                     const std::optional<SpillFit>& spill) {
  model::Fabric& f = c.f;
  auto& notes = c.notes;
  auto& fits = c.fits;
  const auto& concurrent = in.concurrent;
  const auto most = std::max_element(concurrent.begin(), concurrent.end(), [](const auto& a, const auto& b) {
    return a.second.size() < b.second.size();
  });
  std::vector<std::pair<double, double>> bidir;
  if (most != concurrent.end())
    for (const auto& q : most->second)
      if (!spill || q.working_set <= spill->cache_bytes) bidir.emplace_back(q.bytes, q.time_us);
  if (bidir.size() >= 2) {
    LinkFit both = fit_link(bidir);
    both.tier = fmt::format("scale-up x{}", most->first);
    const std::string note =
        fmt::format("calibrate: {} one-host bidir rows ({} copies at once) at {:.3f} GB/s each (R2 {:.4f}){}",
                    both.points, most->first, both.bandwidth_GBps, both.r2,
                    both.bandwidth_GBps < 0.97 * fit.bandwidth_GBps ? "" : ": no shared limit");
    if (both.bandwidth_GBps < 0.97 * fit.bandwidth_GBps) {
      f.scale_up.aggregate_bandwidth_GBps = both.bandwidth_GBps * most->first;
      notes.emplace_back("scale_up.aggregate_bandwidth_GBps", note);
    } else {
      f.scale_up.aggregate_bandwidth_GBps = 0;
    }
    // A bidir message is an exchange: each rank's CPU runs the protocol of both directions at
    // once, as in every step of a ring or a pairwise all-to-all. Its latency, when longer than
    // the one-way latency, is what those steps pay.
    if (both.latency_us > 1.03 * fit.latency_us) {
      f.scale_up.exchange_latency_us = both.latency_us;
      notes.emplace_back("scale_up.exchange_latency_us",
                         fmt::format("calibrate: {} one-host bidir rows: latency of an exchange (R2 {:.4f})",
                                     both.points, both.r2));
    } else {
      f.scale_up.exchange_latency_us = 0;
    }
    fits.push_back(both);
  }
}

// The scale-up tier from one-host pingpong rows, with its cache knees, forward rate and
// concurrency when the rows show them.
void fit_scale_up(const CalibrationRows& in, Calibration& c) {
  model::Fabric& f = c.f;
  auto& notes = c.notes;
  auto& fits = c.fits;
  auto& eviction = c.eviction;
  const auto& [up, out, up_ws, relay, concurrent, sources, probes, coll_up, coll_out, ucx_api] = in;
  // On a host, a rate that drops once the ranks' buffers outgrow the CPU caches is fitted as
  // such (fit_spill) when that halves the error of one straight line. Where that knee lies
  // comes from the bidir rows when there are enough: both ends copy at once there, as in a
  // collective, which moves the knee (on the 2-core test VM: 8 MiB bidir, 4 MiB pingpong).
  // The rates on either side come from the pingpong rows.
  const auto most = std::max_element(concurrent.begin(), concurrent.end(), [](const auto& a, const auto& b) {
    return a.second.size() < b.second.size();
  });
  std::optional<SpillFit> spill;
  if (f.endpoint.kind == "host") {
    eviction = fit_eviction(most != concurrent.end() ? most->second : std::vector<SpillPoint>{}, up_ws);
    spill = eviction.spill;
  }
  LinkFit fit = spill ? spill->link : fit_link(up);
  fit.tier = "scale-up";
  f.scale_up.latency_us = fit.latency_us;
  f.scale_up.bandwidth_GBps = fit.bandwidth_GBps;
  f.scale_up.cache_bytes = spill ? spill->cache_bytes : 0;
  f.scale_up.spilled_bandwidth_GBps = spill ? spill->spilled_GBps : 0;
  f.scale_up.outer_cache_bytes = spill ? spill->outer_cache_bytes : 0;
  f.scale_up.outer_spilled_bandwidth_GBps = spill ? spill->outer_spilled_GBps : 0;
  f.scale_up.outer_eviction_GBps = spill && spill->outer_cache_bytes > 0 ? spill->outer_eviction_GBps : 0;
  const std::string why =
      fmt::format("calibrate: fit of {} one-host pingpong rows from {} (R2 {:.4f}, max err {:.1f}%)",
                  fit.points, sources, fit.r2, fit.max_err_pct);
  notes.emplace_back("scale_up.latency_us", why);
  notes.emplace_back("scale_up.bandwidth_GBps", why);
  if (spill) {
    notes.emplace_back("scale_up.cache_bytes", why + ": the working set where the rate drops");
    notes.emplace_back("scale_up.spilled_bandwidth_GBps", why + ": the rate beyond the cache");
    if (spill->outer_cache_bytes > 0) {
      notes.emplace_back("scale_up.outer_cache_bytes", why + ": the working set where the rate drops again");
      notes.emplace_back("scale_up.outer_spilled_bandwidth_GBps", why + ": the rate beyond the outer knee");
      if (f.scale_up.outer_eviction_GBps > 0)
        notes.emplace_back(
            "scale_up.outer_eviction_GBps",
            fmt::format("calibrate: the rate of other work through the outer cache that fits the "
                        "one-host bidir and pingpong rows best (relative squared error {:.4f}, "
                        "{:.4f} without)",
                        eviction.sse, eviction.sse_without));
    }
  }
  fits.push_back(fit);
  fit_forwarding(in, c, fit);
  fit_concurrency(in, c, fit, spill);
}

// Host ranks copy and reduce with the CPU: the run's own memory probe gives the endpoint's
// memory traffic rate (a copy reads and writes each byte: 2 x the copy rate) and its reduction
// rate. The median over the input files; GPU fabrics keep their datasheet numbers.
void fit_host_memory(const CalibrationRows& in, Calibration& c) {
  model::Fabric& f = c.f;
  auto& notes = c.notes;
  auto& probe_line = c.probe_line;
  const auto& probes = in.probes;
  if (!probes.empty() && f.endpoint.kind == "host") {
    auto median = [&](double HostMemoryProbe::*field) {
      std::vector<double> v;
      for (const auto& p : probes) v.push_back(p.*field);
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      return v[v.size() / 2];
    };
    const double copy = median(&HostMemoryProbe::copy_GBps), reduce = median(&HostMemoryProbe::reduce_GBps);
    f.endpoint.memory_bandwidth_GBps = 2 * copy;
    f.endpoint.reduce_bandwidth_GBps = reduce;
    probe_line = fmt::format(
        "host memory probe ({} file{}, {} B buffers, {} ranks at once): copy {:.3f} GB/s, "
        "float32 sum {:.3f} GB/s",
        probes.size(), probes.size() == 1 ? "" : "s", probes.front().bytes, probes.front().ranks, copy,
        reduce);
    notes.emplace_back("endpoint.memory_bandwidth_GBps",
                       fmt::format("calibrate: 2 x the copy rate of the {}", probe_line));
    notes.emplace_back("endpoint.reduce_bandwidth_GBps", fmt::format("calibrate: from the {}", probe_line));
    // Beyond the caches: where every input probed there too. The fabric uses them only with a
    // cache knee (scale_up.cache_bytes), so only then do they go into it.
    const bool spilled =
        std::all_of(probes.begin(), probes.end(), [](const auto& p) { return p.spilled_bytes > 0; });
    f.endpoint.memory_spilled_bandwidth_GBps = f.endpoint.reduce_spilled_bandwidth_GBps = 0;
    if (spilled) {
      const double copy_s = median(&HostMemoryProbe::copy_spilled_GBps),
                   reduce_s = median(&HostMemoryProbe::reduce_spilled_GBps);
      const std::string line = fmt::format("{} B buffers: copy {:.3f} GB/s, float32 sum {:.3f} GB/s",
                                           probes.front().spilled_bytes, copy_s, reduce_s);
      probe_line += "; beyond the caches, " + line;
      if (f.scale_up.cache_bytes > 0) {
        f.endpoint.memory_spilled_bandwidth_GBps = 2 * copy_s;
        f.endpoint.reduce_spilled_bandwidth_GBps = reduce_s;
        notes.emplace_back("endpoint.memory_spilled_bandwidth_GBps",
                           "calibrate: 2 x the copy rate of the host memory probe with " + line);
        notes.emplace_back("endpoint.reduce_spilled_bandwidth_GBps",
                           "calibrate: from the host memory probe with " + line);
      }
    }
  }
}

void fit_scale_out(const CalibrationRows& in, Calibration& c) {
  model::Fabric& f = c.f;
  auto& notes = c.notes;
  auto& fits = c.fits;
  const auto& out = in.out;
  const auto& sources = in.sources;
  if (!out.empty()) {
    if (!f.has_scaleout())
      throw UsageError("calibrate: rows span several hosts but the base fabric has no scale_out");
    LinkFit fit = fit_link(out);
    fit.tier = "scale-out";
    // A pair on two hosts under one leaf crosses one switch.
    f.scale_out.latency_us = std::max(0.0, fit.latency_us - f.scale_out.tiers.front().hop_latency_us);
    f.scale_out.nic_bandwidth_Gbps = fit.bandwidth_GBps * 8.0 / f.scale_out.wire_efficiency;
    const std::string why =
        fmt::format("calibrate: fit of {} multi-host pingpong rows from {} (R2 {:.4f}, max err {:.1f}%)",
                    fit.points, sources, fit.r2, fit.max_err_pct);
    notes.emplace_back("scale_out.latency_us", why);
    notes.emplace_back("scale_out.nic_bandwidth_Gbps", why);
    fits.push_back(fit);
  }
}

// A tier without pingpong rows is fitted from the collective rows that ran over it, through the
// model (the scale-up tier first: the scale-out rows' predictions include it). From collectives
// only a latency and a bandwidth are fitted; the host refinements that need p2p rows (cache
// knees, forward rate, exchange latency, a shared aggregate) are cleared so as not to bend them.
void fit_from_collectives(Calibration& c, FitTier tier, const std::vector<Record>& rows,
                          const std::string& sources) {
  model::Fabric& f = c.f;
  auto& notes = c.notes;
  auto& fits = c.fits;
  if (tier == FitTier::scale_up) {
    f.scale_up.cache_bytes = f.scale_up.spilled_bandwidth_GBps = f.scale_up.outer_cache_bytes =
        f.scale_up.outer_spilled_bandwidth_GBps = 0;
    f.scale_up.forward_bandwidth_GBps = f.scale_up.forward_overhead_us = f.scale_up.exchange_latency_us = 0;
    f.scale_up.forward_spilled_bandwidth_GBps = 0;
    f.scale_up.aggregate_bandwidth_GBps = 0;
    f.endpoint.memory_spilled_bandwidth_GBps = f.endpoint.reduce_spilled_bandwidth_GBps = 0;
  } else if (!f.has_scaleout()) {
    throw UsageError("calibrate: rows span several hosts but the base fabric has no scale_out");
  }
  const bool up_tier = tier == FitTier::scale_up;
  std::set<std::string> kinds;
  for (const Record& r : rows) kinds.insert(r.op + " " + model_algorithm_for(r).first);
  std::string what;
  for (const auto& k : kinds) what += (what.empty() ? "" : ", ") + k;
  auto fit = fit_tier_from_collectives(f, tier, rows);
  if (!fit)
    throw UsageError(
        fmt::format("calibrate: the {} {} collective rows ({}) in {} do not fix both a latency and a "
                    "bandwidth (they need at least 2 sizes, some latency-bound and some not; or add "
                    "pingpong rows)",
                    rows.size(), up_tier ? "one-host" : "multi-host", what, sources));
  fit->tier = up_tier ? "scale-up (coll)" : "scale-out (coll)";
  const std::string why = fmt::format(
      "calibrate: fit through the model of {} {} collective rows ({}) from {} (R2 {:.4f}, max err {:.1f}%)",
      fit->points, up_tier ? "one-host" : "multi-host", what, sources, fit->r2, fit->max_err_pct);
  notes.emplace_back(up_tier ? "scale_up.latency_us" : "scale_out.latency_us", why);
  notes.emplace_back(up_tier ? "scale_up.bandwidth_GBps" : "scale_out.nic_bandwidth_Gbps", why);
  fits.push_back(*fit);
}

// The fabric file, written whole or not at all.
void write_fabric(const CalibrateOptions& o, Calibration& c, const std::string& sources) {
  model::Fabric& f = c.f;
  const auto& notes = c.notes;
  f.name = fs::path(o.output).stem().string();
  f.description =
      "calibrated by fabricbench " + std::string(kVersion) + " on " + utc_now() + " from " + sources;
  try {
    model::validate_fabric(f);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("calibrate: the fit gives an impossible fabric: ") + e.what());
  }
  const std::string yaml = model::fabric_to_yaml(f, notes);
  const std::string tmp = o.output + ".tmp." + std::to_string(getpid());
  {
    std::ofstream w(tmp);
    w << "# " << o.command_line << "\n" << yaml;
    if (!w) {
      ::unlink(tmp.c_str());
      throw UsageError("calibrate: cannot write '" + o.output + "'");
    }
  }
  if (std::rename(tmp.c_str(), o.output.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw UsageError("calibrate: cannot write '" + o.output + "'");
  }
}

void print_fits(const Calibration& c) {
  const model::Fabric& f = c.f;
  const auto& fits = c.fits;
  const auto& fwd_spilled = c.fwd_spilled;
  const auto& eviction = c.eviction;
  const auto& probe_line = c.probe_line;
  std::cout << fmt::format("{:<12} {:>6} {:>12} {:>14} {:>8} {:>9}\n", "tier", "points", "latency(us)",
                           "bandwidth(GB/s)", "R2", "max err");
  for (const auto& fit : fits)
    std::cout << fmt::format("{:<12} {:>6} {:>12.3f} {:>14.3f} {:>8.4f} {:>8.1f}%\n", fit.tier, fit.points,
                             fit.latency_us, fit.bandwidth_GBps, fit.r2, fit.max_err_pct);
  if (f.scale_up.cache_bytes > 0)
    std::cout << fmt::format(
        "scale-up beyond the cache: {:.3f} GB/s once the host's working set exceeds {:.1f} MiB\n",
        f.scale_up.spilled_bandwidth_GBps, f.scale_up.cache_bytes / (1 << 20));
  if (fwd_spilled)
    std::cout << fmt::format(
        "scale-up forwarded beyond the cache: {:.3f} GB/s ({} relay rows, max err {:.1f}%)\n",
        fwd_spilled->bandwidth_GBps, fwd_spilled->points, fwd_spilled->max_err_pct);
  if (f.scale_up.outer_cache_bytes > 0)
    std::cout << fmt::format(
        "scale-up beyond the outer knee: {:.3f} GB/s once it exceeds {:.1f} MiB{}\n",
        f.scale_up.outer_spilled_bandwidth_GBps, f.scale_up.outer_cache_bytes / (1 << 20),
        f.scale_up.outer_eviction_GBps > 0
            ? fmt::format(" with other work bringing in {:.3g} GB/s (knee fits' error {:.4f}, "
                          "{:.4f} without)",
                          f.scale_up.outer_eviction_GBps, eviction.sse, eviction.sse_without)
            : std::string());
  if (!probe_line.empty()) std::cout << probe_line << "\n";
}

// How the written fabric predicts the inputs' collective rows (a check when the tiers came from
// pingpong rows; the fit's own error when they came from these rows).
void print_collective_check(const CalibrationRows& in, const model::Fabric& f) {
  const auto& coll_up = in.coll_up;
  const auto& coll_out = in.coll_out;
  std::vector<double> errs;
  for (const auto* rows : {&coll_up, &coll_out})
    for (Record r : *rows) {
      annotate_with_model(r, f);
      if (r.model_err_pct) errs.push_back(*r.model_err_pct);
    }
  if (!errs.empty()) {
    std::vector<double> sorted = errs;
    std::sort(sorted.begin(), sorted.end());
    const double worst = *std::max_element(errs.begin(), errs.end(),
                                           [](double x, double y) { return std::abs(x) < std::abs(y); });
    std::cout << fmt::format(
        "collective rows predicted by it: {}, model_err_pct median {:+.1f}%, worst {:+.1f}%\n", errs.size(),
        sorted[sorted.size() / 2], worst);
  }
}

}  // namespace

int run_calibrate_command(const CalibrateOptions& o) {
  std::error_code ec;
  if (!o.force && fs::exists(o.output, ec))
    throw UsageError("calibrate: '" + o.output + "' exists (use --force to replace it)");
  const CalibrationRows in = read_rows(o);
  Calibration c;
  c.f = load_fabric_for_cli(o.base.empty() ? "localhost" : o.base, o.sets);
  if (!in.up.empty()) fit_scale_up(in, c);
  fit_host_memory(in, c);
  if (!in.out.empty()) fit_scale_out(in, c);
  if (in.up.empty() && !in.coll_up.empty())
    fit_from_collectives(c, FitTier::scale_up, in.coll_up, in.sources);
  if (in.out.empty() && !in.coll_out.empty())
    fit_from_collectives(c, FitTier::scale_out, in.coll_out, in.sources);
  write_fabric(o, c, in.sources);
  print_fits(c);
  print_collective_check(in, c.f);
  std::cout << "wrote " << o.output << "\n";
  return 0;
}

namespace {

class CalibrateCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    CalibrateOptions& co = options_;
    CLI::App* calibrate =
        app.add_subcommand("calibrate", "Fit a fabric file's latencies and bandwidths to measurements");
    calibrate->add_option("results", co.inputs, "CSV or JSON results with pingpong rows")->required();
    calibrate->add_option("-o,--output", co.output, "fabric file to write")->required();
    calibrate->add_option("--base", co.base, "fabric to start from (default localhost)");
    calibrate->add_option("--set", co.sets, "override a field of the base fabric");
    calibrate->add_flag("--force", co.force, "replace the output file if it exists");
    return calibrate;
  }
  void resolve(const std::string& command_line) override { options_.command_line = command_line; }
  int run() override { return run_calibrate_command(options_); }

 private:
  CalibrateOptions options_;
};

}  // namespace

std::unique_ptr<Command> make_calibrate_command() {
  return std::make_unique<CalibrateCommand>();
}

}  // namespace fb
