// JSON views of the API's messages, as the client prints them.
#ifndef VOCR_CLIENT_RECOGNITION_JSON_H_
#define VOCR_CLIENT_RECOGNITION_JSON_H_

#include <nlohmann/json.hpp>

#include "ocr/v1/ocr.pb.h"

namespace vocr::client {

// A float rounded to 6 decimals, so 0.98765f prints as 0.98765 and not as
// the 17 digits of its double widening.
double Round6(double value);

// {"text", "confidence", "char_confidences": [...], "timings": {...}}
nlohmann::ordered_json RecognitionToJson(const ocr::v1::Recognition& recognition);

// {"queue_ms", "decode_image_ms", "preprocess_ms", "cnn_ms", "decoder_ms",
//  "total_ms", "batch_size"}
nlohmann::ordered_json TimingsToJson(const ocr::v1::Timings& timings);

// Every field of ModelInfo; the manifest's evaluation table is parsed and
// nested as JSON (kept as a string if it does not parse).
nlohmann::ordered_json ModelInfoToJson(const ocr::v1::ModelInfo& info);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_RECOGNITION_JSON_H_
