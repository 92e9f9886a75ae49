// `ocr_client recognize FILE...`
#ifndef VOCR_CLIENT_RECOGNIZE_CMD_H_
#define VOCR_CLIENT_RECOGNIZE_CMD_H_

#include <ostream>
#include <string>
#include <vector>

#include "client/channel.h"
#include "ocr/v1/ocr.grpc.pb.h"

namespace vocr::client {

struct RecognizeOptions {
  CallOptions call;
  bool raw = false;    // decode locally, send RawImage pixels
  bool batch = false;  // every file in one RecognizeBatch call
  bool json = false;   // one JSON object per file instead of plain text
};

// Reads every file and prints what it says, in the order given. Plain output
// is the text alone for one file, and "FILE<TAB>text" per file for several
// (the labels.tsv format, so the output can seed a labels file). A file that
// fails prints "FILE: CODE_NAME: message" to `err` (and, with json, an
// object with "code" and "message" to `out`). Returns the exit status: 0 only
// if every file was read.
int RunRecognize(ocr::v1::OcrService::StubInterface& stub, const std::vector<std::string>& files,
                 const RecognizeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_RECOGNIZE_CMD_H_
