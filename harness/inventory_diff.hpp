// `compare` warns when base and candidate ran on different hardware or software: their
// inventories (meta.inventory of JSON results, harness/inventory.hpp) are flattened to
// "path = value" and the differences listed. Host names are not compared (a CI pool's nodes differ
// by name only); everything else is: CPU, NUMA, binding, GPUs, NICs, firmware, kernel, MPI.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace fb {

// "hosts[0].nics[1].firmware: '28.39.1002' -> '28.40.1000'", one per difference, in path order.
std::vector<std::string> inventory_differences(const nlohmann::ordered_json& base,
                                               const nlohmann::ordered_json& cand);

// Reads the inventories of two results files and writes one warning line to `err` when they
// differ, then one line per difference (at most `max_lines`, then a count). Files that are not
// JSON or carry no inventory (CSV, files written before it) are skipped silently.
void warn_inventory_differences(const std::string& base_path, const std::string& cand_path, std::ostream& err,
                                std::size_t max_lines = 12);

}  // namespace fb
