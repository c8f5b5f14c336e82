// What UCX itself says about an endpoint: the transports of its lanes, parsed from
// ucp_ep_print_info (UCX 1.13 has no ucp_ep_query for transports). Kept apart from the backend so
// the parser is unit-tested on captured output.
#pragma once

#include <ucp/api/ucp.h>

#include <string>
#include <vector>

namespace fb::transports {

// Transports of every lane in ucp_ep_print_info's text, in lane order, without duplicates:
// shared-memory transports by name ("posix", "cma", "self"), network ones with their device
// ("tcp/eth0", "rc_mlx5/mlx5_0:1").
std::vector<std::string> parse_ucx_ep_info(const std::string& text);

// parse_ucx_ep_info of this endpoint's ucp_ep_print_info.
std::vector<std::string> ucx_ep_transports(ucp_ep_h ep);

}  // namespace fb::transports
