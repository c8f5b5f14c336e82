// JSON sink: {"schema_version", "meta", "rows", "status"}. The whole document is written to
// "<path>.tmp.<pid>" and renamed over `path` when the sink is made, after begin(), after every
// row() and at end(), so the file on disk is always complete and parseable: rename is atomic, so
// a killed process leaves the previous complete document. Only end() fsyncs (file and directory),
// making the final document durable across a power loss without paying two fsyncs per row. The layout is
// line-oriented: meta pretty-printed, then one row object per line.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>

#include "harness/record_fields.hpp"
#include "harness/sinks/guard.hpp"
#include "harness/sinks/sink.hpp"

namespace fb {

namespace {

using json = nlohmann::ordered_json;

// Invalid UTF-8 (a host name, an environment variable) is replaced, never a reason to lose a file.
std::string dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

json meta_json(const RunMeta& m) {
  json j;
  j["fabricbench_version"] = m.fabricbench_version;
  j["git_describe"] = m.git_describe;
  j["command_line"] = m.command_line;
  j["started_utc"] = m.started_utc;
  j["mpi_library"] = m.mpi_library;
  j["backend_versions"] = m.backend_versions;
  j["nranks"] = m.nranks;
  j["nnodes"] = m.nnodes;
  j["ranks_per_node"] = m.ranks_per_node;
  j["hosts"] = m.hosts;
  j["rank_hosts"] = m.rank_hosts;
  j["environment"] = json::object();
  for (const auto& [k, v] : m.environment) j["environment"][k] = v;
  if (m.host_memory)
    j["host_memory"] = {{"bytes", m.host_memory->bytes},
                        {"copy_GBps", m.host_memory->copy_GBps},
                        {"reduce_GBps", m.host_memory->reduce_GBps},
                        {"ranks", m.host_memory->ranks}};
  if (m.host_memory && m.host_memory->spilled_bytes > 0) {
    j["host_memory"]["spilled_bytes"] = m.host_memory->spilled_bytes;
    j["host_memory"]["copy_spilled_GBps"] = m.host_memory->copy_spilled_GBps;
    j["host_memory"]["reduce_spilled_GBps"] = m.host_memory->reduce_spilled_GBps;
  }
  if (!m.mpi_thread_level.empty()) j["mpi_thread_level"] = m.mpi_thread_level;
  if (!m.inventory.empty()) {
    json inv = json::parse(m.inventory, nullptr, false);
    if (!inv.is_discarded()) j["inventory"] = std::move(inv);
  }
  if (!m.stages.empty()) {
    j["stages"] = json::array();
    for (const StageMeta& st : m.stages)
      j["stages"].push_back({{"label", st.label},
                             {"nranks", st.nranks},
                             {"ranks", st.ranks},
                             {"group", st.group},
                             {"ngroups", st.ngroups},
                             {"group_size", st.group_size},
                             {"backends", st.backends}});
  }
  return j;
}

json row_json(const Record& r) {
  json j = json::object();
  for (const auto& f : record_fields(r))
    std::visit(
        [&](const auto& x) {
          if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::monostate>)
            j[f.name] = nullptr;
          else
            j[f.name] = x;
        },
        f.value);
  j["samples_us"] = json::array();
  for (double v : r.samples_us) j["samples_us"].push_back(file_double(v));
  if (!r.rank_p50_us.empty()) {
    j["rank_p50_us"] = r.rank_p50_us;
    j["rank_mean_us"] = r.rank_mean_us;
  }
  if (!r.host_p50_us.empty()) j["host_p50_us"] = r.host_p50_us;
  return j;
}

// run --cycles/--duration: the "soak" object (results/SCHEMA.md).
json soak_json(const SoakSummary& s) {
  json j;
  j["cycles_done"] = s.cycles_done;
  j["cycles_requested"] = s.cycles_requested > 0 ? json(s.cycles_requested) : json(nullptr);
  j["duration_s"] = s.duration_s > 0 ? json(s.duration_s) : json(nullptr);
  j["elapsed_s"] = s.elapsed_s;
  j["drift_metric"] = "time_p50";
  j["drift_threshold_pct"] = s.drift_pct;
  j["drifts"] = json::array();
  for (const auto& d : s.drifts)
    j["drifts"].push_back({{"cycle", d.cycle},
                           {"key", d.key},
                           {"direction", d.direction},
                           {"first_p50_us", d.first_p50_us},
                           {"p50_us", d.p50_us},
                           {"change_pct", d.change_pct},
                           {"p_value", d.p_value ? json(*d.p_value) : json(nullptr)}});
  return j;
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(fmt::format("cannot {} JSON file '{}': {}", what, path, std::strerror(err)));
}

class JsonSink final : public Sink {
 public:
  explicit JsonSink(std::string path) : path_(std::move(path)) {
    tmp_path_ = fmt::format("{}.tmp.{}", path_, ::getpid());
    std::error_code ec;
    if (std::filesystem::is_directory(path_, ec)) fail("write", path_, EISDIR);
    meta_ = dump(meta_json(RunMeta{}), 2);
    publish();  // fails early on an unwritable path; replaces a stale file from an earlier run
  }

