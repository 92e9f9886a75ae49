// Every flag can also come from the environment (for containers): flag
// --max_batch_size is read from VOCR_MAX_BATCH_SIZE unless the command line
// sets it. The command line wins.
#ifndef VOCR_SERVER_FLAGS_ENV_H_
#define VOCR_SERVER_FLAGS_ENV_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace vocr {

// Applies VOCR_<NAME> environment variables to the named flags that argv does
// not set; call after absl::ParseCommandLine. Fails on a value the flag rejects.
absl::Status ApplyEnvironment(const std::vector<std::string>& flag_names, int argc, char** argv);

}  // namespace vocr

#endif  // VOCR_SERVER_FLAGS_ENV_H_
