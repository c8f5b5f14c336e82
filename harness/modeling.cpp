#include "harness/modeling.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <set>

#include "collectives/error.hpp"
#include "collectives/op.hpp"
#include "harness/job.hpp"
#include "harness/results_reader.hpp"
#include "harness/sinks/sink.hpp"
#include "harness/utc.hpp"
#include "harness/version.hpp"
#include "model/units.hpp"

namespace fb {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> fabric_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("FABRICBENCH_CONFIGS")) dirs.push_back(fs::path(env) / "fabrics");
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path bin = exe.parent_path();
    // build tree (build/fabricbench, build/bench/...) and install tree (bin/ -> share/fabricbench/).
    for (const fs::path& p : {bin.parent_path() / "configs" / "fabrics", bin.parent_path().parent_path() / "configs" / "fabrics",
                              bin.parent_path() / "share" / "fabricbench" / "configs" / "fabrics"})
      dirs.push_back(p);
  }
  return dirs;
}

}  // namespace

std::string find_fabric_file(const std::string& name) {
  std::error_code ec;
  if (name.find('/') != std::string::npos || fs::is_regular_file(name, ec)) {
    if (!fs::is_regular_file(name, ec)) throw UsageError("fabric: no such file '" + name + "'");
    return name;
  }
  std::string searched;
  for (const fs::path& d : fabric_dirs()) {
    for (const std::string& file : {name, name + ".yaml"}) {
      const fs::path p = d / file;
      if (fs::is_regular_file(p, ec)) return p.lexically_normal().string();
    }
    searched += (searched.empty() ? "" : ", ") + d.lexically_normal().string();
  }
  throw UsageError("fabric: '" + name + "' is neither a file nor a fabric in " + searched);
}

model::Fabric load_fabric_for_cli(const std::string& name_or_path, const std::vector<std::string>& sets) {
  const std::string path = find_fabric_file(name_or_path);
  try {
    return model::load_fabric(path, sets);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

std::pair<std::string, std::string> model_algorithm_for(const Record& r) {
  // The algorithm proper: the part before a /windowN or /graphN suffix.
  std::string algo = r.algo;
  for (const char* suffix : {"/window", "/graph"}) {
    const auto at = algo.find(suffix);
    if (at != std::string::npos) algo.erase(at);
  }
  const OpDescriptor* d = find_op(r.op);
  const bool pairwise = d && d->pairwise;
  if (r.backend != "nccl") {
    if (pairwise || algo.empty()) return {"native", "auto"};
    return {algo, "auto"};
  }
  if (pairwise || (d && d->kind == OpKind::alltoall)) return {"nccl_p2p", "auto"};
  // NCCL's tuner line, ALGO/PROTO (transports/nccl/nccl_log.cpp); several choices: nccl_auto.
  const auto slash = algo.find('/');
  if (algo.find('+') != std::string::npos || slash == std::string::npos) return {"nccl_auto", "auto"};
  std::string name = algo.substr(0, slash), proto = algo.substr(slash + 1);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
  std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char ch) { return std::tolower(ch); });
  name.erase(std::remove(name.begin(), name.end(), '_'), name.end());
  static const std::map<std::string, std::string> kNames = {
      {"ring", "nccl_ring"}, {"tree", "nccl_tree"}, {"nvls", "nccl_nvls"}, {"nvlstree", "nccl_nvlstree"},
      {"collnetdirect", "nccl_collnet_direct"}, {"collnetchain", "nccl_collnet_chain"}, {"pat", "nccl_pat"}};
  const auto it = kNames.find(name);
  if (it == kNames.end()) return {"nccl_auto", "auto"};
  return {it->second, proto};
}

