// Fabric files read (the structure, the types, --set overrides) and written back, all driven by
// the field table (fabric_fields.cpp): its sections and keys are the schema a file is checked
// against, the navigation of --set paths and the "known: ..." lists in error messages. Value
// ranges and the rules between keys live in check_fabric() (fabric.cpp), which runs on the
// converted Fabric with the file:line (or the --set override) each key came from.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "model/fabric.hpp"
#include "model/fabric_fields.hpp"

namespace fb::model {

namespace {

// ---- schema: the field table's sections and keys -------------------------------------------------

enum class Type { Map, List, Text, Number, Whole, Bool };

struct Key {
  const char* name;
  Type type;
  bool required;
  const std::vector<Key>* children = nullptr;  // Map: its keys; List: the keys of each item
};

Type type_of(const FabricRef& ref) {
  static constexpr Type kTypes[] = {Type::Text, Type::Whole, Type::Number, Type::Bool};  // FabricRef's order
  return kTypes[ref.index()];
}

// The keys of every mapping by its section path ("" the top level): the section's own keys in
// table order, then its child sections.
const std::map<std::string, std::vector<Key>>& schema() {
  static const std::map<std::string, std::vector<Key>> keys = [] {
    std::map<std::string, std::vector<Key>> m;
    m[""];
    for (const FabricSection& s : fabric_sections()) m[s.path];  // entries first: children point at them
    Fabric f;
    SwitchTier t;
    for (const FabricField& k : fabric_fields(f, t))
      m.at(k.section).push_back({k.key, type_of(k.ref), k.required});
    for (const FabricSection& s : fabric_sections()) {
      const Type type = s.list ? Type::List : Type::Map;
      // Key names must outlive the map: the section paths are literals, and so is their last part.
      const char* name = s.path + std::string(s.path).size() - section_key(s.path).size();
      m.at(section_parent(s.path)).push_back({name, type, s.required, &m.at(s.path)});
    }
    return m;
  }();
  return keys;
}
const std::vector<Key>& keys_of(const std::string& section) {
  return schema().at(section);
}

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
        fabric_error(at, path,
                     "expected a mapping with keys " + known(*k.children) + " (got " + shown(v) + ")");
      return;
    case Type::List:
      if (!v.IsSequence())
        fabric_error(
            at, path,
            "expected a list of mappings with keys " + known(*k.children) + " (got " + shown(v) + ")");
      return;
    case Type::Text:
      if (!v.IsScalar()) fabric_error(at, path, "expected a text value (got " + shown(v) + ")");
      return;
    case Type::Number:
      if (!v.IsScalar() || !parse_number(v.Scalar()))
        fabric_error(at, path, "expected a number (got " + shown(v) + ")");
      return;
    case Type::Whole:
      if (!v.IsScalar() || !parse_whole(v.Scalar()))
        fabric_error(at, path, "expected a whole number (got " + shown(v) + ")");
      return;
    case Type::Bool:
      if (!v.IsScalar() || !parse_bool(v))
        fabric_error(at, path, "expected true or false (got " + shown(v) + ")");
      return;
  }
}

// Checks a mapping against its schema: a mapping, no duplicate or unknown keys, every required
// key present, every value of the right type. Records where each key was given. Returns the
// values by key.
std::map<std::string, YAML::Node> open_map(Doc& doc, const YAML::Node& map, const std::string& at,
                                           const std::string& path, const std::vector<Key>& keys) {
  if (!map.IsMap())
    fabric_error(at, path, "expected a mapping with keys " + known(keys) + " (got " + shown(map) + ")");
  std::map<std::string, YAML::Node> out;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) fabric_error(doc.where(kv.first), path, "keys must be plain names");
    const std::string key = kv.first.Scalar();
    const std::string kpath = join(path, key);
    const Key* k = find_key(keys, key);
    if (k == nullptr)
      fabric_error(doc.where(kv.first), kpath, "unknown key '" + key + "' (known: " + known(keys) + ")");
    if (out.count(key) != 0) fabric_error(doc.where(kv.first), kpath, "given twice");
    const std::string kat = doc.where(kv.first, kv.second);
    check_type(*k, kpath, kv.second, kat);
    doc.place(kpath, kat);
    out.emplace(key, kv.second);
  }
  for (const Key& k : keys)
    if (k.required && out.count(k.name) == 0)
      fabric_error(at, path, "missing required key '" + std::string(k.name) + "'");
  return out;
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
      fabric_error(doc.where(kv.first), join(path, kv.first.Scalar()), "given twice");
}

// "a.b.0.c" split at its dots; an empty part is an error naming the override.
std::vector<std::string> path_parts(const std::string& who, const std::string& path) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const auto dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (const auto& p : parts)
    if (p.empty()) throw std::invalid_argument(who + ": empty key in path '" + path + "'");
  return parts;
}

