// Fabric files: parsing, --set overrides, validation, capacity (max_endpoints) and writing back.
//
// One schema table (kRootKeys and its children) drives three things: the structural check of a
// file (mappings, unknown/duplicate/missing keys, value types), the navigation of --set paths, and
// the "known: ..." lists in error messages. Value ranges and cross-field rules live in one place,
// check_fabric(), which runs on the converted Fabric: load_fabric() hands it the file:line (or the
// --set override) each key came from, validate_fabric() the fabric's name.
#include "model/fabric.hpp"
#include "model/rates.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

namespace fb::model {

namespace {

// ---- schema ------------------------------------------------------------------------------------

enum class Type { Map, List, Text, Number, Whole, Bool };

struct Key {
  const char* name;
  Type type;
  bool required;
  const std::vector<Key>* children = nullptr;  // Map: its keys; List: the keys of each item
};

const std::vector<Key> kEndpointKeys{
    {"kind", Type::Text, true},
    {"generation", Type::Text, false},
    {"memory_bandwidth_GBps", Type::Number, true},
    {"reduce_bandwidth_GBps", Type::Number, false},
    {"memory_spilled_bandwidth_GBps", Type::Number, false},
    {"reduce_spilled_bandwidth_GBps", Type::Number, false},
};
const std::vector<Key> kScaleUpKeys{
    {"domain_size", Type::Whole, true},
    {"bandwidth_GBps", Type::Number, true},
    {"latency_us", Type::Number, true},
    {"aggregate_bandwidth_GBps", Type::Number, false},
    {"cache_bytes", Type::Number, false},
    {"spilled_bandwidth_GBps", Type::Number, false},
    {"outer_cache_bytes", Type::Number, false},
    {"outer_spilled_bandwidth_GBps", Type::Number, false},
    {"outer_eviction_GBps", Type::Number, false},
    {"forward_bandwidth_GBps", Type::Number, false},
    {"forward_spilled_bandwidth_GBps", Type::Number, false},
    {"forward_overhead_us", Type::Number, false},
    {"exchange_latency_us", Type::Number, false},
    {"in_switch_reduction", Type::Bool, false},
    {"efficiency", Type::Number, false},
    {"nvls_efficiency", Type::Number, false},
};
const std::vector<Key> kTierKeys{
    {"name", Type::Text, true},
    {"radix", Type::Whole, true},
    {"hop_latency_us", Type::Number, true},
    {"oversubscription", Type::Number, false},
};
const std::vector<Key> kScaleOutKeys{
    {"nic_bandwidth_Gbps", Type::Number, true},
    {"nics_per_domain", Type::Whole, true},
    {"rails", Type::Whole, false},
    {"planes", Type::Whole, false},
    {"latency_us", Type::Number, true},
    {"wire_efficiency", Type::Number, false},
    {"in_network_reduction", Type::Bool, false},
    {"transport", Type::Text, false},
    {"nic", Type::Text, false},
    {"efficiency", Type::Number, false},
    {"tiers", Type::List, true, &kTierKeys},
};
const std::vector<Key> kProtocolKeys{
    {"ll", Type::Number, false},
    {"ll128", Type::Number, false},
    {"simple", Type::Number, false},
};
const std::vector<Key> kRootKeys{
    {"name", Type::Text, true},
    {"description", Type::Text, false},
    {"endpoint", Type::Map, true, &kEndpointKeys},
    {"scale_up", Type::Map, true, &kScaleUpKeys},
    {"scale_out", Type::Map, false, &kScaleOutKeys},
    {"protocols", Type::Map, false, &kProtocolKeys},
};

const Key* find_key(const std::vector<Key>& keys, const std::string& name) {
  for (const Key& k : keys)
    if (name == k.name) return &k;
  return nullptr;
}

std::string known(const std::vector<Key>& keys) {
  std::string s;
  for (const Key& k : keys) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// ---- scalar values -------------------------------------------------------------------------------

// Shortest text that reads back as the same double.
std::string format_number(double x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::optional<double> parse_number(const std::string& text) {
  std::string_view v = text;
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  double x = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(x)) return std::nullopt;
  return x;
}

std::optional<int> parse_whole(const std::string& text) {
  std::string_view v = text;
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  long long x = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || x < INT_MIN || x > INT_MAX)
    return std::nullopt;
  return static_cast<int>(x);
}

std::optional<bool> parse_bool(const YAML::Node& n) {
  bool b = false;
  if (!YAML::convert<bool>::decode(n, b)) return std::nullopt;
  return b;
}

// ---- a document being read: where each node came from ----------------------------------------

class Doc {
 public:
  explicit Doc(std::string file) : file_(std::move(file)) {}

