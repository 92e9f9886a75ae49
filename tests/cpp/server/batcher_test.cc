// The dynamic batcher over the real recognizer and the tiny bundle: batch
// size and queue delay, width buckets, the bounded queue, deadlines and
// cancellation before inference, shutdown. Batches are observed through the
// BatchObserver interface (the one the metrics implement).
#include "server/core/batcher.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/server/test_util.h"

namespace vocr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using ::vocr::testing::PatternImage;
using ::vocr::testing::TinyBundle;

// Records what the batcher reports.
class RecordingObserver : public BatchObserver {
 public:
  void OnBatch(int size, const BatchTimings& timings) override {
    std::lock_guard<std::mutex> lock(mu_);
    batches_.push_back(size);
  }
  void OnQueueDepth(int depth) override {
    std::lock_guard<std::mutex> lock(mu_);
    max_depth_ = std::max(max_depth_, depth);
    last_depth_ = depth;
  }
  void OnQueueWait(double ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    waits_ += 1;
  }
  void OnDecodeStep(int rows) override {
    std::lock_guard<std::mutex> lock(mu_);
    max_rows_ = std::max(max_rows_, rows);
  }
  int max_rows() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_rows_;
  }
  std::vector<int> batches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }
  int max_depth() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_depth_;
  }
  int last_depth() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_depth_;
  }
  int waits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return waits_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<int> batches_;
  int max_depth_ = 0, last_depth_ = -1, waits_ = 0, max_rows_ = 0;
};

// Collects `done` calls by request id.
class Answers {
 public:
  struct Answer {
    absl::StatusOr<Reading> reading;
    LineTimings timings;
    absl::Time at;
    int calls = 0;
  };

  Batcher::Done For(int id) {
    return [this, id](absl::StatusOr<Reading> reading, const LineTimings& timings) {
      std::lock_guard<std::mutex> lock(mu_);
      Answer& a = answers_[id];
      a.reading = std::move(reading);
      a.timings = timings;
      a.at = absl::Now();
      a.calls += 1;
      cv_.notify_all();
    };
  }
  // Waits until `n` requests were answered; false after `timeout`.
  bool WaitFor(size_t n, absl::Duration timeout = absl::Seconds(60)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return answers_.size() >= n; });
  }
  Answer Get(int id) {
    std::lock_guard<std::mutex> lock(mu_);
    return answers_.at(id);
  }
  bool Has(int id) {
    std::lock_guard<std::mutex> lock(mu_);
    return answers_.count(id) > 0;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return answers_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, Answer> answers_;
};

class BatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VOCR_REQUIRE_TINY_BUNDLE();
    auto bundle = TinyBundle();
    ASSERT_NE(bundle, nullptr);
    recognizer_ = std::make_shared<Recognizer>(bundle);
  }

  std::unique_ptr<Batcher> Make(BatcherOptions options) {
    return std::make_unique<Batcher>(recognizer_, options, &observer_);
  }

  Batcher::Request Request(int id, int width) {
    absl::StatusOr<LineInput> in =
        Preprocess(PatternImage(width, 32, id), recognizer_->bundle().manifest().input);
    EXPECT_TRUE(in.ok()) << in.status();
    Batcher::Request r;
    r.input = *in;
    r.done = answers_.For(id);
    return r;
  }

  std::shared_ptr<const Recognizer> recognizer_;
  RecordingObserver observer_;
  Answers answers_;
};

TEST_F(BatcherTest, FormsOneBatchFromQuickSubmitsUpToMaxBatchSize) {
  BatcherOptions options;
  options.max_batch_size = 4;
  options.max_queue_delay = absl::Seconds(30);
  auto batcher = Make(options);
  const absl::Time start = absl::Now();
  for (int id = 0; id < 4; ++id) ASSERT_TRUE(batcher->Submit(Request(id, 128)).ok());
  ASSERT_TRUE(answers_.WaitFor(4));
  EXPECT_LT(absl::Now() - start, absl::Seconds(20)) << "a full batch must not wait for max_queue_delay";
  EXPECT_THAT(observer_.batches(), ElementsAre(4));
  for (int id = 0; id < 4; ++id) {
    Answers::Answer a = answers_.Get(id);
    ASSERT_TRUE(a.reading.ok()) << a.reading.status();
    EXPECT_EQ(a.calls, 1);
    EXPECT_EQ(a.timings.batch_size, 4);
    EXPECT_GT(a.timings.batch.steps, 0);
  }
  EXPECT_EQ(observer_.max_depth(), 4);
  EXPECT_EQ(observer_.last_depth(), 0);
  EXPECT_EQ(batcher->queue_depth(), 0);
}

