#include "server/core/manifest.h"

#include <utf8.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "server/core/status_macros.h"

namespace vocr {
namespace {

using Json = nlohmann::json;

// Reads `key` of `obj` as T, or says which field of which file is wrong.
template <typename T>
absl::Status Get(const Json& obj, const char* key, const std::string& where, T* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::InvalidArgumentError(absl::StrCat(where, ": missing field '", key, "'"));
  try {
    *out = it->get<T>();
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": field '", key, "' has the wrong type: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status Positive(int value, const char* key, const std::string& where) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(where, ": field '", key, "' must be positive, is ", value));
}

absl::Status ParseInput(const Json& j, const std::string& where, InputSpec* in) {
  VOCR_RETURN_IF_ERROR(Get(j, "height", where, &in->height));
  VOCR_RETURN_IF_ERROR(Get(j, "channels", where, &in->channels));
  VOCR_RETURN_IF_ERROR(Get(j, "min_width", where, &in->min_width));
  VOCR_RETURN_IF_ERROR(Get(j, "max_width", where, &in->max_width));
  in->split_width = in->max_width;  // bundles from before long lines were split
  if (j.contains("split_width")) VOCR_RETURN_IF_ERROR(Get(j, "split_width", where, &in->split_width));
  VOCR_RETURN_IF_ERROR(Get(j, "width_multiple", where, &in->width_multiple));
  VOCR_RETURN_IF_ERROR(Get(j, "feature_stride", where, &in->feature_stride));
  VOCR_RETURN_IF_ERROR(Get(j, "mean", where, &in->mean));
  VOCR_RETURN_IF_ERROR(Get(j, "std", where, &in->std));
  VOCR_RETURN_IF_ERROR(Get(j, "pad_value", where, &in->pad_value));
  // Bundles from before lines were padded to a multiple: 1, no padding.
  if (j.contains("pad_to_multiple"))
    VOCR_RETURN_IF_ERROR(Get(j, "pad_to_multiple", where, &in->pad_to_multiple));
  for (auto [key, value] : {std::pair{"height", in->height},
                            {"channels", in->channels},
                            {"min_width", in->min_width},
                            {"width_multiple", in->width_multiple},
                            {"feature_stride", in->feature_stride},
                            {"pad_to_multiple", in->pad_to_multiple}}) {
    VOCR_RETURN_IF_ERROR(Positive(value, key, where));
  }
  if (in->channels != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": channels ", in->channels, " unsupported (gray only)"));
  }
  if (in->pad_to_multiple != 1 && in->pad_to_multiple % in->width_multiple != 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": pad_to_multiple ", in->pad_to_multiple,
                                                   " is not a multiple of width_multiple ",
                                                   in->width_multiple));
  }
  if (in->max_width < in->min_width) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": max_width < min_width"));
  }
  // Pieces at least twice as wide as high (or max_width), so every cut leaves
  // each piece some columns.
  if (in->split_width < std::min(2 * in->height, in->max_width) || in->split_width > in->max_width) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": split_width ", in->split_width,
                                                   " outside [min(2 * height, max_width), max_width]"));
  }
  if (in->std <= 0.0f) return absl::InvalidArgumentError(absl::StrCat(where, ": std must be positive"));
  return absl::OkStatus();
}