  // "FILE:LINE" for a node of the file; "--set PATH=VALUE" for a node an override made.
  std::string where(const YAML::Node& n) const {
    if (const std::string* who = created_by(n)) return *who;
    const YAML::Mark m = n.Mark();
    return file_ + ":" + std::to_string(m.is_null() ? 1 : m.line + 1);
  }
  // A mapping entry: where its value came from when an override set it, else the key's line.
  std::string where(const YAML::Node& key, const YAML::Node& value) const {
    return created_by(value) ? where(value) : where(key);
  }
  void mark_created(const YAML::Node& n, const std::string& who) { created_.emplace_back(n, who); }

  // Where the value at `path` was given, or the nearest enclosing key's place.
  std::string locate(std::string path) const {
    for (;;) {
      if (auto it = places_.find(path); it != places_.end()) return it->second;
      if (path.empty()) return file_ + ":1";
      const auto dot = path.rfind('.');
      path = dot == std::string::npos ? "" : path.substr(0, dot);
    }
  }
  void place(const std::string& path, const std::string& at) { places_[path] = at; }

  const std::string& file() const { return file_; }

 private:
  const std::string* created_by(const YAML::Node& n) const {
    for (const auto& [node, who] : created_)
      if (node.is(n)) return &who;
    return nullptr;
  }

  std::string file_;
  std::vector<std::pair<YAML::Node, std::string>> created_;
  std::map<std::string, std::string> places_;
};

[[noreturn]] void fail(const std::string& at, const std::string& path, const std::string& why) {
  throw std::invalid_argument(at + ": " + (path.empty() ? "" : path + ": ") + why);
}

std::string shown(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  return "nothing";
}

// Checks one value's type (not its range: check_fabric does that on the converted fabric).
void check_type(const Key& k, const std::string& path, const YAML::Node& v, const std::string& at) {
  switch (k.type) {
    case Type::Map:
      if (!v.IsMap())
        fail(at, path, "expected a mapping with keys " + known(*k.children) + " (got " + shown(v) + ")");
      return;
    case Type::List:
      if (!v.IsSequence())
        fail(at, path,
             "expected a list of mappings with keys " + known(*k.children) + " (got " + shown(v) + ")");
      return;
    case Type::Text:
      if (!v.IsScalar()) fail(at, path, "expected a text value (got " + shown(v) + ")");
      return;
    case Type::Number:
      if (!v.IsScalar() || !parse_number(v.Scalar()))
        fail(at, path, "expected a number (got " + shown(v) + ")");
      return;
    case Type::Whole:
      if (!v.IsScalar() || !parse_whole(v.Scalar()))
        fail(at, path, "expected a whole number (got " + shown(v) + ")");
      return;
    case Type::Bool:
      if (!v.IsScalar() || !parse_bool(v)) fail(at, path, "expected true or false (got " + shown(v) + ")");
      return;
  }
}

// Checks a mapping against its schema: a mapping, no duplicate or unknown keys, every required
// key present, every value of the right type. Records where each key was given. Returns the
// values by key.
std::map<std::string, YAML::Node> open_map(Doc& doc, const YAML::Node& map, const std::string& at,
                                           const std::string& path, const std::vector<Key>& keys) {
  if (!map.IsMap())
    fail(at, path, "expected a mapping with keys " + known(keys) + " (got " + shown(map) + ")");
  std::map<std::string, YAML::Node> out;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) fail(doc.where(kv.first), path, "keys must be plain names");
    const std::string key = kv.first.Scalar();
    const std::string kpath = join(path, key);
    const Key* k = find_key(keys, key);
    if (k == nullptr)
      fail(doc.where(kv.first), kpath, "unknown key '" + key + "' (known: " + known(keys) + ")");
    if (out.count(key) != 0) fail(doc.where(kv.first), kpath, "given twice");
    const std::string kat = doc.where(kv.first, kv.second);
    check_type(*k, kpath, kv.second, kat);
    doc.place(kpath, kat);
    out.emplace(key, kv.second);
  }
  for (const Key& k : keys)
    if (k.required && out.count(k.name) == 0)
      fail(at, path, "missing required key '" + std::string(k.name) + "'");
  return out;
}

double number(const std::map<std::string, YAML::Node>& m, const char* key, double fallback) {
  const auto it = m.find(key);
  return it == m.end() ? fallback : *parse_number(it->second.Scalar());
}
int whole(const std::map<std::string, YAML::Node>& m, const char* key, int fallback) {
  const auto it = m.find(key);
  return it == m.end() ? fallback : *parse_whole(it->second.Scalar());
}
bool boolean(const std::map<std::string, YAML::Node>& m, const char* key, bool fallback) {
  const auto it = m.find(key);
  return it == m.end() ? fallback : *parse_bool(it->second);
}
std::string text(const std::map<std::string, YAML::Node>& m, const char* key, const std::string& fallback) {
  const auto it = m.find(key);
  return it == m.end() ? fallback : it->second.Scalar();
}

