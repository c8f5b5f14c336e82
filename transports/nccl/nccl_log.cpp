#include "transports/nccl/nccl_log.hpp"

#include <algorithm>
#include <regex>

namespace fb::transports::nccl_log {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// NCCL's enum values, for NCCL versions that print numbers instead of names (<= 2.22).
std::string algo_name(const std::string& s) {
  static const char* names[] = {"TREE",      "RING", "COLLNET_DIRECT", "COLLNET_CHAIN", "NVLS",
                                "NVLS_TREE", "PAT"};
  if (all_digits(s)) {
    const auto i = static_cast<std::size_t>(std::stoul(s));
    return i < std::size(names) ? names[i] : "ALGO" + s;
  }
  return upper(s);
}

std::string proto_name(const std::string& s) {
  static const char* names[] = {"LL", "LL128", "SIMPLE"};
  if (all_digits(s)) {
    const auto i = static_cast<std::size_t>(std::stoul(s));
    return i < std::size(names) ? names[i] : "PROTO" + s;
  }
  return upper(s);
}

// The topology graph's link type between GPUs of a node, as a name. P2C (NCCL >= 2.27): PCIe
// through a C2C link (Grace).
std::string link_name(const std::string& type) {
  if (type == "NVL" || type == "NVB") return "NVLink";
  if (type == "C2C") return "C2C";
  if (type == "P2C") return "P2C";
  if (type == "PIX" || type == "PXB" || type == "PXN" || type == "PHB" || type == "SYS") return "PCIe";
  return "";
}

std::string rstrip(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\n')) s.pop_back();
  return s;
}

}  // namespace

void NetNames::learn(const std::vector<std::string>& lines) {
  static const std::regex using_nics(R"(NET/([^:]+?) : Using (.*))");
  static const std::regex nic(R"(\[(\d+)\](\S+))");
  static const std::regex graph(
      R"(Pattern \d+, crossNic \d+, nChannels \d+, .*type ([A-Z0-9]+)/([A-Z0-9]+))");
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_search(l, m, using_nics)) {
      std::string list = m[2].str();
      const auto oob = list.find("; OOB");  // NCCL: "Using%s %s; OOB %s:%s"
      if (oob != std::string::npos) list = list.substr(0, oob);
      auto& devs = nics_[m[1].str()];
      for (auto it = std::sregex_iterator(list.begin(), list.end(), nic); it != std::sregex_iterator();
           ++it) {
        std::string dev = (*it)[2].str();
        if (m[1].str() == "Socket") dev = dev.substr(0, dev.find(':'));  // eth0:10.0.0.1<0>
        if (dev.size() > 3 && dev.compare(dev.size() - 3, 3, "/IB") == 0) dev.resize(dev.size() - 3);
        devs[std::stoi((*it)[1].str())] = dev;
      }
    } else if (link_.empty() && std::regex_search(l, m, graph)) {
      link_ = link_name(m[1].str());
    }
  }
}

std::string NetNames::nic(const std::string& net, int index) const {
  auto find = [&](const std::string& n) -> std::string {
    auto it = nics_.find(n);
    if (it == nics_.end()) return "";
    auto d = it->second.find(index);
    return d == it->second.end() ? "" : d->second;
  };
  std::string dev = find(net);
  // The HPC-X / nccl-rdma-sharp plugin names its network "IBext", "IBext_v8", ... and lists its
  // NICs as "NET/IB : Using ...".
  if (dev.empty() && net.rfind("IBext", 0) == 0) dev = find("IB");
  return dev;
}

void Transports::add(const std::vector<std::string>& lines, const NetNames& names) {
  // Everything after "via" (plugin names have spaces: "NET/AWS Libfabric/0/GDRDMA").
  static const std::regex channel(
      R"(Channel \d+(?:/\d+)? : (\d+)\[[0-9a-fx]+\] -> (\d+)\[[0-9a-fx]+\](?: \[(?:send|receive)\])? via (.+))");
  static const std::regex net_via(R"(^(.+?)/(\d+)(?:\(\d+\))?(?:/.*)?$)");
  static const std::regex collnet(R"(CollNet \d+/\d+ : \d+ \[(?:send|receive)\] via COLLNET/([^/\s]+))");
  static const std::regex nvls(R"(NVLS comm 0x[0-9a-fA-F]+ headRank|Connected NVLS)");
  for (const auto& line : lines) {
    std::smatch m;
    if (std::regex_search(line, m, channel)) {
      const std::string via = rstrip(m[3].str());  // P2P/IPC/read, NET/IB/0(1)/GDRDMA, SHM/direct/direct
      const int from = std::stoi(m[1].str()), to = std::stoi(m[2].str());
      const int peer = from == self_ ? to : to == self_ ? from : -1;
      std::string t;
      const auto a = via.find('/');
      const std::string kind = via.substr(0, a);
      const std::string rest = a == std::string::npos ? "" : via.substr(a + 1);
      if (kind == "P2P") {
        // CUMEM/read, IPC, direct pointer/read, indirect/3[3]
        const std::string mech = rest.substr(0, rest.find_first_of("/ "));
        const std::string& link = names.gpu_link();
        t = "P2P/" + (link.empty() ? "" : link + "/") + mech;
      } else if (kind == "NET") {
        std::smatch n;
        if (std::regex_match(rest, n, net_via)) {
          const std::string net = n[1].str();
          const int i = std::stoi(n[2].str());
          std::string dev = names.nic(net, i);
          if (dev.empty()) dev = n[2].str();
          t = "NET/" + net + "/" + dev;
        } else {
          t = "NET/" + rest;
        }
      } else if (kind == "SHM") {
        t = "SHM";
      } else if (!kind.empty()) {
        t = kind;
      }
      if (!t.empty()) {
        seen_.insert(t);
        if (peer >= 0) per_peer_[peer].insert(t);
      }
    } else if (std::regex_search(line, m, collnet)) {
      seen_.insert("COLLNET/" + m[1].str());
    } else if (std::regex_search(line, nvls)) {
      seen_.insert("NVLS");
    }
  }
}

std::string Transports::str() const {
  std::string s;
  for (const auto& t : seen_) s += (s.empty() ? "" : "+") + t;
  return s;
}

std::string Transports::str_for(int peer) const {
  std::string s;
  auto it = per_peer_.find(peer);
  if (it == per_peer_.end()) return s;
  for (const auto& t : it->second) s += (s.empty() ? "" : "+") + t;
  return s;
}

std::string transports(const std::vector<std::string>& lines) {
  NetNames names;
  names.learn(lines);
  Transports t;
  t.add(lines, names);
  return t.str();
}

std::string algorithms(const std::vector<std::string>& lines, const std::string& func) {
  // NCCL <= 2.22: "AllReduce: 1024 Bytes -> Algo 0 proto 0 time 10.5"; later: names and
  // "channel{Lo..Hi}={0..31}". Neither prints a "Func:" prefix, so none is required.
  static const std::regex tuning(R"((\w+): (\d+) Bytes -> Algo (\w+) proto (\w+))");
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

std::vector<std::string> warnings(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines)
    if (l.find(" NCCL WARN ") != std::string::npos) out.push_back(rstrip(l));
  return out;
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

std::string nccl_hostname(const std::string& gethostname_result) {
  return gethostname_result.substr(0, gethostname_result.find('.'));
}

}  // namespace fb::transports::nccl_log
