// A fabric description: endpoints, the scale-up domain (NVLink/NVSwitch, or a host's shared
// memory), and the scale-out network (NICs, rails, planes, switch tiers). Loaded from
// configs/fabrics/*.yaml (schema: configs/fabrics/README.md). Standard library and yaml-cpp only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fb::model {

struct SwitchTier {
  std::string name;               // "leaf", "spine", "core", ...
  int radix = 0;                  // ports per switch
  double hop_latency_us = 0;      // port-to-port latency through one switch of this tier
  double oversubscription = 1.0;  // down:up bandwidth ratio of this tier's switches (1 = non-blocking)
};

// Payload efficiency of NCCL's protocols (bytes of data per byte on the wire), from their line
// formats: LL 8 of 16 bytes, LL128 120 of 128, Simple all of it.
struct Protocols {
  double ll = 0.5;
  double ll128 = 0.9375;
  double simple = 1.0;
};

struct Fabric {
  std::string name;
  std::string description;
  std::string source;  // the file it came from ("" when built in code)

  // Endpoint: a GPU (HBM) or a host (DRAM).
  std::string endpoint_kind = "gpu";     // "gpu" | "host"
  // GPU generation whose NCCL tuning constants apply: "hopper", "blackwell" or "other" (protocol
  // facts only). NCCL's per-generation caps live in model/algorithms/common.cpp.
  std::string generation = "other";
  double memory_bandwidth_GBps = 0;      // per endpoint
  double reduce_bandwidth_GBps = 0;      // elementwise reduction throughput, bytes of output per second
  // Hosts: the same two rates beyond the CPU caches (scale_up.cache_bytes), for the share of an
  // op's working set that does not fit. 0: slowed by the scale-up cached / spilled ratio instead.
  double memory_spilled_GBps = 0;
  double reduce_spilled_GBps = 0;

  // Scale-up domain: NVLink + NVSwitch for GPUs; shared memory for host ranks on one host.
  int domain_size = 1;                   // endpoints per domain (GPUs per NVLink domain, ranks per host)
  double scaleup_bandwidth_GBps = 0;     // per endpoint per direction
  double scaleup_latency_us = 0;         // one-way, endpoint to endpoint inside the domain
  // What all of a domain's concurrent transfers share, GB/s in total (0: nothing shared, as an
  // NVSwitch). A host's shared-memory copies all go through its memory system: with k transfers
  // at once each gets min(bandwidth, aggregate / k).
  double scaleup_aggregate_GBps = 0;
  // Hosts: copies run from the CPU caches while the host's working set (host_working_set())
  // fits in scaleup_cache_bytes; the share of it beyond that moves at scaleup_spilled_GBps, and
  // memory and reduction terms slow down by the same ratio. 0: not modelled (GPUs).
  double scaleup_cache_bytes = 0;
  double scaleup_spilled_GBps = 0;
  // Hosts: a second, outer knee (the share of the last-level cache the ranks get): the share of
  // the working set beyond scaleup_outer_cache_bytes moves at scaleup_outer_spilled_GBps, and
  // memory and reduction terms slow down by the ratio outer / spilled. 0: one knee only.
  double scaleup_outer_cache_bytes = 0;
  double scaleup_outer_spilled_GBps = 0;
  // Hosts: the rate at which other work on the host (other tenants of a shared last-level cache,
  // other processes) pushes the ranks' lines out of the outer cache. The outer knee then compares
  // the working set plus this rate x the op's reuse interval (how long before it touches the same
  // buffers again: its time, a round trip for pingpong and relay) with scaleup_outer_cache_bytes,
  // so a slow op spills where a fast one of the same working set does not. 0: no such traffic.
  double scaleup_outer_eviction_GBps = 0;
  // Hosts: the in-cache rate of a transfer whose data the sender has just written (a ring or tree
  // forwarding what it received or reduced): the peer's single-copy read of lines dirty in the
  // sender's cache. 0: as scaleup_bandwidth_GBps. `calibrate` fits it from relay rows.
  double scaleup_forward_GBps = 0;
  // Hosts: the rate of forwarded data beyond the cache (with scaleup_cache_bytes): the share of
  // the working set that has left the cache, where the sender wrote it back. 0: as
  // scaleup_spilled_GBps. `calibrate` fits it from relay rows beyond twice the cache.
  double scaleup_forward_spilled_GBps = 0;
  // Hosts: what a forwarded transfer costs on top of its step's latency, whatever its size (the
  // intercept of the relay legs' fit). 0: nothing. `calibrate` fits it with the forward rate.
  double scaleup_forward_overhead_us = 0;
  // Hosts: the latency of a step in which every rank both sends and receives (a bidir exchange,
  // every step of a ring, recursive doubling, pairwise...): one CPU runs both directions' protocol
  // and copies. 0: as scaleup_latency_us. `calibrate` fits it from bidir rows.
  double scaleup_exchange_latency_us = 0;
  bool in_switch_reduction = false;      // NVLS (NVSwitch SHARP): reductions inside the switch
  // Achievable shares of the line rate (model/rates.hpp; 0: from the generation's table).
  double scaleup_efficiency = 0;         // what NCCL's ring moves as data over scale-up
  double scaleup_nvls_efficiency = 0;    // what NVLS moves per GPU per direction

  // Scale-out network. Absent (no tiers) for a single-domain fabric such as localhost.
  double nic_bandwidth_Gbps = 0;         // per NIC per direction (line rate)
  int nics_per_domain = 0;               // NICs serving one domain (8 for an HGX board with 8 rails)
  int rails = 1;                         // separate leaf groups the NICs of a domain attach to
  int planes = 1;                        // identical parallel fabrics each NIC port is split across
  double nic_latency_us = 0;             // one-way NIC + PCIe + software, excluding switch hops
  double wire_efficiency = 1.0;          // payload share of line rate after packet headers
  bool in_network_reduction = false;     // CollNet/SHARP in the switches
  // How a backend should reach other domains: "rdma" (InfiniBand/RoCE verbs: UCX rc/dc/ud),
  // "tcp" (sockets, e.g. the emulated fabric) or "any". `fabricbench validate` fails a pair whose
  // connection used something else (traffic that fell back to TCP where RDMA was expected).
  std::string network_transport = "rdma";
  // The NIC kind (model/rates.hpp: connectx, efa-v2, gpudirect-tcpxo, ...; "other": no table) and
  // the share of its payload rate NCCL reaches (0: from the NIC kind's table).
  std::string nic_kind = "other";
  double nic_efficiency = 0;
  std::vector<SwitchTier> tiers;         // leaf first

  Protocols protocols;

  bool has_scaleout() const { return !tiers.empty(); }
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
std::string fabric_to_yaml(const Fabric& f, const std::vector<std::pair<std::string, std::string>>& sources = {});

}  // namespace fb::model