  void begin(const RunMeta& meta) override {
    meta_ = dump(meta_json(meta), 2);
    publish();
  }

  void row(const Record& r) override {
    rows_.push_back(dump(row_json(r)));
    publish();
  }

  void soak(const SoakSummary& s) override {
    soak_ = dump(soak_json(s));
    publish();
  }

  void end(const std::string& status) override {
    status_ = status;
    publish(true);
  }

 private:
  std::string document() const {
    // Indented by hand so each row stays on one line; JSON strings hold no raw newlines, so
    // re-indenting the pretty-printed meta by replacing "\n" is safe.
    std::string meta;
    for (char c : meta_) meta += c == '\n' ? std::string("\n  ") : std::string(1, c);
    std::string doc =
        fmt::format("{{\n  \"schema_version\": {},\n  \"meta\": {},\n  \"rows\": [", kSchemaVersion, meta);
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      doc += i == 0 ? "\n    " : ",\n    ";
      doc += rows_[i];
    }
    doc += rows_.empty() ? "]" : "\n  ]";
    if (!soak_.empty()) doc += ",\n  \"soak\": " + soak_;
    doc += fmt::format(",\n  \"status\": {}\n}}\n", dump(json(status_)));
    return doc;
  }

  // Write the document to the temporary file and rename it over the target; `durable` fsyncs the
  // file before the rename and the directory after it.
  void publish(bool durable = false) const {
    const std::string doc = document();
    const int fd = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) fail("create temporary", tmp_path_, errno);
    std::size_t done = 0;
    while (done < doc.size()) {
      const ssize_t n = ::write(fd, doc.data() + done, doc.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) abandon(fd, "write");
      done += static_cast<std::size_t>(n);
    }
    if (durable && ::fsync(fd) != 0) abandon(fd, "fsync");
    if (::close(fd) != 0) abandon(-1, "close");
    if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) abandon(-1, "rename");
    if (durable) sync_directory();
  }

  [[noreturn]] void abandon(int fd, const char* what) const {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(tmp_path_.c_str());
    throw std::runtime_error(
        fmt::format("cannot {} JSON file '{}' (via '{}'): {}", what, path_, tmp_path_, std::strerror(err)));
  }

  // Make the rename itself durable. Best effort: some file systems refuse fsync on a directory.
  void sync_directory() const {
    std::string dir = std::filesystem::path(path_).parent_path().string();
    if (dir.empty()) dir = ".";
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
  }

  std::string path_;
  std::string tmp_path_;
  std::string meta_;               // pretty-printed meta object
  std::vector<std::string> rows_;  // each row serialised once, on one line
  std::string status_ = "running";
  std::string soak_;  // the "soak" object on one line; "" without --cycles/--duration
};

}  // namespace

std::unique_ptr<Sink> make_json_sink(const std::string& path) {
  return make_guarded_sink<JsonSink>(path);
}

}  // namespace fb