// ---- --set overrides ---------------------------------------------------------------------------

std::optional<YAML::Node> child_of(const YAML::Node& map, const std::string& key) {
  for (const auto& kv : map)
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  return std::nullopt;
}

void reject_duplicates(const Doc& doc, const YAML::Node& map, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& kv : map)
    if (kv.first.IsScalar() && !seen.insert(kv.first.Scalar()).second)
      fail(doc.where(kv.first), join(path, kv.first.Scalar()), "given twice");
}

// Applies one "path=value" to the YAML tree. Paths are dotted keys over the file's tree, list
// items by index (scale_out.tiers.1.radix); the index one past the end appends an item. A value
// becomes a plain scalar and is checked with the file's values; an empty value removes an
// optional key (back to its default; "scale_out=" makes a single-domain fabric).
void apply_set(Doc& doc, YAML::Node& root, const std::string& set) {
  const std::string who = "--set " + set;
  const auto eq = set.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::invalid_argument(who + ": expected path=value (e.g. scale_up.bandwidth_GBps=900)");
  const std::string path = set.substr(0, eq);
  const std::string value = set.substr(eq + 1);
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const auto dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (const auto& p : parts)
    if (p.empty()) throw std::invalid_argument(who + ": empty key in path '" + path + "'");

  YAML::Node node;
  node.reset(root);  // rebinds; operator= on a Node would overwrite the node it refers to
  const std::vector<Key>* keys = &kRootKeys;    // the keys of `node`; nullptr when `node` is a list
  const std::vector<Key>* item_keys = nullptr;  // when `node` is a list: the keys of its items
  std::string sofar;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    if (keys == nullptr) {  // inside a list: an item index
      const bool digits = std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
      const auto index = digits ? parse_whole(part) : std::nullopt;
      if (!index)
        throw std::invalid_argument(who + ": '" + part + "' is not an index ('" + sofar +
                                    "' is a list: use 0, 1, ...)");
      const std::size_t n = node.size();
      const auto idx = static_cast<std::size_t>(*index);
      if (idx > n)
        throw std::invalid_argument(who + ": index " + part + " is out of range ('" + sofar + "' has " +
                                    std::to_string(n) + " items; " + std::to_string(n) + " appends one)");
      sofar = join(sofar, part);
      if (last)
        throw std::invalid_argument(who + ": '" + sofar + "' is a list item: set one of its keys (" +
                                    known(*item_keys) + "), e.g. " + sofar + "." + item_keys->front().name +
                                    "=...");
      YAML::Node item;
      if (idx == n) {
        item = YAML::Node(YAML::NodeType::Map);
        node.push_back(item);
        doc.mark_created(item, who);
      } else {
        item.reset(node[idx]);
        if (!item.IsMap()) fail(doc.where(item), sofar, "expected a mapping (got " + shown(item) + ")");
      }
      node.reset(item);
      keys = item_keys;
      continue;
    }

    if (!node.IsMap()) fail(doc.where(node), sofar, "expected a mapping (got " + shown(node) + ")");
    reject_duplicates(doc, node, sofar);
    const Key* k = find_key(*keys, part);
    if (k == nullptr)
      throw std::invalid_argument(who + ": unknown key '" + part + "' (known: " + known(*keys) + ")");
    sofar = join(sofar, part);
    const std::optional<YAML::Node> child = child_of(node, part);
    if (last) {
      if (value.empty()) {
        if (k->required)
          throw std::invalid_argument(who + ": '" + sofar + "' is required and cannot be removed");
        if (child) node.remove(part);
        return;
      }
      if (k->type == Type::Map || k->type == Type::List)
        throw std::invalid_argument(who + ": '" + sofar + "' is a " +
                                    (k->type == Type::Map ? "mapping" : "list") +
                                    ": set one of its keys, e.g. " + sofar +
                                    (k->type == Type::Map ? "." + std::string(k->children->front().name)
                                                          : ".0." + std::string(k->children->front().name)) +
                                    "=..." + (k->required ? "" : ", or remove it with " + sofar + "="));
      YAML::Node v(value);
      doc.mark_created(v, who);
      node[part] = v;
      return;
    }
    if (k->type != Type::Map && k->type != Type::List)
      throw std::invalid_argument(who + ": '" + sofar + "' is a value and has no keys below it");
    YAML::Node next;
    if (child) {
      next.reset(*child);
      if (k->type == Type::List && !next.IsSequence())
        fail(doc.where(next), sofar, "expected a list (got " + shown(next) + ")");
    } else {
      next = YAML::Node(k->type == Type::List ? YAML::NodeType::Sequence : YAML::NodeType::Map);
      doc.mark_created(next, who);
      node[part] = next;
    }
    node.reset(next);
    keys = k->type == Type::List ? nullptr : k->children;
    item_keys = k->type == Type::List ? k->children : nullptr;
  }
}

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

