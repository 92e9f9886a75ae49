#include "fake_ocr_server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <thread>

namespace vocr::testing {
namespace {

// What the fake reads from one image: the encoded bytes themselves, or the
// raw image's geometry; kBadImage and mismatched raw sizes are refused.
grpc::Status Read(const ocr::v1::Image& image, ocr::v1::Recognition* out) {
  std::string text;
  if (image.has_raw()) {
    const ocr::v1::RawImage& raw = image.raw();
    if (raw.pixels().size() != static_cast<size_t>(raw.width()) * raw.height() * raw.channels()) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "raw pixels do not match width*height*channels"};
    }
    text = "raw " + std::to_string(raw.width()) + "x" + std::to_string(raw.height()) + "x" +
           std::to_string(raw.channels());
  } else {
    if (image.encoded() == kBadImage) return {grpc::StatusCode::INVALID_ARGUMENT, "not a decodable image"};
    text = image.encoded();
  }
  out->set_text(text);
  out->set_confidence(0.875f);
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) out->add_char_confidences(0.5f);  // one per code point
  }
  out->mutable_timings()->set_total_ms(1.25);
  out->mutable_timings()->set_batch_size(1);
  return grpc::Status::OK;
}

}  // namespace

class FakeOcrServer::Service final : public ocr::v1::OcrService::Service {
 public:
  Service(FakeOcrServer& owner, std::chrono::milliseconds delay) : owner_(owner), delay_(delay) {}

  grpc::Status Recognize(grpc::ServerContext*, const ocr::v1::RecognizeRequest* request,
                         ocr::v1::RecognizeResponse* response) override {
    ++owner_.recognize_calls_;
    std::this_thread::sleep_for(delay_);
    return Read(request->image(), response->mutable_result());
  }

  grpc::Status RecognizeBatch(grpc::ServerContext*, const ocr::v1::RecognizeBatchRequest* request,
                              ocr::v1::RecognizeBatchResponse* response) override {
    ++owner_.batch_calls_;
    std::this_thread::sleep_for(delay_);
    for (const ocr::v1::Image& image : request->images()) {
      ocr::v1::LineResult* line = response->add_results();
      const grpc::Status status = Read(image, line->mutable_result());
      if (!status.ok()) {
        line->clear_result();
        line->set_code(status.error_code());
        line->set_message(status.error_message());
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status GetModelInfo(grpc::ServerContext*, const ocr::v1::GetModelInfoRequest* request,
                            ocr::v1::ModelInfo* info) override {
    if (request->model().version() != 0 && request->model().version() != 3) {
      return {grpc::StatusCode::NOT_FOUND, "no model version " + std::to_string(request->model().version())};
    }
    info->set_name("vocr-fake");
    info->set_version(3);
    info->set_engine("onednn");
    info->set_vocab_size(233);
    info->mutable_input()->set_height(32);
    ocr::v1::ModelPart* cnn = info->add_parts();
    cnn->set_name("cnn");
    cnn->set_file("cnn.pt");
    cnn->set_quantization("QAT int8");
    cnn->set_bytes(1 << 20);
    cnn->set_fp32_reference_bytes(4 << 20);
    info->set_evaluation_json(R"({"cer": 1.5})");
    return grpc::Status::OK;
  }

 private:
  FakeOcrServer& owner_;
  const std::chrono::milliseconds delay_;
};

FakeOcrServer::FakeOcrServer(std::chrono::milliseconds delay)
    : service_(std::make_unique<Service>(*this, delay)) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
}

FakeOcrServer::~FakeOcrServer() { server_->Shutdown(std::chrono::system_clock::now()); }

void FakeOcrServer::SetServing(bool serving) { server_->GetHealthCheckService()->SetServingStatus(serving); }

}  // namespace vocr::testing
