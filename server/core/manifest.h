// The bundle's manifest.json, parsed and checked: the one place the server
// learns the input spec, vocabulary, decoding rule and files of a model.
// Written by model/vocr_train/export.py; contract in model/README.md.
#ifndef VOCR_SERVER_CORE_MANIFEST_H_
#define VOCR_SERVER_CORE_MANIFEST_H_

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vocr {

inline constexpr char kManifestFile[] = "manifest.json";
inline constexpr char kBundleFormat[] = "vocr-bundle/1";

struct InputSpec {
  int height = 0;
  int channels = 0;
  int min_width = 0;
  int max_width = 0;
  int split_width = 0;  // a line wider than max_width is read in pieces at most this wide
  int width_multiple = 1;
  int feature_stride = 1;  // image columns per encoder step
  float mean = 0.0f;       // x = (pixel / 255 - mean) / std
  float std = 1.0f;
  float pad_value = 0.0f;  // fills a batch to its widest line
  // Before the CNN every line is padded on the right (with pad_value) to a
  // multiple of this many pixels, alone or batched: lines of one multiple
  // share a shape and run together, and read as they read alone.
  int pad_to_multiple = 1;
};

struct VocabSpec {
  std::vector<std::string> chars;  // UTF-8, one code point each; id = first_char_id + index
  int pad = 0;
  int sos = 1;
  int eos = 2;
  int first_char_id = 3;
  int size = 0;
};

// With a length head in seq.pt, a line's step limit is also at most
// floor(per_char * n) + extra, n being the head's CTC greedy reading length
// (SeqKernels::GreedyLengths): a decoder that loops or invents text on a
// short line stops near the length the encoder's columns show.
struct LengthBound {
  double per_char = 0.0;
  int extra = 0;

  int Limit(int64_t greedy_length) const {
    return static_cast<int>(std::floor(per_char * static_cast<double>(greedy_length))) + extra;
  }
};

struct DecodeSpec {
  int extra_steps = 1;  // a line may emit floor(width / stride) + extra_steps tokens...
  int max_steps = 0;    // ...but never more than this
  std::optional<LengthBound> length_bound;
};

struct ModelFile {
  std::string part;  // "cnn" or "seq"
  std::string path;  // file name inside the bundle
  int64_t bytes = 0;
  std::string sha256;
  int64_t parameters = 0;
  int64_t fp32_reference_bytes = 0;
  std::string quantization;  // e.g. "QAT int8", "dynamic int8"
};

struct Dims {
  int features = 0;
  int memory = 0;
  int attention = 0;
  int hidden = 0;
  int vocab_size = 0;
};

struct Manifest {
  std::string name;
  int64_t version = 0;
  std::string created;
  std::string engine;  // quantized engine the bundle was converted for
  InputSpec input;
  VocabSpec vocab;
  DecodeSpec decode;
  ModelFile cnn;
  ModelFile seq;
  Dims dims;
  std::string evaluation_json;  // free-form table, passed through to clients
};

// Parses and validates manifest JSON; errors name `origin` and the field.
absl::StatusOr<Manifest> ParseManifest(std::string_view json, const std::string& origin);

// Splits UTF-8 text into code points (each returned as its UTF-8 bytes).
absl::StatusOr<std::vector<std::string>> SplitUtf8(std::string_view text);

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_MANIFEST_H_
