// A fabric's values checked (the field table's bounds, then the rules between keys) and its
// capacity (max_endpoints). Reading and writing the files: fabric_yaml.cpp; the keys:
// fabric_fields.cpp.
#include "model/fabric.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "model/fabric_fields.hpp"
#include "model/rates.hpp"

namespace fb::model {

namespace {

// ---- capacity ----------------------------------------------------------------------------------

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}

// Ports a tier's switch turns down (towards the endpoints). Oversubscription o splits the radix k
// into k*o/(1+o) down and k/(1+o) up, rounded down to whole down ports, keeping at least one
// port each way; the top tier has no up-links and turns all k down.
std::uint64_t down_ports(const SwitchTier& t, bool top) {
  const std::uint64_t k = t.radix > 0 ? static_cast<std::uint64_t>(t.radix) : 0;
  if (top || k < 2) return k;
  double o = t.oversubscription;
  if (!(o >= 1)) o = 1;
  const double d = std::isfinite(o) ? static_cast<double>(k) * o / (1 + o) : static_cast<double>(k);
  const auto down = static_cast<std::uint64_t>(std::floor(d + 1e-9));
  return std::clamp<std::uint64_t>(down, 1, k - 1);
}

// NIC ports one plane's fat tree holds: a pod of tier i holds down_i pods of tier i-1, and the
// top tier's switches each reach k_top pods, so ports = k_top x prod_{i<top} down_i. Non-blocking
// with one radix k over L tiers this is 2 (k/2)^L.
std::uint64_t ports_per_plane(const std::vector<SwitchTier>& tiers) {
  if (tiers.empty()) return 0;
  std::uint64_t ports = 1;
  for (std::size_t i = 0; i < tiers.size(); ++i)
    ports = saturating_mul(ports, down_ports(tiers[i], i + 1 == tiers.size()));
  return ports;
}

// ---- one key's bounds ----------------------------------------------------------------------------

// "'a', 'b' or 'c'"
std::string choice_list(const std::vector<std::string>& choices) {
  std::string s;
  for (std::size_t i = 0; i < choices.size(); ++i)
    s += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + ("'" + choices[i] + "'");
  return s;
}

// Why `ref` breaks `b`, or "" when it keeps it.
std::string broken_bound(const Bound& b, const FabricRef& ref) {
  if (const auto* s = std::get_if<std::string*>(&ref)) {
    if (b.kind == Bound::non_empty && (*s)->empty()) return "must not be empty";
    if (b.kind == Bound::one_of && std::find(b.choices.begin(), b.choices.end(), **s) == b.choices.end())
      return "must be " + choice_list(b.choices) + " (got '" + **s + "')";
    return "";
  }
  if (const auto* i = std::get_if<int*>(&ref)) {
    if (b.kind == Bound::at_least && **i < b.min)
      return "must be a whole number >= " + std::to_string(static_cast<int>(b.min)) + " (got " +
             std::to_string(**i) + ")" + b.why;
    return "";
  }
  if (const auto* d = std::get_if<double*>(&ref)) {
    const double x = **d;
    const std::string got = " (got " + format_number(x) + ")";
    switch (b.kind) {
      case Bound::positive:
        return x > 0 && std::isfinite(x) ? "" : "must be a number > 0" + got;
      case Bound::non_negative:
        return x >= 0 && std::isfinite(x) ? "" : "must be a number >= 0" + got;
      case Bound::fraction:
        return x > 0 && x <= 1 ? "" : "must be a number in (0, 1]" + got;
      case Bound::share:
        return x >= 0 && x <= 1 ? "" : "must be a number in [0, 1] (0: the achievable-rate table)" + got;
      case Bound::at_least:
        return x >= b.min && std::isfinite(x) ? ""
                                              : "must be a number >= " + format_number(b.min) + b.why + got;
      default:
        return "";
    }
  }
  return "";
}

// Every key's bounds from the table, section by section in the file's order; each tier by index.
void check_bounds(const Fabric& f, const FabricLocator& at) {
  Fabric copy = f;
  SwitchTier unused;
  const auto check_section = [&](const std::string& section, SwitchTier& tier, const std::string& prefix) {
    for (const FabricField& k : fabric_fields(copy, tier))
      if (section == k.section)
        if (const std::string why = broken_bound(k.bound, k.ref); !why.empty())
          fabric_error(at(prefix + k.key), prefix + k.key, why);
  };
  check_section("", unused, "");
  for (const FabricSection& s : fabric_sections()) {
    if (!section_present(s, f)) continue;
    const std::string path = s.path;
    if (!s.list) {
      check_section(path, unused, path + ".");
      continue;
    }
    for (std::size_t i = 0; i < section_items(copy).size(); ++i)
      check_section(path, section_items(copy)[i], path + "." + std::to_string(i) + ".");
  }
}

// ---- rules between keys --------------------------------------------------------------------------

void check_scale_up(const ScaleUp& u, const FabricLocator& at) {
  const auto bad = [&](const std::string& path, const std::string& why) {
    fabric_error(at(path), path, why);
  };
  if ((u.cache_bytes > 0) != (u.spilled_bandwidth_GBps > 0))
    bad(u.cache_bytes > 0 ? "scale_up.spilled_bandwidth_GBps" : "scale_up.cache_bytes",
        "scale_up.cache_bytes and scale_up.spilled_bandwidth_GBps go together: give both or neither");
  if (u.spilled_bandwidth_GBps > u.bandwidth_GBps)
    bad("scale_up.spilled_bandwidth_GBps", "must not exceed scale_up.bandwidth_GBps (the in-cache rate)");
  if ((u.outer_cache_bytes > 0) != (u.outer_spilled_bandwidth_GBps > 0))
    bad(u.outer_cache_bytes > 0 ? "scale_up.outer_spilled_bandwidth_GBps" : "scale_up.outer_cache_bytes",
        "scale_up.outer_cache_bytes and scale_up.outer_spilled_bandwidth_GBps go together: give both or "
        "neither");
  if (u.outer_cache_bytes > 0 && !(u.outer_cache_bytes > u.cache_bytes))
    bad("scale_up.outer_cache_bytes",
        "must exceed scale_up.cache_bytes (the outer knee comes after the first)");
  if (u.outer_spilled_bandwidth_GBps > u.spilled_bandwidth_GBps)
    bad("scale_up.outer_spilled_bandwidth_GBps", "must not exceed scale_up.spilled_bandwidth_GBps");
  if (u.outer_eviction_GBps > 0 && !(u.outer_cache_bytes > 0))
    bad("scale_up.outer_eviction_GBps", "needs scale_up.outer_cache_bytes (it drains the outer cache)");
  if (u.forward_bandwidth_GBps > u.bandwidth_GBps)
    bad("scale_up.forward_bandwidth_GBps",
        "must not exceed scale_up.bandwidth_GBps (forwarding is never faster)");
  if (u.forward_spilled_bandwidth_GBps > 0 && !(u.cache_bytes > 0))
    bad("scale_up.forward_spilled_bandwidth_GBps",
        "needs scale_up.cache_bytes (it is the rate beyond the cache)");
  if (u.forward_spilled_bandwidth_GBps > u.spilled_bandwidth_GBps)
    bad("scale_up.forward_spilled_bandwidth_GBps",
        "must not exceed scale_up.spilled_bandwidth_GBps (forwarding is never faster)");
}

void check_scale_out(const ScaleOut& o, const FabricLocator& at) {
  const auto bad = [&](const std::string& path, const std::string& why) {
    fabric_error(at(path), path, why);
  };
  if (o.nics_per_domain % o.rails != 0)
    bad("scale_out.rails", "must divide scale_out.nics_per_domain (" + std::to_string(o.nics_per_domain) +
                               "): each rail takes the same number of a domain's NICs (got " +
                               std::to_string(o.rails) + ")");
  std::set<std::string> names;
  for (std::size_t i = 0; i < o.tiers.size(); ++i) {
    const SwitchTier& t = o.tiers[i];
    const std::string p = "scale_out.tiers." + std::to_string(i);
    if (!names.insert(t.name).second)
      bad(p + ".name", "'" + t.name + "' names two tiers (bottlenecks are reported by tier name)");
    if (i + 1 == o.tiers.size() && t.oversubscription != 1)
      bad(p + ".oversubscription", "must be 1 at the top tier, which has no up-links (got " +
                                       format_number(t.oversubscription) + "); oversubscribe a lower tier");
  }
  const std::uint64_t ports = ports_per_plane(o.tiers);
  if (ports < static_cast<std::uint64_t>(o.nics_per_domain))
    bad("scale_out.tiers", "the tiers hold " + std::to_string(ports) +
                               " NIC ports per plane, fewer than one domain's " +
                               std::to_string(o.nics_per_domain) + " NICs (scale_out.nics_per_domain)");
}

}  // namespace

