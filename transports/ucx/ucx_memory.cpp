#include "transports/ucx/ucx_memory.hpp"

#include <algorithm>
#include <cstring>

#include "transports/backend.hpp"
#include "vocab/error.hpp"

namespace fb::transports::ucx {

namespace {
constexpr std::size_t kPage = 4096;
}

void* Memory::host_alloc(std::size_t bytes) {
  const std::size_t len = std::max<std::size_t>((bytes + kPage - 1) / kPage * kPage, kPage);
  if (segments_on_) {
    ucp_mem_map_params_t mp{};
    mp.field_mask =
        UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_FLAGS;
    mp.address = nullptr;
    mp.length = len;
    mp.flags = UCP_MEM_MAP_ALLOCATE;
    ucp_mem_h h = nullptr;
    if (ucp_mem_map(w_.context(), &mp, &h) == UCS_OK) {
      ucp_mem_attr_t at{};
      at.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS | UCP_MEM_ATTR_FIELD_LENGTH;
      if (ucp_mem_query(h, &at) == UCS_OK && reinterpret_cast<std::uintptr_t>(at.address) % kPage == 0 &&
          at.length >= len) {
        std::memset(at.address, 0, len);  // first-touch faults now, not inside a timed op
        HostSegment& seg = segments_[reinterpret_cast<std::uintptr_t>(at.address)];
        seg.memh = h;
        seg.bytes = len;
        seg.id = ++segment_ids_;
        seg.rkey = pack(h);
        return at.address;
      }
      ucp_mem_unmap(w_.context(), h);
    }
  }
  return owner_.Backend::alloc(bytes, "host");
}

void Memory::host_release(void* p, std::size_t bytes) {
  if (!release_segment(p)) owner_.Backend::release(p, bytes);
}

// Peers that hold the segment's key learn it is gone in the next descriptor they get from this
// rank, and drop their mapping.
bool Memory::release_segment(void* p) {
  auto it = segments_.find(reinterpret_cast<std::uintptr_t>(p));
  if (it == segments_.end()) return false;
  for (int peer : it->second.told) released_[peer].push_back(it->second.id);
  ucp_mem_unmap(w_.context(), it->second.memh);
  segments_.erase(it);
  return true;
}

HostSegment* Memory::segment_of(const void* p, std::size_t bytes) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  auto it = segments_.upper_bound(a);
  if (it == segments_.begin()) return nullptr;
  --it;
  return a + bytes <= it->first + it->second.bytes ? &it->second : nullptr;
}

void Memory::close() {
  for (auto& [base, seg] : segments_) ucp_mem_unmap(w_.context(), seg.memh);
  segments_.clear();
}

ucp_mem_h Memory::map(void* p, std::size_t bytes) {
  ucp_mem_map_params_t mp{};
  mp.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH;
  mp.address = p;
  mp.length = std::max<std::size_t>(bytes, 1);
  if (on_device(p)) {
    mp.field_mask |= UCP_MEM_MAP_PARAM_FIELD_MEMORY_TYPE;
    mp.memory_type = UCS_MEMORY_TYPE_CUDA;
  }
  ucp_mem_h h = nullptr;
  const ucs_status_t st = ucp_mem_map(w_.context(), &mp, &h);
  if (st != UCS_OK) throw BackendError("ucx: ucp_mem_map on " + w_.where() + ": " + status_text(st));
  return h;
}

std::string Memory::pack(ucp_mem_h h) {
  void* buf = nullptr;
  std::size_t len = 0;
  const ucs_status_t st = ucp_rkey_pack(w_.context(), h, &buf, &len);
  if (st != UCS_OK) throw BackendError("ucx: ucp_rkey_pack on " + w_.where() + ": " + status_text(st));
  std::string s(static_cast<const char*>(buf), len);
  ucp_rkey_buffer_release(buf);
  return s;
}

std::optional<std::string> Memory::unsupported(const std::string& mem) const {
  if (mem == "host") return std::nullopt;
  if (mem == "cuda") {
    if (!(w_.memory_types() & UCS_BIT(UCS_MEMORY_TYPE_CUDA)))
      return "this UCX (" + std::string(ucp_get_version_string()) +
             ") has no CUDA support: ucp_context_query reports memory types " + memory_types_text() +
             " (install a UCX built with CUDA, e.g. NVIDIA's HPC-X, for --mem cuda)";
    if (!device()) return "ucx: " + device_error_;
    return std::nullopt;
  }
  return "unknown memory type '" + mem + "' (host or cuda)";
}

DeviceMemory* Memory::device() const {
  if (!device_tried_) {
    device_tried_ = true;
    device_ = DeviceMemory::open(w_.world(), "ucx", device_error_);
  }
  return device_.get();
}

std::string Memory::memory_types_text() const {
  std::string s;
  for (int t = 0; t < UCS_MEMORY_TYPE_LAST; ++t)
    if (w_.memory_types() & UCS_BIT(t)) s += (s.empty() ? "" : ",") + std::string(ucs_memory_type_names[t]);
  return s.empty() ? "none" : s;
}

}  // namespace fb::transports::ucx
