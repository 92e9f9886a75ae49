// `ocr_client info`: what model the server serves.
#ifndef VOCR_CLIENT_INFO_CMD_H_
#define VOCR_CLIENT_INFO_CMD_H_

#include <ostream>

#include "client/channel.h"
#include "ocr/v1/ocr.grpc.pb.h"

namespace vocr::client {

// Prints ModelInfo for people: identity, input spec, each part's size
// against its fp32 reference, and the evaluation table.
void PrintModelInfo(const ocr::v1::ModelInfo& info, std::ostream& out);

// Calls GetModelInfo and prints it (as one JSON object with `json`).
// Returns the exit status; an RPC failure prints "CODE_NAME: message" to `err`.
int RunInfo(ocr::v1::OcrService::StubInterface& stub, const CallOptions& options, bool json,
            std::ostream& out, std::ostream& err);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_INFO_CMD_H_
