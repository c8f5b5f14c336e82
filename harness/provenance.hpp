// Where a row of a results file comes from, beyond what the run itself records: the provenance
// columns of published rows (configs/reference/published.csv, results/SCHEMA.md "Published
// rows"). The results reader keeps them when a file has them; the sinks never write them, so
// measured files and their golden copies are as they were.
#pragma once

#include <string>
#include <vector>

namespace fb {

struct Provenance {
  std::string ref;           // the row's number in the reference file's table
  std::string system;        // the system measured, as its source names it
  std::string fabric;        // the shipped fabric that models it ("": none fits)
  std::string fabric_set;    // ';'-separated --set overrides for that fabric
  int ranks_per_domain = 0;  // GPUs per NVLink domain in the job (0: not given)
  std::string nccl_version;  // "" when the source does not state it
  std::string citation;      // the source
  std::string trust;         // "A", "B", "C" or "" (not graded: a measurement of one's own)
  std::string note;
};

// The provenance column names, in the order published.csv has them.
const std::vector<std::string>& provenance_columns();
// Whether `name` is one of them.
bool is_provenance_column(const std::string& name);
// Sets the field of column `name` from its text; throws UsageError "WHERE: why" on a bad value
// (ranks_per_domain not a whole number >= 0, trust not A, B, C or empty).
void set_provenance(Provenance& p, const std::string& name, const std::string& text,
                    const std::string& where);
// The overrides of fabric_set, split at ';' (spaces and empty items dropped).
std::vector<std::string> fabric_sets(const Provenance& p);

}  // namespace fb
