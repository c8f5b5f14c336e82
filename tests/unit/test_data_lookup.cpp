// Data lookup (harness/data_lookup.hpp) over temporary trees laid out as a build directory outside
// the source tree, an install tree, a configured install prefix and a source tree.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "harness/data_lookup.hpp"
#include "vocab/error.hpp"

namespace fb {
namespace {

namespace fs = std::filesystem;

class DataLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("fb_data_lookup_" + std::to_string(getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Creates root/rel (and its directories) holding `text`; returns its path.
  std::string touch(const std::string& rel, const std::string& text = "x") {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string at(const std::string& rel) const { return (root_ / rel).string(); }

  // A binary in root/prefix/bin (install layout), a configured prefix root/configured, a source
  // tree root/src and a build directory root/elsewhere/build outside it.
  DataOrigins installed() const {
    DataOrigins o;
    o.exe_dir = at("prefix/bin");
    o.install_dir = at("configured/share/fabricbench");
    o.source_dir = at("src");
    return o;
  }
  DataOrigins out_of_tree_build() const {
    DataOrigins o = installed();
    o.exe_dir = at("elsewhere/build");
    return o;
  }

  fs::path root_;
};

// What it takes to fail without a fix for item 2: every place, in order, named in the error.
std::string lookup_error(DataKind kind, const std::string& name, const DataOrigins& o) {
  try {
    (void)find_data_file(kind, name, o);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_F(DataLookup, SearchOrderIsBinaryThenInstallPrefixThenSourceTree) {
  EXPECT_EQ(data_dirs(DataKind::fabric, installed()),
            (std::vector<std::string>{
                at("prefix/share/fabricbench/configs/fabrics"), at("prefix/configs/fabrics"),
                at("configured/share/fabricbench/configs/fabrics"), at("src/configs/fabrics")}));
  EXPECT_EQ(data_dirs(DataKind::plot_script, installed()),
            (std::vector<std::string>{at("prefix/share/fabricbench/scripts"), at("prefix/scripts"),
                                      at("configured/share/fabricbench/scripts"), at("src/scripts")}));
  EXPECT_EQ(data_dirs(DataKind::plan, installed())[0], at("prefix/share/fabricbench/configs/plans"));
  EXPECT_EQ(data_dirs(DataKind::reference, installed())[3], at("src/configs/reference"));
}

TEST_F(DataLookup, BuildDirectoryInsideTheSourceTreeIsSearchedOnce) {
  DataOrigins o = installed();
  o.exe_dir = at("src/build");
  EXPECT_EQ(data_dirs(DataKind::plan, o),
            (std::vector<std::string>{at("src/share/fabricbench/configs/plans"), at("src/configs/plans"),
                                      at("configured/share/fabricbench/configs/plans")}));
}

TEST_F(DataLookup, OutOfTreeBuildFindsTheSourceTreeItWasBuiltFrom) {
  const std::string fabric = touch("src/configs/fabrics/hgx-h100.yaml");
  const std::string plan = touch("src/configs/plans/quick.yaml");
  const std::string script = touch("src/scripts/fabricbench-plot.py");
  const std::string published = touch("src/configs/reference/published.csv");
  const DataOrigins o = out_of_tree_build();
  EXPECT_EQ(find_data_file(DataKind::fabric, "hgx-h100", o), fabric);
  EXPECT_EQ(find_data_file(DataKind::fabric, "hgx-h100.yaml", o), fabric);
  EXPECT_EQ(find_data_file(DataKind::plan, "quick", o), plan);
  EXPECT_EQ(find_data_file(DataKind::plot_script, "fabricbench-plot.py", o), script);
  EXPECT_EQ(find_data_file(DataKind::reference, "published", o), published);
}

TEST_F(DataLookup, InstallTreeBesideTheBinaryComesFirst) {
  touch("src/configs/plans/quick.yaml");
  touch("configured/share/fabricbench/configs/plans/quick.yaml");
  const std::string beside = touch("prefix/share/fabricbench/configs/plans/quick.yaml");
  EXPECT_EQ(find_data_file(DataKind::plan, "quick", installed()), beside);
  fs::remove(beside);
  EXPECT_EQ(find_data_file(DataKind::plan, "quick", installed()),
            at("configured/share/fabricbench/configs/plans/quick.yaml"));
}

TEST_F(DataLookup, ExplicitPathAlwaysWins) {
  touch("src/configs/fabrics/mine.yaml");
  const std::string own = touch("own/mine.yaml");
  EXPECT_EQ(find_data_file(DataKind::fabric, own, installed()), own);
  // A path that is not there is returned as given, for its reader to report, never replaced by a name.
  EXPECT_EQ(find_data_file(DataKind::plan, at("own/missing.yaml"), installed()), at("own/missing.yaml"));
}

TEST_F(DataLookup, EnvironmentDirectoriesComeFirstAndDataPathReplacesTheRoots) {
  DataOrigins o = installed();
  o.kind_dir = at("mine/fabrics");
  o.data_path = at("d1") + ":" + at("d2");
  EXPECT_EQ(
      data_dirs(DataKind::fabric, o),
      (std::vector<std::string>{at("mine/fabrics"), at("d1/configs/fabrics"), at("d2/configs/fabrics")}));
  touch("src/configs/fabrics/localhost.yaml");
  const std::string msg = lookup_error(DataKind::fabric, "localhost", o);
  EXPECT_NE(msg.find(at("d2/configs/fabrics")), std::string::npos) << msg;
  EXPECT_EQ(msg.find(at("src")), std::string::npos)
      << "FABRICBENCH_DATA_PATH replaces the source tree: " << msg;
}

TEST_F(DataLookup, NotFoundNamesEveryPlaceSearched) {
  const std::string msg = lookup_error(DataKind::plan, "nightly", installed());
  EXPECT_EQ(msg.rfind("plan: 'nightly' is neither a file nor a plan in ", 0), 0u) << msg;
  for (const auto& d : data_dirs(DataKind::plan, installed()))
    EXPECT_NE(msg.find(d), std::string::npos) << d << " not named in: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST_F(DataLookup, PlotScriptIsNeverTakenFromTheCurrentDirectory) {
  const fs::path cwd = fs::current_path();
  touch("cwd/fabricbench-plot.py");
  fs::current_path(root_ / "cwd");
  const std::string msg = lookup_error(DataKind::plot_script, "fabricbench-plot.py", installed());
  fs::current_path(cwd);
  EXPECT_NE(msg.find("plot script: 'fabricbench-plot.py' is neither"), std::string::npos) << msg;
}

}  // namespace
}  // namespace fb
