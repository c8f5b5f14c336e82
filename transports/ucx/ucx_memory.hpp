// The ucx backend's memory: host buffers (UCX shared-memory segments the shared-memory get can
// read from, else ordinary page-aligned memory), CUDA device memory for --mem cuda, and the
// registrations and packed keys the put and the get hand to peers.
#pragma once

#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "transports/backend.hpp"
#include "transports/cuda/device_memory.hpp"
#include "transports/ucx/ucx_worker.hpp"

namespace fb::transports::ucx {

// A host buffer UCX allocated: its registration, packed rkey, and the peers that hold the key.
struct HostSegment {
  ucp_mem_h memh = nullptr;
  std::size_t bytes = 0;
  std::uint64_t id = 0;  // never reused, so a peer's cached key never names another segment
  std::string rkey;
  std::set<int> told;
};

class Memory {
 public:
  // `owner`: the backend whose plain host memory (Backend::alloc) backs what is no segment.
  Memory(Worker& worker, Backend& owner) : w_(worker), owner_(owner) {}
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;

  // Whether host_alloc makes UCX segments (the get is on and another rank shares this host).
  void use_segments(bool on) { segments_on_ = on; }
  // Page-aligned, zeroed host memory: a UCX segment when use_segments, else ordinary memory
  // (Backend::alloc).
  void* host_alloc(std::size_t bytes);
  // Frees what host_alloc returned.
  void host_release(void* p, std::size_t bytes);
  // The segment holding [p, p + bytes), or nullptr.
  HostSegment* segment_of(const void* p, std::size_t bytes);
  // Ids of segments freed since `peer` was last told (it holds their keys).
  std::vector<std::uint64_t>& released(int peer) { return released_[peer]; }
  // Unmaps every segment (teardown, while the context lives).
  void close();

  // Registers [p, p + bytes) (a device buffer as CUDA memory); throws BackendError.
  ucp_mem_h map(void* p, std::size_t bytes);
  // A registration's packed rkey; throws BackendError.
  std::string pack(ucp_mem_h h);

  // Why --mem `mem` cannot be used, or nullopt (see Backend::unsupported_memory).
  std::optional<std::string> unsupported(const std::string& mem) const;
  // The GPU and its memory, opened on the first --mem cuda (host-only runs never touch CUDA);
  // nullptr with device_error() when it cannot be.
  DeviceMemory* device() const;
  const std::string& device_error() const { return device_error_; }
  bool on_device(const void* p) const { return device_ && p && device_->owns(p); }
  // Request parameters telling UCX a device buffer's memory type (it need not detect it).
  ucp_request_param_t param_for(const void* buf) const {
    ucp_request_param_t prm{};
    if (on_device(buf)) {
      prm.op_attr_mask |= UCP_OP_ATTR_FIELD_MEMORY_TYPE;
      prm.memory_type = UCS_MEMORY_TYPE_CUDA;
    }
    return prm;
  }

 private:
  bool release_segment(void* p);
  std::string memory_types_text() const;

  Worker& w_;
  Backend& owner_;
  bool segments_on_ = false;
  // This rank's segments by address, and segment ids freed per peer not yet told.
  std::map<std::uintptr_t, HostSegment> segments_;
  std::uint64_t segment_ids_ = 0;
  std::map<int, std::vector<std::uint64_t>> released_;
  mutable std::unique_ptr<DeviceMemory> device_;
  mutable bool device_tried_ = false;
  mutable std::string device_error_;
};

}  // namespace fb::transports::ucx
