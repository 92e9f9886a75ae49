// Dynamic batcher: queues preprocessed lines, groups them by width bucket and
// hands batches to worker threads, up to a maximum batch size or after a
// maximum queue delay. The queue is bounded (RESOURCE_EXHAUSTED when full);
// lines whose deadline passed or whose caller went away are dropped before
// inference and, through Recognizer::Read, between decoder steps.
#ifndef VOCR_SERVER_CORE_BATCHER_H_
#define VOCR_SERVER_CORE_BATCHER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/preprocess.h"
#include "server/core/recognizer.h"

namespace vocr {

struct BatcherOptions {
  int max_batch_size = 8;
  absl::Duration max_queue_delay = absl::Milliseconds(2);
  int queue_capacity = 256;  // lines waiting, all buckets together
  int workers = 1;           // batches in flight at once
  int bucket_width = 64;     // lines whose widths fall in the same bucket batch together
  // When no batch is running, a queued line runs at once instead of waiting
  // max_queue_delay for batch-mates: at low load nobody is coming.
  bool dispatch_when_idle = false;
};

// What the batcher reports about a line besides its reading.
struct LineTimings {
  double queue_ms = 0;
  BatchTimings batch;
  int batch_size = 0;
};

// Observes batches for metrics; may be null.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  virtual void OnBatch(int size, const BatchTimings& timings) = 0;
  virtual void OnQueueDepth(int depth) = 0;
  virtual void OnQueueWait(double ms) = 0;
};

class Batcher {
 public:
  using Done = std::function<void(absl::StatusOr<Reading>, const LineTimings&)>;

  struct Request {
    LineInput input;
    absl::Time deadline = absl::InfiniteFuture();
    std::function<bool()> cancelled;  // may be empty
    Done done;                        // called exactly once, from a worker thread or Submit's caller
  };

  Batcher(std::shared_ptr<const Recognizer> recognizer, BatcherOptions options,
          BatchObserver* observer = nullptr);
  ~Batcher();  // Drains, see Shutdown().

  // Queues a line. RESOURCE_EXHAUSTED when the queue is full, UNAVAILABLE after
  // Shutdown(); `done` is not called when Submit fails.
  absl::Status Submit(Request request);

  // Queues all of `requests` or, on the same errors as Submit, none of them
  // (the pieces of one long line). An empty queue takes them all even beyond
  // its capacity.
  absl::Status SubmitAll(std::vector<Request> requests);

  // Stops accepting lines, finishes every queued one, joins the workers.
  void Shutdown();

  int queue_depth() const;

 private:
  struct Queued {
    Request request;
    absl::Time enqueued;
    bool abandoned = false;  // taken out of the queue unread: deadline passed or caller gone
  };
  void WorkerLoop();
  // Waits until a batch is due and takes it; empty when shutting down and idle.
  // Lines whose deadline passed or whose caller left come out as a batch of
  // their own as soon as they are found, to be answered without inference.
  std::vector<Queued> NextBatch();
  // Under mu_: takes the queued lines nobody waits for any more; the earliest
  // deadline of the rest into *next_deadline.
  std::vector<Queued> TakeAbandoned(absl::Time now, absl::Time* next_deadline);
  void RunBatch(std::vector<Queued> batch);

  std::shared_ptr<const Recognizer> recognizer_;
  const BatcherOptions options_;
  BatchObserver* observer_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::map<int, std::deque<Queued>> buckets_;  // by width bucket
  int queued_ = 0;
  int running_ = 0;  // batches being read
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_BATCHER_H_
