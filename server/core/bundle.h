// A loaded model bundle: manifest, verified files, TorchScript modules.
#ifndef VOCR_SERVER_CORE_BUNDLE_H_
#define VOCR_SERVER_CORE_BUNDLE_H_

#include <torch/script.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/core/manifest.h"
#include "server/core/seq_kernels.h"

namespace vocr {

class Bundle {
 public:
  // Loads `dir` (a version directory): parses the manifest, checks each file's
  // size and SHA-256, selects the quantized engine the bundle names, loads the
  // TorchScript files and checks their output shapes against the manifest.
  // Any fault stops the load with a message naming the file and the fault.
  static absl::StatusOr<std::shared_ptr<Bundle>> Load(const std::string& dir);

  const Manifest& manifest() const { return manifest_; }
  const std::string& dir() const { return dir_; }
  double load_seconds() const { return load_seconds_; }

  // TorchScript modules are safe to run from several threads at once; their
  // methods are not const in the LibTorch API, hence the mutable access.
  torch::jit::Module& cnn() const { return cnn_; }
  torch::jit::Module& seq() const { return seq_; }
  // The sequence model as direct int8 kernels, what the server decodes with;
  // seq() stays for the shape probe at load.
  const SeqKernels& seq_kernels() const { return *seq_kernels_; }

 private:
  Bundle() = default;
  std::string dir_;
  Manifest manifest_;
  double load_seconds_ = 0;
  mutable torch::jit::Module cnn_;
  mutable torch::jit::Module seq_;
  std::unique_ptr<SeqKernels> seq_kernels_;
};

// A bundle path as an operator gives it: a version directory (holding
// manifest.json), or a model directory whose numeric subdirectories are
// versions. `version` 0 picks the highest; otherwise that version must exist.
absl::StatusOr<std::string> ResolveBundleDir(const std::string& path, int64_t version);

// Hex SHA-256 of a file's contents.
absl::StatusOr<std::string> Sha256File(const std::string& path);

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_BUNDLE_H_
