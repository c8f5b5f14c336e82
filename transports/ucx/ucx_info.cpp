#include "transports/ucx/ucx_info.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace fb::transports {

std::vector<std::string> parse_ucx_ep_info(const std::string& text) {
  // "#                 lane[1]:  3:sysv/memory.0 md[2]  -> md[2]/sysv/sysdev[255]"
  // "#                 lane[0]:  0:tcp/eth0.0 md[0]     -> md[0]/tcp/sysdev[255] rma_bw#0 am"
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto lane = line.find("lane[");
    if (lane == std::string::npos) continue;
    const auto colon = line.find("]:", lane);
    if (colon == std::string::npos) continue;
    std::istringstream words(line.substr(colon + 2));
    std::string res;  // "3:sysv/memory.0": resource index, transport, device
    if (!(words >> res)) continue;
    const auto c = res.find(':'), slash = res.find('/');
    if (c == std::string::npos || slash == std::string::npos || slash < c) continue;
    const std::string tl = res.substr(c + 1, slash - c - 1);
    std::string dev = res.substr(slash + 1);
    const auto dot = dev.rfind('.');
    if (dot != std::string::npos && dot + 1 < dev.size() &&
        dev.find_first_not_of("0123456789", dot + 1) == std::string::npos)
      dev.erase(dot);
    if (tl.empty() || dev.empty()) continue;
    const std::string name = dev.rfind("memory", 0) == 0 ? tl : tl + "/" + dev;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::vector<std::string> ucx_ep_transports(ucp_ep_h ep) {
  char* buf = nullptr;
  std::size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  if (f == nullptr) return {};
  ucp_ep_print_info(ep, f);
  std::fclose(f);
  std::string text(buf, len);
  std::free(buf);
  return parse_ucx_ep_info(text);
}

}  // namespace fb::transports
