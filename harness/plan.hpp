// Plan files (configs/plans/*.yaml): a list of tests with the same keys as the command line.
//
//   description: text          # optional
//   defaults: {iters: 20, ...} # optional: keys applied to every test
//   tests:                     # required: one mapping per test
//     - name: small-allreduce
//       op: [allreduce, allgather]   # a list or "a,b"
//       maxbytes: 1M
//
// Precedence, lowest first: built-in defaults, the plan's defaults, the test entry, then options
// given explicitly on the command line (so `--plan p.yaml --iters 5` shortens every test).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "harness/config.hpp"

namespace fb {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// A plan file, or a plan by name ("quick", "ci.yaml") where find_data_file looks
// (harness/data_lookup.hpp). Throws UsageError "FILE:LINE: ..." for an unreadable file, bad YAML,
// unknown or bad keys, and "plan: 'NAME' is neither a file nor a plan in ..." for an unknown name.
std::vector<TestSpec> load_plan(const std::string& name_or_path, const KeyValues& overrides);
// The same over a plan's text (load_plan reads the file and calls this); `name_for_errors` stands
// for FILE in the messages.
std::vector<TestSpec> parse_plan(const std::string& yaml_text, const std::string& name_for_errors,
                                 const KeyValues& overrides);

}  // namespace fb
