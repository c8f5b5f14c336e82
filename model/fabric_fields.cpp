// The fabric file's field table (see fabric_fields.hpp) and the schema doc rendered from it.
#include "model/fabric_fields.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <stdexcept>

#include "model/rates.hpp"

namespace fb::model {

namespace {

// Default: an elementwise reduction reads two inputs and writes one output per output byte.
double reduce_default(const Fabric& f) {
  return f.endpoint.memory_bandwidth_GBps / 3;
}

bool has_scaleout(const Fabric& f) {
  return f.has_scaleout();
}

}  // namespace

// The table's entries name the members they set and leave the others at their defaults.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
// clang-format off

// One line per key: adding a key to the fabric files is a member in fabric.hpp and a line here.
std::vector<FabricField> fabric_fields(Fabric& f, SwitchTier& tier) {
  Endpoint& e = f.endpoint;
  ScaleUp& u = f.scale_up;
  ScaleOut& o = f.scale_out;
  SwitchTier& t = tier;
  Protocols& p = f.protocols;
  const Write if_set = Write::unless_default;
  return {
      {.section = "", .key = "name", .ref = &f.name, .required = true, .bound = non_empty(),
       .meaning = "the fabric's name (shipped files: the file name)"},
      {.section = "", .key = "description", .ref = &f.description, .write = if_set, .meaning = "one line for humans"},
      {.section = "", .key = "nccl_version", .ref = &f.nccl_version, .write = if_set,
       .meaning = "GPUs: the NCCL release (`X.Y` or `X.Y.Z`; on EFA with the aws-ofi-nccl plugin of its time) "
                  "whose behaviour is modelled where releases differ (model/rates.cpp: EFA v1 goodput before "
                  "2.10); empty: the newest. `model --against` sets it from a row's `nccl_version`"},

      {.section = "endpoint", .key = "kind", .ref = &e.kind, .required = true, .bound = one_of({"gpu", "host"}),
       .meaning = "a GPU (HBM) or a host rank (DRAM)"},
      {.section = "endpoint", .key = "generation", .ref = &e.generation,
       .bound = one_of(generation_names()), .write = if_set,
       .meaning = "GPU generation: it picks the achievable-rate table (model/rates.cpp: the share of the NVLink "
                  "line rate NCCL's ring and NVLS reach) and NCCL's tuning constants (`hopper`: llMaxBw, "
                  "per-channel caps); `other`: shares of 1 and protocol facts only"},
      {.section = "endpoint", .key = "memory_bandwidth_GBps", .ref = &e.memory_bandwidth_GBps, .required = true,
       .bound = positive(), .unit = "GB/s", .meaning = "memory bandwidth of one endpoint"},
      {.section = "endpoint", .key = "reduce_bandwidth_GBps", .ref = &e.reduce_bandwidth_GBps, .bound = positive(),
       .unit = "GB/s",
       .meaning = "elementwise reduction throughput, output bytes per second; the default assumes the reduction "
                  "is memory-bound and moves 3 bytes per output byte (2 reads + 1 write)",
       .default_note = "memory_bandwidth_GBps / 3", .derived_default = reduce_default},
      {.section = "endpoint", .key = "memory_spilled_bandwidth_GBps", .ref = &e.memory_spilled_bandwidth_GBps,
       .bound = non_negative(), .unit = "GB/s", .write = if_set,
       .meaning = "hosts with `scale_up.cache_bytes`: `memory_bandwidth_GBps` for the share of an op's working "
                  "set beyond the cache. `0`: that share is slowed by the copies' ratio (`bandwidth_GBps / "
                  "spilled_bandwidth_GBps`) instead. `calibrate` sets it from the host memory probe's 8 MiB "
                  "buffers"},
      {.section = "endpoint", .key = "reduce_spilled_bandwidth_GBps", .ref = &e.reduce_spilled_bandwidth_GBps,
       .bound = non_negative(), .unit = "GB/s", .write = if_set,
       .meaning = "hosts with `scale_up.cache_bytes`: `reduce_bandwidth_GBps` for the share of an op's working "
                  "set beyond the cache. `0`: as for `memory_spilled_bandwidth_GBps`. `calibrate` sets it from "
                  "the host memory probe's 8 MiB buffers"},

      {.section = "scale_up", .key = "domain_size", .ref = &u.domain_size, .required = true, .bound = at_least(1),
       .meaning = "endpoints per domain: GPUs per NVLink domain, ranks per host"},
      {.section = "scale_up", .key = "bandwidth_GBps", .ref = &u.bandwidth_GBps, .required = true,
       .bound = positive(), .unit = "GB/s", .meaning = "per endpoint per direction inside the domain"},
      {.section = "scale_up", .key = "latency_us", .ref = &u.latency_us, .required = true, .bound = non_negative(),
       .unit = "us", .meaning = "one-way, endpoint to endpoint inside the domain"},
      {.section = "scale_up", .key = "aggregate_bandwidth_GBps", .ref = &u.aggregate_bandwidth_GBps,
       .bound = non_negative(), .unit = "GB/s", .write = if_set,
       .meaning = "what all of the domain's concurrent transfers share in total: with k transfers at once each "
                  "gets `min(bandwidth_GBps, aggregate_bandwidth_GBps / k)`. For host ranks the memory system "
                  "every shared-memory copy goes through (`calibrate` fits it from `bidir` rows); leave it out "
                  "for a non-blocking switch such as NVSwitch",
       .default_note = "none"},
      {.section = "scale_up", .key = "cache_bytes", .ref = &u.cache_bytes, .bound = non_negative(), .unit = "bytes",
       .write = if_set,
       .meaning = "hosts: the working set up to which shared-memory copies run from the CPU caches. The working "
                  "set of an op of n bytes per rank is 2 n per rank on the host (a send and a receive buffer; "
                  "all-reduce and reduce-scatter over point-to-point add two receive slots of min(256 KiB, n / "
                  "ranks)). All of it stays in cache up to `cache_bytes`, a share 2 - working set / "
                  "`cache_bytes` beyond (an op streams through its buffers in the same order each time, so an "
                  "LRU-like cache evicts lines before their reuse), none from twice `cache_bytes`; the rest "
                  "moves at `spilled_bandwidth_GBps`, and the op's memory and reduction terms slow down by the "
                  "same ratio. An effective size, not the datasheet's LLC: `calibrate` fits it from `pingpong` "
                  "rows whose rate drops at large sizes. Give both keys or neither",
       .default_note = "not modelled"},
      {.section = "scale_up", .key = "spilled_bandwidth_GBps", .ref = &u.spilled_bandwidth_GBps,
       .bound = non_negative(), .unit = "GB/s", .write = if_set,
       .meaning = "hosts: the per-endpoint rate of the bytes beyond `cache_bytes` (at most `bandwidth_GBps`)"},
      {.section = "scale_up", .key = "outer_cache_bytes", .ref = &u.outer_cache_bytes, .bound = non_negative(),
       .unit = "bytes", .write = if_set,
       .meaning = "hosts: a second knee, beyond `cache_bytes` (the share of the last-level cache the ranks get, "
                  "where `cache_bytes` is the L2): the share of the working set it does not keep (all of it up "
                  "to `outer_cache_bytes`, 2 - working set / `outer_cache_bytes` beyond, none from twice its "
                  "size; never less than `cache_bytes` keeps) moves at `outer_spilled_bandwidth_GBps`, and the "
                  "memory and reduction terms slow down by `outer_spilled_bandwidth_GBps / "
                  "spilled_bandwidth_GBps` there. `calibrate` fits it from `bidir` and `pingpong` rows with a "
                  "second drop. Give both keys or neither",
       .default_note = "one knee"},
      {.section = "scale_up", .key = "outer_spilled_bandwidth_GBps", .ref = &u.outer_spilled_bandwidth_GBps,
       .bound = non_negative(), .unit = "GB/s", .write = if_set,
       .meaning = "hosts: the rate of the bytes beyond `outer_cache_bytes` (at most `spilled_bandwidth_GBps`)"},
      {.section = "scale_up", .key = "outer_eviction_GBps", .ref = &u.outer_eviction_GBps, .bound = non_negative(),
       .unit = "GB/s", .write = if_set,
       .meaning = "hosts with `outer_cache_bytes`: the rate at which other work (other tenants of a shared "
                  "last-level cache, other processes) brings lines into the outer cache. The outer knee then "
                  "sees the working set plus this rate x the op's reuse interval (its time; a round trip, twice "
                  "the reported time, for `pingpong` and `relay`), so an op that runs longer spills sooner than "
                  "a fast one of the same working set. The model solves that fixed point by iterating from the "
                  "time without it. `calibrate` fits it when it cuts the knee fits' error to 3/4 or less",
       .default_note = "no other work"},
      {.section = "scale_up", .key = "forward_bandwidth_GBps", .ref = &u.forward_bandwidth_GBps,
       .bound = non_negative(), .unit = "GB/s", .write = if_set,
       .meaning = "hosts: the in-cache rate of a transfer whose data the sender has just written: every hop of a "
                  "ring after the first, recursive doubling's and Rabenseifner's later steps, a chain's or "
                  "binomial tree's non-root hops, Bruck's packed steps forward what the rank received or "
                  "reduced, and a peer's single-copy read of lines dirty in the sender's cache is slower. The "
                  "share of the working set beyond `cache_bytes` moves at `spilled_bandwidth_GBps` as any other. "
                  "At most `bandwidth_GBps`; `calibrate` fits it from `relay` rows",
       .default_note = "as `bandwidth_GBps`"},
      {.section = "scale_up", .key = "forward_spilled_bandwidth_GBps", .ref = &u.forward_spilled_bandwidth_GBps,
       .bound = non_negative(), .unit = "GB/s", .write = if_set,
       .meaning = "hosts with `cache_bytes`: the rate of forwarded data in the share of the working set beyond "
                  "the cache (written back by the sender, yet on the 2-core test VM still 10-30% slower than "
                  "clean data there). At most `spilled_bandwidth_GBps`; `calibrate` fits it from `relay` rows "
                  "whose working set is at least twice `cache_bytes` (and within `outer_cache_bytes`)",
       .default_note = "as `spilled_bandwidth_GBps`"},
      {.section = "scale_up", .key = "forward_overhead_us", .ref = &u.forward_overhead_us, .bound = non_negative(),
       .unit = "us", .write = if_set,
       .meaning = "hosts: what each forwarded transfer (as listed for `forward_bandwidth_GBps`) pays on top of "
                  "its step's latency, whatever its size. `calibrate` fits it with the forward rate from `relay` "
                  "rows: the intercept of the forwarded legs' fit"},
      {.section = "scale_up", .key = "exchange_latency_us", .ref = &u.exchange_latency_us, .bound = non_negative(),
       .unit = "us", .write = if_set,
       .meaning = "hosts: the latency of a step in which every rank both sends and receives (a `bidir` message; "
                  "every step of ring, recursive doubling/halving, Rabenseifner, pairwise, Bruck, "
                  "hierarchical's rings, chain's middle ranks, linear): one CPU per rank runs both directions' "
                  "protocol and copies. One-way messages (`pingpong`, `relay`, `unidir`, a binomial tree's "
                  "steps) pay `latency_us`. `calibrate` fits it from `bidir` rows when it exceeds `latency_us` "
                  "by more than 3%",
       .default_note = "as `latency_us`"},
      {.section = "scale_up", .key = "in_switch_reduction", .ref = &u.in_switch_reduction,
       .meaning = "reductions in the switch (NVLink SHARP, NCCL's NVLS)"},
      {.section = "scale_up", .key = "efficiency", .ref = &u.efficiency, .bound = share(), .write = if_set,
       .meaning = "GPUs: the share of `bandwidth_GBps` NCCL's ring (and its point-to-point) moves as data, "
                  "after NVLink's protocol and NCCL's overhead; hosts: 1 (`calibrate` fits their rates)",
       .default_note = "`0`: the generation's table (model/rates.cpp)"},
      {.section = "scale_up", .key = "nvls_efficiency", .ref = &u.nvls_efficiency, .bound = share(), .write = if_set,
       .meaning = "with `in_switch_reduction`: the share of `bandwidth_GBps` at which NVLS reads and writes each "
                  "GPU's data (an all-reduce moves n (1 + 1/g) each way per GPU: algbw = rate x g / (g + 1))",
       .default_note = "`0`: the generation's table (model/rates.cpp)"},

      {.section = "scale_out", .key = "nic_bandwidth_Gbps", .ref = &o.nic_bandwidth_Gbps, .required = true,
       .bound = positive(), .unit = "Gb/s",
       .meaning = "line rate of one NIC per direction, all of its planes together"},
      {.section = "scale_out", .key = "nics_per_domain", .ref = &o.nics_per_domain, .required = true,
       .bound = at_least(1), .meaning = "NICs serving one domain (8 on an HGX board)"},
      {.section = "scale_out", .key = "rails", .ref = &o.rails, .bound = at_least(1),
       .meaning = "leaf groups a domain's NICs attach to (rail-optimised: NIC i of every domain on rail i)",
       .type_note = "divides `nics_per_domain`"},
      {.section = "scale_out", .key = "planes", .ref = &o.planes, .bound = at_least(1),
       .meaning = "identical parallel networks; each NIC's bandwidth is split into one port per plane"},
      {.section = "scale_out", .key = "latency_us", .ref = &o.latency_us, .required = true, .bound = non_negative(),
       .unit = "us", .meaning = "one-way NIC + PCIe + software latency, not counting switch hops"},
      {.section = "scale_out", .key = "wire_efficiency", .ref = &o.wire_efficiency, .bound = fraction(),
       .meaning = "payload share of line rate after packet headers"},
      {.section = "scale_out", .key = "in_network_reduction", .ref = &o.in_network_reduction,
       .meaning = "reductions in the switches (SHARP, NCCL's CollNet)"},
      {.section = "scale_out", .key = "transport", .ref = &o.transport, .bound = one_of({"rdma", "tcp", "any"}),
       .write = if_set,
       .meaning = "how ranks on different domains should be connected: InfiniBand/RoCE verbs (UCX `rc`, `dc`, "
                  "`ud`, ...), TCP sockets (the emulator), or anything; `fabricbench validate` fails a pair that "
                  "used another transport (traffic that fell back to TCP)"},
      {.section = "scale_out", .key = "nic", .ref = &o.nic,
       .bound = one_of(nic_names()), .write = if_set,
       .meaning = "the NIC kind, for the achievable-rate table (model/rates.cpp): `connectx` (NCCL over "
                  "InfiniBand or RoCE verbs), AWS EFA generations, GCP GPUDirect-TCPX(O); `other`: a share of 1 "
                  "and no added latency"},
      {.section = "scale_out", .key = "efficiency", .ref = &o.efficiency, .bound = share(), .write = if_set,
       .meaning = "GPUs: the share of a NIC's payload rate (line rate x `wire_efficiency`) NCCL reaches",
       .default_note = "`0`: the NIC kind's table (model/rates.cpp)"},

      {.section = "scale_out.tiers", .key = "name", .ref = &t.name, .required = true, .bound = non_empty(),
       .meaning = "`leaf`, `spine`, `core`, ...; bottlenecks are reported as `tier:NAME`", .type_note = "unique"},
      {.section = "scale_out.tiers", .key = "radix", .ref = &t.radix, .required = true,
       .bound = at_least(2, ": a switch needs a port down and a port up"),
       .meaning = "ports per switch, counted at the per-plane port speed (`nic_bandwidth_Gbps / planes`)"},
      {.section = "scale_out.tiers", .key = "hop_latency_us", .ref = &t.hop_latency_us, .required = true,
       .bound = non_negative(), .unit = "us", .meaning = "port-to-port latency through one switch of this tier"},
      {.section = "scale_out.tiers", .key = "oversubscription", .ref = &t.oversubscription,
       .bound = at_least(1, ", the down:up bandwidth ratio; 1 is non-blocking"),
       .meaning = "down:up bandwidth ratio of this tier's switches (1 = non-blocking; 7 = 1:7). Must be 1 at the "
                  "top tier, which has no up-links"},
      {.section = "scale_out.tiers", .key = "load_balancing", .ref = &t.load_balancing,
       .bound = one_of({"ecmp", "adaptive", "spray", "static"}), .write = if_set,
       .meaning = "how this tier's switches spread the flows that climb above it over their equal-cost up-links "
                  "(docs/routing.md): `ecmp` hashes each flow onto one up-link (collisions: the most loaded "
                  "up-link sets the step's time), `adaptive` spreads packets/flowlets evenly at "
                  "`adaptive_efficiency` (InfiniBand AR, Spectrum-X), `spray` spreads packets evenly (AWS SRD), "
                  "`static` routes by destination (D-mod-k: shifts and rings do not collide). The top tier has "
                  "no up-links: its value changes nothing",
       .default_note = "the even spread the model assumed before this key"},
      {.section = "scale_out.tiers", .key = "flows_per_connection", .ref = &t.flows_per_connection,
       .bound = at_least(1), .write = if_set,
       .meaning = "`ecmp`: flows hashed independently per connection, as NCCL_IB_QPS_PER_CONNECTION sets its "
                  "queue pairs (NCCL's default: 1)"},
      {.section = "scale_out.tiers", .key = "adaptive_efficiency", .ref = &t.adaptive_efficiency,
       .bound = fraction(), .write = if_set,
       .meaning = "`adaptive`: the share of the ideal even spread adaptive routing reaches (0.95: NVIDIA's "
                  "Spectrum-X figure, 95% effective data throughput at scale vs 60% for standard Ethernet "
                  "ECMP; docs/routing.md)"},
      {.section = "scale_out.tiers", .key = "hash", .ref = &t.hash, .bound = one_of({"l3", "l4"}), .write = if_set,
       .meaning = "`ecmp`: the header fields hashed, addresses (`l3`) or the 5-tuple (`l4`, RoCEv2's UDP source "
                  "port per queue pair gives each flow its own hash); informational: the model hashes flows "
                  "uniformly, the emulated fabric configures it"},

      {.section = "protocols", .key = "ll", .ref = &p.ll, .bound = fraction(),
       .meaning = "LL: 16-byte lines carrying 8 bytes of data and flags"},
      {.section = "protocols", .key = "ll128", .ref = &p.ll128, .bound = fraction(),
       .meaning = "LL128: 128-byte lines carrying 120 bytes of data"},
      {.section = "protocols", .key = "simple", .ref = &p.simple, .bound = fraction(),
       .meaning = "Simple: the full payload"},
  };
}

const std::vector<FabricSection>& fabric_sections() {
  static const std::vector<FabricSection> sections{
      {.path = "endpoint", .required = true, .heading = "`endpoint`"},
      {.path = "scale_up", .required = true, .heading = "`scale_up`"},
      {.path = "scale_out", .required = false, .default_doc = "absent",
       .meaning = "absent: one scale-up domain and nothing else (one host, one NVL72 rack)",
       .heading = "`scale_out` (optional)", .present = has_scaleout},
      {.path = "scale_out.tiers", .required = true, .list = true, .type_doc = "list of tier mappings, at least one",
       .meaning = "the switch tiers, leaf first", .heading = "`scale_out.tiers`: each tier",
       .empty_error = "at least one tier is required (leaf first)"},
      {.path = "protocols", .required = false, .default_doc = "see below",
       .meaning = "NCCL protocol payload efficiencies", .heading = "`protocols` (optional)",
       .intro = "Payload efficiency of NCCL's protocols, from their line formats."},
  };
  return sections;
}
// clang-format on
#pragma GCC diagnostic pop

std::string section_parent(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

std::string section_key(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

bool section_present(const FabricSection& s, const Fabric& f) {
  const std::string path = s.path;
  for (const FabricSection& above : fabric_sections())
    if (above.present != nullptr && !above.present(f) &&
        (path == above.path || path.rfind(std::string(above.path) + ".", 0) == 0))
      return false;
  return true;
}

std::string format_number(double x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string yaml_value(const FabricRef& ref) {
  struct Text {
    std::string operator()(const std::string* s) const {
      YAML::Emitter e;
      e << YAML::DoubleQuoted << *s;
      return e.c_str();
    }
    std::string operator()(const int* x) const { return std::to_string(*x); }
    std::string operator()(const double* x) const { return format_number(*x); }
    std::string operator()(const bool* b) const { return *b ? "true" : "false"; }
  };
  return std::visit(Text{}, ref);
}

void fabric_error(const std::string& at, const std::string& path, const std::string& why) {
  throw std::invalid_argument(at + ": " + (path.empty() ? "" : path + ": ") + why);
}

// ---- the schema doc ------------------------------------------------------------------------------

namespace {

std::string type_doc(const FabricField& k) {
  const Bound& b = k.bound;
  std::string s;
  switch (k.ref.index()) {
    case 0:  // text
      if (b.kind == Bound::one_of) {
        for (std::size_t i = 0; i < b.choices.size(); ++i)
          s += (i == 0 ? "" : i + 1 == b.choices.size() ? " or " : ", ") + ("`" + b.choices[i] + "`");
      } else {
        s = b.kind == Bound::non_empty ? "text, non-empty" : "text";
      }
      break;
    case 1:  // whole number
      s = "whole number" + (b.kind == Bound::at_least ? " >= " + format_number(b.min) : "");
      break;
    case 2:  // number
      s = "number";
      if (b.kind == Bound::positive) s += " > 0";
      if (b.kind == Bound::non_negative) s += " >= 0";
      if (b.kind == Bound::fraction) s += " in (0, 1]";
      if (b.kind == Bound::share) s += " in [0, 1]";
      if (b.kind == Bound::at_least) s += " >= " + format_number(b.min);
      break;
    default:
      s = "true/false";
  }
  if (*k.type_note != '\0') s += std::string(", ") + k.type_note;
  if (*k.unit != '\0') s += std::string(", ") + k.unit;
  return s;
}

std::string default_doc(const FabricField& k) {
  if (k.required) return "";
  if (k.derived_default != nullptr) return std::string("`") + k.default_note + "`";
  std::string value = yaml_value(k.ref);
  if (const auto* s = std::get_if<std::string*>(&k.ref); s != nullptr && !(*s)->empty()) value = **s;
  return "`" + value + "`" + (*k.default_note != '\0' ? std::string(" (") + k.default_note + ")" : "");
}

std::string row(const std::string& key, const std::string& type, bool required, const std::string& fallback,
                const std::string& meaning) {
  return "| `" + key + "` | " + type + " | " + (required ? "required" : "optional") + " |" +
         (fallback.empty() ? "" : " " + fallback) + " | " + meaning + " |\n";
}

// The table of one section's keys, then of the sections below it.
std::string section_table(const std::string& section, const std::vector<FabricField>& fields) {
  std::string out = "| key | type, unit | | default | meaning |\n|---|---|---|---|---|\n";
  for (const FabricField& k : fields)
    if (section == k.section) out += row(k.key, type_doc(k), k.required, default_doc(k), k.meaning);
  for (const FabricSection& s : fabric_sections()) {
    if (section_parent(s.path) == section)
      out += row(section_key(s.path), s.type_doc, s.required, s.default_doc, s.meaning);
  }
  return out;
}

}  // namespace

std::string fabric_schema_markdown() {
  Fabric f;
  SwitchTier t;
  const std::vector<FabricField> fields = fabric_fields(f, t);
  std::string out = "### Top level\n\n" + section_table("", fields);
  for (const FabricSection& s : fabric_sections()) {
    out += std::string("\n### ") + s.heading + "\n\n";
    if (*s.intro != '\0') out += std::string(s.intro) + "\n\n";
    out += section_table(s.path, fields);
  }
  return out;
}

}  // namespace fb::model
