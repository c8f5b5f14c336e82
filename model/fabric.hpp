// A fabric description: endpoints, the scale-up domain (NVLink/NVSwitch, or a host's shared
// memory), and the scale-out network (NICs, rails, planes, switch tiers). Loaded from
// configs/fabrics/*.yaml. Standard library and yaml-cpp only.
//
// The structure mirrors the YAML: one struct per section, one member per key, named as the key
// (f.scale_up.bandwidth_GBps is `scale_up: bandwidth_GBps:`). Each member's default initialiser
// is the file's default. What every key means, its bounds and whether it is required live in one
// field table (model/fabric_fields.cpp), from which reading, --set, the per-field checks, the
// writer and the schema in configs/fabrics/README.md all come: adding a key is a member here
// plus one line of that table.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fb::model {

// `endpoint`: a GPU (HBM) or a host rank (DRAM).
struct Endpoint {
  std::string kind = "gpu";          // "gpu" | "host"
  std::string generation = "other";  // "ampere" | "hopper" | "blackwell" | "other" (model/rates.hpp)
  double memory_bandwidth_GBps = 0;
  double reduce_bandwidth_GBps = 0;  // read: defaults to memory_bandwidth_GBps / 3
  double memory_spilled_bandwidth_GBps = 0;
  double reduce_spilled_bandwidth_GBps = 0;
};

// `scale_up`: NVLink + NVSwitch for GPUs; shared memory for host ranks on one host.
struct ScaleUp {
  int domain_size = 1;
  double bandwidth_GBps = 0;
  double latency_us = 0;
  double aggregate_bandwidth_GBps = 0;
  double cache_bytes = 0;
  double spilled_bandwidth_GBps = 0;
  double outer_cache_bytes = 0;
  double outer_spilled_bandwidth_GBps = 0;
  double outer_eviction_GBps = 0;
  double forward_bandwidth_GBps = 0;
  double forward_spilled_bandwidth_GBps = 0;
  double forward_overhead_us = 0;
  double exchange_latency_us = 0;
  bool in_switch_reduction = false;
  double efficiency = 0;       // achievable share of bandwidth_GBps (0: model/rates.hpp's table)
  double nvls_efficiency = 0;  // NVLS rate as a share of bandwidth_GBps (0: the table)
};

// `scale_out.tiers[i]`.
struct SwitchTier {
  std::string name;               // "leaf", "spine", "core", ...
  int radix = 0;                  // ports per switch
  double hop_latency_us = 0;      // port-to-port latency through one switch of this tier
  double oversubscription = 1.0;  // down:up bandwidth ratio of this tier's switches (1 = non-blocking)
  // How this tier's switches spread traffic over their equal-cost up-links (model/routing.hpp):
  // "ecmp" (per-flow hash), "adaptive" (per-packet/flowlet), "spray" (even), "static".
  std::string load_balancing = "spray";
  int flows_per_connection = 1;       // ECMP entropy: flows (QPs) per connection
  double adaptive_efficiency = 0.95;  // adaptive: share of the ideal even spread achieved
  std::string hash = "l4";            // ecmp: "l3" | "l4" (informational for the emulated fabric)
};

// `scale_out`: absent (no tiers) for a single-domain fabric such as localhost.
struct ScaleOut {
  double nic_bandwidth_Gbps = 0;
  int nics_per_domain = 0;
  int rails = 1;
  int planes = 1;
  double latency_us = 0;
  double wire_efficiency = 1.0;
  bool in_network_reduction = false;
  std::string transport = "rdma";  // "rdma" | "tcp" | "any"
  std::string nic = "other";       // NIC kind for model/rates.hpp: connectx, efa-v2, ...
  double efficiency = 0;           // achievable share of the payload rate (0: the NIC kind's table)
  std::vector<SwitchTier> tiers;   // leaf first
};

// `protocols`: payload efficiency of NCCL's protocols (bytes of data per byte on the wire), from
// their line formats: LL 8 of 16 bytes, LL128 120 of 128, Simple all of it.
struct Protocols {
  double ll = 0.5;
  double ll128 = 0.9375;
  double simple = 1.0;
};

struct Fabric {
  std::string name;
  std::string description;
  std::string source;  // the file it came from ("" when built in code); not a key
  // NCCL release whose behaviour is modelled where releases differ ("": the newest, model/rates.hpp)
  std::string nccl_version;

  Endpoint endpoint;
  ScaleUp scale_up;
  ScaleOut scale_out;
  Protocols protocols;

  bool has_scaleout() const { return !scale_out.tiers.empty(); }
  // Scale-out bandwidth available to one endpoint, GB/s per direction (NIC share x wire efficiency).
  double nic_GBps_per_endpoint() const;
  // Endpoints the topology can hold: domains x domain_size, limited by the fat tree's ports.
  std::uint64_t max_endpoints() const;
};

// Load and validate a fabric file. `sets` are "path=value" overrides applied before validation
// (e.g. "scale_out.tiers.1.oversubscription=7", "scale_up.bandwidth_GBps=900"). Throws
// std::invalid_argument "FILE:LINE: message" for bad YAML, unknown or missing keys, bad values
// and impossible fabrics (zero bandwidth, radix < 2, ...).
Fabric load_fabric(const std::string& path, const std::vector<std::string>& sets = {});
Fabric parse_fabric(const std::string& yaml_text, const std::string& name_for_errors,
                    const std::vector<std::string>& sets = {});

// Check a fabric's values (also called by load_fabric). Throws std::invalid_argument.
void validate_fabric(const Fabric& f);

// A fabric written back as YAML (calibrate writes its result this way), with a comment per
// number saying where it came from when `sources` names it ({"scale_up.bandwidth_GBps", "fit: ..."}).
std::string fabric_to_yaml(const Fabric& f,
                           const std::vector<std::pair<std::string, std::string>>& sources = {});

}  // namespace fb::model
