// fabricbench validate (harness/validate.hpp): pair matrix, collectives, model, transports, verdict.
#include "harness/validate.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "collectives/error.hpp"
#include "harness/interrupt.hpp"
#include "harness/job.hpp"
#include "harness/modeling.hpp"
#include "harness/results_reader.hpp"
#include "harness/runner.hpp"
#include "harness/sinks/sink.hpp"
#include "harness/stats.hpp"
#include "harness/utc.hpp"
#include "harness/watchdog.hpp"
#include "model/flows.hpp"
#include "model/units.hpp"

namespace fb {

// ---- pure helpers -------------------------------------------------------------------------------

std::string ValidateOptions::canonical() const {
  std::string s = fmt::format("fabric={}\nplan={}\nbackend={}\nbw_bytes={}\nlat_bytes={}\niters={}\nwarmup={}\n"
                              "alone={}\nno_pairs={}\nno_coll={}\nno_tc={}\nthresholds={},{},{},{}\n"
                              "matrix={}\ncsv={}\njson={}\ntimeout={}\n",
                              fabric, plan_path, backend, bw_bytes, lat_bytes, iters, warmup, pairs_alone, no_pairs,
                              no_collectives, no_transport_check, bw_pass, bw_warn, lat_pass, lat_warn, matrix_csv,
                              csv_path, json_path, timeout_s);
  for (const auto& x : sets) s += "set=" + x + "\n";
  return s;
}

std::vector<TestSpec> default_validate_tests(const std::string& backend) {
  std::vector<TestSpec> v;
  for (const auto& [op, algo] : {std::pair<const char*, const char*>{"allreduce", "ring"}, {"alltoall", "pairwise"}}) {
    TestSpec t;
    t.name = std::string("validate ") + op;
    t.origin = "validate defaults";
    t.backend = backend;
    t.ops = {find_op(op)};
    t.algo = algo;
    t.minbytes = 1ull << 20;
    t.maxbytes = 4ull << 20;
    t.stepfactor = 4;
    t.iters = 5;
    t.warmup = 1;
    t.check = 1;
    t.sample_barrier = true;
    v.push_back(t);
  }
  return v;
}

std::vector<std::vector<std::pair<int, int>>> round_robin_rounds(int n) {
  std::vector<std::vector<std::pair<int, int>>> rounds;
  if (n < 2) return rounds;
  const int m = n % 2 == 0 ? n : n + 1;  // with a "bye" when n is odd
  std::vector<int> a(static_cast<std::size_t>(m));
  for (int i = 0; i < m; ++i) a[static_cast<std::size_t>(i)] = i;
  for (int r = 0; r < m - 1; ++r) {
    std::vector<std::pair<int, int>> round;
    for (int i = 0; i < m / 2; ++i) {
      const int x = a[static_cast<std::size_t>(i)], y = a[static_cast<std::size_t>(m - 1 - i)];
      if (x >= n || y >= n) continue;
      round.emplace_back(std::min(x, y), std::max(x, y));
    }
    std::sort(round.begin(), round.end());
    rounds.push_back(std::move(round));
    // The circle method: keep a[0], rotate the rest by one.
    std::rotate(a.begin() + 1, a.end() - 1, a.end());
  }
  return rounds;
}

const char* grade_name(Grade v) {
  switch (v) {
    case Grade::pass: return "pass";
    case Grade::warn: return "warn";
    case Grade::fail: return "fail";
  }
  return "?";
}

Grade classify(double ratio, double pass, double warn) {
  if (ratio >= pass) return Grade::pass;
  if (ratio >= warn) return Grade::warn;
  return Grade::fail;
}

std::optional<std::string> placement_mismatch(const model::Fabric& f, const std::vector<std::string>& rank_hosts) {
  const int n = static_cast<int>(rank_hosts.size());
  if (n < 2) return "validate needs at least 2 ranks (got " + std::to_string(n) + ")";
  std::vector<std::string> hosts;
  std::vector<int> count;
  for (int r = 0; r < n; ++r) {
    const std::string& h = rank_hosts[static_cast<std::size_t>(r)];
    if (!hosts.empty() && hosts.back() == h) {
      ++count.back();
      continue;
    }
    if (std::find(hosts.begin(), hosts.end(), h) != hosts.end())
      return fmt::format("the ranks of host {} are not consecutive (rank {} is on {} after ranks on {}): the model "
                         "places ranks in host order; launch with --map-by slot",
                         h, r, h, hosts.back());
    hosts.push_back(h);
    count.push_back(1);
  }
  const int rph = count.front();
  for (std::size_t i = 1; i < hosts.size(); ++i)
    if (count[i] != rph)
      return fmt::format("hosts hold different numbers of ranks ({}: {}, {}: {}); the model places the same "
                         "number on every host",
                         hosts.front(), rph, hosts[i], count[i]);
  if (rph > f.domain_size)
    return fmt::format("fabric '{}' does not fit: {} ranks on host {}, but its scale_up.domain_size is {} "
                       "(endpoints per host)",
                       f.name, rph, hosts.front(), f.domain_size);
  if (hosts.size() > 1 && !f.has_scaleout())
    return fmt::format("fabric '{}' does not fit: it has no scale-out network (a single host), but the job "
                       "spans {} hosts ({}, {}, ...)",
                       f.name, hosts.size(), hosts[0], hosts[1]);
  const std::uint64_t domains = f.max_endpoints() / static_cast<std::uint64_t>(std::max(1, f.domain_size));
  if (hosts.size() > domains)
    return fmt::format("fabric '{}' does not fit: it holds {} hosts (max_endpoints {} / domain_size {}), but the "
                       "job spans {}",
                       f.name, domains, f.max_endpoints(), f.domain_size, hosts.size());
  return std::nullopt;
}

std::string transport_class(const std::string& name_with_device) {
  const std::string name = name_with_device.substr(0, name_with_device.find('/'));
  for (const char* s : {"posix", "sysv", "cma", "xpmem", "knem", "self", "mm"})
    if (name == s) return "shm";
  if (name == "tcp" || name == "sockcm" || name == "tcp_sockcm") return "tcp";
  for (const char* s : {"rc", "dc", "ud", "srd"})
    if (name == s || name.rfind(std::string(s) + "_", 0) == 0) return "rdma";
  return "other";
}

std::optional<std::string> transport_mismatch(const std::string& transport, int tier, const std::string& expected_net) {
  if (transport.empty()) return std::nullopt;
  std::vector<std::string> names;
  for (std::size_t start = 0; start <= transport.size();) {
    std::size_t end = transport.find('+', start);
    if (end == std::string::npos) end = transport.size();
    if (end > start) names.push_back(transport.substr(start, end - start));
    start = end + 1;
  }
  if (tier == 0) {
    for (const auto& n : names)
      if (transport_class(n) != "shm")
        return fmt::format("{} between ranks on one host: expected shared memory (posix, sysv, cma, xpmem, knem)", n);
    return std::nullopt;
  }
  for (const auto& n : names) {
    const std::string c = transport_class(n);
    if (c == "shm") return fmt::format("{} between hosts: shared memory cannot cross hosts", n);
    if (expected_net == "any") continue;
    if (c != expected_net)
      return fmt::format("{} between hosts where the fabric expects {} (scale_out.transport){}", n,
                         expected_net == "rdma" ? "RDMA (InfiniBand/RoCE: rc, dc, ud)" : expected_net,
                         c == "tcp" ? ": traffic fell back to TCP" : "");
  }
  return std::nullopt;
}

// ---- the command ----------------------------------------------------------------------------------

namespace {

// Collects rank 0's rows: collective rows get the model's prediction (like run --fabric); pair
// rows arrive with theirs already.
class ValidateSinks final : public Sink {
 public:
  void add(std::unique_ptr<Sink> s) { sinks_.push_back(std::move(s)); }
  void set_fabric(const model::Fabric* f) { fabric_ = f; }
  void begin(const RunMeta& m) override {
    for (auto& s : sinks_) s->begin(m);
  }
  void row(const Record& measured) override {
    Record r = measured;
    if (fabric_ && !r.model_time_us) annotate_with_model(r, *fabric_);
    collected.push_back(r);
    for (auto& s : sinks_) s->row(r);
  }
  void end(const std::string& status) override {
    for (auto& s : sinks_) try {
        s->end(status);
      } catch (const std::exception& e) {
        error_line(std::string("writing results: ") + e.what());
      }
  }
  std::vector<Record> collected;

