// A stage's two costs: its wall time, and its thread's own CPU time. A
// stage's wall time on a worker thread also counts the time the thread
// waited for a core while gRPC threads (or a load generator on the same
// machine) ran, so at saturation it overstates the stage's cost; its thread
// CPU time is what the stage itself spent.
#ifndef VOCR_SERVER_CORE_STAGE_CLOCK_H_
#define VOCR_SERVER_CORE_STAGE_CLOCK_H_

#include <time.h>

#include <chrono>

namespace vocr {

// Started at construction. CpuMs is the calling thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID): helper threads a call starts (the CNN's OpenMP
// threads with --intra_op_threads > 1) are not in it.
class StageClock {
 public:
  StageClock() : wall_start_(std::chrono::steady_clock::now()), cpu_start_ms_(ThreadCpuMs()) {}

  double WallMs() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_start_).count();
  }
  double CpuMs() const { return ThreadCpuMs() - cpu_start_ms_; }

 private:
  static double ThreadCpuMs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  }

  std::chrono::steady_clock::time_point wall_start_;
  double cpu_start_ms_;
};

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_STAGE_CLOCK_H_
