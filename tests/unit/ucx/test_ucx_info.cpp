// The transport column of the ucx backend comes from UCX's own endpoint description.
#include <gtest/gtest.h>

#include "transports/ucx/ucx_info.hpp"

namespace fb::transports {
namespace {

TEST(UcxInfo, SharedMemoryLanesByName) {
  // ucp_ep_print_info of UCX 1.13.1 between two processes on one host.
  const std::string text =
      "#\n# UCP endpoint \n#\n#               peer: <no debug data>\n"
      "#                 lane[0]:  3:sysv/memory.0 md[2]           -> md[2]/sysv/sysdev[255] am am_bw#0\n"
      "#                 lane[1]:  4:posix/memory.0 md[3]          -> md[3]/posix/sysdev[255]\n"
      "#                 lane[2]:  5:cma/memory.0 md[4]            -> md[4]/cma/sysdev[255] rma_bw#0\n"
      "#\n#                tag_send: 0..<egr/short>..8185..<egr/bcopy>..8192..<rndv>..(inf)\n";
  EXPECT_EQ(parse_ucx_ep_info(text), (std::vector<std::string>{"sysv", "posix", "cma"}));
}

TEST(UcxInfo, NetworkLanesWithTheirDeviceOnce) {
  const std::string text =
      "#                 lane[0]:  0:self/memory0.0 md[0]          -> md[0]/self/sysdev[255] am am_bw#0\n"
      "#                 lane[1]:  1:tcp/lo.0 md[1]                -> md[1]/tcp/sysdev[255] rma_bw#0\n"
      "#                 lane[2]:  2:tcp/eth0.0 md[1]              -> md[1]/tcp/sysdev[255] rma_bw#1 wireup\n"
      "#                 lane[3]:  2:tcp/eth0.0 md[1]              -> md[1]/tcp/sysdev[255] am_bw#1\n"
      "#                 lane[4]:  6:rc_mlx5/mlx5_0:1.0 md[5]      -> md[5]/ib/sysdev[255] rma_bw#2\n";
  EXPECT_EQ(parse_ucx_ep_info(text),
            (std::vector<std::string>{"self", "tcp/lo", "tcp/eth0", "rc_mlx5/mlx5_0:1"}));
}

TEST(UcxInfo, NothingRecognisableGivesNothing) {
  EXPECT_TRUE(parse_ucx_ep_info("").empty());
  EXPECT_TRUE(parse_ucx_ep_info("# UCP endpoint\n#   peer: <no debug data>\n").empty());
}

}  // namespace
}  // namespace fb::transports
