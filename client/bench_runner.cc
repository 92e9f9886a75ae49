#include "client/bench_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <random>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/status_names.h"

namespace vocr::client {
namespace {

using Clock = std::chrono::steady_clock;
using AsyncStub = ocr::v1::OcrService::StubInterface::async_interface;

// A closed-loop slot whose call failed waits this long before its next call.
constexpr auto kErrorPause = std::chrono::milliseconds(20);
constexpr auto kProgressEvery = std::chrono::seconds(1);
constexpr double kMaxRate = 1e6;

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

absl::Status Validate(const BenchOptions& options, size_t image_count) {
  if (image_count == 0) return absl::InvalidArgumentError("no images to send");
  if (options.rate < 0 || options.rate > kMaxRate) {
    return absl::InvalidArgumentError(absl::StrCat("--rate must be in 0..", kMaxRate, " calls/s"));
  }
  if (options.rate == 0 && options.concurrency < 1) {
    return absl::InvalidArgumentError("--concurrency must be at least 1");
  }
  if (options.rate > 0 && options.max_outstanding < 1) {
    return absl::InvalidArgumentError("--max_outstanding must be at least 1");
  }
  if (!(options.duration_s > 0)) return absl::InvalidArgumentError("--duration_s must be positive");
  if (!(options.warmup_s >= 0)) return absl::InvalidArgumentError("--warmup_s must not be negative");
  if (options.batch_size < 1) return absl::InvalidArgumentError("--batch_size must be at least 1");
  if (options.call.timeout_ms <= 0) {
    return absl::InvalidArgumentError(
        "bench needs --timeout_ms > 0: it bounds how long the last calls may take");
  }
  return absl::OkStatus();
}

// One load test: a dispatcher (the calling thread) that sleeps until the next
// thing to do, and completions that arrive on gRPC's callback threads.
class LoadTest {
 public:
  LoadTest(AsyncStub* async, const std::vector<ocr::v1::Image>& images, const BenchOptions& options,
           std::ostream& progress)
      : async_(async), options_(options), closed_loop_(options.rate <= 0), progress_(progress) {
    BuildRequests(images);
  }

