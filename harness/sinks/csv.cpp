// CSV sink: a header of csv_columns(), then one line per record, written and flushed before row()
// returns. Fields are quoted as RFC 4180 when they hold a comma, a double quote or a line break;
// lines end in "\n". Doubles are written in fmt's shortest round-trip form ("{}"), so a value read
// back from the CSV is the same double as the one in the JSON.
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>

#include "harness/record_fields.hpp"
#include "harness/sinks/guard.hpp"
#include "harness/sinks/sink.hpp"

namespace fb {

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c;
    for (const auto& f : record_fields(Record{})) c.emplace_back(f.name);
    return c;
  }();
  return columns;
}

namespace {

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

std::string csv_value(const FieldValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return csv_quote(x);
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "1" : "0";
        } else {
          return fmt::format("{}", x);
        }
      },
      v);
}

class CsvSink final : public Sink {
 public:
  explicit CsvSink(std::string path) : path_(std::move(path)) {
    file_ = std::fopen(path_.c_str(), "w");
    if (file_ == nullptr)
      throw std::runtime_error(fmt::format("cannot open CSV file '{}': {}", path_, std::strerror(errno)));
    std::string header;
    for (const auto& c : csv_columns()) {
      if (!header.empty()) header += ',';
      header += c;
    }
    header += '\n';
    write(header);
  }
  ~CsvSink() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  CsvSink(const CsvSink&) = delete;
  CsvSink& operator=(const CsvSink&) = delete;

  void begin(const RunMeta&) override {}  // the run metadata lives in the JSON; rows carry nranks etc.

  void row(const Record& r) override {
    std::string line;
    for (const auto& f : record_fields(r)) {
      if (!line.empty()) line += ',';
      line += csv_value(f.value);
    }
    line += '\n';
    write(line);
  }

  void end(const std::string&) override {
    if (file_ == nullptr) return;
    int err = std::fflush(file_) == 0 ? 0 : errno;
    if (std::fclose(file_) != 0 && err == 0) err = errno;
    file_ = nullptr;
    if (err != 0)
      throw std::runtime_error(fmt::format("cannot close CSV file '{}': {}", path_, std::strerror(err)));
  }

 private:
  void write(const std::string& s) {
    if (file_ == nullptr) throw std::runtime_error(fmt::format("CSV file '{}' written after end()", path_));
    if (std::fwrite(s.data(), 1, s.size(), file_) != s.size() || std::fflush(file_) != 0)
      throw std::runtime_error(fmt::format("cannot write CSV file '{}': {}", path_, std::strerror(errno)));
  }

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace

std::unique_ptr<Sink> make_csv_sink(const std::string& path) {
  return make_guarded_sink<CsvSink>(path);
}

}  // namespace fb
