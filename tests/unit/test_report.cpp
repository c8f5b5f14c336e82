// fabricbench report's plot spec (harness/report.hpp): sizes in labels read in binary units, the
// validate heat-map carries each metric's own grade, and the bandwidth bands are validate's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "harness/report.hpp"
#include "harness/validate.hpp"

namespace fb {
namespace {

const std::string kFixtures = std::string(FB_SOURCE_DIR) + "/tests/fixtures";

TEST(ReportSizeLabel, BinaryUnits) {
  EXPECT_EQ(size_label(8), "8 B");
  EXPECT_EQ(size_label(1023), "1023 B");
  EXPECT_EQ(size_label(1024), "1 KiB");
  EXPECT_EQ(size_label(1536), "1.5 KiB");
  EXPECT_EQ(size_label(1ull << 20), "1 MiB");
  EXPECT_EQ(size_label(256ull << 20), "256 MiB");
  EXPECT_EQ(size_label(1ull << 30), "1 GiB");
  EXPECT_EQ(size_label(16ull << 30), "16 GiB");
  EXPECT_EQ(size_label(2ull << 40), "2 TiB");
  // Not exact in one decimal of a unit: the bytes themselves, never a rounded size.
  EXPECT_EQ(size_label(1000), "1000 B");
  EXPECT_EQ(size_label(1234567), "1234567 B");
}

TEST(ReportSpec, MatrixCarriesEachMetricsGrade) {
  ReportOptions o;
  o.inputs = {kFixtures + "/validate/matrix-4ranks.csv"};
  const auto spec = nlohmann::json::parse(report_spec_json(o));
  ASSERT_EQ(spec["matrices"].size(), 1u);
  const auto& pairs = spec["matrices"][0]["pairs"];
  ASSERT_EQ(pairs.size(), 6u);
  int checked = 0;
  for (const auto& p : pairs) {
    if (p["a"] == 1 && p["b"] == 3) {
      // Bandwidth failed, latency passed: the heat-map must not mark the latency cell.
      EXPECT_EQ(p["verdict"], "fail");
      EXPECT_EQ(p["bw_verdict"], "fail");
      EXPECT_EQ(p["lat_verdict"], "pass");
      ++checked;
    }
    if (p["a"] == 1 && p["b"] == 2) {  // no bandwidth measured
      EXPECT_EQ(p["bw_verdict"], "");
      EXPECT_TRUE(p["bw_ratio"].is_null());
      EXPECT_EQ(p["lat_verdict"], "pass");
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2);
}

TEST(ReportSpec, BandsAreValidatesGrades) {
  ReportOptions o;
  o.inputs = {kFixtures + "/compare/base.csv"};
  const auto spec = nlohmann::json::parse(report_spec_json(o));
  const ValidateOptions grades;
  EXPECT_EQ(spec["bands"]["bw_pass"].get<double>(), grades.bw_pass);
  EXPECT_EQ(spec["bands"]["bw_warn"].get<double>(), grades.bw_warn);
  EXPECT_EQ(spec["bands"]["bw_upper"].get<double>(), 1.25);
}

TEST(ReportSpec, CompareLabelsInBinaryUnits) {
  ReportOptions o;
  o.compare = {kFixtures + "/compare/base.csv", kFixtures + "/compare/regression.csv"};
  const auto spec = nlohmann::json::parse(report_spec_json(o));
  const auto& rows = spec["compare"]["rows"];
  ASSERT_FALSE(rows.empty());
  bool mib = false, mib16 = false;
  for (const auto& r : rows) {
    const std::string label = r["label"];
    EXPECT_EQ(label.find("1048576"), std::string::npos) << label;
    EXPECT_EQ(label.find("16777216"), std::string::npos) << label;
    mib |= label.find("allreduce mpi native float32 np=4 1 MiB") != std::string::npos;
    mib16 |= label.find(" 16 MiB") != std::string::npos;
  }
  EXPECT_TRUE(mib);
  EXPECT_TRUE(mib16);
}

}  // namespace
}  // namespace fb
