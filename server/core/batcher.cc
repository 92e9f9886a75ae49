#include "server/core/batcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace vocr {

Batcher::Batcher(std::shared_ptr<const Recognizer> recognizer, BatcherOptions options,
                 BatchObserver* observer)
    : recognizer_(std::move(recognizer)), options_(options), observer_(observer) {
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

Batcher::~Batcher() { Shutdown(); }

absl::Status Batcher::Submit(Request request) {
  std::vector<Request> one;
  one.push_back(std::move(request));
  return SubmitAll(std::move(one));
}

absl::Status Batcher::SubmitAll(std::vector<Request> requests) {
  const int n = static_cast<int>(requests.size());
  int depth;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("server is shutting down");
    // An empty queue takes a line however many pieces it has, so a long line
    // is never refused for being long, only for arriving at a busy server.
    if (queued_ > 0 && queued_ + n > options_.queue_capacity) {
      return absl::ResourceExhaustedError(
          absl::StrCat("queue full (", options_.queue_capacity, " lines waiting); retry later"));
    }
    const absl::Time now = absl::Now();
    for (Request& request : requests) {
      const int bucket = request.input.width / std::max(1, options_.bucket_width);
      buckets_[bucket].push_back(Queued{std::move(request), now});
    }
    queued_ += n;
    depth = queued_;
  }
  if (observer_) observer_->OnQueueDepth(depth);
  if (n == 1) {
    wake_.notify_one();
  } else {
    wake_.notify_all();
  }
  return absl::OkStatus();
}

void Batcher::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

int Batcher::queue_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_;
}

std::vector<Batcher::Queued> Batcher::NextBatch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const absl::Time now = absl::Now();
    absl::Time next_deadline = absl::InfiniteFuture();
    std::vector<Queued> abandoned = TakeAbandoned(now, &next_deadline);
    if (!abandoned.empty()) {
      const int depth = queued_;
      lock.unlock();
      if (observer_) observer_->OnQueueDepth(depth);
      return abandoned;
    }
    // Of the buckets that are due (full, past their delay, or any bucket when
    // nothing runs and idle dispatch is on), the one whose head waited longest
    // goes first: no width starves, whatever the others' load.
    const bool idle = options_.dispatch_when_idle && running_ == 0;
    auto chosen = buckets_.end();
    absl::Time next_due = absl::InfiniteFuture();
    for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
      const absl::Time head = it->second.front().enqueued;
      const absl::Time due = head + options_.max_queue_delay;
      const bool ready =
          stopping_ || idle || static_cast<int>(it->second.size()) >= options_.max_batch_size || now >= due;
      if (!ready) {
        next_due = std::min(next_due, due);
      } else if (chosen == buckets_.end() || head < chosen->second.front().enqueued) {
        chosen = it;
      }
    }
    if (chosen == buckets_.end()) {
      if (stopping_ && buckets_.empty()) return {};
      // Wake for the next bucket to fall due or the next deadline to pass,
      // whichever is first (or when a line arrives).
      const absl::Time wake = std::min(next_due, next_deadline);
      if (wake == absl::InfiniteFuture()) {
        wake_.wait(lock);
      } else {
        wake_.wait_for(lock, absl::ToChronoNanoseconds(std::max(absl::ZeroDuration(), wake - now)));
      }
      continue;
    }
    std::vector<Queued> batch;
    auto& queue = chosen->second;
    while (!queue.empty() && static_cast<int>(batch.size()) < options_.max_batch_size) {
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    if (queue.empty()) buckets_.erase(chosen);
    queued_ -= static_cast<int>(batch.size());
    running_ += 1;
    const int depth = queued_;
    lock.unlock();
    if (observer_) observer_->OnQueueDepth(depth);
    return batch;
  }
}

void Batcher::WorkerLoop() {
  while (true) {
    std::vector<Queued> batch = NextBatch();
    if (batch.empty()) return;
    const bool counted = !batch.front().abandoned;
    RunBatch(std::move(batch));
    if (counted) {
      std::lock_guard<std::mutex> lock(mu_);
      running_ -= 1;
    }
    // A finished batch may leave the batcher idle, which makes queued lines due.
    wake_.notify_one();
  }
}

namespace {

absl::Status StillWanted(const Batcher::Request& r, absl::Time now) {
  if (r.cancelled && r.cancelled()) return absl::CancelledError("the caller cancelled the call");
  if (now > r.deadline) return absl::DeadlineExceededError("deadline passed before the line was read");
  return absl::OkStatus();
}

}  // namespace

std::vector<Batcher::Queued> Batcher::TakeAbandoned(absl::Time now, absl::Time* next_deadline) {
  std::vector<Queued> abandoned;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    auto& queue = it->second;
    for (auto q = queue.begin(); q != queue.end();) {
      if (!StillWanted(q->request, now).ok()) {
        abandoned.push_back(std::move(*q));
        abandoned.back().abandoned = true;
        q = queue.erase(q);
      } else {
        *next_deadline = std::min(*next_deadline, q->request.deadline);
        ++q;
      }
    }
    it = queue.empty() ? buckets_.erase(it) : std::next(it);
  }
  queued_ -= static_cast<int>(abandoned.size());
  return abandoned;
}

void Batcher::RunBatch(std::vector<Queued> batch) {
  const absl::Time start = absl::Now();
  // Lines that nobody waits for any more are answered without inference.
  std::vector<Queued> live;
  for (Queued& q : batch) {
    LineTimings timings;
    timings.queue_ms = absl::ToDoubleMilliseconds(start - q.enqueued);
    if (observer_) observer_->OnQueueWait(timings.queue_ms);
    absl::Status status = StillWanted(q.request, start);
    if (status.ok()) {
      live.push_back(std::move(q));
    } else {
      q.request.done(status, timings);
    }
  }
  if (live.empty()) return;
  std::vector<const LineInput*> inputs;
  for (const Queued& q : live) inputs.push_back(&q.request.input);
  BatchTimings batch_timings;
  auto results = recognizer_->Read(
      inputs, [&](size_t i) { return StillWanted(live[i].request, absl::Now()); }, &batch_timings);
  if (observer_) observer_->OnBatch(static_cast<int>(live.size()), batch_timings);
  for (size_t i = 0; i < live.size(); ++i) {
    LineTimings timings{absl::ToDoubleMilliseconds(start - live[i].enqueued), batch_timings,
                        static_cast<int>(live.size())};
    live[i].request.done(std::move(results[i]), timings);
  }
}

}  // namespace vocr
