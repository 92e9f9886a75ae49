#include "server/core/bundle.h"

#include <ATen/Context.h>
#include <openssl/evp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/core/onednn_isa.h"
#include "server/core/status_macros.h"

namespace vocr {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

absl::Status VerifyFile(const std::string& dir, const ModelFile& f) {
  const std::string path = (fs::path(dir) / f.path).string();
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return absl::NotFoundError(absl::StrCat(path, ": missing (manifest part '", f.part, "')"));
  if (static_cast<int64_t>(size) != f.bytes) {
    return absl::DataLossError(absl::StrCat(path, ": size ", size, " bytes, manifest says ", f.bytes));
  }
  VOCR_ASSIGN_OR_RETURN(std::string digest, Sha256File(path));
  if (digest != f.sha256) {
    return absl::DataLossError(
        absl::StrCat(path, ": SHA-256 ", digest, " does not match the manifest's ", f.sha256));
  }
  return absl::OkStatus();
}

absl::Status SelectEngine(const std::string& engine, const std::string& origin) {
  at::QEngine wanted;
  if (engine == "onednn") {
    wanted = at::QEngine::ONEDNN;
  } else if (engine == "qnnpack") {
    wanted = at::QEngine::QNNPACK;
  } else if (engine == "fbgemm") {
    wanted = at::QEngine::FBGEMM;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": unknown quantized engine '", engine, "'"));
  }
  for (at::QEngine e : at::globalContext().supportedQEngines()) {
    if (e == wanted) {
      at::globalContext().setQEngine(wanted);
      return absl::OkStatus();
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat(origin, ": quantized engine '", engine, "' is not compiled into this LibTorch"));
}

absl::StatusOr<torch::jit::Module> LoadModule(const std::string& path) {
  try {
    torch::jit::Module module = torch::jit::load(path, torch::kCPU);
    module.eval();
    return module;
  } catch (const std::exception& e) {
    std::string what = e.what();
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a loadable TorchScript file: ", what.substr(0, what.find('\n'))));
  }
}

absl::Status ExpectShape(const torch::Tensor& t, std::vector<int64_t> want, const std::string& what) {
  if (t.sizes().vec() == want) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(what, " has shape [", absl::StrJoin(t.sizes().vec(), ", "), "], the manifest implies [",
                   absl::StrJoin(want, ", "), "]"));
}

// Runs one probe line through both files and checks every output's shape
// against the manifest's dims; this doubles as the first warm-up.
absl::Status ProbeShapes(Bundle& b) {
  const Manifest& m = b.manifest();
  const int64_t steps = 8, width = steps * m.input.feature_stride;
  const std::string cnn = (fs::path(b.dir()) / m.cnn.path).string();
  const std::string seq = (fs::path(b.dir()) / m.seq.path).string();
  std::string probing = cnn;  // the file whose method is running, for the error message
  try {
    torch::NoGradGuard no_grad;
    torch::Tensor features =
        b.cnn().forward({torch::zeros({1, m.input.channels, m.input.height, width})}).toTensor();
    VOCR_RETURN_IF_ERROR(ExpectShape(features, {1, steps, m.dims.features}, cnn + ": forward output"));
    probing = seq;
    auto enc = b.seq().get_method("encode")({features, torch::full({1}, steps, torch::kInt64)}).toTuple();
    if (enc->elements().size() != 4)
      return absl::FailedPreconditionError(seq + ": encode must return 4 tensors");
    const auto& e = enc->elements();
    VOCR_RETURN_IF_ERROR(ExpectShape(e[0].toTensor(), {1, steps, m.dims.memory}, seq + ": encode memory"));
    VOCR_RETURN_IF_ERROR(ExpectShape(e[1].toTensor(), {1, steps, m.dims.attention}, seq + ": encode keys"));
    VOCR_RETURN_IF_ERROR(ExpectShape(e[2].toTensor(), {1, steps}, seq + ": encode mask"));
    VOCR_RETURN_IF_ERROR(ExpectShape(e[3].toTensor(), {1, m.dims.hidden}, seq + ": encode hidden"));
    auto step =
        b.seq()
            .get_method("decode_step")({torch::full({1}, m.vocab.sos, torch::kInt64), e[3], e[0], e[1], e[2]})
            .toTuple();
    if (step->elements().size() != 2)
      return absl::FailedPreconditionError(seq + ": decode_step must return 2 tensors");
    VOCR_RETURN_IF_ERROR(ExpectShape(step->elements()[0].toTensor(), {1, m.vocab.size},
                                     seq + ": decode_step log-probabilities"));
    VOCR_RETURN_IF_ERROR(
        ExpectShape(step->elements()[1].toTensor(), {1, m.dims.hidden}, seq + ": decode_step hidden"));
  } catch (const std::exception& ex) {
    std::string what = ex.what();
    return absl::FailedPreconditionError(
        absl::StrCat(probing, ": probe inference failed: ", what.substr(0, what.find('\n'))));
  }
  return absl::OkStatus();
}

