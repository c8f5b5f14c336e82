// The list of commands (harness/commands/command.hpp).
#include "harness/commands/command.hpp"

namespace fb {

int Command::run(transports::World&, const std::string&) {
  return run();
}

std::vector<std::unique_ptr<Command>> all_commands() {
  std::vector<std::unique_ptr<Command>> v;
  v.push_back(make_run_command());
  v.push_back(make_validate_command());
  v.push_back(make_model_command());
  v.push_back(make_inference_command());
  v.push_back(make_calibrate_command());
  v.push_back(make_compare_command());
  v.push_back(make_report_command());
  return v;
}

}  // namespace fb
