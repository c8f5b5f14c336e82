// Validation on the device: CUDA kernels that fill, poison and check buffers in GPU memory with
// exactly the values of collectives/pattern.hpp (the math is shared: collectives/pattern_math.hpp).
// Only the count of wrong elements comes back to the host, never a buffer.
//
// This header has no CUDA includes: streams are passed as void* (a cudaStream_t). Built only
// where the CUDA toolkit is (FB_HAVE_CUDA); errors throw std::runtime_error with CUDA's string.
#pragma once

#include <cstddef>
#include <vector>

#include "collectives/op.hpp"
#include "collectives/pattern_math.hpp"

namespace fb::cuda {

class DevicePattern {
 public:
  // Kernels run on `stream` (nullptr: the legacy default stream) of the current device.
  explicit DevicePattern(void* stream);
  ~DevicePattern();
  DevicePattern(const DevicePattern&) = delete;
  DevicePattern& operator=(const DevicePattern&) = delete;

  // Asynchronous on the stream. `dst` is device memory.
  void fill(const PatternParams& p, void* dst, std::size_t count, int rank, std::size_t offset);
  void poison(void* dst, std::size_t count, DType dtype);
  // Count the elements of device region `recv` that differ from what `segments` expect; waits for
  // the stream and returns the count (one integer copied to the host).
  std::size_t check(const PatternParams& p, const void* recv, const std::vector<Segment>& segments);

 private:
  void* stream_;
  void* table_ = nullptr;                  // one period of the expected reduction (device)
  unsigned long long* counter_ = nullptr;  // wrong elements (device)
  PatternParams table_params_{};
  bool table_valid_ = false;
};

}  // namespace fb::cuda