absl::Status ParseVocab(const Json& j, const std::string& where, VocabSpec* v) {
  std::string chars;
  VOCR_RETURN_IF_ERROR(Get(j, "chars", where, &chars));
  VOCR_RETURN_IF_ERROR(Get(j, "pad", where, &v->pad));
  VOCR_RETURN_IF_ERROR(Get(j, "sos", where, &v->sos));
  VOCR_RETURN_IF_ERROR(Get(j, "eos", where, &v->eos));
  VOCR_RETURN_IF_ERROR(Get(j, "first_char_id", where, &v->first_char_id));
  VOCR_RETURN_IF_ERROR(Get(j, "size", where, &v->size));
  auto split = SplitUtf8(chars);
  if (!split.ok())
    return absl::InvalidArgumentError(absl::StrCat(where, ".chars: ", split.status().message()));
  v->chars = *std::move(split);
  if (v->chars.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ".chars is empty"));
  if (v->size != v->first_char_id + static_cast<int>(v->chars.size())) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": size ", v->size, " != first_char_id ",
                                                   v->first_char_id, " + ", v->chars.size(), " chars"));
  }
  for (int id : {v->pad, v->sos, v->eos}) {
    if (id < 0 || id >= v->first_char_id) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": special token id ", id, " outside [0, first_char_id)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseFile(const Json& files, const char* part, const std::string& where, ModelFile* f) {
  auto it = files.find(part);
  if (it == files.end())
    return absl::InvalidArgumentError(absl::StrCat(where, ": files has no '", part, "' entry"));
  const std::string at = absl::StrCat(where, ".files.", part);
  f->part = part;
  VOCR_RETURN_IF_ERROR(Get(*it, "path", at, &f->path));
  VOCR_RETURN_IF_ERROR(Get(*it, "bytes", at, &f->bytes));
  VOCR_RETURN_IF_ERROR(Get(*it, "sha256", at, &f->sha256));
  VOCR_RETURN_IF_ERROR(Get(*it, "parameters", at, &f->parameters));
  VOCR_RETURN_IF_ERROR(Get(*it, "fp32_reference_bytes", at, &f->fp32_reference_bytes));
  if (f->path.empty() || f->path.find('/') != std::string::npos || f->path == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ".path '", f->path, "' must be a file name in the bundle"));
  }
  if (f->sha256.size() != 64)
    return absl::InvalidArgumentError(absl::StrCat(at, ".sha256 is not 64 hex digits"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitUtf8(std::string_view text) {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  if (const char* bad = utf8::find_invalid(begin, end); bad != end)
    return absl::InvalidArgumentError(absl::StrCat("invalid UTF-8 at byte ", bad - begin));
  std::vector<std::string> out;
  for (const char* it = begin; it != end;) {
    const char* start = it;
    utf8::unchecked::next(it);  // validated above
    out.emplace_back(start, it);
  }
  return out;
}

absl::StatusOr<Manifest> ParseManifest(std::string_view json, const std::string& origin) {
  Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return absl::InvalidArgumentError(absl::StrCat(origin, ": not valid JSON"));
  Manifest m;
  std::string format;
  VOCR_RETURN_IF_ERROR(Get(j, "format", origin, &format));
  if (format != kBundleFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": format '", format, "', expected '", kBundleFormat, "'"));
  }
  VOCR_RETURN_IF_ERROR(Get(j, "name", origin, &m.name));
  VOCR_RETURN_IF_ERROR(Get(j, "version", origin, &m.version));
  if (auto it = j.find("created"); it != j.end() && it->is_string()) m.created = it->get<std::string>();
  for (const char* key : {"input", "vocab", "decode", "files", "quantization", "dims"}) {
    if (!j.contains(key) || !j[key].is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(origin, ": missing object '", key, "'"));
    }
  }
  VOCR_RETURN_IF_ERROR(ParseInput(j["input"], origin + ".input", &m.input));
  VOCR_RETURN_IF_ERROR(ParseVocab(j["vocab"], origin + ".vocab", &m.vocab));
  VOCR_RETURN_IF_ERROR(Get(j["decode"], "extra_steps", origin + ".decode", &m.decode.extra_steps));
  VOCR_RETURN_IF_ERROR(Get(j["decode"], "max_steps", origin + ".decode", &m.decode.max_steps));
  VOCR_RETURN_IF_ERROR(Positive(m.decode.max_steps, "max_steps", origin + ".decode"));
  if (auto it = j["decode"].find("length_bound"); it != j["decode"].end()) {
    const std::string at = origin + ".decode.length_bound";
    LengthBound bound;
    VOCR_RETURN_IF_ERROR(Get(*it, "per_char", at, &bound.per_char));
    VOCR_RETURN_IF_ERROR(Get(*it, "extra", at, &bound.extra));
    if (!(bound.per_char >= 0.0 && bound.per_char <= 16.0) || bound.extra < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": per_char must lie in [0, 16] and extra be at least 1 (the end token's step)"));
    }
    m.decode.length_bound = bound;
  }
  VOCR_RETURN_IF_ERROR(ParseFile(j["files"], "cnn", origin, &m.cnn));
  VOCR_RETURN_IF_ERROR(ParseFile(j["files"], "seq", origin, &m.seq));
  const Json& q = j["quantization"];
  VOCR_RETURN_IF_ERROR(Get(q, "engine", origin + ".quantization", &m.engine));
  for (ModelFile* f : {&m.cnn, &m.seq}) {
    if (q.contains(f->part) && q[f->part].contains("scheme")) {
      VOCR_RETURN_IF_ERROR(Get(q[f->part], "scheme", origin + ".quantization." + f->part, &f->quantization));
    }
  }
  const Json& d = j["dims"];
  const std::string dims = origin + ".dims";
  VOCR_RETURN_IF_ERROR(Get(d, "features", dims, &m.dims.features));
  VOCR_RETURN_IF_ERROR(Get(d, "memory", dims, &m.dims.memory));
  VOCR_RETURN_IF_ERROR(Get(d, "attention", dims, &m.dims.attention));
  VOCR_RETURN_IF_ERROR(Get(d, "hidden", dims, &m.dims.hidden));
  VOCR_RETURN_IF_ERROR(Get(d, "vocab_size", dims, &m.dims.vocab_size));
  if (m.dims.vocab_size != m.vocab.size) {
    return absl::InvalidArgumentError(
        absl::StrCat(dims, ".vocab_size ", m.dims.vocab_size, " != vocab.size ", m.vocab.size));
  }
  if (auto it = j.find("evaluation"); it != j.end()) m.evaluation_json = it->dump();
  return m;
}

}  // namespace vocr
