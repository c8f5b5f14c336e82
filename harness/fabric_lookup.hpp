// Fabric files by name or path: what --fabric (run, validate, model) and --base (calibrate) accept.
#pragma once

#include <string>
#include <vector>

#include "model/fabric.hpp"

namespace fb {

// A fabric given as a path, or as a name found where find_data_file looks (harness/data_lookup.hpp:
// $FABRICBENCH_CONFIGS/fabrics, beside the binary, the install prefix, the source tree). "hgx-h100"
// and "hgx-h100.yaml" both work. Throws UsageError naming what was searched.
std::string find_fabric_file(const std::string& name_or_path);
// Loads with `sets` overrides; errors become UsageError.
model::Fabric load_fabric_for_cli(const std::string& name_or_path, const std::vector<std::string>& sets);

}  // namespace fb