TEST_F(BatcherTest, RunsALoneLineAfterMaxQueueDelay) {
  BatcherOptions options;
  options.max_batch_size = 4;
  options.max_queue_delay = absl::Milliseconds(300);
  auto batcher = Make(options);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(batcher->Submit(Request(0, 64)).ok());
  ASSERT_TRUE(answers_.WaitFor(1));
  Answers::Answer a = answers_.Get(0);
  ASSERT_TRUE(a.reading.ok()) << a.reading.status();
  EXPECT_GE(a.at - start, absl::Milliseconds(300));
  EXPECT_GE(a.timings.queue_ms, 299.0);
  EXPECT_LT(a.timings.queue_ms, 20000.0);
  EXPECT_EQ(a.timings.batch_size, 1);
  EXPECT_THAT(observer_.batches(), ElementsAre(1));
  EXPECT_EQ(observer_.waits(), 1);
}

TEST_F(BatcherTest, SplitsAQueueLongerThanMaxBatchSize) {
  BatcherOptions options;
  options.max_batch_size = 2;
  options.max_queue_delay = absl::Milliseconds(200);
  auto batcher = Make(options);
  for (int id = 0; id < 5; ++id) ASSERT_TRUE(batcher->Submit(Request(id, 128)).ok());
  ASSERT_TRUE(answers_.WaitFor(5));
  EXPECT_THAT(observer_.batches(), UnorderedElementsAre(2, 2, 1));
}

TEST_F(BatcherTest, BatchesLinesOfVeryDifferentWidthsSeparately) {
  BatcherOptions options;
  options.max_batch_size = 8;
  options.max_queue_delay = absl::Milliseconds(300);
  options.bucket_width = 64;
  auto batcher = Make(options);
  // Buckets 64/64 = 72/64 = 1 and 256/64 = 264/64 = 4, submitted interleaved.
  const std::vector<int> widths{64, 256, 72, 264};
  for (int id = 0; id < 4; ++id) ASSERT_TRUE(batcher->Submit(Request(id, widths[id])).ok());
  ASSERT_TRUE(answers_.WaitFor(4));
  EXPECT_THAT(observer_.batches(), ElementsAre(2, 2));
  for (int id = 0; id < 4; ++id) {
    Answers::Answer a = answers_.Get(id);
    ASSERT_TRUE(a.reading.ok()) << a.reading.status();
    EXPECT_EQ(a.timings.batch_size, 2) << "width " << widths[id];
  }
}

TEST_F(BatcherTest, FillsABatchWithOtherBucketsLinesWhenAsked) {
  BatcherOptions options;
  options.max_batch_size = 8;
  options.max_queue_delay = absl::Milliseconds(300);
  options.bucket_width = 64;
  options.fill_from_other_buckets = true;
  auto batcher = Make(options);
  const std::vector<int> widths{64, 256, 72, 264, 128};  // buckets 1, 4, 1, 4, 2
  for (int id = 0; id < 5; ++id) ASSERT_TRUE(batcher->Submit(Request(id, widths[id])).ok());
  ASSERT_TRUE(answers_.WaitFor(5));
  EXPECT_THAT(observer_.batches(), ElementsAre(5));
  for (int id = 0; id < 5; ++id) {
    Answers::Answer a = answers_.Get(id);
    ASSERT_TRUE(a.reading.ok()) << a.reading.status();
    EXPECT_EQ(a.timings.batch_size, 5) << "width " << widths[id];
  }
}

TEST_F(BatcherTest, RunsAFullBucketWithoutWaitingForAnOlderPartialOne) {
  BatcherOptions options;
  options.max_batch_size = 4;
  options.max_queue_delay = absl::Seconds(3);
  options.bucket_width = 64;
  auto batcher = Make(options);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(batcher->Submit(Request(0, 64)).ok());                                    // bucket 1, alone
  for (int id = 1; id <= 4; ++id) ASSERT_TRUE(batcher->Submit(Request(id, 256)).ok());  // bucket 4, full
  ASSERT_TRUE(answers_.WaitFor(5));
  EXPECT_LT(answers_.Get(4).at - start, absl::Seconds(2)) << "the full batch waited for the partial one";
  EXPECT_THAT(observer_.batches(), ElementsAre(4, 1));
}

