// The ocr.v1.OcrService handlers (gRPC callback API). Each handler starts a
// call record (in-flight gauge, latency timer), translates the request for
// OcrCore, and translates the answer back; no model logic lives here.
#ifndef VOCR_SERVER_GRPC_OCR_SERVICE_H_
#define VOCR_SERVER_GRPC_OCR_SERVICE_H_

#include "ocr/v1/ocr.grpc.pb.h"
#include "server/core/metrics.h"
#include "server/core/ocr_core.h"
#include "server/grpc/serving_gate.h"

namespace vocr {

class OcrServiceImpl final : public ocr::v1::OcrService::CallbackService {
 public:
  OcrServiceImpl(const ServingGate* gate, Metrics* metrics) : gate_(gate), metrics_(metrics) {}

  grpc::ServerUnaryReactor* Recognize(grpc::CallbackServerContext* context, const ocr::v1::RecognizeRequest* request,
                                      ocr::v1::RecognizeResponse* response) override;
  grpc::ServerUnaryReactor* RecognizeBatch(grpc::CallbackServerContext* context,
                                           const ocr::v1::RecognizeBatchRequest* request,
                                           ocr::v1::RecognizeBatchResponse* response) override;
  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* context,
                                         const ocr::v1::GetModelInfoRequest* request,
                                         ocr::v1::ModelInfo* response) override;

 private:
  const ServingGate* gate_;
  Metrics* metrics_;
};

}  // namespace vocr

#endif  // VOCR_SERVER_GRPC_OCR_SERVICE_H_
