#include "harness/job.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "harness/host_probe.hpp"
#include "harness/inventory.hpp"
#include "harness/utc.hpp"
#include "harness/version.hpp"
#include "vocab/error.hpp"

extern char** environ;

namespace fb {

void error_line(const std::string& msg) {
  // Messages quote what they refuse, which may hold control characters (a CR or an escape
  // sequence in a results file): written as \xNN so the error stays one line on a terminal.
  std::string text;
  for (const char c : msg) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", u);
      text += esc;
    } else {
      text += c;
    }
  }
  std::fprintf(stderr, "fabricbench: %s\n", text.c_str());
  std::fflush(stderr);
}

std::map<std::string, std::string> recorded_environment(char** env) {
  std::map<std::string, std::string> out;
  for (char** e = env; e && *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = kv.substr(0, eq);
    for (const char* prefix :
         {"NCCL_", "UCX_", "FABRICBENCH_", "OMPI_", "PMIX_MCA_", "CUDA_VISIBLE_DEVICES", "FI_", "SLURM_JOB_"})
      if (k.rfind(prefix, 0) == 0) {
        out[k] = kv.substr(eq + 1);
        break;
      }
  }
  return out;
}

const std::map<std::string, std::string>& launch_environment() {
  static const std::map<std::string, std::string> snapshot = recorded_environment(environ);
  return snapshot;
}

void agree(transports::World& w, const std::string& error) {
  const auto all = w.gather_strings(error, 0);
  std::string msg;
  if (w.rank() == 0)
    for (int r = 0; r < w.size(); ++r)
      if (!all[r].empty()) {
        msg = r == 0 ? all[r] : "rank " + std::to_string(r) + " (" + w.hostnames()[r] + "): " + all[r];
        break;
      }
  msg = w.broadcast_string(msg, 0);
  if (!msg.empty()) throw UsageError(msg);
}

RunMeta make_meta(transports::World& w, const std::string& command_line,
                  const std::vector<std::unique_ptr<transports::Backend>>& backends) {
  RunMeta m;
  m.host_memory = probe_host_memory(w);
  m.inventory = gather_inventory(w, backends);
  m.mpi_thread_level = w.thread_level();
  m.fabricbench_version = kVersion;
  m.git_describe = kGitDescribe;
  m.command_line = command_line;
  m.started_utc = utc_now();
  m.mpi_library = w.library_version();
  // One entry per backend in use: the stages of run --ranks/--split make the same backend again.
  for (const auto& b : backends)
    if (const std::string v = b->name() + ": " + b->version();
        std::find(m.backend_versions.begin(), m.backend_versions.end(), v) == m.backend_versions.end())
      m.backend_versions.push_back(v);
  m.nranks = w.size();
  m.nnodes = w.nnodes();
  m.ranks_per_node = w.max_ranks_per_node();
  m.rank_hosts = w.hostnames();
  std::set<std::string> seen;
  for (const auto& h : w.hostnames())
    if (seen.insert(h).second) m.hosts.push_back(h);
  m.environment = launch_environment();
  return m;
}

}  // namespace fb