 private:
  std::vector<std::unique_ptr<Sink>> sinks_;
  const model::Fabric* fabric_ = nullptr;
};

// One pair's results.
struct PairResult {
  int round = 0, a = 0, b = 0, tier = 0;
  std::string host_a, host_b, transport, transport_why, bottleneck;
  double bw_time_us = 0, bw_GBps = 0, model_bw_GBps = 0, bw_ratio = 0;
  double lat_us = 0, model_lat_us = 0, lat_ratio = 0;
  bool has_bw = false, has_lat = false;
  Grade bw = Grade::pass, lat = Grade::pass, overall = Grade::pass;
  std::uint64_t wrong = 0;
};

Grade worst(Grade a, Grade b) { return static_cast<int>(a) > static_cast<int>(b) ? a : b; }


std::string csv_text(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string num(double v) { return fmt::format("{:.6g}", v); }

// The matrix CSV: header first, a line per pair as its round completes, flushed.
class MatrixWriter {
 public:
  explicit MatrixWriter(const std::string& path) : out_(path) {
    if (!out_) throw std::runtime_error("cannot open '" + path + "' for writing");
    out_ << kValidateMatrixHeader << "\n" << std::flush;
  }
  void pair(const PairResult& p, const ValidateOptions& o) {
    out_ << p.round << ',' << p.a << ',' << p.b << ',' << csv_text(p.host_a) << ',' << csv_text(p.host_b) << ','
         << p.tier << ',' << csv_text(p.transport) << ',' << (p.transport_why.empty() ? 1 : 0) << ','
         << (p.has_bw ? std::to_string(o.bw_bytes) : "") << ',' << (p.has_bw ? num(p.bw_time_us) : "") << ','
         << (p.has_bw ? num(p.bw_GBps) : "") << ',' << (p.has_bw ? num(p.model_bw_GBps) : "") << ','
         << (p.has_bw ? num(p.bw_ratio) : "") << ',' << (p.has_bw ? grade_name(p.bw) : "") << ','
         << (p.has_lat ? std::to_string(o.lat_bytes) : "") << ',' << (p.has_lat ? num(p.lat_us) : "") << ','
         << (p.has_lat ? num(p.model_lat_us) : "") << ',' << (p.has_lat ? num(p.lat_ratio) : "") << ','
         << (p.has_lat ? grade_name(p.lat) : "") << ',' << csv_text(p.bottleneck) << ',' << p.wrong << ','
         << grade_name(p.overall) << "\n"
         << std::flush;
  }

 private:
  std::ofstream out_;
};

// Per-pair statistics of one round from every rank's samples (rank-major).
SampleStats pair_stats(const std::vector<double>& all, int iters, int a, int b, double divisor) {
  std::vector<double> two;
  two.reserve(static_cast<std::size_t>(2 * iters));
  for (int r : {a, b})
    for (int i = 0; i < iters; ++i) two.push_back(all[static_cast<std::size_t>(r * iters + i)] / divisor);
  return compute_stats(two, 2, iters);
}

int verdict(transports::World& world, const ValidateOptions& o, const model::Fabric& f,
            const std::vector<PairResult>& pairs, ValidateSinks& sinks);

}  // namespace

int run_validate_command(transports::World& world, const ValidateOptions& o, const std::string& parse_error) {
  const bool root = world.rank() == 0;
  const int n = world.size();
  std::vector<std::unique_ptr<transports::Backend>> backends;
  RunConfig coll_config;
  std::vector<PreparedTest> tests;
  std::optional<model::Fabric> fabric;
  ValidateSinks sinks;
  std::unique_ptr<MatrixWriter> matrix;
  std::vector<TestSpec> pair_specs(2);
  try {
    agree(world, parse_error);
    {
      const auto all = world.gather_strings(o.canonical(), 0);
      std::string msg;
      if (root)
        for (int r = 1; r < n; ++r)
          if (all[static_cast<std::size_t>(r)] != all[0]) {
            msg = "ranks were launched with different arguments: rank " + std::to_string(r) + " (" +
                  world.hostnames()[static_cast<std::size_t>(r)] + ") differs from rank 0";
            break;
          }
      agree(world, world.broadcast_string(msg, 0));
    }
    std::string err;
    try {
      fabric = load_fabric_for_cli(o.fabric, o.sets);
      if (auto why = placement_mismatch(*fabric, world.hostnames())) throw UsageError(*why);
    } catch (const std::exception& e) {
      err = e.what();
    }
    agree(world, root ? err : "");
    try {
      backends.push_back(transports::make_backend(o.backend, world));
    } catch (const std::exception& e) {
      err = e.what();
    }
    agree(world, err);
    std::vector<std::string> notes;
    try {
      // The pair measurements: bidir for bandwidth, pingpong for latency.
      for (int k = 0; k < 2; ++k) {
        TestSpec& t = pair_specs[static_cast<std::size_t>(k)];
        t.name = k == 0 ? "pair bandwidth" : "pair latency";
        t.origin = "validate";
        t.backend = o.backend;
        t.ops = {find_op(k == 0 ? "bidir" : "pingpong")};
        t.minbytes = t.maxbytes = k == 0 ? o.bw_bytes : o.lat_bytes;
        t.iters = k == 0 ? o.iters : std::max(20, 4 * o.iters);
        t.warmup = std::max(o.warmup, k == 0 ? 0 : 2);
        t.check = 1;
        t.dtypes = {DType::uint8};
      }
      if (!o.no_collectives) {
        coll_config.tests = o.tests;
        tests = prepare_tests(coll_config, backends, n, notes);  // points into coll_config
        check_memory(tests, n, world.rank(), world.max_ranks_per_node());
      }
    } catch (const std::exception& e) {
      err = e.what();
    }
    agree(world, err);
    if (root && !o.quiet)
      for (const auto& note : notes) error_line("note: " + note);
    if (root) {
      try {
        FileSinks files = open_file_sinks(o.csv_path, o.json_path, o.force, {o.matrix_csv});
        try {
          if (!o.matrix_csv.empty()) matrix = std::make_unique<MatrixWriter>(o.matrix_csv);
        } catch (...) {
          files.remove();
          throw;
        }
        if (!o.quiet) sinks.add(make_console_sink(std::cout));
        for (auto& s : files.sinks) sinks.add(std::move(s));
      } catch (const std::exception& e) {
        err = std::string("cannot write results: ") + e.what();
      }
    }
    agree(world, err);
  } catch (const UsageError& e) {
    if (root) error_line(std::string("validate: ") + e.what());
    return exit_code::usage;
  }

  const model::Fabric& f = *fabric;
  transports::Backend& backend = *backends.front();
  const int rph = world.max_ranks_per_node();
  const model::Placement placement{static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(rph)};
  const RunMeta meta = make_meta(world, o.command_line, backends);
  if (root) sinks.begin(meta);
  sinks.set_fabric(&f);
  InterruptGuard interrupt([&sinks](const std::string& status) { sinks.end(status); },
                           std::chrono::milliseconds(root ? 0 : 2000));

  std::vector<PairResult> pairs;
  try {
    Watchdog watchdog(world, o.timeout_s, [&sinks](const std::string& status) { sinks.end(status); });
    MeasureHooks hooks;
    hooks.watchdog = &watchdog;
    hooks.progress = watchdog.progress();

    // ---- the pair matrix ----
    std::vector<std::vector<std::pair<int, int>>> rounds;
    if (!o.no_pairs) {
      if (o.pairs_alone) {
        for (int a = 0; a < n; ++a)
          for (int b = a + 1; b < n; ++b) rounds.push_back({{a, b}});
      } else {
        rounds = round_robin_rounds(n);
      }
    }
    if (root && !o.quiet)
      std::cout << fmt::format("# validate: fabric {} ({}), {} ranks on {} hosts ({} per host), backend {}\n", f.name,
                               f.source, n, world.nnodes(), rph, backend.name())
                << (rounds.empty() ? std::string()
                                   : fmt::format("# pair matrix: {} pairs in {} {}; bidir {} (bandwidth), pingpong {} "
                                                 "(latency)\n",
                                                 n * (n - 1) / 2, rounds.size(),
                                                 o.pairs_alone ? "rounds of one pair (--pairs-alone)"
                                                               : "rounds of disjoint pairs",
                                                 format_bytes(o.bw_bytes), format_bytes(o.lat_bytes)))
                << std::flush;
    std::vector<Series> pair_series;
    std::vector<std::unique_ptr<SeriesBuffers>> pair_buffers;
    for (const TestSpec& t : pair_specs) {
      Series s;
      s.op = t.ops.front();
      s.dtype = DType::uint8;
      pair_series.push_back(s);
      pair_buffers.push_back(std::make_unique<SeriesBuffers>(backend, s, t.maxbytes, n, world.rank()));
    }
    for (std::size_t ri = 0; ri < rounds.size(); ++ri) {
      std::vector<int> peers(static_cast<std::size_t>(n), -1);
      for (auto [a, b] : rounds[ri]) {
        peers[static_cast<std::size_t>(a)] = b;
        peers[static_cast<std::size_t>(b)] = a;
      }
      // What a hang in this round is reported as: its pairs and their hosts.
      hooks.context.clear();
      for (auto [a, b] : rounds[ri]) {
        if (hooks.context.size() > 200) {
          hooks.context += ", ...";
          break;
        }
        hooks.context += fmt::format("{}{} {} <-> {} {}", hooks.context.empty() ? "pair " : ", ", a,
                                     world.hostnames()[static_cast<std::size_t>(a)], b,
                                     world.hostnames()[static_cast<std::size_t>(b)]);
      }
      Record rec[2];
      std::vector<double> all[2];
      for (int k = 0; k < 2; ++k) {
        Series s = pair_series[static_cast<std::size_t>(k)];
        s.peers = peers;
        hooks.rank_samples = &all[k];
        const TestSpec& t = pair_specs[static_cast<std::size_t>(k)];
        rec[k] = measure(world, backend, t, s, t.maxbytes, *pair_buffers[static_cast<std::size_t>(k)], hooks);
      }
      hooks.rank_samples = nullptr;
      const int mine = peers[static_cast<std::size_t>(world.rank())];
      const auto tps = world.gather_strings(mine >= 0 ? backend.peer_transport(mine) : "", 0);
      hooks.context.clear();
      if (!root) continue;

      // The model's expectation for this round: every pair's two directions at once.
      std::vector<model::Flow> flows;
      for (auto [a, b] : rounds[ri]) {
        flows.push_back({static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(b)});
        flows.push_back({static_cast<std::uint64_t>(b), static_cast<std::uint64_t>(a)});
      }
      const auto pred = model::predict_flows(f, placement, flows);
      double round_expected[2] = {0, 0};
      std::string round_bottleneck;
      for (std::size_t j = 0; j < rounds[ri].size(); ++j) {
        const auto [a, b] = rounds[ri][j];
        const model::FlowPrediction& pa = pred[2 * j];
        const model::FlowPrediction& pb = pred[2 * j + 1];
        PairResult p;
        p.round = static_cast<int>(ri);
        p.a = a;
        p.b = b;
        p.host_a = world.hostnames()[static_cast<std::size_t>(a)];
        p.host_b = world.hostnames()[static_cast<std::size_t>(b)];
        p.tier = pa.tier;
        p.bottleneck = pa.GBps <= pb.GBps ? pa.bottleneck : pb.bottleneck;
        const double expected_bw = std::max(pa.time_us(static_cast<double>(o.bw_bytes)),
                                            pb.time_us(static_cast<double>(o.bw_bytes)));
        const double expected_lat = std::max(pa.time_us(static_cast<double>(o.lat_bytes)),
                                             pb.time_us(static_cast<double>(o.lat_bytes)));
        if (expected_bw > round_expected[0]) {
          round_expected[0] = expected_bw;
          round_bottleneck = p.bottleneck;
        }
        round_expected[1] = std::max(round_expected[1], expected_lat);
        const SampleStats sb = pair_stats(all[0], pair_specs[0].iters, a, b, rec[0].ops_per_sample);
        const SampleStats sl = pair_stats(all[1], pair_specs[1].iters, a, b, 2.0 * rec[1].ops_per_sample);
        p.has_bw = p.has_lat = true;
        p.bw_time_us = sb.p50;
        p.bw_GBps = sb.p50 > 0 ? static_cast<double>(o.bw_bytes) / sb.p50 / 1e3 : 0;
        p.model_bw_GBps = static_cast<double>(o.bw_bytes) / expected_bw / 1e3;
        p.bw_ratio = sb.p50 > 0 ? expected_bw / sb.p50 : 0;
        p.bw = classify(p.bw_ratio, o.bw_pass, o.bw_warn);
        p.lat_us = sl.p50;
        p.model_lat_us = expected_lat;
        p.lat_ratio = sl.p50 > 0 ? expected_lat / sl.p50 : 0;
        p.lat = classify(p.lat_ratio, o.lat_pass, o.lat_warn);
        p.transport = tps[static_cast<std::size_t>(a)];
        if (auto why = transport_mismatch(p.transport, p.tier, f.network_transport)) p.transport_why = *why;
        p.wrong = rec[0].wrong + rec[1].wrong;
        p.overall = worst(p.bw, p.lat);
        if (!p.transport_why.empty() && !o.no_transport_check) p.overall = Grade::fail;
        if (p.wrong) p.overall = Grade::fail;
        if (matrix) matrix->pair(p, o);
        pairs.push_back(p);
      }
      // The round's rows: measured as run measures them (max over ranks), held against the
      // slowest pair the model expects in this round.
      for (int k = 0; k < 2; ++k) {
        Record r = rec[k];
        r.model_fabric = f.name;
        r.model_algo = o.pairs_alone ? "flows/alone" : "flows/round";
        r.model_time_us = round_expected[k];
        r.model_busbw_GBps = r.bytes / round_expected[k] / 1e3 * (k == 0 ? 2.0 : 1.0);
        r.model_err_pct = 100.0 * (r.time_us - round_expected[k]) / round_expected[k];
        r.model_bottleneck = k == 0 ? round_bottleneck : "latency";
        sinks.row(r);
      }
    }

    // ---- the collectives ----
    if (!tests.empty()) run_tests(world, tests, {&sinks}, &watchdog, 0);
    watchdog.finish();
  } catch (const std::exception& e) {
    error_line("validate: rank " + std::to_string(world.rank()) + " (" + world.hostname() + "): " + e.what());
    if (root) sinks.end("error");
    world.abort(exit_code::timeout);
    std::_Exit(exit_code::timeout);
  }
  // Rank 0 decides; every rank exits with its code.
  const int code = root ? verdict(world, o, f, pairs, sinks) : 0;
  return std::stoi(world.broadcast_string(std::to_string(code), 0));
}

namespace {

int verdict(transports::World& world, const ValidateOptions& o, const model::Fabric& f,
            const std::vector<PairResult>& pairs, ValidateSinks& sinks) {
  (void)f;
  const int n = world.size();
  std::uint64_t wrong = 0;
  struct CollResult {
    const Record* r;
    double ratio;
    Grade v;
    bool modelled;
  };
  std::vector<CollResult> coll;
  for (const Record& r : sinks.collected) {
    if (r.model_algo.rfind("flows/", 0) == 0) continue;
    wrong += r.wrong;
    CollResult c{&r, 0, Grade::pass, r.model_time_us.has_value() && r.time_us > 0};
    if (c.modelled) {
      c.ratio = *r.model_time_us / r.time_us;
      c.v = classify(c.ratio, o.bw_pass, o.bw_warn);
    }
    if (r.wrong) c.v = Grade::fail;
    coll.push_back(c);
  }
  for (const auto& p : pairs) wrong += p.wrong;
  sinks.end(wrong ? "wrong-data" : "ok");

  int counts[3] = {0, 0, 0};
  for (const auto& p : pairs) ++counts[static_cast<int>(p.overall)];
  int coll_counts[3] = {0, 0, 0};
  for (const auto& c : coll) ++coll_counts[static_cast<int>(c.v)];

  auto out = [&](const std::string& line) { std::cout << line << "\n"; };
  auto rank_name = [&](int r) { return fmt::format("{}:{}", world.hostnames()[static_cast<std::size_t>(r)], r); };
  if (!pairs.empty() && !o.quiet) {
    out("#");
    out("# pair matrix: bidir bandwidth, measured / model (* inside one host; ! fails, ? warns)");
    std::map<std::pair<int, int>, const PairResult*> at;
    for (const auto& p : pairs) at[{p.a, p.b}] = &p;
    std::string head = "#     ";
    for (int b = 0; b < n; ++b) head += fmt::format("{:>7}", b);
    out(head);
    for (int a = 0; a < n; ++a) {
      std::string line = fmt::format("# {:>3} ", a);
      for (int b = 0; b < n; ++b) {
        auto it = at.find({std::min(a, b), std::max(a, b)});
        if (a == b || it == at.end()) {
          line += fmt::format("{:>7}", "-");
          continue;
        }
        const PairResult& p = *it->second;
        const char* mark = p.overall == Grade::fail ? "!" : p.overall == Grade::warn ? "?" : p.tier == 0 ? "*" : " ";
        line += fmt::format("{:>6.2f}{}", p.bw_ratio, mark);
      }
      out(line);
    }
  }
  std::vector<const PairResult*> by_ratio;
  for (const auto& p : pairs) by_ratio.push_back(&p);
  auto badness = [](const PairResult* p) {
    return std::make_tuple(-static_cast<int>(p->overall), std::min(p->bw_ratio, 1e9), std::min(p->lat_ratio, 1e9));
  };
  std::sort(by_ratio.begin(), by_ratio.end(), [&](auto* x, auto* y) { return badness(x) < badness(y); });

  // Hosts: the share of their pairs that failed (a bad NIC or cable fails every pair of its host).
  std::map<std::string, std::pair<int, int>> host_fail;  // host -> (failing, all) pairs it is part of
  std::vector<std::string> host_order;
  for (const auto& h : world.hostnames())
    if (host_fail.emplace(h, std::pair<int, int>{0, 0}).second) host_order.push_back(h);
  for (const auto& p : pairs) {
    std::set<std::string> hs{p.host_a, p.host_b};
    for (const auto& h : hs) {
      ++host_fail[h].second;
      if (p.overall == Grade::fail) ++host_fail[h].first;
    }
  }
  std::vector<std::string> suspects;
  for (const auto& h : host_order) {
    const auto [bad, all] = host_fail[h];
    if (bad > 0 && 2 * bad > all) suspects.push_back(h);
  }

  if (!pairs.empty()) {
    out(fmt::format("# pairs: {} ({} inside hosts, {} between hosts): {} pass, {} warn, {} fail", pairs.size(),
                    std::count_if(pairs.begin(), pairs.end(), [](const auto& p) { return p.tier == 0; }),
                    std::count_if(pairs.begin(), pairs.end(), [](const auto& p) { return p.tier > 0; }), counts[0],
                    counts[1], counts[2]));
    out("# worst links:");
    int shown = 0;
    for (const PairResult* p : by_ratio) {
      if (shown >= std::max(3, std::min(counts[2], 12))) break;
      ++shown;
      out(fmt::format("#   {} <-> {}  {}: bandwidth {:.4g} GB/s of {:.4g} ({:.2f} {}), latency {:.1f} us of {:.1f} "
                      "({:.2f} {}), {}{}{}",
                      rank_name(p->a), rank_name(p->b), grade_name(p->overall), p->bw_GBps, p->model_bw_GBps,
                      p->bw_ratio, grade_name(p->bw), p->lat_us, p->model_lat_us, p->lat_ratio, grade_name(p->lat),
                      p->transport.empty() ? "transport not reported" : p->transport,
                      p->transport_why.empty() ? "" : " (" + p->transport_why + ")",
                      p->wrong ? fmt::format(", {} wrong elements in its round", p->wrong) : ""));
    }
    std::string hl = "# hosts (failing / all their pairs):";
    for (const auto& h : host_order) hl += fmt::format(" {} {}/{}", h, host_fail[h].first, host_fail[h].second);
    out(hl);
  }
  if (!coll.empty()) {
    out("# collectives (model time / measured time):");
    for (const auto& c : coll)
      out(c.modelled ? fmt::format("#   {}/{} {}: {:.1f} us, model {:.1f} us ({:.2f} {}, {})", c.r->op, c.r->algo,
                                   format_bytes(c.r->bytes), c.r->time_us, *c.r->model_time_us, c.ratio,
                                   grade_name(c.v), c.r->model_bottleneck)
                     : fmt::format("#   {}/{} {}: {:.1f} us, no model for this algorithm", c.r->op, c.r->algo,
                                   format_bytes(c.r->bytes), c.r->time_us));
  }
  const bool fail = counts[2] > 0 || coll_counts[2] > 0 || wrong > 0;
  const bool warn = counts[1] > 0 || coll_counts[1] > 0;
  std::string why;
  if (counts[2]) why += fmt::format("{} of {} pairs fail", counts[2], pairs.size());
  if (coll_counts[2]) why += fmt::format("{}{} of {} collective rows fail", why.empty() ? "" : "; ", coll_counts[2], coll.size());
  if (wrong) why += fmt::format("{}{} wrong elements", why.empty() ? "" : "; ", wrong);
  if (!fail && warn)
    why = fmt::format("{} pairs and {} collective rows between the warn and pass thresholds", counts[1], coll_counts[1]);
  if (!fail && !warn)
    why = fmt::format("{} pairs and {} collective rows within the pass thresholds", pairs.size(), coll.size());
  if (fail) {
    if (!suspects.empty()) {
      std::string s;
      for (const auto& h : suspects)
        s += fmt::format("{}{} ({} of its {} pairs fail)", s.empty() ? "" : ", ", h, host_fail[h].first,
                         host_fail[h].second);
      why += "; suspect host" + std::string(suspects.size() > 1 ? "s " : " ") + s;
    }
    if (!by_ratio.empty() && by_ratio.front()->overall == Grade::fail)
      why += fmt::format("; worst link {} <-> {} ({:.2f} of the model's bandwidth{})", rank_name(by_ratio.front()->a),
                         rank_name(by_ratio.front()->b), by_ratio.front()->bw_ratio,
                         by_ratio.front()->transport_why.empty() ? "" : ", " + by_ratio.front()->transport_why);
  }
  out(fmt::format("validate: {}: {}", fail ? "FAIL" : warn ? "WARN" : "PASS", why));
  std::cout << std::flush;
  return fail ? 1 : 0;
}

}  // namespace

}  // namespace fb