TEST_F(BatcherTest, NoWidthStarvesUnderSustainedLoadOfAnother) {
  // One worker kept busy by a stream of full batches of one width; a lone line
  // of another width must still be read once its delay is up, not after the
  // stream ends.
  BatcherOptions options;
  options.max_batch_size = 2;
  options.max_queue_delay = absl::Milliseconds(50);
  options.bucket_width = 64;
  options.queue_capacity = 1000;
  auto batcher = Make(options);
  std::atomic<bool> stop{false};
  std::atomic<int> submitted{0};
  std::thread flood([&] {
    // Keeps bucket 1 (width 64) full: two new lines whenever the queue runs low.
    for (int id = 100; !stop && id < 100 + 2000; id += 2) {
      while (!stop && batcher->queue_depth() > 6) absl::SleepFor(absl::Milliseconds(1));
      for (int k = 0; k < 2; ++k) {
        if (batcher->Submit(Request(id + k, 64)).ok()) submitted += 1;
      }
    }
  });
  absl::SleepFor(absl::Milliseconds(200));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(batcher->Submit(Request(0, 320)).ok());  // bucket 5, alone
  const absl::Time limit = start + absl::Seconds(20);
  while (!answers_.Has(0) && absl::Now() < limit) absl::SleepFor(absl::Milliseconds(5));
  const bool read_while_flooded = answers_.Has(0) && submitted < 2000;
  stop = true;
  flood.join();
  ASSERT_TRUE(answers_.Has(0));
  EXPECT_TRUE(read_while_flooded) << "the lone width waited for the flood to end";
  EXPECT_TRUE(answers_.Get(0).reading.ok());
  EXPECT_LT(answers_.Get(0).timings.queue_ms, 5000.0);
}

TEST_F(BatcherTest, ALoneLineRunsAtOnceWhenNothingElseRuns) {
  BatcherOptions options;
  options.max_batch_size = 4;
  options.max_queue_delay = absl::Seconds(5);
  options.dispatch_when_idle = true;
  auto batcher = Make(options);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(batcher->Submit(Request(0, 64)).ok());
  ASSERT_TRUE(answers_.WaitFor(1));
  EXPECT_LT(answers_.Get(0).at - start, absl::Seconds(3)) << "an idle batcher held the line for its delay";
  EXPECT_LT(answers_.Get(0).timings.queue_ms, 1000.0);
}

TEST_F(BatcherTest, AnswersADeadlineInTheQueueWhenItPassesNotWhenItsBatchIsDue) {
  BatcherOptions options;
  options.max_batch_size = 4;
  options.max_queue_delay = absl::Seconds(5);
  auto batcher = Make(options);
  Batcher::Request r = Request(0, 64);
  const absl::Time start = absl::Now();
  r.deadline = start + absl::Milliseconds(200);
  ASSERT_TRUE(batcher->Submit(std::move(r)).ok());
  ASSERT_TRUE(answers_.WaitFor(1));
  Answers::Answer a = answers_.Get(0);
  EXPECT_EQ(a.reading.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(a.at - start, absl::Milliseconds(200));
  EXPECT_LT(a.at - start, absl::Seconds(3)) << "the expired line waited for its batch's delay";
  EXPECT_TRUE(observer_.batches().empty()) << "an expired line must not be read";
}

TEST_F(BatcherTest, RefusesWithResourceExhaustedWhenTheQueueIsFull) {
  BatcherOptions options;
  options.max_batch_size = 1;
  options.max_queue_delay = absl::ZeroDuration();
  options.queue_capacity = 2;
  options.workers = 1;
  // The first line's answer blocks the only worker until released.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  auto batcher = Make(options);
  // Releases the worker on every exit path, before the batcher joins it.
  struct Releaser {
    std::promise<void>& p;
    bool done = false;
    void Release() {
      if (!done) p.set_value();
      done = true;
    }
    ~Releaser() { Release(); }
  } releaser{release};
  Batcher::Request blocker = Request(100, 64);
  blocker.done = [&entered, released](absl::StatusOr<Reading>, const LineTimings&) {
    entered.set_value();
    released.wait();
  };
  ASSERT_TRUE(batcher->Submit(std::move(blocker)).ok());
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);

  ASSERT_TRUE(batcher->Submit(Request(1, 64)).ok());
  // The pieces of one long line go in all together or not at all.
  std::vector<Batcher::Request> pieces;
  for (int id : {10, 11}) pieces.push_back(Request(id, 64));
  EXPECT_EQ(batcher->SubmitAll(std::move(pieces)).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(batcher->queue_depth(), 1);
  ASSERT_TRUE(batcher->Submit(Request(2, 64)).ok());
  EXPECT_EQ(batcher->queue_depth(), 2);
  absl::Status full = batcher->Submit(Request(3, 64));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.message(), HasSubstr("queue full"));

  releaser.Release();
  ASSERT_TRUE(answers_.WaitFor(2));
  EXPECT_TRUE(answers_.Get(1).reading.ok());
  EXPECT_TRUE(answers_.Get(2).reading.ok());
  batcher->Shutdown();
  EXPECT_FALSE(answers_.Has(3)) << "done must not be called when Submit fails";
  EXPECT_FALSE(answers_.Has(10) || answers_.Has(11)) << "a refused line's pieces must not be read";
}

