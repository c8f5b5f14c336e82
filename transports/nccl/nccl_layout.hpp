// How the nccl backend lays an op's buffers out where it differs from mpi and ucx. Pure:
// unit-tested without NCCL (tests/unit/test_nccl_pure.cpp).
#pragma once

#include <cstddef>

namespace fb::transports::nccl_layout {

// Per-rank block alignment in bytes (Backend::block_alignment): nccl-tests rounds
// each rank's block of all-to-all, all-gather, reduce-scatter, gather and scatter down to a
// multiple of 16 bytes, `(count / nranks) & -(16 / eltSize)`, so that every rank's block starts
// 16-byte aligned (NCCL's vectorised loads); fabricbench's nccl rows carry the same sizes.
inline constexpr std::size_t kBlockAlignBytes = 16;

// ncclConfig_t::nvlinkCentricSched first appears in NCCL 2.28's nccl.h (ncclConfig_v22800). The
// communicator sets it (to 1) only when both the headers it was built with and the library it
// runs on are 2.28 or later: an older libnccl does not know the field. Versions as
// NCCL_VERSION_CODE (2.28.9 = 22809).
inline constexpr int kNvlinkCentricSchedSince = 22800;
constexpr bool sets_nvlink_centric_sched(int header_version, int runtime_version) {
  return header_version >= kNvlinkCentricSchedSince && runtime_version >= kNvlinkCentricSchedSince;
}

}  // namespace fb::transports::nccl_layout
