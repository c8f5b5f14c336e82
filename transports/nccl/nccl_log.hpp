// What NCCL says it used, read from its own INFO log (NCCL_DEBUG=INFO into NCCL_DEBUG_FILE): the
// transports between ranks and the algorithm/protocol it selected per collective. No NCCL or CUDA
// headers: unit-tested against captured lines (tests/unit/test_nccl_log.cpp).
//
//   Channel 00/0 : 0[0] -> 1[1] via P2P/IPC                     (INIT)
//   Channel 00/0 : 0[0] -> 1[1] [send] via NET/IB/0/GDRDMA      (INIT, NET)
//   NET/IB : Using [0]mlx5_0:1/IB [1]mlx5_1:1/RoCE ; OOB eth0:10.0.0.1<0>
//   Pattern 4, crossNic 0, nChannels 16, bw 40.0/40.0, type NVL/PIX, sameChannels 1   (GRAPH)
//   AllReduce: 1048576 Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..31}        (TUNING)
#pragma once

#include <string>
#include <vector>

namespace fb::transports::nccl_log {

// The NCCL_DEBUG_SUBSYS fabricbench asks for: connections, NICs, topology graphs and the tuner's
// per-collective choice.
inline constexpr const char* kSubsystems = "INIT,NET,GRAPH,TUNING";

// The transports in these lines, sorted and unique, joined with '+': "P2P/NVLink/IPC",
// "P2P/PCIe/CUMEM", "SHM", "NET/IB/mlx5_0:1", "NET/IB/mlx5_1:1/RoCE", "NET/Socket/eth0",
// "COLLNET/SHARP". "" when NCCL connected nothing (one rank) or did not log it.
std::string transports(const std::vector<std::string>& lines);

// The algorithm/protocol NCCL selected for collective `func` (NCCL's name: "AllReduce",
// "AllGather", "ReduceScatter", "Broadcast") in these lines, as "RING/SIMPLE"; several distinct
// choices are joined with '+' in order of appearance. "" when no line names `func`.
std::string algorithms(const std::vector<std::string>& lines, const std::string& func);

// NCCL_DEBUG_FILE's %h (hostname) and %p (pid) expanded, as NCCL does.
std::string expand_debug_file(const std::string& pattern, const std::string& host, long pid);

}  // namespace fb::transports::nccl_log
