// Dynamic batcher: queues preprocessed lines, groups them by width bucket and
// hands them to worker threads. Each worker runs one decoding loop
// (DecodeRun): a free worker starts it with a batch (full, past the maximum
// queue delay, or at once when idle dispatch allows), and finished lines
// leave it after every step. With join_between_steps, queued lines also join
// a running loop between its steps up to the maximum batch size
// (iteration-level scheduling). The queue is bounded
// (RESOURCE_EXHAUSTED when full); lines whose deadline passed or whose caller
// went away are answered without inference, in the queue as soon as that is
// found and between decoder steps while they decode.
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
  int max_batch_size = 8;  // lines decoding together in one worker's loop
  absl::Duration max_queue_delay = absl::Milliseconds(2);
  int queue_capacity = 256;  // lines waiting, all buckets together
  int workers = 1;           // batches in flight at once
  // Threads for one batch's CNN, shared among the loops running: a lone
  // batch gets them all, and under load each of `workers` loops gets
  // cnn_threads / workers (at least 1), so the cores are not oversubscribed.
  int cnn_threads = 1;
  int bucket_width = 64;  // lines whose widths fall in the same bucket batch together
  // When no batch is running, a queued line runs at once instead of waiting
  // max_queue_delay for batch-mates: at low load nobody is coming.
  bool dispatch_when_idle = false;
  // Queued lines join a running decoding loop between its steps when no
  // worker is free to start one and they are no wider than its widest line.
  // Off in the server by default: with this sequence model it measured
  // slower (docs/decoding-kernels.md), because lines then join one by one
  // and the encoder, whose cost per column hardly depends on the batch,
  // runs once per line instead of once per group.
  bool join_between_steps = false;
  // A batch taken from a due bucket is filled up to max_batch_size with the
  // oldest lines of other buckets. The CNN still runs once per padded width,
  // but the encoder and each decoder step run once for all of them: their
  // cost per call hardly depends on the rows (docs/decoding-kernels.md).
  bool fill_from_other_buckets = false;
};

// What the batcher reports about a line besides its reading.
struct LineTimings {
  double queue_ms = 0;
  // cnn_ms: the CNN of the lines that joined together (batch_size of them);
  // decoder_ms: from the line's encoding to its last step; steps: its steps.
  BatchTimings batch;
  int batch_size = 0;
};

// Observes batches for metrics; may be null.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  // A group of lines that joined a decoding loop together, once all of them
  // ended: its CNN time, and the encoder plus its share of each step it took
  // part in (a step's time split evenly among its rows), so the groups'
  // decoder times add up to the loop's time.
  virtual void OnBatch(int size, const BatchTimings& timings) = 0;
  // Lines decoding together in one decoder step.
  virtual void OnDecodeStep(int rows) = 0;
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
  class Worker;
  void WorkerLoop();
  // Waits until a batch is due and takes it; empty when shutting down and idle.
  // Lines whose deadline passed or whose caller left come out as a batch of
  // their own as soon as they are found, to be answered without inference.
  std::vector<Queued> NextBatch();
  // For a worker whose loop has `room` free rows and whose widest line is
  // `widest` pixels, between two steps: queued lines to join it (none while
  // another worker is free to start a loop of its own), and into *abandoned
  // the queued lines nobody waits for any more.
  std::vector<Queued> TakeJoiners(int room, int widest, std::vector<Queued>* abandoned);
  // A worker's loop ran empty.
  void LoopEnded();
  // Threads for a CNN run now, from how many loops are running.
  int CnnThreads() const;
  // Under mu_: takes the queued lines nobody waits for any more; the earliest
  // deadline of the rest into *next_deadline.
  std::vector<Queued> TakeAbandoned(absl::Time now, absl::Time* next_deadline);
  // Under mu_: takes up to max_batch_size lines of the bucket.
  std::vector<Queued> TakeFrom(std::map<int, std::deque<Queued>>::iterator bucket, int most);
  // Under mu_: adds the oldest queued lines of any bucket to *batch up to max_batch_size.
  void FillFromOtherBuckets(std::vector<Queued>* batch);

  std::shared_ptr<const Recognizer> recognizer_;
  const BatcherOptions options_;
  BatchObserver* observer_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::map<int, std::deque<Queued>> buckets_;  // by width bucket
  int queued_ = 0;
  int running_ = 0;                                      // workers whose decoding loop has lines
  absl::Time next_abandon_scan_ = absl::InfinitePast();  // for TakeJoiners
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_BATCHER_H_
