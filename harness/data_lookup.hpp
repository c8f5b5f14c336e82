// Where fabricbench finds its data: fabrics, plans, reference data and the plot script, by name
// or by path, from a build tree inside or outside the source tree and from an install tree.
#pragma once

#include <string>
#include <vector>

namespace fb {

enum class DataKind { fabric, plan, reference, plot_script };

// What the search starts from. data_origins() gives the running binary's; tests give their own.
struct DataOrigins {
  // $FABRICBENCH_DATA_PATH: data roots (colon-separated, each laid out as the source tree:
  // configs/fabrics, configs/plans, configs/reference, scripts) that replace every root below.
  std::string data_path;
  // $FABRICBENCH_CONFIGS (its fabrics/, plans/, reference/) or, for the plot script,
  // $FABRICBENCH_SCRIPTS: searched before any root.
  std::string kind_dir;
  std::string exe_dir;      // the running binary's directory (symbolic links resolved)
  std::string install_dir;  // <configured install prefix>/share/fabricbench
  std::string source_dir;   // the source tree the binary was built from
};

// The running binary's origins for `kind` (environment, /proc/self/exe, compiled-in paths).
DataOrigins data_origins(DataKind kind);

// The directories searched for `kind`, in order, each once:
//   1. the kind's own variable ($FABRICBENCH_CONFIGS/<kind> or $FABRICBENCH_SCRIPTS);
//   2. $FABRICBENCH_DATA_PATH's roots if it is set, otherwise:
//      <exe_dir>/../share/fabricbench (installed: <prefix>/bin/fabricbench),
//      <exe_dir>/.. (a build directory inside the source tree: <src>/build/fabricbench),
//      the configured install prefix's share/fabricbench,
//      the source tree the binary was built from;
// each root followed by the kind's subdirectory (configs/fabrics, configs/plans, configs/reference, scripts).
std::vector<std::string> data_dirs(DataKind kind, const DataOrigins& o);

// What the kind is called in messages ("fabric", "plan", "reference", "plot script").
const char* data_kind_name(DataKind kind);

// A path (it contains '/', or it names a file that exists) is returned as given: an explicit
// path always wins, and its reader reports it missing. A name is looked up as NAME, then NAME plus
// the kind's extension (.yaml for fabrics and plans, .csv for reference data), in data_dirs().
// Not found: UsageError "<kind>: 'NAME' is neither a file nor a <kind> in DIR, DIR, ...".
std::string find_data_file(DataKind kind, const std::string& name_or_path, const DataOrigins& o);
std::string find_data_file(DataKind kind, const std::string& name_or_path);

}  // namespace fb
