// The hardware and software a run ran on, for meta.inventory of the JSON results
// (results/SCHEMA.md): per host the CPU, NUMA layout, kernel, rdma-core and NICs; per rank its CPU
// binding and the device its backend uses (GPU model, UUID, bus ID, driver, library versions) with
// the NICs nearest to it; the MPI library's thread level and selected transport. Read from /proc
// and /sys (and the ethtool driver-info ioctl) on every rank; nothing here needs privileges, and
// a fact that cannot be read is left out rather than guessed.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "transports/backend.hpp"
#include "transports/world.hpp"

namespace fb {

using InventoryJson = nlohmann::ordered_json;

// "0-3,8,10-11" for a sorted list of CPU (or NUMA node) numbers; parse_cpu_list reads it back
// (the kernel's cpulist format). parse_cpu_list ignores what it cannot read.
std::string cpu_list_text(const std::vector<int>& cpus);
std::vector<int> parse_cpu_list(const std::string& text);

// How two PCI devices are connected, as `nvidia-smi topo -m` names it, from their sysfs device
// paths (/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0) and NUMA nodes (-1: unknown): "PIX"
// (one PCIe bridge between them), "PXB" (several bridges, no host bridge), "PHB" (the same host
// bridge), "NODE" (the same NUMA node), "SYS" (across NUMA nodes), "" when a path is unknown.
std::string pci_relation(const std::string& path_a, int numa_a, const std::string& path_b, int numa_b);

// This host's facts (CPU, NUMA, kernel, OS, rdma-core, NICs), read under `root` ("/" normally; a
// test points it at a tree of its own).
InventoryJson host_facts(const std::string& root = "/");

// This rank's facts: its CPU binding (sched_getaffinity) and NUMA nodes, and each backend's device
// facts with the NICs nearest to a device that has a PCI bus ID.
InventoryJson rank_facts(int rank, int local_rank,
                         const std::vector<std::unique_ptr<transports::Backend>>& backends,
                         const std::string& root = "/");

// Rank 0's inventory from every rank's {"host": name, "host_facts": ..., "rank": ...} in rank
// order: one entry per host (in order of first rank) with its ranks, and the library's facts.
InventoryJson merge_inventory(const std::vector<std::string>& per_rank, const InventoryJson& mpi);

// Collective: the run's inventory as JSON text on rank 0 ("" elsewhere).
std::string gather_inventory(transports::World& w,
                             const std::vector<std::unique_ptr<transports::Backend>>& backends);

}  // namespace fb
