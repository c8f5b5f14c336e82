// Rank 0's progress line on stderr (test i of N, size, elapsed, estimated remaining). Silent
// unless enabled and stderr is a terminal.
#pragma once

#include <chrono>
#include <string>

namespace fb {

class Progress {
 public:
  enum Mode { off = 0, tty = 1, on = 2 };
  // `total_work`: the sum of the weights of every row to run (see weight()).
  Progress(int mode, double total_work, int total_rows);
  ~Progress();
  // Weight of one row: grows with the bytes each op moves and the number of ops.
  static double weight(unsigned long long bytes, int ops);
  void start_row(const std::string& what);
  void finish_row(double weight);
  void clear();

 private:
  bool enabled_;
  double total_ = 0, done_ = 0;
  int rows_ = 0, row_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace fb