// ---- value ranges and cross-field rules --------------------------------------------------------

using Locator = std::function<std::string(const std::string& path)>;

void check_fabric(const Fabric& f, const Locator& at) {
  const auto bad = [&](const std::string& path, const std::string& why) { fail(at(path), path, why); };
  const auto positive = [&](const std::string& path, double x) {
    if (!(x > 0) || !std::isfinite(x)) bad(path, "must be a number > 0 (got " + format_number(x) + ")");
  };
  const auto non_negative = [&](const std::string& path, double x) {
    if (!(x >= 0) || !std::isfinite(x)) bad(path, "must be a number >= 0 (got " + format_number(x) + ")");
  };
  const auto fraction = [&](const std::string& path, double x) {
    if (!(x > 0 && x <= 1)) bad(path, "must be a number in (0, 1] (got " + format_number(x) + ")");
  };
  const auto at_least = [&](const std::string& path, int x, int min, const std::string& why) {
    if (x < min)
      bad(path,
          "must be a whole number >= " + std::to_string(min) + " (got " + std::to_string(x) + ")" + why);
  };

  if (f.name.empty()) bad("name", "must not be empty");
  if (f.endpoint_kind != "gpu" && f.endpoint_kind != "host")
    bad("endpoint.kind", "must be 'gpu' or 'host' (got '" + f.endpoint_kind + "')");
  if (!known_generation(f.generation))
    bad("endpoint.generation",
        "must be 'ampere', 'hopper', 'blackwell' or 'other' (got '" + f.generation + "')");
  positive("endpoint.memory_bandwidth_GBps", f.memory_bandwidth_GBps);
  positive("endpoint.reduce_bandwidth_GBps", f.reduce_bandwidth_GBps);
  non_negative("endpoint.memory_spilled_bandwidth_GBps", f.memory_spilled_GBps);
  non_negative("endpoint.reduce_spilled_bandwidth_GBps", f.reduce_spilled_GBps);
  at_least("scale_up.domain_size", f.domain_size, 1, "");
  positive("scale_up.bandwidth_GBps", f.scaleup_bandwidth_GBps);
  non_negative("scale_up.latency_us", f.scaleup_latency_us);
  non_negative("scale_up.aggregate_bandwidth_GBps", f.scaleup_aggregate_GBps);
  non_negative("scale_up.cache_bytes", f.scaleup_cache_bytes);
  non_negative("scale_up.spilled_bandwidth_GBps", f.scaleup_spilled_GBps);
  if ((f.scaleup_cache_bytes > 0) != (f.scaleup_spilled_GBps > 0))
    bad(f.scaleup_cache_bytes > 0 ? "scale_up.spilled_bandwidth_GBps" : "scale_up.cache_bytes",
        "scale_up.cache_bytes and scale_up.spilled_bandwidth_GBps go together: give both or neither");
  if (f.scaleup_spilled_GBps > f.scaleup_bandwidth_GBps)
    bad("scale_up.spilled_bandwidth_GBps", "must not exceed scale_up.bandwidth_GBps (the in-cache rate)");
  non_negative("scale_up.outer_cache_bytes", f.scaleup_outer_cache_bytes);
  non_negative("scale_up.outer_spilled_bandwidth_GBps", f.scaleup_outer_spilled_GBps);
  if ((f.scaleup_outer_cache_bytes > 0) != (f.scaleup_outer_spilled_GBps > 0))
    bad(f.scaleup_outer_cache_bytes > 0 ? "scale_up.outer_spilled_bandwidth_GBps" : "scale_up.outer_cache_bytes",
        "scale_up.outer_cache_bytes and scale_up.outer_spilled_bandwidth_GBps go together: give both or neither");
  if (f.scaleup_outer_cache_bytes > 0 && !(f.scaleup_outer_cache_bytes > f.scaleup_cache_bytes))
    bad("scale_up.outer_cache_bytes", "must exceed scale_up.cache_bytes (the outer knee comes after the first)");
  if (f.scaleup_outer_spilled_GBps > f.scaleup_spilled_GBps)
    bad("scale_up.outer_spilled_bandwidth_GBps", "must not exceed scale_up.spilled_bandwidth_GBps");
  non_negative("scale_up.outer_eviction_GBps", f.scaleup_outer_eviction_GBps);
  if (f.scaleup_outer_eviction_GBps > 0 && !(f.scaleup_outer_cache_bytes > 0))
    bad("scale_up.outer_eviction_GBps", "needs scale_up.outer_cache_bytes (it drains the outer cache)");
  non_negative("scale_up.forward_bandwidth_GBps", f.scaleup_forward_GBps);
  non_negative("scale_up.forward_overhead_us", f.scaleup_forward_overhead_us);
  non_negative("scale_up.exchange_latency_us", f.scaleup_exchange_latency_us);
  if (f.scaleup_forward_GBps > f.scaleup_bandwidth_GBps)
    bad("scale_up.forward_bandwidth_GBps", "must not exceed scale_up.bandwidth_GBps (forwarding is never faster)");
  non_negative("scale_up.forward_spilled_bandwidth_GBps", f.scaleup_forward_spilled_GBps);
  if (f.scaleup_forward_spilled_GBps > 0 && !(f.scaleup_cache_bytes > 0))
    bad("scale_up.forward_spilled_bandwidth_GBps", "needs scale_up.cache_bytes (it is the rate beyond the cache)");
  if (f.scaleup_forward_spilled_GBps > f.scaleup_spilled_GBps)
    bad("scale_up.forward_spilled_bandwidth_GBps",
        "must not exceed scale_up.spilled_bandwidth_GBps (forwarding is never faster)");
  non_negative("scale_up.efficiency", f.scaleup_efficiency);
  if (f.scaleup_efficiency > 1) bad("scale_up.efficiency", "must be a number in (0, 1], or 0 for the generation's table");
  non_negative("scale_up.nvls_efficiency", f.scaleup_nvls_efficiency);
  if (f.scaleup_nvls_efficiency > 1)
    bad("scale_up.nvls_efficiency", "must be a number in (0, 1], or 0 for the generation's table");
  fraction("protocols.ll", f.protocols.ll);
  fraction("protocols.ll128", f.protocols.ll128);
  fraction("protocols.simple", f.protocols.simple);
  if (!f.has_scaleout()) return;

  positive("scale_out.nic_bandwidth_Gbps", f.nic_bandwidth_Gbps);
  at_least("scale_out.nics_per_domain", f.nics_per_domain, 1, "");
  at_least("scale_out.rails", f.rails, 1, "");
  at_least("scale_out.planes", f.planes, 1, "");
  if (f.nics_per_domain % f.rails != 0)
    bad("scale_out.rails", "must divide scale_out.nics_per_domain (" + std::to_string(f.nics_per_domain) +
                               "): each rail takes the same number of a domain's NICs (got " +
                               std::to_string(f.rails) + ")");
  non_negative("scale_out.latency_us", f.nic_latency_us);
  fraction("scale_out.wire_efficiency", f.wire_efficiency);
  if (f.network_transport != "rdma" && f.network_transport != "tcp" && f.network_transport != "any")
    bad("scale_out.transport", "must be 'rdma', 'tcp' or 'any' (got '" + f.network_transport + "')");
  if (!known_nic(f.nic_kind))
    bad("scale_out.nic", std::string("must be one of ") + known_nics() + " (got '" + f.nic_kind + "')");
  non_negative("scale_out.efficiency", f.nic_efficiency);
  if (f.nic_efficiency > 1) bad("scale_out.efficiency", "must be a number in (0, 1], or 0 for the NIC's table");
  std::set<std::string> names;
  for (std::size_t i = 0; i < f.tiers.size(); ++i) {
    const SwitchTier& t = f.tiers[i];
    const std::string p = "scale_out.tiers." + std::to_string(i);
    if (t.name.empty()) bad(p + ".name", "must not be empty");
    if (!names.insert(t.name).second)
      bad(p + ".name", "'" + t.name + "' names two tiers (bottlenecks are reported by tier name)");
    at_least(p + ".radix", t.radix, 2, ": a switch needs a port down and a port up");
    non_negative(p + ".hop_latency_us", t.hop_latency_us);
    if (!(t.oversubscription >= 1) || !std::isfinite(t.oversubscription))
      bad(p + ".oversubscription",
          "must be a number >= 1, the down:up bandwidth ratio; 1 is non-blocking (got " +
              format_number(t.oversubscription) + ")");
    if (i + 1 == f.tiers.size() && t.oversubscription != 1)
      bad(p + ".oversubscription", "must be 1 at the top tier, which has no up-links (got " +
                                       format_number(t.oversubscription) + "); oversubscribe a lower tier");
  }
  const std::uint64_t ports = ports_per_plane(f.tiers);
  if (ports < static_cast<std::uint64_t>(f.nics_per_domain))
    bad("scale_out.tiers", "the tiers hold " + std::to_string(ports) +
                               " NIC ports per plane, fewer than one domain's " +
                               std::to_string(f.nics_per_domain) + " NICs (scale_out.nics_per_domain)");
}

