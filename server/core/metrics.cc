#include "server/core/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <unistd.h>

#include <fstream>
#include <vector>

namespace vocr {
namespace {

// Latency buckets from 0.1 ms to 10 s, roughly x2.5 apart.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

// Process resident memory and CPU time, read from /proc at scrape time.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    long pages_total = 0, pages_resident = 0;
    std::ifstream statm("/proc/self/statm");
    if (statm >> pages_total >> pages_resident) {
      out.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                           prometheus::MetricType::Gauge,
                           static_cast<double>(pages_resident) * sysconf(_SC_PAGESIZE)));
    }
    std::ifstream stat("/proc/self/stat");
    std::string field;
    std::vector<std::string> fields;
    while (stat >> field) fields.push_back(field);
    // utime and stime are fields 14 and 15 (1-based) after a "(comm)" that has no spaces here.
    if (fields.size() > 15) {
      const double ticks = std::stod(fields[13]) + std::stod(fields[14]);
      out.push_back(Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                           prometheus::MetricType::Counter, ticks / sysconf(_SC_CLK_TCK)));
    }
    return out;
  }

 private:
  static prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                         prometheus::MetricType type, double value) {
    prometheus::MetricFamily family{name, help, type, {}};
    prometheus::ClientMetric metric;
    if (type == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    family.metric.push_back(metric);
    return family;
  }
};

std::string Precision(const std::string& scheme) {
  return scheme.find("int8") != std::string::npos ? "int8" : "fp32";
}

}  // namespace

Metrics::Metrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)),
      request_duration_(prometheus::BuildHistogram()
                            .Name("vocr_request_duration_seconds")
                            .Help("Time from receiving an RPC to answering it, by method and status code.")
                            .Register(*registry_)),
      requests_(prometheus::BuildCounter()
                    .Name("vocr_requests_total")
                    .Help("RPCs answered, by method and status code.")
                    .Register(*registry_)),
      lines_(prometheus::BuildCounter()
                 .Name("vocr_lines_total")
                 .Help("Line images answered (RecognizeBatch items counted one by one), by status code.")
                 .Register(*registry_)),
      stage_(prometheus::BuildHistogram()
                 .Name("vocr_stage_duration_seconds")
                 .Help("Time per stage: queue, decode_image and preprocess per line; cnn and decoder (the "
                       "encoder and "
                       "the group's share of each decoder step) per group of lines that joined together.")
                 .Register(*registry_)),
      model_size_(prometheus::BuildGauge()
                      .Name("vocr_model_size_bytes")
                      .Help("Bytes of each model component as served, and of its fp32 reference.")
                      .Register(*registry_)),
      model_parameters_(prometheus::BuildGauge()
                            .Name("vocr_model_parameters")
                            .Help("Parameters of each model component.")
                            .Register(*registry_)),
      model_info_(prometheus::BuildGauge()
                      .Name("vocr_model_info")
                      .Help("The served model (value 1), with its name, version and quantization as labels.")
                      .Register(*registry_)) {
  queue_ = &stage_.Add({{"stage", "queue"}}, LatencyBuckets());
  decode_image_ = &stage_.Add({{"stage", "decode_image"}}, LatencyBuckets());
  preprocess_ = &stage_.Add({{"stage", "preprocess"}}, LatencyBuckets());
  cnn_ = &stage_.Add({{"stage", "cnn"}}, LatencyBuckets());
  decoder_ = &stage_.Add({{"stage", "decoder"}}, LatencyBuckets());
  auto& stage_cpu = prometheus::BuildCounter()
                        .Name("vocr_stage_cpu_seconds_total")
                        .Help(
                            "CPU time the worker threads spent in the cnn and decoder stages (their own "
                            "thread CPU time; waiting for a core is not in it).")
                        .Register(*registry_);
  cnn_cpu_ = &stage_cpu.Add({{"stage", "cnn"}});
  decoder_cpu_ = &stage_cpu.Add({{"stage", "decoder"}});
  batch_size_ = &prometheus::BuildHistogram()
                     .Name("vocr_batch_size")
                     .Help("Lines per CNN and encoder run: those that joined a decoding loop together.")
                     .Register(*registry_)
                     .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64});
  decode_rows_ = &prometheus::BuildHistogram()
                      .Name("vocr_decode_rows")
                      .Help("Lines decoding together, per decoder step.")
                      .Register(*registry_)
                      .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64});
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("vocr_queue_depth")
                      .Help("Lines waiting in the batcher's queue.")
                      .Register(*registry_)
                      .Add({});
  inflight_ = &prometheus::BuildGauge()
                   .Name("vocr_inflight_requests")
                   .Help("RPCs received and not yet answered.")
                   .Register(*registry_)
                   .Add({});
  load_seconds_ =
      &prometheus::BuildGauge()
           .Name("vocr_model_load_seconds")
           .Help("Seconds the served bundle took to load, verify its checksums and pass the shape probe.")
           .Register(*registry_)
           .Add({});
  process_ = std::make_shared<ProcessCollector>();
}

void Metrics::ObserveRequest(const std::string& method, const std::string& code, double seconds) {
  request_duration_.Add({{"method", method}, {"code", code}}, LatencyBuckets()).Observe(seconds);
  requests_.Add({{"method", method}, {"code", code}}).Increment();
}

void Metrics::ObserveLine(const std::string& code) { lines_.Add({{"code", code}}).Increment(); }

void Metrics::OnBatch(int size, const BatchTimings& timings) {
  batch_size_->Observe(size);
  cnn_->Observe(timings.cnn_ms / 1000.0);
  decoder_->Observe(timings.decoder_ms / 1000.0);
  cnn_cpu_->Increment(timings.cnn_cpu_ms / 1000.0);
  decoder_cpu_->Increment(timings.decoder_cpu_ms / 1000.0);
}

void Metrics::SetModel(const Bundle& bundle) {
  const Manifest& m = bundle.manifest();
  for (const ModelFile* f : {&m.cnn, &m.seq}) {
    model_size_.Add({{"component", f->part}, {"precision", Precision(f->quantization)}, {"kind", "served"}})
        .Set(static_cast<double>(f->bytes));
    model_size_.Add({{"component", f->part}, {"precision", "fp32"}, {"kind", "fp32_reference"}})
        .Set(static_cast<double>(f->fp32_reference_bytes));
    model_parameters_.Add({{"component", f->part}}).Set(static_cast<double>(f->parameters));
  }
  model_info_
      .Add({{"name", m.name},
            {"version", std::to_string(m.version)},
            {"engine", m.engine},
            {"cnn_quantization", m.cnn.quantization},
            {"seq_quantization", m.seq.quantization}})
      .Set(1);
  load_seconds_->Set(bundle.load_seconds());
}

}  // namespace vocr