  BenchResult Run() {
    begin_ = Clock::now();
    measure_start_ = begin_ + Seconds(options_.warmup_s);
    end_ = measure_start_ + Seconds(options_.duration_s);
    next_progress_ = options_.progress ? NextProgress(begin_) : Clock::time_point::max();
    if (closed_loop_) {
      RunClosedLoop();
    } else {
      RunOpenLoop();
    }
    // Every call has a deadline, so this wait ends within the call timeout.
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return outstanding_ == 0; });
    }
    if (options_.progress && options_.progress_redraw && progress_printed_) progress_ << "\n" << std::flush;
    return Collect();
  }

 private:
  struct Call {
    grpc::ClientContext context;
    ocr::v1::RecognizeResponse response;
    ocr::v1::RecognizeBatchResponse batch_response;
    Clock::time_point start;
    bool counted = false;
    int slot = -1;
  };

  struct Finished {
    int slot;
    bool ok;
  };

  // Requests are built once and shared by every call that sends them
  // (concurrent reads of a const message are safe).
  void BuildRequests(const std::vector<ocr::v1::Image>& images) {
    if (options_.batch_size <= 1) {
      for (const ocr::v1::Image& image : images) {
        ocr::v1::RecognizeRequest& request = single_.emplace_back();
        *request.mutable_image() = image;
        *request.mutable_model() = options_.call.model;
      }
      return;
    }
    // Enough batches that every image is sent, filled by cycling through them.
    const size_t size = static_cast<size_t>(options_.batch_size);
    const size_t count = (images.size() + size - 1) / size;
    for (size_t b = 0; b < count; ++b) {
      ocr::v1::RecognizeBatchRequest& request = batches_.emplace_back();
      for (size_t k = 0; k < size; ++k) *request.add_images() = images[(b * size + k) % images.size()];
      *request.mutable_model() = options_.call.model;
    }
  }

  // Starts one call. The caller has already counted it in outstanding_, and
  // must not hold mu_: a completion may run on this thread.
  void Start(Clock::time_point scheduled, int slot) {
    auto* call = new Call;
    call->start = scheduled;
    call->counted = scheduled >= measure_start_ && scheduled < end_;
    call->slot = slot;
    SetTimeout(call->context, options_.call.timeout_ms);
    const size_t k = next_request_.fetch_add(1, std::memory_order_relaxed);
    auto done = [this, call](grpc::Status status) { OnDone(call, status); };
    if (batches_.empty()) {
      async_->Recognize(&call->context, &single_[k % single_.size()], &call->response, std::move(done));
    } else {
      async_->RecognizeBatch(&call->context, &batches_[k % batches_.size()], &call->batch_response,
                             std::move(done));
    }
  }

  void OnDone(Call* call, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    const double latency_ms = std::chrono::duration<double, std::milli>(now - call->start).count();
    const bool counted = call->counted;
    const int slot = call->slot;
    uint64_t ok_lines = 0;
    std::vector<int> item_codes;
    if (status.ok()) {
      if (batches_.empty()) {
        ok_lines = 1;
      } else {
        for (const ocr::v1::LineResult& line : call->batch_response.results()) {
          if (line.code() == 0) {
            ++ok_lines;
          } else {
            item_codes.push_back(line.code());
          }
        }
      }
    }
    delete call;

    // Notify while holding the lock: once outstanding_ reaches 0 the
    // dispatcher may return and destroy this object, so nothing here may
    // touch a member after the lock is released.
    std::lock_guard<std::mutex> lock(mu_);
    if (counted) {
      ++calls_;
      last_done_ = std::max(last_done_, now);
      if (status.ok()) {
        ++ok_calls_;
        lines_ += ok_lines;
        samples_ms_.push_back(latency_ms);
        for (int code : item_codes) ++line_errors_[CodeName(code)];
      } else {
        ++errors_[CodeName(status.error_code())];
      }
    }
    --outstanding_;
    if (closed_loop_) finished_.push_back({slot, status.ok()});
    if (closed_loop_ || outstanding_ == 0) cv_.notify_all();
  }

  void RunClosedLoop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      outstanding_ = options_.concurrency;
    }
    for (int slot = 0; slot < options_.concurrency; ++slot) Start(Clock::now(), slot);

    using Pause = std::pair<Clock::time_point, int>;  // (when to resume, slot)
    std::priority_queue<Pause, std::vector<Pause>, std::greater<>> paused;
    std::vector<int> to_start;
    while (true) {
      Clock::time_point now;
      to_start.clear();
      {
        std::unique_lock<std::mutex> lock(mu_);
        Clock::time_point wake = std::min(end_, next_progress_);
        if (!paused.empty()) wake = std::min(wake, paused.top().first);
        cv_.wait_until(lock, wake, [this] { return !finished_.empty(); });
        now = Clock::now();
        if (now >= end_) break;
        for (const Finished& f : finished_) {
          if (f.ok) {
            to_start.push_back(f.slot);
          } else {
            paused.push({now + kErrorPause, f.slot});
          }
        }
        finished_.clear();
        while (!paused.empty() && paused.top().first <= now) {
          to_start.push_back(paused.top().second);
          paused.pop();
        }
        outstanding_ += static_cast<int>(to_start.size());
      }
      for (int slot : to_start) Start(Clock::now(), slot);
      MaybePrintProgress(now);
    }
  }

  void RunOpenLoop() {
    std::mt19937_64 random(options_.seed);
    std::exponential_distribution<double> poisson_gap(options_.rate);
    auto gap = [&] {
      return Seconds(options_.arrival == Arrival::kPoisson ? poisson_gap(random) : 1.0 / options_.rate);
    };
    Clock::time_point next_arrival = begin_;
    std::vector<Clock::time_point> to_start;
    bool finished = false;
    while (!finished) {
      Clock::time_point now;
      to_start.clear();
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_until(lock, std::min({next_arrival, next_progress_, end_}));
        now = Clock::now();
        // Catch up on every arrival that is due, even when this wake-up came
        // late, past the end; arrivals over the cap are lost, as they would be
        // for a real client that gives up.
        for (; next_arrival <= now && next_arrival < end_; next_arrival += gap()) {
          if (outstanding_ < options_.max_outstanding) {
            ++outstanding_;
            to_start.push_back(next_arrival);
          } else if (next_arrival >= measure_start_) {
            ++dropped_;
          }
        }
        finished = now >= end_;
      }
      for (Clock::time_point scheduled : to_start) Start(scheduled, -1);
      if (!finished) MaybePrintProgress(now);
    }
  }

  // Ticks every second of the warm-up, then every second of the measurement
  // counted from its start, so no line reports a measurement zero seconds old.
  Clock::time_point NextProgress(Clock::time_point tick) const {
    const Clock::time_point next = tick + kProgressEvery;
    return tick < measure_start_ && next >= measure_start_ ? measure_start_ + kProgressEvery : next;
  }

  void MaybePrintProgress(Clock::time_point now) {
    if (now < next_progress_) return;
    next_progress_ = std::max(NextProgress(next_progress_), now);
    std::string line;
    const double elapsed = SecondsBetween(begin_, now);
    if (now < measure_start_) {
      line = absl::StrFormat("[%4.0fs] warming up for %.0fs", elapsed, options_.warmup_s);
    } else {
      std::vector<double> samples;
      uint64_t ok_calls, lines, errors;
      {
        std::lock_guard<std::mutex> lock(mu_);
        samples = samples_ms_;
        ok_calls = ok_calls_;
        lines = lines_;
        errors = calls_ - ok_calls_;
      }
      const double window = std::max(1e-9, SecondsBetween(measure_start_, now));
      line = absl::StrFormat("[%4.0fs] %8.1f calls/s %8.1f lines/s  p50 %7.2f ms  p99 %7.2f ms  errors %d",
                             elapsed, ok_calls / window, lines / window, UnsortedPercentile(samples, 50),
                             UnsortedPercentile(samples, 99), errors);
    }
    if (options_.progress_redraw) {
      progress_ << "\r" << line << "\x1b[K" << std::flush;  // ESC[K clears what a longer line left
    } else {
      progress_ << line << "\n" << std::flush;
    }
    progress_printed_ = true;
  }

  BenchResult Collect() {
    std::lock_guard<std::mutex> lock(mu_);
    BenchResult result;
    result.concurrency = closed_loop_ ? options_.concurrency : 0;
    result.rate = closed_loop_ ? 0 : options_.rate;
    result.batch_size = options_.batch_size;
    result.calls = calls_;
    result.ok_calls = ok_calls_;
    result.lines = lines_;
    result.dropped = dropped_;
    result.seconds = calls_ > 0 ? SecondsBetween(measure_start_, last_done_) : 0;
    if (result.seconds <= 0) result.seconds = options_.duration_s;
    result.calls_per_s = static_cast<double>(ok_calls_) / result.seconds;
    result.lines_per_s = static_cast<double>(lines_) / result.seconds;
    result.latency_ms = Summarize(std::move(samples_ms_));
    result.errors = errors_;
    result.line_errors = line_errors_;
    return result;
  }

  AsyncStub* const async_;
  const BenchOptions options_;
  const bool closed_loop_;
  std::vector<ocr::v1::RecognizeRequest> single_;
  std::vector<ocr::v1::RecognizeBatchRequest> batches_;
  std::atomic<size_t> next_request_{0};
  Clock::time_point begin_, measure_start_, end_;

  // Dispatcher-thread only.
  std::ostream& progress_;
  Clock::time_point next_progress_;
  bool progress_printed_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  int outstanding_ = 0;            // started, not yet completed
  std::deque<Finished> finished_;  // closed loop: slots to refill
  std::vector<double> samples_ms_;
  uint64_t calls_ = 0;
  uint64_t ok_calls_ = 0;
  uint64_t lines_ = 0;
  uint64_t dropped_ = 0;
  Clock::time_point last_done_;
  std::map<std::string, uint64_t> errors_;
  std::map<std::string, uint64_t> line_errors_;
};

}  // namespace