// ---- conversion ----------------------------------------------------------------------------------

Fabric convert(Doc& doc, const YAML::Node& root) {
  const auto top = open_map(doc, root, doc.where(root), "", kRootKeys);
  Fabric f;
  f.source = doc.file();
  f.name = text(top, "name", "");
  f.description = text(top, "description", "");

  const auto ep = open_map(doc, top.at("endpoint"), doc.locate("endpoint"), "endpoint", kEndpointKeys);
  f.endpoint_kind = text(ep, "kind", "gpu");
  f.generation = text(ep, "generation", "other");
  f.memory_bandwidth_GBps = number(ep, "memory_bandwidth_GBps", 0);
  // Default: an elementwise reduction reads two inputs and writes one output per output byte.
  f.reduce_bandwidth_GBps = number(ep, "reduce_bandwidth_GBps", f.memory_bandwidth_GBps / 3);
  f.memory_spilled_GBps = number(ep, "memory_spilled_bandwidth_GBps", 0);
  f.reduce_spilled_GBps = number(ep, "reduce_spilled_bandwidth_GBps", 0);

  const auto su = open_map(doc, top.at("scale_up"), doc.locate("scale_up"), "scale_up", kScaleUpKeys);
  f.domain_size = whole(su, "domain_size", 1);
  f.scaleup_bandwidth_GBps = number(su, "bandwidth_GBps", 0);
  f.scaleup_latency_us = number(su, "latency_us", 0);
  f.scaleup_aggregate_GBps = number(su, "aggregate_bandwidth_GBps", 0);
  f.scaleup_cache_bytes = number(su, "cache_bytes", 0);
  f.scaleup_spilled_GBps = number(su, "spilled_bandwidth_GBps", 0);
  f.scaleup_outer_cache_bytes = number(su, "outer_cache_bytes", 0);
  f.scaleup_outer_spilled_GBps = number(su, "outer_spilled_bandwidth_GBps", 0);
  f.scaleup_outer_eviction_GBps = number(su, "outer_eviction_GBps", 0);
  f.scaleup_forward_GBps = number(su, "forward_bandwidth_GBps", 0);
  f.scaleup_forward_spilled_GBps = number(su, "forward_spilled_bandwidth_GBps", 0);
  f.scaleup_forward_overhead_us = number(su, "forward_overhead_us", 0);
  f.scaleup_exchange_latency_us = number(su, "exchange_latency_us", 0);
  f.in_switch_reduction = boolean(su, "in_switch_reduction", false);
  f.scaleup_efficiency = number(su, "efficiency", 0);
  f.scaleup_nvls_efficiency = number(su, "nvls_efficiency", 0);

  if (const auto it = top.find("scale_out"); it != top.end()) {
    const auto so = open_map(doc, it->second, doc.locate("scale_out"), "scale_out", kScaleOutKeys);
    f.nic_bandwidth_Gbps = number(so, "nic_bandwidth_Gbps", 0);
    f.nics_per_domain = whole(so, "nics_per_domain", 0);
    f.rails = whole(so, "rails", 1);
    f.planes = whole(so, "planes", 1);
    f.nic_latency_us = number(so, "latency_us", 0);
    f.wire_efficiency = number(so, "wire_efficiency", 1.0);
    f.in_network_reduction = boolean(so, "in_network_reduction", false);
    f.network_transport = text(so, "transport", "rdma");
    f.nic_kind = text(so, "nic", "other");
    f.nic_efficiency = number(so, "efficiency", 0);
    const YAML::Node& list = so.at("tiers");
    if (list.size() == 0)
      fail(doc.locate("scale_out.tiers"), "scale_out.tiers", "at least one tier is required (leaf first)");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string p = "scale_out.tiers." + std::to_string(i);
      doc.place(p, doc.where(item));
      const auto t = open_map(doc, item, doc.where(item), p, kTierKeys);
      SwitchTier tier;
      tier.name = text(t, "name", "");
      tier.radix = whole(t, "radix", 0);
      tier.hop_latency_us = number(t, "hop_latency_us", 0);
      tier.oversubscription = number(t, "oversubscription", 1.0);
      f.tiers.push_back(tier);
    }
  }

  if (const auto it = top.find("protocols"); it != top.end()) {
    const auto pr = open_map(doc, it->second, doc.locate("protocols"), "protocols", kProtocolKeys);
    const Protocols d;
    f.protocols.ll = number(pr, "ll", d.ll);
    f.protocols.ll128 = number(pr, "ll128", d.ll128);
    f.protocols.simple = number(pr, "simple", d.simple);
  }

  check_fabric(f, [&](const std::string& path) { return doc.locate(path); });
  return f;
}

