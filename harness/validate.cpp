// fabricbench validate's options and checks (harness/validate.hpp); the command is
// harness/commands/validate.cpp.
#include "harness/validate.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "transports/backend.hpp"
#include "vocab/error.hpp"
#include "vocab/units.hpp"

namespace fb {

// ---- pure helpers -------------------------------------------------------------------------------

std::string ValidateOptions::canonical() const {
  std::string s = fmt::format(
      "fabric={}\nplan={}\nbackend={}\nbw_bytes={}\nlat_bytes={}\niters={}\nwarmup={}\n"
      "alone={}\nno_pairs={}\nno_coll={}\nno_tc={}\nthresholds={},{},{},{}\n"
      "matrix={}\ncsv={}\njson={}\ntimeout={}\nmax_ratio={}\nmem={}\n",
      fabric, plan_path, backend, bw_bytes, lat_bytes, iters, warmup, pairs_alone, no_pairs, no_collectives,
      no_transport_check, bw_pass, bw_warn, lat_pass, lat_warn, matrix_csv, csv_path, json_path, timeout_s,
      max_ratio, mem);
  for (const auto& x : sets) s += "set=" + x + "\n";
  return s;
}

std::vector<TestSpec> default_validate_tests(const std::string& backend, const std::string& mem) {
  std::vector<TestSpec> v;
  // Backends without fabricbench's algorithms (nccl) hold their own collectives to the model.
  const transports::BackendInfo* info = transports::find_backend(backend);
  const bool p2p = info == nullptr || info->p2p_algorithms;
  for (const auto& [op, algo] : {std::pair<const char*, const char*>{"allreduce", p2p ? "ring" : "native"},
                                 {"alltoall", p2p ? "pairwise" : "native"}}) {
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
    t.mem = mem;
    v.push_back(t);
  }
  return v;
}

// vocab/units' figures, three significant digits to fit validate's columns.
std::string format_rate(double GBps, bool bits) {
  return bits ? format_rate_Gbitps(GBps, Figures::three_significant)
              : format_rate_GBps(GBps, Figures::three_significant);
}

std::string format_time_us(double us) {
  return format_duration_us(us, Figures::three_significant);
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
    case Grade::pass:
      return "pass";
    case Grade::warn:
      return "warn";
    case Grade::fail:
      return "fail";
  }
  return "?";
}

Grade classify(double ratio, double pass, double warn) {
  if (ratio >= pass) return Grade::pass;
  if (ratio >= warn) return Grade::warn;
  return Grade::fail;
}

std::optional<std::string> placement_mismatch(const model::Fabric& f,
                                              const std::vector<std::string>& rank_hosts) {
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
      return fmt::format(
          "the ranks of host {} are not consecutive (rank {} is on {} after ranks on {}): the model "
          "places ranks in host order; launch with --map-by slot",
          h, r, h, hosts.back());
    hosts.push_back(h);
    count.push_back(1);
  }
  const int rph = count.front();
  for (std::size_t i = 1; i < hosts.size(); ++i)
    if (count[i] != rph)
      return fmt::format(
          "hosts hold different numbers of ranks ({}: {}, {}: {}); the model places the same "
          "number on every host",
          hosts.front(), rph, hosts[i], count[i]);
  if (rph > f.scale_up.domain_size)
    return fmt::format(
        "fabric '{}' does not fit: {} ranks on host {}, but its scale_up.domain_size is {} "
        "(endpoints per host)",
        f.name, rph, hosts.front(), f.scale_up.domain_size);
  if (hosts.size() > 1 && !f.has_scaleout())
    return fmt::format(
        "fabric '{}' does not fit: it has no scale-out network (a single host), but the job "
        "spans {} hosts ({}, {}, ...)",
        f.name, hosts.size(), hosts[0], hosts[1]);
  const std::uint64_t domains =
      f.max_endpoints() / static_cast<std::uint64_t>(std::max(1, f.scale_up.domain_size));
  if (hosts.size() > domains)
    return fmt::format(
        "fabric '{}' does not fit: it holds {} hosts (max_endpoints {} / domain_size {}), but the "
        "job spans {}",
        f.name, domains, f.max_endpoints(), f.scale_up.domain_size, hosts.size());
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

std::optional<std::string> transport_mismatch(const std::string& transport, int tier,
                                              const std::string& expected_net) {
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
        return fmt::format(
            "{} between ranks on one host: expected shared memory (posix, sysv, cma, xpmem, knem)", n);
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

}  // namespace fb
