#include "client/recognition_json.h"

#include <cmath>

namespace vocr::client {

double Round6(double value) { return std::round(value * 1e6) / 1e6; }

nlohmann::ordered_json TimingsToJson(const ocr::v1::Timings& timings) {
  return {
      {"queue_ms", Round6(timings.queue_ms())},
      {"decode_image_ms", Round6(timings.decode_image_ms())},
      {"preprocess_ms", Round6(timings.preprocess_ms())},
      {"cnn_ms", Round6(timings.cnn_ms())},
      {"decoder_ms", Round6(timings.decoder_ms())},
      {"total_ms", Round6(timings.total_ms())},
      {"batch_size", timings.batch_size()},
  };
}

nlohmann::ordered_json RecognitionToJson(const ocr::v1::Recognition& recognition) {
  nlohmann::ordered_json char_confidences = nlohmann::ordered_json::array();
  for (float c : recognition.char_confidences()) char_confidences.push_back(Round6(c));
  return {
      {"text", recognition.text()},
      {"confidence", Round6(recognition.confidence())},
      {"char_confidences", std::move(char_confidences)},
      {"timings", TimingsToJson(recognition.timings())},
  };
}

nlohmann::ordered_json ModelInfoToJson(const ocr::v1::ModelInfo& info) {
  nlohmann::ordered_json parts = nlohmann::ordered_json::array();
  for (const ocr::v1::ModelPart& part : info.parts()) {
    parts.push_back({
        {"name", part.name()},
        {"file", part.file()},
        {"quantization", part.quantization()},
        {"bytes", part.bytes()},
        {"fp32_reference_bytes", part.fp32_reference_bytes()},
        {"parameters", part.parameters()},
        {"sha256", part.sha256()},
    });
  }
  const ocr::v1::InputSpec& input = info.input();
  nlohmann::ordered_json evaluation;  // null when the manifest has none
  if (!info.evaluation_json().empty()) {
    evaluation = nlohmann::ordered_json::parse(info.evaluation_json(), nullptr, /*allow_exceptions=*/false);
    if (evaluation.is_discarded()) evaluation = info.evaluation_json();
  }
  return {
      {"name", info.name()},
      {"version", info.version()},
      {"created", info.created()},
      {"engine", info.engine()},
      {"parts", std::move(parts)},
      {"vocab_size", info.vocab_size()},
      {"input",
       {{"height", input.height()},
        {"channels", input.channels()},
        {"min_width", input.min_width()},
        {"max_width", input.max_width()},
        {"width_multiple", input.width_multiple()},
        {"mean", Round6(input.mean())},
        {"std", Round6(input.std())}}},
      {"evaluation", std::move(evaluation)},
      {"load_seconds", Round6(info.load_seconds())},
  };
}

}  // namespace vocr::client
