// What NCCL says it used, read from its own INFO log (NCCL_DEBUG=INFO into NCCL_DEBUG_FILE): the
// transports between ranks and the algorithm/protocol it selected per collective. No NCCL or CUDA
// headers: unit-tested against lines of NCCL 2.18-2.28 (tests/unit/test_nccl_log.cpp).
//
//   Channel 00/0 : 0[0] -> 1[1] via P2P/IPC                     (INIT)
//   Channel 00/0 : 0[0] -> 1[1] [send] via NET/IB/0/GDRDMA      (INIT, NET)
//   Channel 00/0 : 0[0] -> 8[0] [send] via NET/AWS Libfabric/0/GDRDMA   (aws-ofi-nccl)
//   NET/IB : Using [0]mlx5_0:1/IB [1]mlx5_1:1/RoCE ; OOB eth0:10.0.0.1<0>
//   Pattern 4, crossNic 0, nChannels 16, bw 40.0/40.0, type NVL/PIX, sameChannels 1   (GRAPH)
//   NVLS comm 0x55d0 headRank 0 nHeads 8 nvlsRanks 8 buffSize 1048576 ...           (INIT)
//   AllReduce: 1048576 Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..31}        (TUNING)
//
// Since NCCL 2.22 connections are made at a communicator's first op (runtime connect), not at
// init: the backend feeds every new batch of lines to NetNames (process-wide: NCCL lists the NICs
// once per process) and to the current communicator's Transports (accumulated).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace fb::transports::nccl_log {

// The NCCL_DEBUG_SUBSYS fabricbench asks for while timing: connections, NICs and topology graphs.
// TUNING (one line per collective, written under a mutex inside the timed loop) only for the one
// untimed op that learns the algo column (kTuningSubsystems).
inline constexpr const char* kSubsystems = "INIT,NET,GRAPH";
inline constexpr const char* kTuningSubsystems = "INIT,NET,GRAPH,TUNING";

// What a process's NCCL says about its networks, once: NIC names per network and the link type
// between the GPUs of a node. learn() may see any lines; it keeps what it recognises.
class NetNames {
 public:
  void learn(const std::vector<std::string>& lines);
  // The device of NIC `index` of network `net` ("IB", "Socket", "IBext_v8": the HPC-X plugin's
  // NICs are IB's); "" when unknown.
  std::string nic(const std::string& net, int index) const;
  // "NVLink", "PCIe", "C2C", "P2C" or "" (no graph line seen).
  const std::string& gpu_link() const { return link_; }

 private:
  std::map<std::string, std::map<int, std::string>> nics_;
  std::string link_;
};

// The transports one communicator used, accumulated over batches of lines.
class Transports {
 public:
  void add(const std::vector<std::string>& lines, const NetNames& names);
  // Sorted and unique, joined with '+': "P2P/NVLink/IPC", "P2P/PCIe/CUMEM", "SHM",
  // "NET/IB/mlx5_0:1", "NET/IB/mlx5_1:1/RoCE", "NET/Socket/eth0", "NET/AWS Libfabric/0",
  // "COLLNET/SHARP", "NVLS". "" when NCCL connected nothing (one rank) or did not log it.
  std::string str() const;
  // The same for the channels between this rank and `peer` ("a[x] -> b[y]" lines naming both;
  // add() must have been given `self`).
  std::string str_for(int peer) const;
  void set_self(int self) { self_ = self; }

 private:
  std::set<std::string> seen_;
  std::map<int, std::set<std::string>> per_peer_;
  int self_ = -1;
};

// One batch of lines at once (NetNames learnt from the same lines).
std::string transports(const std::vector<std::string>& lines);

// The algorithm/protocol NCCL selected for collective `func` (NCCL's name: "AllReduce",
// "AllGather", "ReduceScatter", "Broadcast") in these lines, as "RING/SIMPLE"; several distinct
// choices are joined with '+' in order of appearance. "" when no line names `func`.
std::string algorithms(const std::vector<std::string>& lines, const std::string& func);

// NCCL's WARN lines among these (NCCL_DEBUG=INFO writes them to the same file).
std::vector<std::string> warnings(const std::vector<std::string>& lines);

// NCCL_DEBUG_FILE's %h (hostname) and %p (pid) expanded, as NCCL does.
std::string expand_debug_file(const std::string& pattern, const std::string& host, long pid);

// The hostname as NCCL's %h writes it: cut at the first dot ("node01.cluster" -> "node01").
std::string nccl_hostname(const std::string& gethostname_result);

}  // namespace fb::transports::nccl_log
