// The transport and algo columns of the nccl backend come from NCCL's own INFO log; these are
// lines as NCCL 2.18-2.28 print them (captured on DGX/HGX nodes and RoCE/IB/socket clusters).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "transports/nccl/nccl_log.hpp"

namespace fb::transports::nccl_log {
namespace {

const std::vector<std::string> kHgxNode = {
    "node01:12345:12345 [0] NCCL INFO Bootstrap : Using eth0:10.1.0.11<0>",
    "node01:12345:12345 [0] NCCL INFO NCCL version 2.28.9+cuda13.0",
    "node01:12345:12377 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB [1]mlx5_3:1/IB [RO]; OOB "
    "eth0:10.1.0.11<0>",
    "node01:12345:12377 [0] NCCL INFO Using network IB",
    "node01:12345:12377 [0] NCCL INFO Pattern 4, crossNic 0, nChannels 16, bw 40.000000/40.000000, type "
    "NVL/PIX, sameChannels 1",
    "node01:12345:12377 [0] NCCL INFO Pattern 1, crossNic 0, nChannels 16, bw 40.000000/40.000000, type "
    "NVL/PIX, sameChannels 1",
    "node01:12345:12377 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read",
    "node01:12345:12377 [0] NCCL INFO Channel 01/0 : 0[0] -> 1[1] via P2P/CUMEM/read",
    "node01:12345:12377 [0] NCCL INFO Channel 00/0 : 7[7] -> 8[0] [send] via NET/IB/1/GDRDMA",
    "node01:12345:12377 [0] NCCL INFO Channel 00/0 : 15[7] -> 0[0] [receive] via NET/IB/0/GDRDMA",
    "node01:12345:12377 [0] NCCL INFO Connected all rings, use ring PXN 0 GDR 1",
};

TEST(NcclLog, NvlinkPeerToPeerAndInfinibandNicsByName) {
  EXPECT_EQ(transports(kHgxNode), "NET/IB/mlx5_0:1+NET/IB/mlx5_3:1+P2P/NVLink/CUMEM");
}

TEST(NcclLog, PcieIpcSharedMemoryAndRoce) {
  const std::vector<std::string> lines = {
      "h:1:2 [0] NCCL INFO NET/IB : Using [0]mlx5_1:1/RoCE ; OOB ens1f0:192.168.1.2<0>",
      "h:1:2 [0] NCCL INFO NET/IB : GPU Direct RDMA Enabled for HCA 0 'mlx5_1'",
      "h:1:2 [0] NCCL INFO Pattern 4, crossNic 0, nChannels 2, bw 12.000000/12.000000, type SYS/PHB, "
      "sameChannels 1",
      "h:1:2 [0] NCCL INFO Channel 00/0 : 0[1b000] -> 1[1c000] via P2P/IPC",
      "h:1:2 [0] NCCL INFO Channel 00/0 : 1[1c000] -> 2[88000] via SHM/direct/direct",
      "h:1:2 [0] NCCL INFO Channel 00 : 2[88000] -> 3[89000] via SHM/direct/direct",
      "h:1:2 [0] NCCL INFO Channel 01/0 : 3[3] -> 4[0] [send] via NET/IB/0(1)/GDRDMA",
  };
  EXPECT_EQ(transports(lines), "NET/IB/mlx5_1:1/RoCE+P2P/PCIe/IPC+SHM");
}

TEST(NcclLog, SocketsNameTheInterface) {
  const std::vector<std::string> lines = {
      "h:1:2 [0] NCCL INFO NET/Socket : Using [0]eth0:10.0.0.1<0> [1]eth1:10.0.1.1<0>",
      "h:1:2 [0] NCCL INFO Using network Socket",
      "h:1:2 [0] NCCL INFO Channel 00/0 : 1[0] -> 0[0] [receive] via NET/Socket/1",
      "h:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[0] [send] via NET/Socket/0",
  };
  EXPECT_EQ(transports(lines), "NET/Socket/eth0+NET/Socket/eth1");
}

TEST(NcclLog, WithoutConnectionsThereIsNoTransport) {
  // One rank: NCCL connects nothing and says so in no channel line.
  const std::vector<std::string> lines = {
      "h:1:1 [0] NCCL INFO NCCL version 2.28.9+cuda13.0",
      "h:1:1 [0] NCCL INFO Connected all rings",
      "h:1:1 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..0}",
  };
  EXPECT_EQ(transports(lines), "");
  EXPECT_EQ(transports({}), "");
}

TEST(NcclLog, CollNetAndUnknownNicIndex) {
  const std::vector<std::string> lines = {
      "h:1:2 [0] NCCL INFO CollNet 00/0 : 0 [send] via COLLNET/SHARP/0/GDRDMA",
      "h:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[0] [send] via NET/IB/2/GDRDMA",
  };
  EXPECT_EQ(transports(lines), "COLLNET/SHARP+NET/IB/2");
}

TEST(NcclLog, TheTunersChoicePerCollective) {
  const std::vector<std::string> lines = {
      "h:1:1 [0] NCCL INFO AllReduce: 8 Bytes -> Algo RING proto LL channel{Lo..Hi}={0..1}",
      "h:1:1 [0] NCCL INFO AllGather: 65536 Bytes -> Algo RING proto LL128 channel{Lo..Hi}={0..3}",
      "h:1:1 [0] NCCL INFO AllReduce: 8 Bytes -> Algo RING proto LL channel{Lo..Hi}={0..1}",
      "h:1:1 [0] NCCL INFO AllReduce: 8 Bytes -> Algo NVLS proto Simple channel{Lo..Hi}={0..15}",
  };
  EXPECT_EQ(algorithms(lines, "AllReduce"), "RING/LL+NVLS/SIMPLE");
  EXPECT_EQ(algorithms(lines, "AllGather"), "RING/LL128");
  EXPECT_EQ(algorithms(lines, "ReduceScatter"), "");
}

TEST(NcclLog, OlderNcclPrintsEnumNumbers) {
  const std::vector<std::string> lines = {
      "h:1:1 [0] NCCL INFO Broadcast: 4194304 Bytes -> Algo 1 proto 2 time 52.123001",
      "h:1:1 [0] NCCL INFO AllReduce: 1024 Bytes -> Algo 0 proto 0 time 10.5",
      "h:1:1 [0] NCCL INFO ReduceScatter: 1024 Bytes -> Algo 6 proto 2 time 10.5",
  };
  EXPECT_EQ(algorithms(lines, "Broadcast"), "RING/SIMPLE");
  EXPECT_EQ(algorithms(lines, "AllReduce"), "TREE/LL");
  EXPECT_EQ(algorithms(lines, "ReduceScatter"), "PAT/SIMPLE");
}

TEST(NcclLog, DebugFileNamesExpandLikeNccl) {
  EXPECT_EQ(expand_debug_file("/tmp/nccl.%h.%p.log", "node01", 4242), "/tmp/nccl.node01.4242.log");
  EXPECT_EQ(expand_debug_file("/tmp/100%%-%x", "h", 1), "/tmp/100%-%x");
}

// aws-ofi-nccl names its network "AWS Libfabric" (a space): the whole name and the NIC index.
TEST(NcclLog, EfaPluginNameWithASpace) {
  const std::vector<std::string> lines = {
      "ip-10-0-0-1:2345:2399 [0] NCCL INFO NET/OFI Selected Provider is efa (found 4 nics)",
      "ip-10-0-0-1:2345:2399 [0] NCCL INFO Using network AWS Libfabric",
      "ip-10-0-0-1:2345:2399 [0] NCCL INFO Channel 00/0 : 0[0] -> 8[0] [send] via NET/AWS Libfabric/0/GDRDMA",
      "ip-10-0-0-1:2345:2399 [0] NCCL INFO Channel 01/0 : 8[0] -> 0[0] [receive] via NET/AWS "
      "Libfabric/1/GDRDMA\r",
  };
  EXPECT_EQ(transports(lines), "NET/AWS Libfabric/0+NET/AWS Libfabric/1");
}

// HPC-X's nccl-rdma-sharp plugin: network "IBext_v8", NICs listed as IB's.
TEST(NcclLog, HpcxPluginNicsAreInfinibands) {
  const std::vector<std::string> lines = {
      "n1:1:2 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB [1]mlx5_1:1/IB [2]mlx5_2:1/IB [3]mlx5_3:1/IB ; OOB "
      "ib0:10.2.0.1<0>",
      "n1:1:2 [0] NCCL INFO Using network IBext_v8",
      "n1:1:2 [0] NCCL INFO Channel 02/0 : 3[3] -> 11[3] [send] via NET/IBext_v8/3/GDRDMA",
      "n1:1:2 [0] NCCL INFO Channel 02/0 : 19[3] -> 3[3] [receive] via NET/IBext_v8/3(2)/GDRDMA/Shared",
  };
  EXPECT_EQ(transports(lines), "NET/IBext_v8/mlx5_3:1");
}

// NCCL 2.18's "direct pointer" (a space) and indirect P2P, and the Grace P2C link type.
TEST(NcclLog, OlderPeerToPeerMechanismsAndP2c) {
  const std::vector<std::string> lines = {
      "g1:1:2 [0] NCCL INFO Pattern 4, crossNic 0, nChannels 8, bw 20.000000/20.000000, type P2C/P2C, "
      "sameChannels 1",
      "g1:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/direct pointer/read",
      "g1:1:2 [0] NCCL INFO Channel 01/0 : 1[1] -> 2[2] via P2P/indirect/3[3]",
  };
  EXPECT_EQ(transports(lines), "P2P/P2C/direct+P2P/P2C/indirect");
}

TEST(NcclLog, NvlsAppears) {
  const std::vector<std::string> lines = {
      "d1:1:2 [0] NCCL INFO NVLS multicast support is available on dev 0 (NVLS_NCHANNELS 16)",
      "d1:1:2 [0] NCCL INFO NVLS comm 0x55d0a1b2c3d0 headRank 0 nHeads 8 nvlsRanks 8 buffSize 1048576 "
      "nvlsPerRankSize 201326592 nvlsTotalSize 1610612736",
      "d1:1:2 [0] NCCL INFO Connected NVLS tree",
  };
  EXPECT_EQ(transports(lines), "NVLS");
}

// NCCL >= 2.22 connects at the first op (runtime connect): channel lines come in later batches,
// and the NIC list (printed once per process) was in an earlier one.
TEST(NcclLog, TransportsAccumulateOverBatches) {
  NetNames names;
  Transports t;
  const std::vector<std::string> init = {
      "n:1:2 [0] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB [1]mlx5_1:1/RoCE ; OOB eth0:10.0.0.1<0>",
      "n:1:2 [0] NCCL INFO Pattern 4, crossNic 0, nChannels 2, bw 40.0/40.0, type NVL/PIX, sameChannels 1",
      "n:1:2 [0] NCCL INFO ncclCommInitRankConfig comm 0x1 rank 0 nranks 4 cudaDev 0 nvmlDev 0 - Init "
      "COMPLETE",
  };
  names.learn(init);
  t.add(init, names);
  EXPECT_EQ(t.str(), "");
  const std::vector<std::string> first_op = {
      "n:1:9 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read",
      "n:1:9 [0] NCCL INFO Channel 00/0 : 3[1] -> 0[0] [receive] via NET/IB/1/GDRDMA",
  };
  names.learn(first_op);
  t.add(first_op, names);
  const std::vector<std::string> later = {
      "n:1:9 [0] NCCL INFO Channel 01/0 : 0[0] -> 3[1] [send] via NET/IB/0"};
  t.add(later, names);
  EXPECT_EQ(t.str(), "NET/IB/mlx5_0:1+NET/IB/mlx5_1:1/RoCE+P2P/NVLink/CUMEM");
}

TEST(NcclLog, TuningLinesOfEveryVersion) {
  const std::vector<std::string> lines = {
      // 2.18-2.22: enum numbers and a time
      "a:1:1 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo 1 proto 2 time 36.000000",
      // 2.23-2.28: names and the channel range
      "a:1:1 [0] NCCL INFO AllReduce: 4194304 Bytes -> Algo NVLS proto SIMPLE channel{Lo..Hi}={0..15}",
      // a prefixed form (tuner plugins print "Func: <name>")
      "a:1:1 [0] NCCL INFO Func: AllReduce: 64 Bytes -> Algo TREE proto LL channel{Lo..Hi}={0..1}",
  };
  EXPECT_EQ(algorithms(lines, "AllReduce"), "RING/SIMPLE+NVLS/SIMPLE+TREE/LL");
}

TEST(NcclLog, WarningsAreFound) {
  const std::vector<std::string> lines = {
      "h:1:1 [0] NCCL INFO Using network IB",
      "h:1:1 [0] NCCL WARN NET/IB : Got async event : port error\r",
      "h:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/IPC",
  };
  const auto w = warnings(lines);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], "h:1:1 [0] NCCL WARN NET/IB : Got async event : port error");
}