void check_fabric(const Fabric& f, const FabricLocator& at) {
  check_bounds(f, at);
  if (!f.nccl_version.empty() && nccl_release(f.nccl_version) < 0)
    fabric_error(at("nccl_version"), "nccl_version",
                 "'" + f.nccl_version + "' is not an NCCL release (X.Y or X.Y.Z, e.g. 2.9.9)");
  check_scale_up(f.scale_up, at);
  if (f.has_scaleout()) check_scale_out(f.scale_out, at);
}

double Fabric::nic_GBps_per_endpoint() const {
  if (!has_scaleout() || scale_up.domain_size < 1) return 0;
  return scale_out.nic_bandwidth_Gbps / 8 * scale_out.nics_per_domain / scale_up.domain_size *
         scale_out.wire_efficiency;
}

// Endpoints = domains x domain_size. Without scale-out: one domain. With it, every NIC port of a
// domain takes one leaf port in each plane, so one plane's port count bounds the domains:
//   ports = k_top x prod_{i < top} down_i,   down_i = floor(k_i o_i / (1 + o_i))
//   domains = floor(ports / nics_per_domain)
// (non-blocking, one radix k, L tiers: ports = 2 (k/2)^L). Saturates at 2^64 - 1.
std::uint64_t Fabric::max_endpoints() const {
  if (scale_up.domain_size < 1) return 0;
  const auto size = static_cast<std::uint64_t>(scale_up.domain_size);
  if (!has_scaleout()) return size;
  if (scale_out.nics_per_domain < 1) return 0;
  const std::uint64_t domains =
      ports_per_plane(scale_out.tiers) / static_cast<std::uint64_t>(scale_out.nics_per_domain);
  return saturating_mul(domains, size);
}

void validate_fabric(const Fabric& f) {
  const std::string who = f.source.empty() ? "fabric '" + f.name + "'" : f.source;
  check_fabric(f, [&](const std::string&) { return who; });
}

}  // namespace fb::model
