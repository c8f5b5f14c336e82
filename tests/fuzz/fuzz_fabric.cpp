// libFuzzer target: the fabric parser (fb::model::parse_fabric, what `--fabric FILE --set ...`
// runs) over arbitrary text. The input is the YAML text; bytes after a NUL are `--set path=value`
// overrides, one per NUL-separated piece, so the override paths are fuzzed too. Bad input must end
// in std::invalid_argument, the parser's documented error; anything else (another exception, a
// crash, an ASan or UBSan report, a hang) is a bug.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/fabric.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string yaml = input.substr(0, nul);
  std::vector<std::string> sets;
  for (std::size_t at = nul; at != std::string::npos;) {
    const std::size_t next = input.find('\0', at + 1);
    sets.push_back(input.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
    at = next;
  }
  try {
    const fb::model::Fabric f = fb::model::parse_fabric(yaml, "fuzz.yaml", sets);
    // A fabric that parsed is valid: the derived quantities the model uses must not misbehave.
    (void)f.max_endpoints();
    if (f.has_scaleout()) (void)f.nic_GBps_per_endpoint();
  } catch (const std::invalid_argument&) {
    // Expected for bad input; other exceptions escape and terminate (libFuzzer reports a crash).
  }
  return 0;
}
