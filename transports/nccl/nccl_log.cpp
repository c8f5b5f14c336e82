#include "transports/nccl/nccl_log.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace fb::transports::nccl_log {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// NCCL's enum values, for NCCL versions that print numbers instead of names.
std::string algo_name(const std::string& s) {
  static const char* names[] = {"TREE",      "RING", "COLLNET_DIRECT", "COLLNET_CHAIN", "NVLS",
                                "NVLS_TREE", "PAT"};
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const auto i = static_cast<std::size_t>(std::stoul(s));
    return i < std::size(names) ? names[i] : "ALGO" + s;
  }
  return upper(s);
}

std::string proto_name(const std::string& s) {
  static const char* names[] = {"LL", "LL128", "SIMPLE"};
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const auto i = static_cast<std::size_t>(std::stoul(s));
    return i < std::size(names) ? names[i] : "PROTO" + s;
  }
  return upper(s);
}

// The topology graph's link type between GPUs of a node, as a name.
std::string link_name(const std::string& type) {
  if (type == "NVL" || type == "NVB") return "NVLink";
  if (type == "C2C") return "C2C";
  if (type == "PIX" || type == "PXB" || type == "PXN" || type == "PHB" || type == "SYS") return "PCIe";
  return "";
}

}  // namespace

std::string transports(const std::vector<std::string>& lines) {
  static const std::regex channel(
      R"(Channel \d+/\d+ : \d+\[[0-9a-fx]+\] -> \d+\[[0-9a-fx]+\](?: \[(?:send|receive)\])? via (\S+))");
  static const std::regex shm(R"(Channel \d+ : \d+\[[0-9a-fx]+\] -> \d+\[[0-9a-fx]+\] via SHM)");
  static const std::regex collnet(R"(CollNet \d+/\d+ : \d+ \[(?:send|receive)\] via COLLNET/([^/\s]+))");
  static const std::regex using_nics(R"(NET/([^:]+?) : Using (.*))");
  static const std::regex nic(R"(\[(\d+)\](\S+))");
  static const std::regex graph(
      R"(Pattern \d+, crossNic \d+, nChannels \d+, .*type ([A-Z0-9]+)/([A-Z0-9]+))");

  std::map<std::string, std::map<int, std::string>> nics;  // net name -> index -> device
  std::string link;
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_search(l, m, using_nics)) {
      std::string list = m[2].str();
      const auto oob = list.find("; OOB");  // NCCL: "Using%s %s; OOB %s:%s"
      if (oob != std::string::npos) list = list.substr(0, oob);
      auto& devs = nics[m[1].str()];
      for (auto it = std::sregex_iterator(list.begin(), list.end(), nic); it != std::sregex_iterator();
           ++it) {
        std::string dev = (*it)[2].str();
        if (m[1].str() == "Socket") dev = dev.substr(0, dev.find(':'));  // eth0:10.0.0.1<0>
        if (dev.size() > 3 && dev.compare(dev.size() - 3, 3, "/IB") == 0) dev.resize(dev.size() - 3);
        devs[std::stoi((*it)[1].str())] = dev;
      }
    } else if (link.empty() && std::regex_search(l, m, graph)) {
      link = link_name(m[1].str());
    }
  }

  std::set<std::string> out;
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_search(l, m, channel)) {
      const std::string via = m[1].str();  // P2P/IPC/read, NET/IB/0(1)/GDRDMA, SHM/direct/direct
      const auto a = via.find('/');
      const std::string kind = via.substr(0, a);
      const std::string rest = a == std::string::npos ? "" : via.substr(a + 1);
      if (kind == "P2P") {
        std::string mech = rest.substr(0, rest.find('/'));  // IPC, CUMEM, direct, indirect
        out.insert("P2P/" + (link.empty() ? "" : link + "/") + mech);
      } else if (kind == "NET") {
        const auto b = rest.find('/');
        const std::string net = rest.substr(0, b);
        std::string dev;
        if (b != std::string::npos) {
          const std::string idx = rest.substr(b + 1);
          const int i = std::atoi(idx.c_str());
          auto n = nics.find(net);
          if (n != nics.end() && n->second.count(i))
            dev = n->second[i];
          else
            dev = std::to_string(i);
        }
        out.insert("NET/" + net + (dev.empty() ? "" : "/" + dev));
      } else if (kind == "SHM") {
        out.insert("SHM");
      } else if (!kind.empty()) {
        out.insert(kind);
      }
    } else if (std::regex_search(l, shm)) {
      out.insert("SHM");
    } else if (std::regex_search(l, m, collnet)) {
      out.insert("COLLNET/" + m[1].str());
    }
  }
  std::string s;
  for (const auto& t : out) s += (s.empty() ? "" : "+") + t;
  return s;
}

std::string algorithms(const std::vector<std::string>& lines, const std::string& func) {
  static const std::regex tuning(R"((\w+): (\d+) Bytes -> Algo (\S+) proto (\S+))");
  std::vector<std::string> seen;
  for (const auto& l : lines) {
    std::smatch m;
    if (!std::regex_search(l, m, tuning) || m[1].str() != func) continue;
    const std::string a = algo_name(m[3].str()) + "/" + proto_name(m[4].str());
    if (std::find(seen.begin(), seen.end(), a) == seen.end()) seen.push_back(a);
  }
  std::string s;
  for (const auto& a : seen) s += (s.empty() ? "" : "+") + a;
  return s;
}

std::string expand_debug_file(const std::string& pattern, const std::string& host, long pid) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      const char c = pattern[i + 1];
      if (c == 'h') {
        out += host;
        ++i;
        continue;
      }
      if (c == 'p') {
        out += std::to_string(pid);
        ++i;
        continue;
      }
      if (c == '%') {
        out += '%';
        ++i;
        continue;
      }
    }
    out += pattern[i];
  }
  return out;
}

}  // namespace fb::transports::nccl_log
