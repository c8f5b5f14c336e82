#include "transports/ucx/ucx_info.hpp"

#include <cstdio>
#include <cstdlib>
#include <regex>

namespace fb::transports {

std::vector<std::string> parse_ucx_ep_info(const std::string& text) {
  // "#                 lane[1]:  3:sysv/memory.0 md[2]  -> md[2]/sysv/sysdev[255]"
  // "#                 lane[0]:  0:tcp/eth0.0 md[0]     -> md[0]/tcp/sysdev[255] rma_bw#0 am"
  static const std::regex lane(R"(lane\[\d+\]:\s+\d+:([A-Za-z0-9_]+)/(\S+?)(\.\d+)?\s)");
  std::vector<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), lane), end; it != end; ++it) {
    const std::string tl = (*it)[1], dev = (*it)[2];
    const bool memory = dev.rfind("memory", 0) == 0;
    std::string name = memory ? tl : tl + "/" + dev;
    bool seen = false;
    for (const auto& o : out) seen = seen || o == name;
    if (!seen) out.push_back(name);
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
