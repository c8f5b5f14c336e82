// Every backend fabricbench knows. Which ones are compiled in is decided at configure time:
// CMake writes compiled_backends.cpp (from transports/compiled_backends.cpp.in) with one factory
// per enabled backend, so adding a backend is a file and a CMake line, never an #ifdef here.
#include <algorithm>

#include "transports/backend.hpp"
#include "vocab/error.hpp"

namespace fb::transports {

// Defined in the generated compiled_backends.cpp: the factory of `name`, or empty.
BackendFactory compiled_factory(const std::string& name);
// Why `name` is missing from this build (configure-time detection result).
std::string missing_reason(const std::string& name);

const std::vector<BackendInfo>& backends() {
  static const std::vector<BackendInfo> v = [] {
    std::vector<BackendInfo> r = {
        {"mpi", "MPI library collectives and point-to-point (host memory)", {}, ""},
        {"ucx", "UCX tag-matching point-to-point with fabricbench's collective algorithms", {}, ""},
        {"nccl", "NCCL collectives and grouped send/recv on GPUs", {}, "", false},
    };
    for (auto& b : r) {
      b.factory = compiled_factory(b.name);
      if (!b.factory) b.why_missing = missing_reason(b.name);
    }
    return r;
  }();
  return v;
}

const BackendInfo* find_backend(const std::string& name) {
  const auto& v = backends();
  auto it = std::find_if(v.begin(), v.end(), [&](const BackendInfo& b) { return b.name == name; });
  return it == v.end() ? nullptr : &*it;
}

std::unique_ptr<Backend> make_backend(const std::string& name, World& world) {
  const BackendInfo* b = find_backend(name);
  if (b == nullptr)
    throw UsageError("unknown backend '" + name + "' (fabricbench --list shows the backends)");
  if (!b->factory) throw UsageError(name + ": not compiled in (" + b->why_missing + ")");
  return b->factory(world);
}

}  // namespace fb::transports