void annotate_with_model(Record& r, const model::Fabric& f) {
  model::Placement p;
  p.nranks = static_cast<std::uint64_t>(std::max(1, r.nranks));
  p.ranks_per_domain = static_cast<std::uint64_t>(std::max(1, r.ranks_per_node));
  try {
    const auto [algo, protocol] = model_algorithm_for(r);
    const model::Prediction pr = model::predict(f, r.op, algo, p, static_cast<double>(r.bytes), protocol);
    r.model_fabric = f.name;
    r.model_algo = pr.algo + (pr.protocol.empty() ? "" : "/" + pr.protocol);
    r.model_time_us = pr.time_us;
    r.model_busbw_GBps = pr.busbw_GBps;
    r.model_err_pct = pr.time_us > 0 ? 100.0 * (r.time_us - pr.time_us) / pr.time_us : 0.0;
    r.model_bottleneck = pr.bottleneck;
  } catch (const std::invalid_argument&) {
    // The model has no algorithm for what ran: leave the prediction empty.
  }
}

std::vector<std::uint64_t> default_scales(std::uint64_t domain_size) {
  constexpr std::uint64_t kMax = 1ull << 20;
  std::vector<std::uint64_t> v;
  for (std::uint64_t g = std::max<std::uint64_t>(domain_size, 1); g < kMax; g *= 2) v.push_back(g);
  v.push_back(kMax);
  return v;
}

namespace {

Record model_record(const ModelOptions& o, const model::Fabric& f, const std::string& op, std::uint64_t bytes,
                    const model::Placement& p, const model::Prediction& pr) {
  Record r;
  r.source = "model";
  r.backend = "model";
  r.op = op;
  r.algo = pr.algo + (pr.protocol.empty() ? "" : "/" + pr.protocol);
  r.mem = f.endpoint_kind == "gpu" ? "cuda" : "host";
  r.dtype = "";
  r.nranks = static_cast<int>(std::min<std::uint64_t>(p.nranks, std::numeric_limits<int>::max()));
  r.nnodes = static_cast<int>(std::min<std::uint64_t>(p.domains(), std::numeric_limits<int>::max()));
  r.ranks_per_node = static_cast<int>(p.ranks_per_domain);
  r.requested_bytes = r.bytes = bytes;
  r.iters = r.warmup = r.check_iters = 0;
  r.time_us = r.time_min_us = r.time_p50_us = r.time_mean_us = r.time_p99_us = r.time_max_us = pr.time_us;
  r.algbw_GBps = pr.algbw_GBps;
  r.busbw_GBps = pr.busbw_GBps;
  r.slowest_rank = -1;
  r.timestamp = utc_now();
  r.model_fabric = f.name;
  r.model_algo = r.algo;
  r.model_time_us = pr.time_us;
  r.model_busbw_GBps = pr.busbw_GBps;
  r.model_bottleneck = pr.bottleneck;
  (void)o;
  return r;
}

std::string time_text(double us) {
  if (us < 1000) return fmt::format("{:.2f} us", us);
  if (us < 1e6) return fmt::format("{:.2f} ms", us / 1e3);
  return fmt::format("{:.2f} s", us / 1e6);
}

}  // namespace