// ---- writing -------------------------------------------------------------------------------------

std::string quoted(const std::string& s) {
  YAML::Emitter e;
  e << YAML::DoubleQuoted << s;
  return e.c_str();
}

}  // namespace

double Fabric::nic_GBps_per_endpoint() const {
  if (!has_scaleout() || domain_size < 1) return 0;
  return nic_bandwidth_Gbps / 8 * nics_per_domain / domain_size * wire_efficiency;
}

// Endpoints = domains x domain_size. Without scale-out: one domain. With it, every NIC port of a
// domain takes one leaf port in each plane, so one plane's port count bounds the domains:
//   ports = k_top x prod_{i < top} down_i,   down_i = floor(k_i o_i / (1 + o_i))
//   domains = floor(ports / nics_per_domain)
// (non-blocking, one radix k, L tiers: ports = 2 (k/2)^L). Saturates at 2^64 - 1.
std::uint64_t Fabric::max_endpoints() const {
  if (domain_size < 1) return 0;
  const auto size = static_cast<std::uint64_t>(domain_size);
  if (!has_scaleout()) return size;
  if (nics_per_domain < 1) return 0;
  const std::uint64_t domains = ports_per_plane(tiers) / static_cast<std::uint64_t>(nics_per_domain);
  return saturating_mul(domains, size);
}