// NCCL expands %h with the hostname cut at its first dot (gethostname, not MPI's processor name).
TEST(NcclLog, HostnameAsNcclCutsItAtTheFirstDot) {
  EXPECT_EQ(nccl_hostname("node01.cluster.example.org"), "node01");
  EXPECT_EQ(nccl_hostname("node01"), "node01");
  EXPECT_EQ(expand_debug_file("/l/%h.log", nccl_hostname("gpu7.dc1"), 1), "/l/gpu7.log");
}

}  // namespace
}  // namespace fb::transports::nccl_log

namespace fb::transports::nccl_log {
namespace {

// validate's per-pair transport check: only the channels between this rank and the peer.
TEST(NcclLog, TransportsPerPeer) {
  NetNames names;
  Transports t;
  t.set_self(1);
  const std::vector<std::string> lines = {
      "n:1:2 [1] NCCL INFO NET/IB : Using [0]mlx5_0:1/IB ; OOB eth0:10.0.0.1<0>",
      "n:1:2 [1] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/IPC",
      "n:1:2 [1] NCCL INFO Channel 00/0 : 1[1] -> 2[0] [send] via NET/IB/0",
      "n:1:2 [1] NCCL INFO Channel 00/1 : 2[0] -> 1[1] [receive] via NET/IB/0",
  };
  names.learn(lines);
  t.add(lines, names);
  EXPECT_EQ(t.str_for(0), "P2P/IPC");
  EXPECT_EQ(t.str_for(2), "NET/IB/mlx5_0:1");
  EXPECT_EQ(t.str_for(3), "");
}

}  // namespace
}  // namespace fb::transports::nccl_log
