#include "server/flags_env.h"

#include <cctype>
#include <cstdlib>

#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vocr {

absl::Status ApplyEnvironment(const std::vector<std::string>& flag_names, int argc, char** argv) {
  for (const std::string& name : flag_names) {
    std::string env = "VOCR_";
    for (char c : name) env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const char* value = std::getenv(env.c_str());
    if (value == nullptr) continue;
    bool on_command_line = false;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--" + name || absl::StartsWith(arg, "--" + name + "=") || arg == "-" + name ||
          absl::StartsWith(arg, "-" + name + "=")) {
        on_command_line = true;
      }
    }
    if (on_command_line) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) return absl::InternalError(absl::StrCat("no flag named ", name));
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(env, "=", value, ": ", error));
    }
  }
  return absl::OkStatus();
}

}  // namespace vocr
