#include "server/grpc/ocr_service.h"

#include <atomic>
#include <chrono>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "server/grpc/status_util.h"

namespace vocr {
namespace {

// Times one RPC and counts it in flight until it is answered.
class CallRecord {
 public:
  CallRecord(Metrics* metrics, const char* method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {
    metrics_->AddInflight(1);
  }

  double ElapsedMs() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }

  void Finish(grpc::ServerUnaryReactor* reactor, const absl::Status& status) {
    metrics_->ObserveRequest(method_, absl::StatusCodeToString(status.code()), ElapsedMs() / 1000.0);
    metrics_->AddInflight(-1);
    reactor->Finish(ToGrpcStatus(status));
  }

 private:
  Metrics* metrics_;
  const char* method_;
  std::chrono::steady_clock::time_point start_;
};

absl::StatusOr<ImageSource> ToSource(const ocr::v1::Image& image) {
  ImageSource source;
  switch (image.data_case()) {
    case ocr::v1::Image::kEncoded:
      source.bytes = image.encoded();
      return source;
    case ocr::v1::Image::kRaw:
      source.raw = true;
      source.bytes = image.raw().pixels();
      source.width = image.raw().width();
      source.height = image.raw().height();
      source.channels = image.raw().channels();
      return source;
    default:
      return absl::InvalidArgumentError("image has neither encoded bytes nor raw pixels");
  }
}

CallInfo CallInfoOf(grpc::CallbackServerContext* context) {
  CallInfo call;
  const auto deadline = context->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) call.deadline = absl::FromChrono(deadline);
  call.cancelled = [context] { return context->IsCancelled(); };
  return call;
}

void Fill(const LineResult& line, double total_ms, ocr::v1::Recognition* out) {
  out->set_text(line.reading.text);
  out->set_confidence(static_cast<float>(line.reading.confidence));
  out->mutable_char_confidences()->Assign(line.reading.char_confidences.begin(), line.reading.char_confidences.end());
  ocr::v1::Timings* t = out->mutable_timings();
  t->set_queue_ms(line.timings.queue_ms);
  t->set_decode_image_ms(line.decode_image_ms);
  t->set_preprocess_ms(line.preprocess_ms);
  t->set_cnn_ms(line.timings.batch.cnn_ms);
  t->set_decoder_ms(line.timings.batch.decoder_ms);
  t->set_total_ms(total_ms);
  t->set_batch_size(line.timings.batch_size);
}

absl::Status Loading() { return absl::UnavailableError("the model is still loading; retry shortly"); }

void FillModel(const Bundle& bundle, ocr::v1::ModelSpec* spec) {
  spec->set_name(bundle.manifest().name);
  spec->set_version(bundle.manifest().version);
}

}  // namespace

grpc::ServerUnaryReactor* OcrServiceImpl::Recognize(grpc::CallbackServerContext* context,
                                                    const ocr::v1::RecognizeRequest* request,
                                                    ocr::v1::RecognizeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto record = std::make_shared<CallRecord>(metrics_, "Recognize");
  OcrCore* core = gate_->core();
  if (core == nullptr) {
    record->Finish(reactor, Loading());
    return reactor;
  }
  absl::Status model = core->CheckModel(request->model().name(), request->model().version());
  absl::StatusOr<ImageSource> source = ToSource(request->image());
  if (!model.ok() || !source.ok()) {
    const absl::Status status = model.ok() ? source.status() : model;
    metrics_->ObserveLine(absl::StatusCodeToString(status.code()));
    record->Finish(reactor, status);
    return reactor;
  }
  core->Recognize(*source, CallInfoOf(context), [this, core, record, reactor, response](absl::StatusOr<LineResult> line) {
    metrics_->ObserveLine(absl::StatusCodeToString(line.status().code()));
    if (line.ok()) {
      Fill(*line, record->ElapsedMs(), response->mutable_result());
      FillModel(core->bundle(), response->mutable_model());
    }
    record->Finish(reactor, line.status());
  });
  return reactor;
}

grpc::ServerUnaryReactor* OcrServiceImpl::RecognizeBatch(grpc::CallbackServerContext* context,
                                                         const ocr::v1::RecognizeBatchRequest* request,
                                                         ocr::v1::RecognizeBatchResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto record = std::make_shared<CallRecord>(metrics_, "RecognizeBatch");
  OcrCore* core = gate_->core();
  if (core == nullptr) {
    record->Finish(reactor, Loading());
    return reactor;
  }
  absl::Status model = core->CheckModel(request->model().name(), request->model().version());
  if (!model.ok()) {
    record->Finish(reactor, model);
    return reactor;
  }
  const int n = request->images_size();
  if (n == 0) {
    record->Finish(reactor, absl::InvalidArgumentError("RecognizeBatch needs at least one image"));
    return reactor;
  }
  FillModel(core->bundle(), response->mutable_model());
  // Every item slot exists before any line can finish, so callbacks on
  // different threads only ever write their own element.
  for (int i = 0; i < n; ++i) response->add_results();
  auto remaining = std::make_shared<std::atomic<int>>(n);
  const CallInfo call = CallInfoOf(context);
  for (int i = 0; i < n; ++i) {
    ocr::v1::LineResult* slot = response->mutable_results(i);
    auto done = [this, record, reactor, remaining, slot](absl::StatusOr<LineResult> line) {
      metrics_->ObserveLine(absl::StatusCodeToString(line.status().code()));
      slot->set_code(static_cast<int>(line.status().code()));
      if (line.ok()) {
        Fill(*line, record->ElapsedMs(), slot->mutable_result());
      } else {
        slot->set_message(std::string(line.status().message()));
      }
      if (remaining->fetch_sub(1) == 1) record->Finish(reactor, absl::OkStatus());
    };
    absl::StatusOr<ImageSource> source = ToSource(request->images(i));
    if (!source.ok()) {
      done(source.status());
      continue;
    }
    core->Recognize(*source, call, std::move(done));
  }
  return reactor;
}

grpc::ServerUnaryReactor* OcrServiceImpl::GetModelInfo(grpc::CallbackServerContext* context,
                                                       const ocr::v1::GetModelInfoRequest* request,
                                                       ocr::v1::ModelInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  CallRecord record(metrics_, "GetModelInfo");
  OcrCore* core = gate_->core();
  absl::Status model = core ? core->CheckModel(request->model().name(), request->model().version()) : Loading();
  if (model.ok()) {
    const Bundle& bundle = core->bundle();
    const Manifest& m = bundle.manifest();
    response->set_name(m.name);
    response->set_version(m.version);
    response->set_created(m.created);
    response->set_engine(m.engine);
    for (const ModelFile* f : {&m.cnn, &m.seq}) {
      ocr::v1::ModelPart* part = response->add_parts();
      part->set_name(f->part);
      part->set_file(f->path);
      part->set_quantization(f->quantization);
      part->set_bytes(f->bytes);
      part->set_fp32_reference_bytes(f->fp32_reference_bytes);
      part->set_parameters(f->parameters);
      part->set_sha256(f->sha256);
    }
    response->set_vocab_size(m.vocab.size);
    ocr::v1::InputSpec* in = response->mutable_input();
    in->set_height(m.input.height);
    in->set_channels(m.input.channels);
    in->set_min_width(m.input.min_width);
    in->set_max_width(m.input.max_width);
    in->set_width_multiple(m.input.width_multiple);
    in->set_mean(m.input.mean);
    in->set_std(m.input.std);
    response->set_evaluation_json(m.evaluation_json);
    response->set_load_seconds(bundle.load_seconds());
  }
  record.Finish(reactor, model);
  return reactor;
}

}  // namespace vocr
