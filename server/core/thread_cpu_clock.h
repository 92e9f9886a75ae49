// The calling thread's own CPU time. A stage's wall time on a worker thread
// also counts the time the thread waited for a core while gRPC threads (or a
// load generator on the same machine) ran, so at saturation it overstates
// the stage's cost; its thread CPU time is what the stage itself spent.
#ifndef VOCR_SERVER_CORE_THREAD_CPU_CLOCK_H_
#define VOCR_SERVER_CORE_THREAD_CPU_CLOCK_H_

#include <time.h>

namespace vocr {

// Milliseconds of CPU this thread has used (CLOCK_THREAD_CPUTIME_ID). Helper
// threads a call starts (the CNN's OpenMP threads with --intra_op_threads > 1)
// are not in it.
inline double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_THREAD_CPU_CLOCK_H_
