// The fabric file's one field table: every key of configs/fabrics/*.yaml, with its section, a
// typed pointer to its Fabric member, whether it is required, its simple bounds, how the writer
// treats it and what it means. Reading, --set, the per-field checks, fabric_to_yaml and the schema
// tables of configs/fabrics/README.md (fabric_schema_markdown(); a unit test keeps the README in
// step) all come from it, as harness/record_fields.hpp drives every results format. A key's
// default is its member's initialiser in fabric.hpp.
#pragma once

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "model/fabric.hpp"

namespace fb::model {

// A key's value as a typed pointer into a Fabric: readers write through it, the writer and the
// checks read through it. The type is the YAML's: text, whole number, number, true/false.
using FabricRef = std::variant<std::string*, int*, double*, bool*>;

// A rule about one key alone, checked on every fabric, read or built in code. Rules between keys
// (rails divide nics_per_domain, tier names unique, ...) are code in fabric.cpp.
struct Bound {
  enum Kind { none, non_empty, one_of, positive, non_negative, fraction, share, at_least };
  Kind kind = none;
  double min = 0;                    // at_least
  std::vector<std::string> choices;  // one_of
  // at_least: the message's reason, after "(got X)" for a whole number, before it for a number.
  std::string why;
};
inline Bound bound(Bound::Kind kind, double min = 0, std::vector<std::string> choices = {},
                   std::string why = "") {
  Bound b;
  b.kind = kind;
  b.min = min;
  b.choices = std::move(choices);
  b.why = std::move(why);
  return b;
}
inline Bound non_empty() {
  return bound(Bound::non_empty);
}
inline Bound one_of(std::vector<std::string> choices) {
  return bound(Bound::one_of, 0, std::move(choices));
}
inline Bound positive() {
  return bound(Bound::positive);
}
inline Bound non_negative() {
  return bound(Bound::non_negative);
}
inline Bound fraction() {
  return bound(Bound::fraction);
}
// [0, 1]: a share of a rate where 0 means "from the achievable-rate table" (model/rates.hpp).
inline Bound share() {
  return bound(Bound::share);
}
inline Bound at_least(double min, std::string why = "") {
  return bound(Bound::at_least, min, {}, std::move(why));
}

// Whether fabric_to_yaml writes a key whose value is its default.
enum class Write { always, unless_default };

struct FabricField {
  const char* section;  // "" (top level), "endpoint", "scale_up", "scale_out", "scale_out.tiers", "protocols"
  const char* key;      // the YAML key, the member's name
  FabricRef ref;
  bool required = false;
  Bound bound = {};
  const char* unit = "";  // schema doc: "GB/s", "us", "bytes"
  Write write = Write::always;
  const char* meaning = "";
  const char* type_note = "";     // schema doc: said after the type ("divides `nics_per_domain`")
  const char* default_note = "";  // schema doc: said after the default ("as `bandwidth_GBps`")
  // A default computed from the keys before it when the key is absent from a file; the schema
  // doc then shows default_note as the default.
  double (*derived_default)(const Fabric&) = nullptr;
};

// A mapping (or list of mappings) of the file: every path that is not the top level.
struct FabricSection {
  const char* path;  // "scale_up", "scale_out.tiers"
  bool required;
  bool list = false;  // a list of mappings, each with the keys of `path`: the switch tiers
  const char* type_doc = "mapping";
  const char* default_doc = "";  // schema doc, when optional
  const char* meaning = "see below";
  const char* heading = "";  // schema doc: the heading of its own table
  const char* intro = "";    // schema doc: a paragraph under the heading
  // Whether a fabric has this section (written by fabric_to_yaml, checked). nullptr: always.
  bool (*present)(const Fabric&) = nullptr;
  const char* empty_error = "";  // list: the message for an empty list
};

// The field table, pointing into `f`, and for the keys of a switch tier into `tier`.
std::vector<FabricField> fabric_fields(Fabric& f, SwitchTier& tier);
// Every section, parents before children, in the file's order.
const std::vector<FabricSection>& fabric_sections();

// "scale_out.tiers" -> "scale_out" (the section it is in; "" the top level) and "tiers" (its key there).
std::string section_parent(const std::string& path);
std::string section_key(const std::string& path);

// Whether `f` has section `s` (and every section above it).
bool section_present(const FabricSection& s, const Fabric& f);

// The list section's items (the only list: scale_out.tiers).
inline std::vector<SwitchTier>& section_items(Fabric& f) {
  return f.scale_out.tiers;
}

// Shortest text that reads back as the same double.
std::string format_number(double x);
// A value as the YAML writer writes it (text double-quoted).
std::string yaml_value(const FabricRef& ref);

// "FILE:LINE: path: why" (or "--set ...: path: why"), thrown as std::invalid_argument.
[[noreturn]] void fabric_error(const std::string& at, const std::string& path, const std::string& why);

// Where a key path was given, for messages: a file's line, an override, or the fabric's name.
using FabricLocator = std::function<std::string(const std::string& path)>;
// Every value's bounds from the table, then the rules between keys. Throws std::invalid_argument.
void check_fabric(const Fabric& f, const FabricLocator& at);

// The schema tables of configs/fabrics/README.md, rendered from the field table.
std::string fabric_schema_markdown();

}  // namespace fb::model
