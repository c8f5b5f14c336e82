#include "harness/plan.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "harness/data_lookup.hpp"
#include "vocab/error.hpp"

namespace fb {

namespace {

std::string where(const std::string& path, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return path + ":" + std::to_string(m.line + 1);
}

// A mapping key as text; a key that is a list or a mapping (`? [a, b]`) is refused with its place
// (as<std::string>() would throw yaml-cpp's "bad conversion", which names no file).
std::string key_text(const std::string& path, const YAML::Node& k) {
  if (!k.IsScalar()) throw UsageError(where(path, k) + ": keys must be plain names");
  return k.Scalar();
}

// `at` is the key's place: a missing value has no line of its own (yaml-cpp marks the next one).
std::string scalar_text(const std::string& path, const std::string& key, const YAML::Node& v,
                        const std::string& at) {
  if (v.IsScalar()) return v.Scalar();
  if (v.IsSequence()) {
    std::string s;
    for (const auto& item : v) {
      if (!item.IsScalar())
        throw UsageError(where(path, item) + ": " + key + ": list items must be plain values");
      s += (s.empty() ? "" : ",") + item.Scalar();
    }
    if (s.empty()) throw UsageError(where(path, v) + ": " + key + ": empty list");
    return s;
  }
  if (v.IsNull()) throw UsageError(at + ": " + key + ": missing value");
  throw UsageError(where(path, v) + ": " + key + ": expected a value or a list of values");
}

// A key as the command line spells it (p2p-api, sample-barrier) or with underscores (p2p_api):
// both name the same key, in its underscore form.
std::string canonical_key(std::string key) {
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

// yaml-cpp keeps the last of duplicate keys silently; a plan that says a key twice (in either
// spelling) is a mistake.
void reject_duplicates(const std::string& path, const YAML::Node& map) {
  std::vector<std::pair<std::string, std::string>> seen;  // (canonical, as written)
  for (const auto& kv : map) {
    const std::string key = key_text(path, kv.first);
    const std::string canon = canonical_key(key);
    const auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == canon; });
    if (it != seen.end())
      throw UsageError(where(path, kv.first) + ": " + key + ": given twice" +
                       (it->second == key ? std::string() : " (as '" + it->second + "' and '" + key + "')"));
    seen.emplace_back(canon, key);
  }
}

void apply_mapping(TestSpec& spec, const std::string& path, const YAML::Node& map) {
  reject_duplicates(path, map);
  for (const auto& kv : map) {
    const std::string key = canonical_key(key_text(path, kv.first));
    apply_test_key(spec, key, scalar_text(path, key, kv.second, where(path, kv.first)),
                   where(path, kv.first));
  }
}

}  // namespace

std::vector<TestSpec> load_plan(const std::string& name_or_path, const KeyValues& overrides) {
  const std::string path = find_data_file(DataKind::plan, name_or_path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(path + ": cannot read plan: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_plan(text.str(), path, overrides);
}

std::vector<TestSpec> parse_plan(const std::string& yaml_text, const std::string& path,
                                 const KeyValues& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw UsageError(path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (!root.IsMap()) throw UsageError(path + ":1: a plan is a mapping with a 'tests' list");

  YAML::Node defaults, tests;
  reject_duplicates(path, root);
  for (const auto& kv : root) {
    const std::string key = key_text(path, kv.first);
    if (key == "description") continue;
    if (key == "defaults") {
      if (!kv.second.IsMap())
        throw UsageError(where(path, kv.second) + ": defaults: expected a mapping of test keys");
      defaults = kv.second;
    } else if (key == "tests") {
      if (!kv.second.IsSequence())
        throw UsageError(where(path, kv.second) + ": tests: expected a list of test mappings");
      tests = kv.second;
    } else {
      throw UsageError(where(path, kv.first) + ": unknown key '" + key +
                       "' (known: description, defaults, tests)");
    }
  }
  if (!tests.IsSequence()) throw UsageError(path + ":1: tests: the plan has no tests (no 'tests' list)");
  if (tests.size() == 0) throw UsageError(where(path, tests) + ": tests: the plan has no tests (empty list)");

  std::vector<TestSpec> out;
  int index = 0;
  for (const auto& t : tests) {
    ++index;
    if (!t.IsMap()) throw UsageError(where(path, t) + ": tests: each test is a mapping of keys");
    TestSpec spec;
    spec.origin = where(path, t);
    spec.name = "test" + std::to_string(index);
    spec.ops.clear();
    if (defaults.IsMap()) apply_mapping(spec, path, defaults);
    apply_mapping(spec, path, t);
    for (const auto& [k, v] : overrides) apply_test_key(spec, k, v, "command line");
    validate_test(spec);
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace fb
