// The command-line flags, turned into the option structs the commands take.
// Flags are global in absl, so one name means one thing for every command.
#ifndef VOCR_CLIENT_FLAGS_H_
#define VOCR_CLIENT_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/bench_cmd.h"
#include "client/channel.h"
#include "client/eval_cmd.h"
#include "client/recognize_cmd.h"

namespace vocr::client {

ChannelOptions ChannelOptionsFromFlags();
CallOptions CallOptionsFromFlags();
RecognizeOptions RecognizeOptionsFromFlags();
EvalOptions EvalOptionsFromFlags();
// INVALID_ARGUMENT for a bad --sweep or --arrival. Progress shows when
// --progress is set or `stderr_is_terminal`, redrawn in place on a terminal.
absl::StatusOr<BenchCommandOptions> BenchCommandOptionsFromFlags(bool stderr_is_terminal);

bool JsonFlag();
std::string LabelsFlag();
std::string ServiceFlag();

}  // namespace vocr::client

#endif  // VOCR_CLIENT_FLAGS_H_