// The kernels read their sizes from the weights; they must agree with the manifest.
absl::Status CheckKernelDims(const SeqKernels& k, const Manifest& m, const std::string& seq) {
  const std::vector<std::pair<const char*, std::pair<int64_t, int64_t>>> dims = {
      {"features", {k.features(), m.dims.features}},
      {"memory", {k.memory_size(), m.dims.memory}},
      {"attention", {k.attention(), m.dims.attention}},
      {"hidden", {k.hidden(), m.dims.hidden}},
      {"vocab_size", {k.vocab_size(), m.vocab.size}}};
  for (const auto& [name, pair] : dims) {
    if (pair.first != pair.second) {
      return absl::FailedPreconditionError(absl::StrCat(seq, ": int8 weights give ", name, " ", pair.first,
                                                        ", the manifest says ", pair.second));
    }
  }
  if (m.decode.length_bound && !k.has_length_head()) {
    return absl::FailedPreconditionError(absl::StrCat(
        seq, ": the manifest's decode.length_bound needs a length head, and this seq.pt has none"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), block.size());
    EVP_DigestUpdate(ctx.get(), block.data(), in.gcount());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

absl::StatusOr<std::string> ResolveBundleDir(const std::string& given, int64_t version) {
  std::string path = given;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::error_code ec;
  if (fs::exists(fs::path(path) / kManifestFile, ec)) {
    if (version == 0 || fs::path(path).filename() == std::to_string(version)) return path;
    return absl::NotFoundError(
        absl::StrCat(path, " is a single version directory, version ", version, " not there"));
  }
  if (!fs::is_directory(path, ec))
    return absl::NotFoundError(absl::StrCat(path, ": no such bundle directory"));
  int64_t best = 0;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (name.size() > 18) continue;
    const int64_t v = std::stoll(name);
    if (version != 0 ? v == version : v > best) best = v;
  }
  if (best == 0) {
    return absl::NotFoundError(
        version ? absl::StrCat(path, ": no version ", version)
                : absl::StrCat(path, ": no ", kManifestFile, " and no numeric version directories"));
  }
  return (fs::path(path) / std::to_string(best)).string();
}

absl::StatusOr<std::shared_ptr<Bundle>> Bundle::Load(const std::string& dir) {
  CapOneDnnIsa();  // before any oneDNN primitive exists
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<Bundle> b(new Bundle());
  b->dir_ = dir;
  const std::string manifest_path = (fs::path(dir) / kManifestFile).string();
  VOCR_ASSIGN_OR_RETURN(std::string json, ReadFile(manifest_path));
  VOCR_ASSIGN_OR_RETURN(b->manifest_, ParseManifest(json, manifest_path));
  VOCR_RETURN_IF_ERROR(VerifyFile(dir, b->manifest_.cnn));
  VOCR_RETURN_IF_ERROR(VerifyFile(dir, b->manifest_.seq));
  VOCR_RETURN_IF_ERROR(SelectEngine(b->manifest_.engine, manifest_path));
  VOCR_ASSIGN_OR_RETURN(b->cnn_, LoadModule((fs::path(dir) / b->manifest_.cnn.path).string()));
  VOCR_ASSIGN_OR_RETURN(b->seq_, LoadModule((fs::path(dir) / b->manifest_.seq.path).string()));
  VOCR_RETURN_IF_ERROR(ProbeShapes(*b));
  VOCR_ASSIGN_OR_RETURN(b->seq_kernels_, SeqKernels::FromModule(b->seq_));
  VOCR_RETURN_IF_ERROR(
      CheckKernelDims(b->seq_kernels(), b->manifest_, (fs::path(dir) / b->manifest_.seq.path).string()));
  b->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return b;
}

}  // namespace vocr
