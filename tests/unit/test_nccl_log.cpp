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

}  // namespace
}  // namespace fb::transports::nccl_log