absl::StatusOr<BenchResult> RunBench(ocr::v1::OcrService::StubInterface& stub,
                                     const std::vector<ocr::v1::Image>& images, const BenchOptions& options,
                                     std::ostream& progress) {
  if (absl::Status valid = Validate(options, images.size()); !valid.ok()) return valid;
  AsyncStub* async = stub.async();
  if (async == nullptr) return absl::InvalidArgumentError("the stub has no callback API");
  LoadTest test(async, images, options, progress);
  return test.Run();
}

absl::StatusOr<std::vector<BenchResult>> RunSweep(ocr::v1::OcrService::StubInterface& stub,
                                                  const std::vector<ocr::v1::Image>& images,
                                                  const BenchOptions& options, const std::vector<int>& levels,
                                                  std::ostream& progress) {
  if (options.rate > 0)
    return absl::InvalidArgumentError("--sweep varies concurrency; it cannot go with --rate");
  if (levels.empty()) return absl::InvalidArgumentError("empty --sweep list");
  std::vector<BenchResult> results;
  for (int level : levels) {
    BenchOptions at_level = options;
    at_level.concurrency = level;
    if (options.progress) progress << "concurrency " << level << "\n";
    absl::StatusOr<BenchResult> result = RunBench(stub, images, at_level, progress);
    if (!result.ok()) return result.status();
    results.push_back(std::move(*result));
  }
  return results;
}

}  // namespace vocr::client