int run_model_command(const ModelOptions& o) {
  const model::Fabric f = load_fabric_for_cli(o.fabric, o.sets);
  const std::vector<std::string> algos =
      o.algos.empty() ? std::vector<std::string>{f.endpoint_kind == "gpu" ? "nccl_auto" : "auto"} : o.algos;
  const std::uint64_t rpd = o.ranks_per_domain ? o.ranks_per_domain : static_cast<std::uint64_t>(f.domain_size);
  const std::uint64_t capacity = f.max_endpoints();
  std::vector<std::uint64_t> scales = o.gpus;
  std::string clipped;
  if (scales.empty()) {
    // The default sweep stops where the topology does.
    for (auto g : default_scales(rpd))
      if (g <= capacity) scales.push_back(g);
    if (scales.empty() || scales.back() < (1ull << 20)) {
      if (scales.empty() || scales.back() < capacity) scales.push_back(capacity);
      clipped = fmt::format("# {} holds {} endpoints: the sweep stops there (grow it with --set, e.g. more "
                            "tiers or planes)\n",
                            f.name, capacity);
    }
  }
  for (auto g : scales)
    if (g > capacity)
      throw UsageError(fmt::format("gpus: {} exceeds what fabric '{}' holds ({} endpoints); scale the topology "
                                   "with --set (more tiers, planes or radix)",
                                   g, f.name, capacity));
  for (const auto& op : o.ops)
    if (std::find(model::model_ops().begin(), model::model_ops().end(), op) == model::model_ops().end())
      throw UsageError("op: unknown op '" + op + "'");
  // Validate every (op, algo) before writing anything.
  for (const auto& op : o.ops)
    for (const auto& a : algos) try {
        model::predict(f, op, a, model::Placement{scales.front(), std::min(rpd, scales.front())},
                       static_cast<double>(o.bytes.front()), o.protocol);
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("algo: ") + e.what());
      }

  std::vector<std::unique_ptr<Sink>> sinks;
  try {
    sinks = open_file_sinks(o.csv_path, o.json_path, o.force).sinks;
  } catch (const std::exception& e) {
    throw UsageError(std::string("cannot write results: ") + e.what());
  }
  RunMeta meta;
  meta.fabricbench_version = kVersion;
  meta.git_describe = kGitDescribe;
  meta.command_line = o.command_line;
  meta.started_utc = utc_now();
  for (auto& s : sinks) s->begin(meta);

  if (!o.quiet)
    std::cout << fmt::format("# fabric {} ({}): {} {}s per domain at {} GB/s each way, {} endpoints at most\n",
                             f.name, f.source, f.domain_size, f.endpoint_kind, f.scaleup_bandwidth_GBps, capacity)
              << clipped;
  for (const auto& op : o.ops)
    for (auto bytes : o.bytes)
      for (const auto& a : algos) {
        if (!o.quiet)
          std::cout << fmt::format("#\n# {} {} algo={}\n# {:>9} {:>9} {:<24} {:>12} {:>10} {:>10}  {}\n", op,
                                   format_bytes(bytes), a, "gpus", "domains", "algorithm", "time", "algbw",
                                   "busbw", "bottleneck")
                    << fmt::format("# {:>9} {:>9} {:<24} {:>12} {:>10} {:>10}\n", "", "", "", "", "(GB/s)",
                                   "(GB/s)");
        for (auto g : scales) {
          model::Placement p{g, std::min(rpd, g)};
          model::Prediction pr;
          try {
            pr = model::predict(f, op, a, p, static_cast<double>(bytes), o.protocol);
          } catch (const std::invalid_argument& e) {
            if (!o.quiet) std::cout << fmt::format("  {:>9} {:>9} {}\n", g, p.domains(), e.what());
            continue;
          }
          const Record r = model_record(o, f, op, bytes, p, pr);
          if (!o.quiet)
            std::cout << fmt::format("  {:>9} {:>9} {:<24} {:>12} {:>10.2f} {:>10.2f}  {}\n", g, p.domains(), r.algo,
                                     time_text(pr.time_us), pr.algbw_GBps, pr.busbw_GBps, pr.bottleneck);
          for (auto& s : sinks) s->row(r);
        }
      }
  for (auto& s : sinks) s->end("ok");
  return 0;
}

bool is_collective_row(const Record& r) {
  const OpDescriptor* d = find_op(r.op);
  const auto& ops = model::model_ops();
  return d && !d->pairwise && r.nranks >= 2 && std::find(ops.begin(), ops.end(), r.op) != ops.end();
}


std::optional<LinkFit> fit_tier_from_collectives(model::Fabric& f, FitTier tier, const std::vector<Record>& rows) {
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

}  // namespace

