// Prometheus metrics of the service (prometheus-cpp), served on their own port.
// Histograms, not only totals: request latency by method and code, per-stage
// latency, batch size; gauges for queue depth, in-flight calls, the model's
// size by component and precision, process memory and CPU.
#ifndef VOCR_SERVER_CORE_METRICS_H_
#define VOCR_SERVER_CORE_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "server/core/batcher.h"
#include "server/core/bundle.h"

namespace vocr {

class Metrics : public BatchObserver {
 public:
  explicit Metrics(std::shared_ptr<prometheus::Registry> registry);

  // What an exposer serves: the registry, and process memory/CPU read at scrape time.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const { return {registry_, process_}; }

  // A finished RPC; `code` is the gRPC status code name (e.g. "OK").
  void ObserveRequest(const std::string& method, const std::string& code, double seconds);
  // A finished line (of Recognize or one item of RecognizeBatch).
  void ObserveLine(const std::string& code);
  void ObserveDecodeImage(double seconds) { decode_image_->Observe(seconds); }
  void ObservePreprocess(double seconds) { preprocess_->Observe(seconds); }
  void AddInflight(double delta) { inflight_->Increment(delta); }
  // Size, parameters, identity and load time of the served bundle.
  void SetModel(const Bundle& bundle);

  // BatchObserver
  void OnBatch(int size, const BatchTimings& timings) override;
  void OnQueueDepth(int depth) override { queue_depth_->Set(depth); }
  void OnQueueWait(double ms) override { queue_->Observe(ms / 1000.0); }
  void OnDecodeStep(int rows) override { decode_rows_->Observe(rows); }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& lines_;
  prometheus::Family<prometheus::Histogram>& stage_;
  prometheus::Family<prometheus::Gauge>& model_size_;
  prometheus::Family<prometheus::Gauge>& model_parameters_;
  prometheus::Family<prometheus::Gauge>& model_info_;
  prometheus::Histogram* queue_;
  prometheus::Histogram* decode_image_;
  prometheus::Histogram* preprocess_;
  prometheus::Histogram* cnn_;
  prometheus::Histogram* decoder_;
  prometheus::Counter* cnn_cpu_;
  prometheus::Counter* decoder_cpu_;
  prometheus::Histogram* batch_size_;
  prometheus::Histogram* decode_rows_;
  prometheus::Gauge* queue_depth_;
  prometheus::Gauge* inflight_;
  prometheus::Gauge* load_seconds_;
};

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_METRICS_H_