TEST_F(BatcherTest, AnEmptyQueueTakesALongLineBeyondItsCapacity) {
  BatcherOptions options;
  options.queue_capacity = 2;
  auto batcher = Make(options);
  std::vector<Batcher::Request> pieces;
  for (int id = 0; id < 5; ++id) pieces.push_back(Request(id, 64));
  ASSERT_TRUE(batcher->SubmitAll(std::move(pieces)).ok());
  ASSERT_TRUE(answers_.WaitFor(5));
  for (int id = 0; id < 5; ++id) EXPECT_TRUE(answers_.Get(id).reading.ok()) << id;
}

TEST_F(BatcherTest, AnswersAnExpiredDeadlineWithoutInference) {
  BatcherOptions options;
  options.max_queue_delay = absl::ZeroDuration();
  auto batcher = Make(options);
  Batcher::Request r = Request(0, 128);
  r.deadline = absl::Now() - absl::Milliseconds(1);
  ASSERT_TRUE(batcher->Submit(std::move(r)).ok());
  ASSERT_TRUE(answers_.WaitFor(1));
  Answers::Answer a = answers_.Get(0);
  EXPECT_EQ(a.reading.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(a.timings.batch_size, 0);
  EXPECT_EQ(a.timings.batch.steps, 0);
  batcher->Shutdown();
  EXPECT_TRUE(observer_.batches().empty()) << "no inference for a line nobody waits for";
}

TEST_F(BatcherTest, AnswersADeadlineThatPassesInTheQueueWithoutInference) {
  BatcherOptions options;
  options.max_batch_size = 4;
  options.max_queue_delay = absl::Milliseconds(400);
  auto batcher = Make(options);
  Batcher::Request late = Request(0, 128);
  late.deadline = absl::Now() + absl::Milliseconds(50);
  ASSERT_TRUE(batcher->Submit(std::move(late)).ok());
  ASSERT_TRUE(batcher->Submit(Request(1, 128)).ok());
  ASSERT_TRUE(answers_.WaitFor(2));
  EXPECT_EQ(answers_.Get(0).reading.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(answers_.Get(1).reading.ok());
  EXPECT_THAT(observer_.batches(), ElementsAre(1));  // only the live line was read
  EXPECT_EQ(answers_.Get(1).timings.batch_size, 1);
}

TEST_F(BatcherTest, AnswersACancelledCallWithoutInference) {
  BatcherOptions options;
  options.max_queue_delay = absl::ZeroDuration();
  auto batcher = Make(options);
  std::atomic<int> asked{0};
  Batcher::Request r = Request(0, 128);
  r.cancelled = [&asked] {
    ++asked;
    return true;
  };
  ASSERT_TRUE(batcher->Submit(std::move(r)).ok());
  ASSERT_TRUE(answers_.WaitFor(1));
  EXPECT_EQ(answers_.Get(0).reading.status().code(), absl::StatusCode::kCancelled);
  batcher->Shutdown();
  EXPECT_GE(asked.load(), 1);
  EXPECT_TRUE(observer_.batches().empty());
}

TEST_F(BatcherTest, StopsDecodingALineCancelledDuringInference) {
  BatcherOptions options;
  options.max_batch_size = 2;
  options.max_queue_delay = absl::Seconds(30);
  auto batcher = Make(options);
  std::atomic<int> asked{0};
  Batcher::Request r = Request(0, 512);
  r.cancelled = [&asked] { return ++asked > 3; };  // the caller leaves a few steps in
  ASSERT_TRUE(batcher->Submit(std::move(r)).ok());
  ASSERT_TRUE(batcher->Submit(Request(1, 512)).ok());
  ASSERT_TRUE(answers_.WaitFor(2));
  EXPECT_EQ(answers_.Get(0).reading.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(answers_.Get(1).reading.ok());
  EXPECT_THAT(observer_.batches(), ElementsAre(2));
}

TEST_F(BatcherTest, ShutdownFinishesQueuedLinesAndThenRefusesNewOnes) {
  BatcherOptions options;
  options.max_batch_size = 8;
  options.max_queue_delay = absl::Seconds(30);
  auto batcher = Make(options);
  const absl::Time start = absl::Now();
  for (int id = 0; id < 3; ++id) ASSERT_TRUE(batcher->Submit(Request(id, 96)).ok());
  batcher->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(20)) << "shutdown must not wait for max_queue_delay";
  ASSERT_EQ(answers_.size(), 3u) << "every queued line is answered before Shutdown returns";
  for (int id = 0; id < 3; ++id)
    EXPECT_TRUE(answers_.Get(id).reading.ok()) << answers_.Get(id).reading.status();
  absl::Status after = batcher->Submit(Request(9, 96));
  EXPECT_EQ(after.code(), absl::StatusCode::kUnavailable);
  batcher->Shutdown();  // idempotent
  batcher.reset();
  EXPECT_FALSE(answers_.Has(9));
}

TEST_F(BatcherTest, ServesFromSeveralWorkers) {
  BatcherOptions options;
  options.max_batch_size = 2;
  options.max_queue_delay = absl::Milliseconds(5);
  options.workers = 2;
  auto batcher = Make(options);
  for (int id = 0; id < 12; ++id) ASSERT_TRUE(batcher->Submit(Request(id, id % 2 ? 64 : 192)).ok());
  ASSERT_TRUE(answers_.WaitFor(12));
  int lines = 0;
  for (int size : observer_.batches()) {
    EXPECT_LE(size, 2);
    lines += size;
  }
  EXPECT_EQ(lines, 12);
  for (int id = 0; id < 12; ++id) EXPECT_EQ(answers_.Get(id).calls, 1);
}

// ---- Lines joining a running decoding loop -------------------------------------------

// A request whose cancellation check, asked before every decoder step, runs
// `at_step(k)` at its k-th step: a hook into the middle of its decoding.
Batcher::Request WithStepHook(Batcher::Request r, std::function<void(int)> at_step) {
  auto asked = std::make_shared<int>(0);
  r.cancelled = [asked, at_step] {
    at_step(++*asked);
    return false;
  };
  return r;
}

// Idle dispatch and joining on, as a server started with --join_between_steps.
BatcherOptions Joining(int max_batch_size, absl::Duration max_queue_delay, int workers = 1) {
  BatcherOptions options;
  options.max_batch_size = max_batch_size;
  options.max_queue_delay = max_queue_delay;
  options.dispatch_when_idle = true;
  options.join_between_steps = true;
  options.workers = workers;
  return options;
}

TEST_F(BatcherTest, ALineJoinsTheRunningLoopBetweenStepsAndReadsAsAlone) {
  auto batcher = Make(Joining(4, absl::Seconds(30)));
  std::promise<void> submitted;
  std::shared_future<void> submitted_f = submitted.get_future().share();
  // Line 1 is queued while line 0 is at its second step; nothing else runs,
  // so it must join line 0's loop rather than wait for it to end.
  ASSERT_TRUE(batcher
                  ->Submit(WithStepHook(Request(0, 512),
                                        [&](int step) {
                                          if (step == 2) {
                                            ASSERT_TRUE(batcher->Submit(Request(1, 96)).ok());
                                            submitted.set_value();
                                          }
                                        }))
                  .ok());
  ASSERT_TRUE(answers_.WaitFor(2));
  EXPECT_EQ(observer_.max_rows(), 2) << "line 1 did not decode beside line 0";
  EXPECT_THAT(observer_.batches(), UnorderedElementsAre(1, 1));
  // The joined line reads exactly as it reads alone.
  std::vector<const LineInput*> alone_in;
  Batcher::Request again = Request(1, 96);
  alone_in.push_back(&again.input);
  BatchTimings t;
  auto alone = recognizer_->Read(
      alone_in, [](size_t) { return absl::OkStatus(); }, &t);
  Answers::Answer joined = answers_.Get(1);
  ASSERT_TRUE(joined.reading.ok()) << joined.reading.status();
  ASSERT_TRUE(alone[0].ok());
  EXPECT_EQ(joined.reading->text, alone[0]->text);
  EXPECT_EQ(joined.reading->char_confidences, alone[0]->char_confidences);
  EXPECT_GT(joined.timings.batch.steps, 0);
}

TEST_F(BatcherTest, AFreeWorkerTakesALineRatherThanItJoiningABusyLoop) {
  auto batcher = Make(Joining(4, absl::Milliseconds(20), 2));
  // Line 0's worker stops at its second step until line 1 is answered: only
  // the other worker can have read it.
  ASSERT_TRUE(batcher
                  ->Submit(WithStepHook(Request(0, 512),
                                        [&](int step) {
                                          if (step != 2) return;
                                          ASSERT_TRUE(batcher->Submit(Request(1, 96)).ok());
                                          EXPECT_TRUE(answers_.WaitFor(1, absl::Seconds(20)))
                                              << "line 1 waited for the busy worker";
                                        }))
                  .ok());
  ASSERT_TRUE(answers_.WaitFor(2));
  EXPECT_TRUE(answers_.Get(1).reading.ok());
  EXPECT_LT(answers_.Get(1).at, answers_.Get(0).at);
  EXPECT_EQ(observer_.max_rows(), 1);
}

TEST_F(BatcherTest, UnderLoadTheDecodeBatchFillsButNeverPassesMaxBatchSize) {
  auto batcher = Make(Joining(3, absl::Milliseconds(1)));
  for (int id = 0; id < 24; ++id) ASSERT_TRUE(batcher->Submit(Request(id, 128)).ok());
  ASSERT_TRUE(answers_.WaitFor(24));
  EXPECT_EQ(observer_.max_rows(), 3);
  int lines = 0;
  for (int size : observer_.batches()) lines += size;
  EXPECT_EQ(lines, 24);
  for (int id = 0; id < 24; ++id) {
    EXPECT_EQ(answers_.Get(id).calls, 1);
    EXPECT_TRUE(answers_.Get(id).reading.ok());
  }
}

TEST_F(BatcherTest, AWiderLineDoesNotJoinButWaitsForTheLoopToEnd) {
  auto batcher = Make(Joining(4, absl::Seconds(30)));
  // Every row of a step attends over the widest line's columns, so a line
  // wider than the loop's widest one is not let in.
  ASSERT_TRUE(batcher
                  ->Submit(WithStepHook(Request(0, 96),
                                        [&](int step) {
                                          if (step == 2) {
                                            ASSERT_TRUE(batcher->Submit(Request(1, 512)).ok());
                                          }
                                        }))
                  .ok());
  ASSERT_TRUE(answers_.WaitFor(2));
  EXPECT_EQ(observer_.max_rows(), 1);
  EXPECT_LT(answers_.Get(0).at, answers_.Get(1).at);
}

TEST_F(BatcherTest, ALoneBatchsCnnGetsEveryThreadAndBusyWorkersShareThem) {
  BatcherOptions options;
  options.max_batch_size = 4;
  options.max_queue_delay = absl::Milliseconds(1);
  options.dispatch_when_idle = true;
  options.workers = 2;
  options.cnn_threads = 2;
  auto batcher = Make(options);
  // Line 1 arrives while line 0 decodes (after its first step, so after its
  // CNN ran), so two loops run when line 1's CNN does. The hook runs whenever
  // the batcher asks whether line 0 is still wanted, also before its CNN.
  bool submitted = false;
  ASSERT_TRUE(batcher
                  ->Submit(WithStepHook(Request(0, 512),
                                        [&](int) {
                                          if (submitted || observer_.max_rows() == 0) return;
                                          submitted = true;
                                          ASSERT_TRUE(batcher->Submit(Request(1, 96)).ok());
                                          EXPECT_TRUE(answers_.WaitFor(1, absl::Seconds(20)));
                                        }))
                  .ok());
  ASSERT_TRUE(answers_.WaitFor(2));
  EXPECT_EQ(answers_.Get(0).timings.batch.cnn_threads, 2);
  EXPECT_EQ(answers_.Get(1).timings.batch.cnn_threads, 1);
}

}  // namespace
}  // namespace vocr