// One --set walking down the YAML tree: where it is, and the keys there.
struct SetWalk {
  Doc& doc;
  std::string who;  // "--set PATH=VALUE"
  YAML::Node node;
  const std::vector<Key>* keys = nullptr;       // the keys of `node`; nullptr when `node` is a list
  const std::vector<Key>* item_keys = nullptr;  // when `node` is a list: the keys of its items
  std::string sofar;

  [[noreturn]] void error(const std::string& why) const { throw std::invalid_argument(who + ": " + why); }

  // Steps from a list into its item `part` (an index; one past the end appends an item).
  void into_item(const std::string& part, bool last) {
    const bool digits = std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    const auto index = digits ? parse_whole(part) : std::nullopt;
    if (!index) error("'" + part + "' is not an index ('" + sofar + "' is a list: use 0, 1, ...)");
    const std::size_t n = node.size();
    const auto idx = static_cast<std::size_t>(*index);
    if (idx > n)
      error("index " + part + " is out of range ('" + sofar + "' has " + std::to_string(n) + " items; " +
            std::to_string(n) + " appends one)");
    sofar = join(sofar, part);
    if (last)
      error("'" + sofar + "' is a list item: set one of its keys (" + known(*item_keys) + "), e.g. " + sofar +
            "." + item_keys->front().name + "=...");
    YAML::Node item;
    if (idx == n) {
      item = YAML::Node(YAML::NodeType::Map);
      node.push_back(item);
      doc.mark_created(item, who);
    } else {
      item.reset(node[idx]);
      if (!item.IsMap()) fabric_error(doc.where(item), sofar, "expected a mapping (got " + shown(item) + ")");
    }
    node.reset(item);
    keys = item_keys;
  }

  // Sets (or, with an empty value, removes) key `k` of the mapping `node`.
  void set(const Key& k, const std::string& part, const std::string& value) {
    const std::optional<YAML::Node> child = child_of(node, part);
    if (value.empty()) {
      if (k.required) error("'" + sofar + "' is required and cannot be removed");
      if (child) node.remove(part);
      return;
    }
    if (k.type == Type::Map || k.type == Type::List)
      error("'" + sofar + "' is a " + (k.type == Type::Map ? "mapping" : "list") +
            ": set one of its keys, e.g. " + sofar + (k.type == Type::Map ? "." : ".0.") +
            k.children->front().name + "=..." + (k.required ? "" : ", or remove it with " + sofar + "="));
    YAML::Node v(value);
    doc.mark_created(v, who);
    node[part] = v;
  }

  // Steps into key `k` of the mapping `node`, creating it when absent.
  void into_key(const Key& k, const std::string& part) {
    if (k.type != Type::Map && k.type != Type::List)
      error("'" + sofar + "' is a value and has no keys below it");
    YAML::Node next;
    if (const std::optional<YAML::Node> child = child_of(node, part)) {
      next.reset(*child);
      if (k.type == Type::List && !next.IsSequence())
        fabric_error(doc.where(next), sofar, "expected a list (got " + shown(next) + ")");
    } else {
      next = YAML::Node(k.type == Type::List ? YAML::NodeType::Sequence : YAML::NodeType::Map);
      doc.mark_created(next, who);
      node[part] = next;
    }
    node.reset(next);
    keys = k.type == Type::List ? nullptr : k.children;
    item_keys = k.type == Type::List ? k.children : nullptr;
  }
};

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
  const std::vector<std::string> parts = path_parts(who, path);

  SetWalk w{doc, who, {}, &keys_of(""), nullptr, ""};
  w.node.reset(root);  // rebinds; operator= on a Node would overwrite the node it refers to
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    if (w.keys == nullptr) {
      w.into_item(part, last);
      continue;
    }
    if (!w.node.IsMap())
      fabric_error(doc.where(w.node), w.sofar, "expected a mapping (got " + shown(w.node) + ")");
    reject_duplicates(doc, w.node, w.sofar);
    const Key* k = find_key(*w.keys, part);
    if (k == nullptr) w.error("unknown key '" + part + "' (known: " + known(*w.keys) + ")");
    w.sofar = join(w.sofar, part);
    if (last) return w.set(*k, part, value);
    w.into_key(*k, part);
  }
}

// ---- conversion ----------------------------------------------------------------------------------

using Values = std::map<std::string, YAML::Node>;  // a mapping's checked values by key

// Sets the keys of `section` that `values` gives; the others keep their defaults (or get their
// derived default). Types were checked by open_map.
void assign(const std::string& section, const Values& values, Fabric& f, SwitchTier& tier) {
  for (FabricField& k : fabric_fields(f, tier)) {
    if (section != k.section) continue;
    const auto it = values.find(k.key);
    if (it == values.end()) {
      if (k.derived_default != nullptr) *std::get<double*>(k.ref) = k.derived_default(f);
      continue;
    }
    const YAML::Node& v = it->second;
    if (auto* s = std::get_if<std::string*>(&k.ref)) **s = v.Scalar();
    if (auto* i = std::get_if<int*>(&k.ref)) **i = *parse_whole(v.Scalar());
    if (auto* d = std::get_if<double*>(&k.ref)) **d = *parse_number(v.Scalar());
    if (auto* b = std::get_if<bool*>(&k.ref)) **b = *parse_bool(v);
  }
}