int run_calibrate_command(const CalibrateOptions& o) {
  std::error_code ec;
  if (!o.force && fs::exists(o.output, ec))
    throw UsageError("calibrate: '" + o.output + "' exists (use --force to replace it)");
  std::vector<std::pair<double, double>> up, out;
  std::vector<SpillPoint> up_ws;  // the one-host rows again, with the host's working set
  std::vector<SpillPoint> relay;  // one-host relay rows (the forward rate)
  // One-host bidir rows by the number of shared-memory transfers running at once (2 per pair).
  std::map<int, std::vector<SpillPoint>> concurrent;
  std::string sources;
  std::vector<HostMemoryProbe> probes;  // from the inputs' metadata (JSON)
  std::vector<Record> coll_up, coll_out;  // collective rows on one host, across hosts
  std::string ucx_api;  // the --p2p-api of one-host ucx pairwise rows that did not run over get
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
    sources += (sources.empty() ? "" : ", ") + fs::path(in).filename().string() + fmt::format(" ({} rows)", used);
  }
  if (up.empty() && out.empty() && coll_up.empty() && coll_out.empty())
    throw UsageError("calibrate: no pingpong or collective rows to fit in " + sources +
                     " (measure some: fabricbench run --op pingpong,bidir,relay -b 8 -e 64M)");
  if (!ucx_api.empty())
    error_line("note: calibrate: the one-host ucx pairwise rows ran over --p2p-api " + ucx_api +
               "; ucx's algorithms move large messages on one host by shared-memory get (from "
               "FABRICBENCH_UCX_SHM_GET, 16K by default), which --p2p-api get measures: calibrate from "
               "those rows to predict them");
  model::Fabric f = load_fabric_for_cli(o.base.empty() ? "localhost" : o.base, o.sets);
  std::vector<std::pair<std::string, std::string>> notes;
  std::vector<LinkFit> fits;
  std::optional<LinkFit> fwd_spilled;  // scale_up.forward_spilled_bandwidth_GBps, when fitted
  EvictionFit eviction;                // scale_up.outer_eviction_GBps, when fitted
  if (!up.empty()) {
    // On a host, a rate that drops once the ranks' buffers outgrow the CPU caches is fitted as
    // such (fit_spill) when that halves the error of one straight line. Where that knee lies
    // comes from the bidir rows when there are enough: both ends copy at once there, as in a
    // collective, which moves the knee (on the 2-core test VM: 8 MiB bidir, 4 MiB pingpong).
    // The rates on either side come from the pingpong rows.
    const auto most = std::max_element(concurrent.begin(), concurrent.end(), [](const auto& a, const auto& b) {
      return a.second.size() < b.second.size();
    });
    std::optional<SpillFit> spill;
    if (f.endpoint_kind == "host") {
      eviction = fit_eviction(most != concurrent.end() ? most->second : std::vector<SpillPoint>{}, up_ws);
      spill = eviction.spill;
    }
    LinkFit fit = spill ? spill->link : fit_link(up);
    fit.tier = "scale-up";
    f.scaleup_latency_us = fit.latency_us;
    f.scaleup_bandwidth_GBps = fit.bandwidth_GBps;
    f.scaleup_cache_bytes = spill ? spill->cache_bytes : 0;
    f.scaleup_spilled_GBps = spill ? spill->spilled_GBps : 0;
    f.scaleup_outer_cache_bytes = spill ? spill->outer_cache_bytes : 0;
    f.scaleup_outer_spilled_GBps = spill ? spill->outer_spilled_GBps : 0;
    f.scaleup_outer_eviction_GBps = spill && spill->outer_cache_bytes > 0 ? spill->outer_eviction_GBps : 0;
    const std::string why = fmt::format("calibrate: fit of {} one-host pingpong rows from {} (R2 {:.4f}, max err {:.1f}%)",
                                        fit.points, sources, fit.r2, fit.max_err_pct);
    notes.emplace_back("scale_up.latency_us", why);
    notes.emplace_back("scale_up.bandwidth_GBps", why);
    if (spill) {
      notes.emplace_back("scale_up.cache_bytes", why + ": the working set where the rate drops");
      notes.emplace_back("scale_up.spilled_bandwidth_GBps", why + ": the rate beyond the cache");
      if (spill->outer_cache_bytes > 0) {
        notes.emplace_back("scale_up.outer_cache_bytes", why + ": the working set where the rate drops again");
        notes.emplace_back("scale_up.outer_spilled_bandwidth_GBps", why + ": the rate beyond the outer knee");
        if (f.scaleup_outer_eviction_GBps > 0)
          notes.emplace_back(
              "scale_up.outer_eviction_GBps",
              fmt::format("calibrate: the rate of other work through the outer cache that fits the "
                          "one-host bidir and pingpong rows best (relative squared error {:.4f}, "
                          "{:.4f} without)",
                          eviction.sse, eviction.sse_without));
      }
    }
    fits.push_back(fit);
    // Forwarding: a relay's reply sends what has just arrived, dirty in the replier's cache.
    if (f.endpoint_kind == "host" && !relay.empty()) {
      if (auto fwd = fit_forward(relay, up_ws, fit.latency_us, fit.bandwidth_GBps, f.scaleup_cache_bytes)) {
        fwd->tier = "scale-up fwd";
        const bool slower = fwd->bandwidth_GBps < 0.97 * fit.bandwidth_GBps;
        f.scaleup_forward_GBps = slower ? fwd->bandwidth_GBps : 0;
        // Below 1% of the latency an overhead is rounding, not a cost.
        const double overhead = fwd->latency_us - fit.latency_us;
        f.scaleup_forward_overhead_us = overhead > 0.01 * fit.latency_us ? overhead : 0;
        const std::string fwd_why = fmt::format(
            "calibrate: {} one-host relay rows, each less the pingpong one-way time at its size (max err {:.1f}%): "
            "data the sender has just written",
            fwd->points, fwd->max_err_pct);
        if (slower) notes.emplace_back("scale_up.forward_bandwidth_GBps", fwd_why);
        if (f.scaleup_forward_overhead_us > 0) notes.emplace_back("scale_up.forward_overhead_us", fwd_why);
        fits.push_back(*fwd);
      }
      // Beyond the cache forwarded data has been written back; whether it still moves slower
      // than clean data there, the relay rows beyond twice the cache say.
      if (auto fs = fit_forward_spilled(relay, up_ws, fit.latency_us + f.scaleup_forward_overhead_us,
                                        f.scaleup_cache_bytes, f.scaleup_outer_cache_bytes,
                                        f.scaleup_outer_eviction_GBps);
          fs && fs->bandwidth_GBps < 0.97 * f.scaleup_spilled_GBps) {
        fwd_spilled = fs;
        f.scaleup_forward_spilled_GBps = fs->bandwidth_GBps;
        notes.emplace_back("scale_up.forward_spilled_bandwidth_GBps",
                           fmt::format("calibrate: {} one-host relay rows beyond twice the cache, each less the "
                                       "pingpong one-way time at its size (max err {:.1f}%): forwarded data that "
                                       "has left the cache",
                                       fs->points, fs->max_err_pct));
      }
    }
    // Shared memory is a copy through the host's memory system: k copies at once share it. The
    // bidir rows with the most points give each copy's rate under k-fold concurrency; below the
    // single-copy rate, the product is what the host delivers in total.
    // With a cache term, only the bidir rows that fit in the cache say what concurrency costs.
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
        f.scaleup_aggregate_GBps = both.bandwidth_GBps * most->first;
        notes.emplace_back("scale_up.aggregate_bandwidth_GBps", note);
      } else {
        f.scaleup_aggregate_GBps = 0;
      }
      // A bidir message is an exchange: each rank's CPU runs the protocol of both directions at
      // once, as in every step of a ring or a pairwise all-to-all. Its latency, when longer than
      // the one-way latency, is what those steps pay.
      if (both.latency_us > 1.03 * fit.latency_us) {
        f.scaleup_exchange_latency_us = both.latency_us;
        notes.emplace_back("scale_up.exchange_latency_us",
                           fmt::format("calibrate: {} one-host bidir rows: latency of an exchange (R2 {:.4f})",
                                       both.points, both.r2));
      } else {
        f.scaleup_exchange_latency_us = 0;
      }
      fits.push_back(both);
    }
  }
  // Host ranks copy and reduce with the CPU: the run's own memory probe gives the endpoint's
  // memory traffic rate (a copy reads and writes each byte: 2 x the copy rate) and its reduction
  // rate. The median over the input files; GPU fabrics keep their datasheet numbers.
  std::string probe_line;
  if (!probes.empty() && f.endpoint_kind == "host") {
    auto median = [&](double HostMemoryProbe::*field) {
      std::vector<double> v;
      for (const auto& p : probes) v.push_back(p.*field);
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      return v[v.size() / 2];
    };
    const double copy = median(&HostMemoryProbe::copy_GBps), reduce = median(&HostMemoryProbe::reduce_GBps);
    f.memory_bandwidth_GBps = 2 * copy;
    f.reduce_bandwidth_GBps = reduce;
    probe_line = fmt::format("host memory probe ({} file{}, {} B buffers, {} ranks at once): copy {:.3f} GB/s, "
                             "float32 sum {:.3f} GB/s",
                             probes.size(), probes.size() == 1 ? "" : "s", probes.front().bytes,
                             probes.front().ranks, copy, reduce);
    notes.emplace_back("endpoint.memory_bandwidth_GBps",
                       fmt::format("calibrate: 2 x the copy rate of the {}", probe_line));
    notes.emplace_back("endpoint.reduce_bandwidth_GBps", fmt::format("calibrate: from the {}", probe_line));
    // Beyond the caches: where every input probed there too. The fabric uses them only with a
    // cache knee (scale_up.cache_bytes), so only then do they go into it.
    const bool spilled = std::all_of(probes.begin(), probes.end(), [](const auto& p) { return p.spilled_bytes > 0; });
    f.memory_spilled_GBps = f.reduce_spilled_GBps = 0;
    if (spilled) {
      const double copy_s = median(&HostMemoryProbe::copy_spilled_GBps),
                   reduce_s = median(&HostMemoryProbe::reduce_spilled_GBps);
      const std::string line = fmt::format("{} B buffers: copy {:.3f} GB/s, float32 sum {:.3f} GB/s",
                                           probes.front().spilled_bytes, copy_s, reduce_s);
      probe_line += "; beyond the caches, " + line;
      if (f.scaleup_cache_bytes > 0) {
        f.memory_spilled_GBps = 2 * copy_s;
        f.reduce_spilled_GBps = reduce_s;
        notes.emplace_back("endpoint.memory_spilled_bandwidth_GBps",
                           "calibrate: 2 x the copy rate of the host memory probe with " + line);
        notes.emplace_back("endpoint.reduce_spilled_bandwidth_GBps",
                           "calibrate: from the host memory probe with " + line);
      }
    }
  }
  if (!out.empty()) {
    if (!f.has_scaleout()) throw UsageError("calibrate: rows span several hosts but the base fabric has no scale_out");
    LinkFit fit = fit_link(out);
    fit.tier = "scale-out";
    // A pair on two hosts under one leaf crosses one switch.
    f.nic_latency_us = std::max(0.0, fit.latency_us - f.tiers.front().hop_latency_us);
    f.nic_bandwidth_Gbps = fit.bandwidth_GBps * 8.0 / f.wire_efficiency;
    const std::string why = fmt::format("calibrate: fit of {} multi-host pingpong rows from {} (R2 {:.4f}, max err {:.1f}%)",
                                        fit.points, sources, fit.r2, fit.max_err_pct);
    notes.emplace_back("scale_out.latency_us", why);
    notes.emplace_back("scale_out.nic_bandwidth_Gbps", why);
    fits.push_back(fit);
  }
  // A tier without pingpong rows is fitted from the collective rows that ran over it, through the
  // model (the scale-up tier first: the scale-out rows' predictions include it). From collectives
  // only a latency and a bandwidth are fitted; the host refinements that need p2p rows (cache
  // knees, forward rate, exchange latency, a shared aggregate) are cleared so as not to bend them.
  auto fit_from_collectives = [&](FitTier tier, const std::vector<Record>& rows) {
    if (tier == FitTier::scale_up) {
      f.scaleup_cache_bytes = f.scaleup_spilled_GBps = f.scaleup_outer_cache_bytes = f.scaleup_outer_spilled_GBps = 0;
      f.scaleup_forward_GBps = f.scaleup_forward_overhead_us = f.scaleup_exchange_latency_us = 0;
      f.scaleup_forward_spilled_GBps = 0;
      f.scaleup_aggregate_GBps = 0;
      f.memory_spilled_GBps = f.reduce_spilled_GBps = 0;
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
      throw UsageError(fmt::format("calibrate: the {} {} collective rows ({}) in {} do not fix both a latency and a "
                                   "bandwidth (they need at least 2 sizes, some latency-bound and some not; or add "
                                   "pingpong rows)",
                                   rows.size(), up_tier ? "one-host" : "multi-host", what, sources));
    fit->tier = up_tier ? "scale-up (coll)" : "scale-out (coll)";
    const std::string why =
        fmt::format("calibrate: fit through the model of {} {} collective rows ({}) from {} (R2 {:.4f}, max err {:.1f}%)",
                    fit->points, up_tier ? "one-host" : "multi-host", what, sources, fit->r2, fit->max_err_pct);
    notes.emplace_back(up_tier ? "scale_up.latency_us" : "scale_out.latency_us", why);
    notes.emplace_back(up_tier ? "scale_up.bandwidth_GBps" : "scale_out.nic_bandwidth_Gbps", why);
    fits.push_back(*fit);
  };
  if (up.empty() && !coll_up.empty()) fit_from_collectives(FitTier::scale_up, coll_up);
  if (out.empty() && !coll_out.empty()) fit_from_collectives(FitTier::scale_out, coll_out);
  f.name = fs::path(o.output).stem().string();
  f.description = "calibrated by fabricbench " + std::string(kVersion) + " on " + utc_now() + " from " + sources;
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
  std::cout << fmt::format("{:<12} {:>6} {:>12} {:>14} {:>8} {:>9}\n", "tier", "points", "latency(us)",
                           "bandwidth(GB/s)", "R2", "max err");
  for (const auto& fit : fits)
    std::cout << fmt::format("{:<12} {:>6} {:>12.3f} {:>14.3f} {:>8.4f} {:>8.1f}%\n", fit.tier, fit.points,
                             fit.latency_us, fit.bandwidth_GBps, fit.r2, fit.max_err_pct);
  if (f.scaleup_cache_bytes > 0)
    std::cout << fmt::format("scale-up beyond the cache: {:.3f} GB/s once the host's working set exceeds {:.1f} MiB\n",
                             f.scaleup_spilled_GBps, f.scaleup_cache_bytes / (1 << 20));
  if (fwd_spilled)
    std::cout << fmt::format("scale-up forwarded beyond the cache: {:.3f} GB/s ({} relay rows, max err {:.1f}%)\n",
                             fwd_spilled->bandwidth_GBps, fwd_spilled->points, fwd_spilled->max_err_pct);
  if (f.scaleup_outer_cache_bytes > 0)
    std::cout << fmt::format(
        "scale-up beyond the outer knee: {:.3f} GB/s once it exceeds {:.1f} MiB{}\n",
        f.scaleup_outer_spilled_GBps, f.scaleup_outer_cache_bytes / (1 << 20),
        f.scaleup_outer_eviction_GBps > 0
            ? fmt::format(" with other work bringing in {:.3g} GB/s (knee fits' error {:.4f}, "
                          "{:.4f} without)",
                          f.scaleup_outer_eviction_GBps, eviction.sse, eviction.sse_without)
            : std::string());
  if (!probe_line.empty()) std::cout << probe_line << "\n";
  // How the written fabric predicts the inputs' collective rows (a check when the tiers came from
  // pingpong rows; the fit's own error when they came from these rows).
  std::vector<double> errs;
  for (const auto* rows : {&coll_up, &coll_out})
    for (Record r : *rows) {
      annotate_with_model(r, f);
      if (r.model_err_pct) errs.push_back(*r.model_err_pct);
    }
  if (!errs.empty()) {
    std::vector<double> sorted = errs;
    std::sort(sorted.begin(), sorted.end());
    const double worst = *std::max_element(errs.begin(), errs.end(), [](double x, double y) {
      return std::abs(x) < std::abs(y);
    });
    std::cout << fmt::format("collective rows predicted by it: {}, model_err_pct median {:+.1f}%, worst {:+.1f}%\n",
                             errs.size(), sorted[sorted.size() / 2], worst);
  }
  std::cout << "wrote " << o.output << "\n";
  return 0;
}

}  // namespace fb
