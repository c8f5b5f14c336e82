// validate names flow collisions (issue 25, item 5): pairs that lose bandwidth when they run in a
// round, because the round's flows were routed onto one uplink, as an ECMP hash does. When the
// fabric (or the host) can tell which links each host-to-host flow crosses -- a flow-paths file,
// which `scripts/emufab exec` points FABRICBENCH_FLOW_PATHS at on a routed emulated fabric -- the
// report names the flows that shared each link; the pairs are then measured alone, and the
// report says whether they pass alone and suggests more flows per connection or adaptive routing.
//
// The flow-paths file (JSON):
//   {"source": "who says so", "exact": true|false,
//    "links": {"leaf0->spine1": 0.05, ...},                     // link -> its rate, Gbit/s
//    "flows": [{"src": "host", "dst": "host", "links": ["leaf0->spine1", "spine1->leaf2"]}, ...]}
// exact: each flow's links are the ones it takes (an L3 hash or static routes: by addresses);
// false: the links it may take (an L4 hash, by ports the file cannot know): "may have shared".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/validate_verdict.hpp"

namespace fb {

struct FlowPaths {
  std::string source;
  bool exact = true;
  std::map<std::string, double> link_Gbps;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> links;  // (src, dst) host -> links
};

// The file at `path`; throws UsageError with a one-line reason when it is unreadable or malformed.
FlowPaths load_flow_paths(const std::string& path);
// The file FABRICBENCH_FLOW_PATHS names, or nullopt when the variable is unset or empty.
std::optional<FlowPaths> flow_paths_from_env();

struct Collision {
  int round = 0;
  std::string link;
  double link_Gbps = 0;
  std::vector<std::string> flows;  // "hostA->hostB"
  std::vector<std::size_t> pairs;  // indexes into the pairs given to find_collisions()
  double demand_Gbps = 0;          // the model's rates of the flows on the link, summed
  bool exact = true;
};

// Per round: the links that more of the round's flows (both directions of every pair with a
// bandwidth result) cross than the link carries at the model's rates (the rates summed exceed
// the link's), where at least one of those pairs measured below `bw_pass` of the model. In round
// order, then by link.
std::vector<Collision> find_collisions(const std::vector<PairResult>& pairs, const FlowPaths& paths,
                                       double bw_pass);

// The report: a line per collision (with each pair's ratio in the round, and alone when
// `alone` has it: pair index -> its ratio measured alone), then the suggestion. Empty without
// collisions.
std::vector<std::string> collision_report(const std::vector<Collision>& collisions,
                                          const std::vector<PairResult>& pairs,
                                          const std::map<std::size_t, double>& alone, double bw_pass);

// The pairs to measure alone: every pair in a collision that measured below `bw_pass`, once.
std::vector<std::size_t> pairs_to_recheck(const std::vector<Collision>& collisions,
                                          const std::vector<PairResult>& pairs, double bw_pass);

// The verdict's view of the collisions: every pair that measured below --bw-pass in a collision
// and passed measured alone (`alone`: pair index -> its ratio alone) gets the collision's links in
// PairResult::collided_on and its bandwidth graded warn instead (overall regraded with
// pair_grade()): the collision explains the loss, not its host or link. A pair that also fails
// alone, or was not measured alone, keeps its grade.
void grade_collided_pairs(std::vector<PairResult>& pairs, const std::vector<Collision>& collisions,
                          const std::map<std::size_t, double>& alone, const ValidateOptions& o);

}  // namespace fb