void read_map(Doc& doc, const std::string& section, const Values& values, Fabric& f);

// A list section: each item a mapping with the section's keys.
void read_list(Doc& doc, const FabricSection& s, const YAML::Node& list, Fabric& f) {
  const std::string path = s.path;
  if (list.size() == 0) fabric_error(doc.locate(path), path, s.empty_error);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string p = path + "." + std::to_string(i);
    doc.place(p, doc.where(item));
    const Values values = open_map(doc, item, doc.where(item), p, keys_of(path));
    SwitchTier t;
    assign(path, values, f, t);
    section_items(f).push_back(t);
  }
}

// The keys of a mapping, then the sections below it that the file gives.
void read_map(Doc& doc, const std::string& section, const Values& values, Fabric& f) {
  SwitchTier unused;
  assign(section, values, f, unused);
  for (const FabricSection& s : fabric_sections()) {
    if (section_parent(s.path) != section) continue;
    const auto it = values.find(section_key(s.path));
    if (it == values.end()) continue;  // optional: open_map checked the required ones
    if (s.list)
      read_list(doc, s, it->second, f);
    else
      read_map(doc, s.path, open_map(doc, it->second, doc.locate(s.path), s.path, keys_of(s.path)), f);
  }
}

Fabric convert(Doc& doc, const YAML::Node& root) {
  Fabric f;
  f.source = doc.file();
  read_map(doc, "", open_map(doc, root, doc.where(root), "", keys_of("")), f);
  check_fabric(f, [&](const std::string& path) { return doc.locate(path); });
  return f;
}

// ---- writing -------------------------------------------------------------------------------------

// fabric_to_yaml's output: one "key: value" line at a time, with the comment `sources` give its path.
class Writer {
 public:
  explicit Writer(const std::vector<std::pair<std::string, std::string>>& sources) {
    for (const auto& [path, src] : sources) {
      std::string s = src;
      std::replace_if(
          s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
      std::string& c = comment_[path];
      c += (c.empty() ? "" : "; ") + s;
    }
  }

  void line(const std::string& indent, const std::string& key, const std::string& path,
            const std::string& value) {
    out_ += indent + key + ":" + (value.empty() ? "" : " " + value);
    written_.insert(path);
    if (const auto it = comment_.find(path); it != comment_.end() && !it->second.empty())
      out_ += "  # " + it->second;
    out_ += "\n";
  }
  // A list item's own comment, on a line before it.
  void item(const std::string& indent, const std::string& path) {
    written_.insert(path);
    if (const auto it = comment_.find(path); it != comment_.end()) out_ += indent + "# " + it->second + "\n";
  }

  // The keys of `section` (list items: `tier`'s), then the sections below it that `f` has.
  void map(Fabric& f, const std::string& section, SwitchTier& tier, const std::string& indent,
           const std::string& prefix, const std::string& first_indent) {
    Fabric defaults;
    SwitchTier default_tier;
    const std::vector<FabricField> fields = fabric_fields(f, tier),
                                   unset = fabric_fields(defaults, default_tier);
    std::string lead = first_indent;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const FabricField& k = fields[i];
      if (section != k.section) continue;
      const std::string value = yaml_value(k.ref);
      if (k.write == Write::unless_default && value == yaml_value(unset[i].ref)) continue;
      line(lead, k.key, prefix + k.key, value);
      lead = indent;
    }
    for (const FabricSection& s : fabric_sections()) {
      if (section_parent(s.path) != section || !section_present(s, f)) continue;
      line(indent, section_key(s.path), s.path, "");
      if (!s.list) {
        map(f, s.path, tier, indent + "  ", std::string(s.path) + ".", indent + "  ");
        continue;
      }
      for (std::size_t i = 0; i < section_items(f).size(); ++i) {
        const std::string p = std::string(s.path) + "." + std::to_string(i);
        item(indent + "  ", p);
        map(f, s.path, section_items(f)[i], indent + "    ", p + ".", indent + "  - ");
      }
    }
  }

  std::string finish(const Fabric& f) const {
    for (const auto& [path, src] : comment_)
      if (written_.count(path) == 0)
        throw std::invalid_argument("fabric_to_yaml: a source names '" + path + "', which fabric '" + f.name +
                                    "' does not have");
    return out_;
  }

 private:
  std::map<std::string, std::string> comment_;
  std::set<std::string> written_;
  std::string out_;
};

}  // namespace

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
    fabric_error(doc.where(root), "",
                 "expected a mapping with keys " + known(keys_of("")) + " (got " + shown(root) + ")");
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

std::string fabric_to_yaml(const Fabric& f, const std::vector<std::pair<std::string, std::string>>& sources) {
  Writer w(sources);
  Fabric copy = f;
  SwitchTier unused;
  w.map(copy, "", unused, "", "", "");
  return w.finish(f);
}

}  // namespace fb::model
