// validate's verdict (harness/validate_verdict.hpp).
#include "harness/validate_verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "vocab/units.hpp"

namespace fb {

namespace {

std::vector<CollectiveResult> grade_collectives(const std::vector<Record>& rows, const ValidateOptions& o,
                                                std::uint64_t& wrong) {
  std::vector<CollectiveResult> coll;
  for (const Record& r : rows) {
    if (r.model_algo.rfind("flows/", 0) == 0) continue;
    wrong += r.wrong;
    coll.push_back(grade_collective(r, o));
  }
  return coll;
}

std::string rank_name(const std::vector<std::string>& hostnames, int r) {
  const auto i = static_cast<std::size_t>(r);
  return fmt::format("{}:{}", i < hostnames.size() ? hostnames[i] : std::string("?"), r);
}

// The --max-ratio warnings: the pairs together (one line), each collective row on its own.
std::vector<std::string> fast_warnings(const std::vector<PairResult>& pairs,
                                       const std::vector<CollectiveResult>& coll, const ValidateOptions& o,
                                       const std::vector<std::string>& hostnames) {
  std::vector<std::string> out;
  const PairResult* best = nullptr;
  int fast = 0;
  for (const auto& p : pairs)
    if (p.bw_fast) {
      ++fast;
      if (!best || p.bw_ratio > best->bw_ratio) best = &p;
    }
  if (best)
    out.push_back(fmt::format(
        "WARN: {} of {} pairs measured faster than the model by more than --max-ratio {:g} (most: {} <-> {}, "
        "{} against the model's {}, x{:.2f}): the model may be wrong (check the fabric's link rates)",
        fast, pairs.size(), o.max_ratio, rank_name(hostnames, best->a), rank_name(hostnames, best->b),
        format_rate(best->bw_GBps, best->tier > 0), format_rate(best->model_bw_GBps, best->tier > 0),
        best->bw_ratio));
  for (const auto& c : coll)
    if (c.fast)
      out.push_back(fmt::format(
          "WARN: {}/{} {}: {} measured, the model predicts {} (x{:.2f} faster, above --max-ratio {:g}): the "
          "model may be wrong (fabric {}, model algorithm {})",
          c.row->op, c.row->algo, format_bytes(c.row->bytes), format_time_us(c.row->time_us),
          format_time_us(*c.row->model_time_us), c.ratio, o.max_ratio, c.row->model_fabric,
          c.row->model_algo));
  return out;
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

// "20 pairs lost bandwidth only when run together: ECMP collisions on leaf0->spine1 and ..."
std::string collision_words(const Verdict& v) {
  constexpr std::size_t kNamed = 4;  // links named; the collision report has them all
  const auto& links = v.collision_links;
  std::string on;
  for (std::size_t i = 0; i < links.size() && i < kNamed; ++i)
    on += (i == 0 ? "" : i + 1 == links.size() ? " and " : ", ") + links[i];
  if (links.size() > kNamed) on += fmt::format(" and {} more links", links.size() - kNamed);
  return fmt::format(
      "{} pair{} lost bandwidth only when run together: ECMP collisions on {} (see the collision report); "
      "{} hosts pass alone",
      v.collided, v.collided > 1 ? "s" : "", on, v.collided > 1 ? "their" : "its");
}

std::string why_line(const Verdict& v, std::size_t npairs, const std::vector<std::string>& hostnames) {
  const bool fail = v.grade == Grade::fail;
  std::string why;
  if (v.pair_counts[2]) why += fmt::format("{} of {} pairs fail", v.pair_counts[2], npairs);
  if (v.coll_counts[2])
    why += fmt::format("{}{} of {} collective rows fail", why.empty() ? "" : "; ", v.coll_counts[2],
                       v.collectives.size());
  if (v.wrong) why += fmt::format("{}{} wrong elements", why.empty() ? "" : "; ", v.wrong);
  const int other_warn = v.pair_counts[1] - v.collided;  // pairs that warn not for a collision
  if (fail && v.collided) why += "; " + collision_words(v);
  if (!fail && v.collided) {
    why = collision_words(v);
    if (other_warn || v.coll_counts[1])
      why += fmt::format("; {} other pairs and {} collective rows between the warn and pass thresholds",
                         other_warn, v.coll_counts[1]);
  } else if (v.grade == Grade::warn && (v.pair_counts[1] || v.coll_counts[1]))
    why = fmt::format("{} pairs and {} collective rows between the warn and pass thresholds",
                      v.pair_counts[1], v.coll_counts[1]);
  else if (!fail)
    why = fmt::format("{} pairs and {} collective rows within the pass thresholds", npairs,
                      v.collectives.size());
  if (v.fast > 0)
    why += fmt::format(
        "; {} measurement{} faster than the model by more than --max-ratio (the model may be wrong; "
        "see the WARN line{})",
        v.fast, v.fast > 1 ? "s" : "", v.warnings.size() > 1 ? "s" : "");
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
  if (!v.worst_first.empty() && v.worst_first.front()->overall == Grade::fail) {
    const PairResult& w = *v.worst_first.front();
    why += fmt::format("; worst link {} <-> {} ({:.2f} of the model's bandwidth{})",
                       rank_name(hostnames, w.a), rank_name(hostnames, w.b), w.bw_ratio,
                       w.transport_why.empty() ? "" : ", " + w.transport_why);
  }
  return why;
}

}  // namespace

Grade pair_grade(const PairResult& p, const ValidateOptions& o) {
  Grade g = static_cast<int>(p.bw) > static_cast<int>(p.lat) ? p.bw : p.lat;
  if (!p.transport_why.empty() && !o.no_transport_check) g = Grade::fail;
  if (p.wrong) g = Grade::fail;
  return g;
}

bool above_max_ratio(double ratio, const ValidateOptions& o) {
  return o.max_ratio > 0 && ratio > o.max_ratio;
}

CollectiveResult grade_collective(const Record& r, const ValidateOptions& o) {
  CollectiveResult c{&r, 0, Grade::pass, r.model_time_us.has_value() && r.time_us > 0, false};
  if (c.modelled) {
    c.ratio = *r.model_time_us / r.time_us;
    c.grade = classify(c.ratio, o.bw_pass, o.bw_warn);
    c.fast = above_max_ratio(c.ratio, o);
  }
  if (r.wrong) c.grade = Grade::fail;
  return c;
}

Verdict judge(const std::vector<PairResult>& pairs, const std::vector<Record>& collective_rows,
              const ValidateOptions& o, const std::vector<std::string>& hostnames) {
  Verdict v;
  v.collectives = grade_collectives(collective_rows, o, v.wrong);
  for (const auto& p : pairs) v.wrong += p.wrong;
  for (const auto& p : pairs) ++v.pair_counts[static_cast<int>(p.overall)];
  for (const auto& c : v.collectives) ++v.coll_counts[static_cast<int>(c.grade)];
  for (const auto& p : pairs) {
    if (p.collided_on.empty() || p.overall != Grade::warn) continue;  // failing anyway: not explained
    ++v.collided;
    for (const auto& l : p.collided_on)
      if (std::find(v.collision_links.begin(), v.collision_links.end(), l) == v.collision_links.end())
        v.collision_links.push_back(l);
  }

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

  v.warnings = fast_warnings(pairs, v.collectives, o, hostnames);
  v.fast = static_cast<int>(
      std::count_if(pairs.begin(), pairs.end(), [](const auto& p) { return p.bw_fast; }) +
      std::count_if(v.collectives.begin(), v.collectives.end(), [](const auto& c) { return c.fast; }));
  const bool fail = v.pair_counts[2] > 0 || v.coll_counts[2] > 0 || v.wrong > 0;
  const bool warn = v.pair_counts[1] > 0 || v.coll_counts[1] > 0 || !v.warnings.empty();
  v.grade = fail ? Grade::fail : warn ? Grade::warn : Grade::pass;
  v.line = fmt::format("validate: {}: {}",
                       fail   ? "FAIL"
                       : warn ? "WARN"
                              : "PASS",
                       why_line(v, pairs.size(), hostnames));
  return v;
}

namespace {

// "fbemu-h2:2" or "ranks 2-3 on fbemu-h2" style names for a set of ranks, grouped by host: a host
// all of whose ranks are in the set is named alone.
struct HostGroup {
  std::string host;
  std::vector<int> ranks;
  bool whole = false;  // every rank of the host
};

std::vector<HostGroup> group_by_host(const std::vector<int>& ranks,
                                     const std::vector<std::string>& hostnames) {
  std::vector<HostGroup> out;
  for (int r : ranks) {
    const auto i = static_cast<std::size_t>(r);
    const std::string h = i < hostnames.size() ? hostnames[i] : "?";
    auto it = std::find_if(out.begin(), out.end(), [&](const HostGroup& g) { return g.host == h; });
    if (it == out.end()) it = out.insert(out.end(), HostGroup{h, {}, false});
    it->ranks.push_back(r);
  }
  for (auto& g : out)
    g.whole =
        static_cast<std::size_t>(std::count(hostnames.begin(), hostnames.end(), g.host)) == g.ranks.size();
  return out;
}

std::string rank_words(const std::vector<int>& ranks) {
  std::string s;
  for (int r : ranks) s += (s.empty() ? "" : ",") + std::to_string(r);
  return (ranks.size() > 1 ? "ranks " : "rank ") + s;
}

std::string group_words(const std::vector<HostGroup>& groups, const char* whole_why, const char* part_why) {
  std::string s;
  for (const auto& g : groups)
    s += (s.empty() ? "" : ", ") +
         (g.whole ? fmt::format("host {} ({}: {})", g.host, rank_words(g.ranks), whole_why)
                  : fmt::format("{} on {} ({})", rank_words(g.ranks), g.host, part_why));
  return s;
}

std::string measured_before(const Verdict& v, std::size_t npairs) {
  std::string s;
  if (npairs)
    s = fmt::format("{} pairs measured before: {} pass, {} warn, {} fail", npairs, v.pair_counts[0],
                    v.pair_counts[1], v.pair_counts[2]);
  if (!v.collectives.empty())
    s += fmt::format("{}{} collective rows completed: {} fail", s.empty() ? "" : "; ", v.collectives.size(),
                     v.coll_counts[2]);
  return s;
}

}  // namespace

Verdict judge_hang(const std::vector<PairResult>& pairs, const std::vector<Record>& collective_rows,
                   const ValidateOptions& o, const std::vector<std::string>& hostnames,
                   const HangFacts& hang) {
  Verdict v = judge(pairs, collective_rows, o, hostnames);  // what was measured before the hang
  v.grade = Grade::fail;
  std::string why = fmt::format("the job hung (no progress for {:g} s) in {}", hang.timeout_s,
                                hang.phase.empty() ? std::string("an op") : hang.phase);
  std::string suspect;
  if (!hang.lost_links.empty()) {
    std::map<std::string, std::pair<std::string, std::vector<int>>> by_host;  // host -> links, ranks
    for (const auto& [r, links] : hang.lost_links) {
      const auto i = static_cast<std::size_t>(r);
      auto& h = by_host[i < hostnames.size() ? hostnames[i] : "?"];
      h.first = links;
      h.second.push_back(r);
    }
    for (const auto& [host, lr] : by_host)
      suspect += fmt::format("{}host {} (its link {} went down during the run; {})",
                             suspect.empty() ? "" : ", ", host, lr.first, rank_words(lr.second));
    suspect = "suspect " + suspect;
  } else if (!hang.silent.empty()) {
    suspect = "suspect " +
              group_words(group_by_host(hang.silent, hostnames),
                          "none of its ranks answered the watchdog: the host or its network link is down",
                          "did not answer the watchdog: stopped");
  } else if (!hang.in_op.empty() && !hang.waiting.empty()) {
    suspect = "suspect " + group_words(group_by_host(hang.in_op, hostnames),
                                       "still inside the op while every other rank waited for it",
                                       "still inside the op while the other ranks waited for them");
  } else if (!v.suspects.empty() && !v.suspects_from_collectives) {
    std::string s;
    for (const auto& h : v.suspects)
      s += fmt::format("{}{} ({} of its {} pairs failed before the hang)", s.empty() ? "" : ", ", h.host,
                       h.failing, h.all);
    suspect = "suspect host" + std::string(v.suspects.size() > 1 ? "s " : " ") + s;
  } else if (!v.suspects.empty()) {
    suspect =
        fmt::format("suspect host {} (the slowest in {} of the {} failing collective rows before the hang)",
                    v.suspects.front().host, v.suspects.front().failing, v.suspects.front().all);
  }
  if (hang.round.size() == 1) {
    const auto [a, b] = hang.round.front();
    suspect += fmt::format("{}suspect link {} <-> {} (its pair test hung)", suspect.empty() ? "" : "; ",
                           rank_name(hostnames, a), rank_name(hostnames, b));
  } else if (!v.worst_first.empty() && v.worst_first.front()->overall == Grade::fail) {
    const PairResult& w = *v.worst_first.front();
    suspect += fmt::format("{}worst link before the hang {} <-> {} ({:.2f} of the model's bandwidth)",
                           suspect.empty() ? "" : "; ", rank_name(hostnames, w.a), rank_name(hostnames, w.b),
                           w.bw_ratio);
  }
  if (suspect.empty())
    suspect = fmt::format(
        "the link could not be isolated: every rank answered and stalled together ({}), and no pair failed "
        "before; run validate --no-collectives to test each link alone",
        rank_words(hang.in_op.empty() ? hang.waiting : hang.in_op));
  const std::string before = measured_before(v, pairs.size());
  v.line = "validate: FAIL: " + why + "; " + suspect + (before.empty() ? "" : "; " + before);
  return v;
}

}  // namespace fb
