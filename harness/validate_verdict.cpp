// validate's verdict (harness/validate_verdict.hpp).
#include "harness/validate_verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace fb {

namespace {

std::vector<CollectiveResult> grade_collectives(const std::vector<Record>& rows, const ValidateOptions& o,
                                                std::uint64_t& wrong) {
  std::vector<CollectiveResult> coll;
  for (const Record& r : rows) {
    if (r.model_algo.rfind("flows/", 0) == 0) continue;
    wrong += r.wrong;
    CollectiveResult c{&r, 0, Grade::pass, r.model_time_us.has_value() && r.time_us > 0};
    if (c.modelled) {
      c.ratio = *r.model_time_us / r.time_us;
      c.grade = classify(c.ratio, o.bw_pass, o.bw_warn);
    }
    if (r.wrong) c.grade = Grade::fail;
    coll.push_back(c);
  }
  return coll;
}

// Hosts in rank order, with their pairs failing / all.
std::vector<HostTally> tally_pairs(const std::vector<PairResult>& pairs,
                                   const std::vector<std::string>& hostnames) {
  std::vector<HostTally> hosts;
  std::map<std::string, std::size_t> index;
  for (const auto& h : hostnames)
    if (index.emplace(h, hosts.size()).second) hosts.push_back({h, 0, 0});
  for (const auto& p : pairs) {
    for (const auto& h : std::set<std::string>{p.host_a, p.host_b}) {
      auto it = index.find(h);
      if (it == index.end()) {
        it = index.emplace(h, hosts.size()).first;
        hosts.push_back({h, 0, 0});
      }
      HostTally& t = hosts[it->second];
      ++t.all;
      if (p.overall == Grade::fail) ++t.failing;
    }
  }
  return hosts;
}

// Without failing pairs (no matrix, or every link fine alone), collective rows can still point at
// a host: the one that finished last in most samples of most failing rows. A host counts when it
// was the slowest in more than half of the failing rows it could be named in.
std::vector<HostTally> collective_suspects(const std::vector<CollectiveResult>& coll) {
  std::map<std::string, int> slowest;
  int failing = 0;
  for (const auto& c : coll) {
    if (c.grade != Grade::fail) continue;
    ++failing;
    if (!c.row->slowest_host.empty()) ++slowest[c.row->slowest_host];
  }
  std::vector<HostTally> out;
  for (const auto& [host, n] : slowest)
    if (2 * n > failing) out.push_back({host, n, failing});
  return out;
}

std::string why_line(const Verdict& v, std::size_t npairs, const std::vector<std::string>& hostnames) {
  const bool fail = v.grade == Grade::fail;
  std::string why;
  if (v.pair_counts[2]) why += fmt::format("{} of {} pairs fail", v.pair_counts[2], npairs);
  if (v.coll_counts[2])
    why += fmt::format("{}{} of {} collective rows fail", why.empty() ? "" : "; ", v.coll_counts[2],
                       v.collectives.size());
  if (v.wrong) why += fmt::format("{}{} wrong elements", why.empty() ? "" : "; ", v.wrong);
  if (v.grade == Grade::warn)
    why = fmt::format("{} pairs and {} collective rows between the warn and pass thresholds",
                      v.pair_counts[1], v.coll_counts[1]);
  if (v.grade == Grade::pass)
    why = fmt::format("{} pairs and {} collective rows within the pass thresholds", npairs,
                      v.collectives.size());
  if (!fail) return why;
  if (!v.suspects.empty()) {
    std::string s;
    for (const auto& h : v.suspects)
      s += v.suspects_from_collectives
               ? fmt::format("{}{} (the slowest in {} of the {} failing collective rows)",
                             s.empty() ? "" : ", ", h.host, h.failing, h.all)
               : fmt::format("{}{} ({} of its {} pairs fail)", s.empty() ? "" : ", ", h.host, h.failing,
                             h.all);
    why += "; suspect host" + std::string(v.suspects.size() > 1 ? "s " : " ") + s;
  }
  const auto rank_name = [&](int r) {
    const auto i = static_cast<std::size_t>(r);
    return fmt::format("{}:{}", i < hostnames.size() ? hostnames[i] : std::string("?"), r);
  };
  if (!v.worst_first.empty() && v.worst_first.front()->overall == Grade::fail) {
    const PairResult& w = *v.worst_first.front();
    why += fmt::format("; worst link {} <-> {} ({:.2f} of the model's bandwidth{})", rank_name(w.a),
                       rank_name(w.b), w.bw_ratio, w.transport_why.empty() ? "" : ", " + w.transport_why);
  }
  return why;
}

}  // namespace

Verdict judge(const std::vector<PairResult>& pairs, const std::vector<Record>& collective_rows,
              const ValidateOptions& o, const std::vector<std::string>& hostnames) {
  Verdict v;
  v.collectives = grade_collectives(collective_rows, o, v.wrong);
  for (const auto& p : pairs) v.wrong += p.wrong;
  for (const auto& p : pairs) ++v.pair_counts[static_cast<int>(p.overall)];
  for (const auto& c : v.collectives) ++v.coll_counts[static_cast<int>(c.grade)];

  for (const auto& p : pairs) v.worst_first.push_back(&p);
  const auto badness = [](const PairResult* p) {
    return std::make_tuple(-static_cast<int>(p->overall), std::min(p->bw_ratio, 1e9),
                           std::min(p->lat_ratio, 1e9));
  };
  std::sort(v.worst_first.begin(), v.worst_first.end(),
            [&](auto* x, auto* y) { return badness(x) < badness(y); });

  v.hosts = tally_pairs(pairs, hostnames);
  for (const auto& h : v.hosts)
    if (h.failing > 0 && 2 * h.failing > h.all) v.suspects.push_back(h);
  if (v.suspects.empty() && v.pair_counts[2] == 0) {
    v.suspects = collective_suspects(v.collectives);
    v.suspects_from_collectives = !v.suspects.empty();
  }

  const bool fail = v.pair_counts[2] > 0 || v.coll_counts[2] > 0 || v.wrong > 0;
  const bool warn = v.pair_counts[1] > 0 || v.coll_counts[1] > 0;
  v.grade = fail ? Grade::fail : warn ? Grade::warn : Grade::pass;
  v.line = fmt::format("validate: {}: {}",
                       fail   ? "FAIL"
                       : warn ? "WARN"
                              : "PASS",
                       why_line(v, pairs.size(), hostnames));
  return v;
}

}  // namespace fb