Fabric parse_fabric(const std::string& yaml_text, const std::string& name_for_errors,
                    const std::vector<std::string>& sets) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    throw std::invalid_argument(name_for_errors + ":" + std::to_string(line) + ": invalid YAML: " + e.msg);
  }
  Doc doc(name_for_errors);
  if (!sets.empty() && !root.IsMap())
    fail(doc.where(root), "",
         "expected a mapping with keys " + known(kRootKeys) + " (got " + shown(root) + ")");
  for (const std::string& s : sets) apply_set(doc, root, s);
  return convert(doc, root);
}

Fabric load_fabric(const std::string& path, const std::vector<std::string>& sets) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot read fabric file: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_fabric(text.str(), path, sets);
}

void validate_fabric(const Fabric& f) {
  const std::string who = f.source.empty() ? "fabric '" + f.name + "'" : f.source;
  check_fabric(f, [&](const std::string&) { return who; });
}

std::string fabric_to_yaml(const Fabric& f, const std::vector<std::pair<std::string, std::string>>& sources) {
  std::map<std::string, std::string> comment;
  for (const auto& [path, src] : sources) {
    std::string s = src;
    std::replace_if(
        s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    std::string& c = comment[path];
    c += (c.empty() ? "" : "; ") + s;
  }
  std::set<std::string> written;
  std::string out;
  // One "key: value" line; `path` names it for its comment.
  const auto line = [&](const std::string& indent, const std::string& key, const std::string& path,
                        const std::string& value) {
    out += indent + key + ":" + (value.empty() ? "" : " " + value);
    written.insert(path);
    if (const auto it = comment.find(path); it != comment.end() && !it->second.empty())
      out += "  # " + it->second;
    out += "\n";
  };
  const auto boolean_text = [](bool b) { return std::string(b ? "true" : "false"); };

  line("", "name", "name", quoted(f.name));
  if (!f.description.empty()) line("", "description", "description", quoted(f.description));
  line("", "endpoint", "endpoint", "");
  line("  ", "kind", "endpoint.kind", quoted(f.endpoint_kind));
  if (f.generation != "other") line("  ", "generation", "endpoint.generation", quoted(f.generation));
  line("  ", "memory_bandwidth_GBps", "endpoint.memory_bandwidth_GBps",
       format_number(f.memory_bandwidth_GBps));
  line("  ", "reduce_bandwidth_GBps", "endpoint.reduce_bandwidth_GBps",
       format_number(f.reduce_bandwidth_GBps));
  if (f.memory_spilled_GBps > 0)
    line("  ", "memory_spilled_bandwidth_GBps", "endpoint.memory_spilled_bandwidth_GBps",
         format_number(f.memory_spilled_GBps));
  if (f.reduce_spilled_GBps > 0)
    line("  ", "reduce_spilled_bandwidth_GBps", "endpoint.reduce_spilled_bandwidth_GBps",
         format_number(f.reduce_spilled_GBps));
  line("", "scale_up", "scale_up", "");
  line("  ", "domain_size", "scale_up.domain_size", std::to_string(f.domain_size));
  line("  ", "bandwidth_GBps", "scale_up.bandwidth_GBps", format_number(f.scaleup_bandwidth_GBps));
  line("  ", "latency_us", "scale_up.latency_us", format_number(f.scaleup_latency_us));
  if (f.scaleup_aggregate_GBps > 0)
    line("  ", "aggregate_bandwidth_GBps", "scale_up.aggregate_bandwidth_GBps",
         format_number(f.scaleup_aggregate_GBps));
  if (f.scaleup_cache_bytes > 0) {
    line("  ", "cache_bytes", "scale_up.cache_bytes", format_number(f.scaleup_cache_bytes));
    line("  ", "spilled_bandwidth_GBps", "scale_up.spilled_bandwidth_GBps", format_number(f.scaleup_spilled_GBps));
  }
  if (f.scaleup_outer_cache_bytes > 0) {
    line("  ", "outer_cache_bytes", "scale_up.outer_cache_bytes", format_number(f.scaleup_outer_cache_bytes));
    line("  ", "outer_spilled_bandwidth_GBps", "scale_up.outer_spilled_bandwidth_GBps",
         format_number(f.scaleup_outer_spilled_GBps));
  }
  if (f.scaleup_outer_eviction_GBps > 0)
    line("  ", "outer_eviction_GBps", "scale_up.outer_eviction_GBps",
         format_number(f.scaleup_outer_eviction_GBps));
  if (f.scaleup_forward_GBps > 0)
    line("  ", "forward_bandwidth_GBps", "scale_up.forward_bandwidth_GBps", format_number(f.scaleup_forward_GBps));
  if (f.scaleup_forward_spilled_GBps > 0)
    line("  ", "forward_spilled_bandwidth_GBps", "scale_up.forward_spilled_bandwidth_GBps",
         format_number(f.scaleup_forward_spilled_GBps));
  if (f.scaleup_forward_overhead_us > 0)
    line("  ", "forward_overhead_us", "scale_up.forward_overhead_us", format_number(f.scaleup_forward_overhead_us));
  if (f.scaleup_exchange_latency_us > 0)
    line("  ", "exchange_latency_us", "scale_up.exchange_latency_us", format_number(f.scaleup_exchange_latency_us));
  line("  ", "in_switch_reduction", "scale_up.in_switch_reduction", boolean_text(f.in_switch_reduction));
  if (f.scaleup_efficiency > 0)
    line("  ", "efficiency", "scale_up.efficiency", format_number(f.scaleup_efficiency));
  if (f.scaleup_nvls_efficiency > 0)
    line("  ", "nvls_efficiency", "scale_up.nvls_efficiency", format_number(f.scaleup_nvls_efficiency));
  if (f.has_scaleout()) {
    line("", "scale_out", "scale_out", "");
    line("  ", "nic_bandwidth_Gbps", "scale_out.nic_bandwidth_Gbps", format_number(f.nic_bandwidth_Gbps));
    line("  ", "nics_per_domain", "scale_out.nics_per_domain", std::to_string(f.nics_per_domain));
    line("  ", "rails", "scale_out.rails", std::to_string(f.rails));
    line("  ", "planes", "scale_out.planes", std::to_string(f.planes));
    line("  ", "latency_us", "scale_out.latency_us", format_number(f.nic_latency_us));
    line("  ", "wire_efficiency", "scale_out.wire_efficiency", format_number(f.wire_efficiency));
    line("  ", "in_network_reduction", "scale_out.in_network_reduction",
         boolean_text(f.in_network_reduction));
    if (f.network_transport != "rdma") line("  ", "transport", "scale_out.transport", quoted(f.network_transport));
    if (f.nic_kind != "other") line("  ", "nic", "scale_out.nic", quoted(f.nic_kind));
    if (f.nic_efficiency > 0) line("  ", "efficiency", "scale_out.efficiency", format_number(f.nic_efficiency));
    line("  ", "tiers", "scale_out.tiers", "");
    for (std::size_t i = 0; i < f.tiers.size(); ++i) {
      const SwitchTier& t = f.tiers[i];
      const std::string p = "scale_out.tiers." + std::to_string(i);
      written.insert(p);
      if (const auto it = comment.find(p); it != comment.end()) out += "    # " + it->second + "\n";
      line("    - ", "name", p + ".name", quoted(t.name));
      line("      ", "radix", p + ".radix", std::to_string(t.radix));
      line("      ", "hop_latency_us", p + ".hop_latency_us", format_number(t.hop_latency_us));
      line("      ", "oversubscription", p + ".oversubscription", format_number(t.oversubscription));
    }
  }
  line("", "protocols", "protocols", "");
  line("  ", "ll", "protocols.ll", format_number(f.protocols.ll));
  line("  ", "ll128", "protocols.ll128", format_number(f.protocols.ll128));
  line("  ", "simple", "protocols.simple", format_number(f.protocols.simple));

  for (const auto& [path, src] : comment)
    if (written.count(path) == 0)
      throw std::invalid_argument("fabric_to_yaml: a source names '" + path + "', which fabric '" + f.name +
                                  "' does not have");
  return out;
}

}  // namespace fb::model
