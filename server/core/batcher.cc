#include "server/core/batcher.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "server/core/stage_clock.h"

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
    std::vector<Queued> batch = TakeFrom(chosen, options_.max_batch_size);
    if (options_.fill_from_other_buckets) FillFromOtherBuckets(&batch);
    running_ += 1;
    const int depth = queued_;
    lock.unlock();
    if (observer_) observer_->OnQueueDepth(depth);
    return batch;
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

std::vector<Batcher::Queued> Batcher::TakeFrom(std::map<int, std::deque<Queued>>::iterator bucket, int most) {
  std::vector<Queued> taken;
  auto& queue = bucket->second;
  while (!queue.empty() && static_cast<int>(taken.size()) < most) {
    taken.push_back(std::move(queue.front()));
    queue.pop_front();
  }
  if (queue.empty()) buckets_.erase(bucket);
  queued_ -= static_cast<int>(taken.size());
  return taken;
}

void Batcher::FillFromOtherBuckets(std::vector<Queued>* batch) {
  while (static_cast<int>(batch->size()) < options_.max_batch_size && !buckets_.empty()) {
    auto oldest = buckets_.begin();
    for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
      if (it->second.front().enqueued < oldest->second.front().enqueued) oldest = it;
    }
    std::vector<Queued> head = TakeFrom(oldest, 1);
    batch->push_back(std::move(head.front()));
  }
}

std::vector<Batcher::Queued> Batcher::TakeJoiners(int room, int widest, std::vector<Queued>* abandoned) {
  std::unique_lock<std::mutex> lock(mu_);
  const absl::Time now = absl::Now();
  // Scanning the queue every step would cost O(queue) per step; a deadline
  // is answered at most a millisecond late, as when it passes between steps.
  if (now >= next_abandon_scan_) {
    absl::Time next_deadline = absl::InfiniteFuture();
    *abandoned = TakeAbandoned(now, &next_deadline);
    next_abandon_scan_ = std::min(next_deadline, now + absl::Milliseconds(1));
  }
  std::vector<Queued> joiners;
  // A free worker starts its own loop in parallel, which beats joining.
  const bool worker_free = running_ < std::max(1, options_.workers) && !stopping_;
  if (room > 0 && !worker_free && !buckets_.empty()) {
    auto oldest = buckets_.begin();
    for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
      if (it->second.front().enqueued < oldest->second.front().enqueued) oldest = it;
    }
    // Only lines no wider than the loop's widest join: every step attends
    // over the widest line's columns for every row, so a wider line would
    // make each row's step dearer. A wider oldest line waits for a free
    // worker instead, and younger lines do not overtake it.
    if (oldest->first <= widest / std::max(1, options_.bucket_width)) joiners = TakeFrom(oldest, room);
  }
  const int depth = queued_;
  const bool changed = !joiners.empty() || !abandoned->empty();
  lock.unlock();
  if (changed && observer_) observer_->OnQueueDepth(depth);
  return joiners;
}

int Batcher::CnnThreads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::max(1, options_.cnn_threads / std::max(1, running_));
}

void Batcher::LoopEnded() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ -= 1;
  }
  // An idle worker may make queued lines due.
  wake_.notify_one();
}

// One worker's decoding loop and the bookkeeping of the lines in it.
class Batcher::Worker {
 public:
  explicit Worker(Batcher* batcher) : b_(batcher), run_(batcher->recognizer_.get()) {}

  void Loop() {
    bool counted = false;  // this worker's loop counts in running_
    while (true) {
      if (run_.rows() == 0) {
        std::vector<Queued> batch = b_->NextBatch();
        if (batch.empty()) return;
        if (batch.front().abandoned) {
          Admit(std::move(batch));  // answered unread
          continue;
        }
        counted = true;
        Admit(std::move(batch));
      } else if (b_->options_.join_between_steps) {
        const int room = b_->options_.max_batch_size - static_cast<int>(run_.rows());
        std::vector<Queued> abandoned;
        int widest = 0;
        for (const auto& [id, line] : lines_) widest = std::max(widest, line.queued.request.input.width);
        std::vector<Queued> joiners = b_->TakeJoiners(room, widest, &abandoned);
        Admit(std::move(abandoned));
        Admit(std::move(joiners));
      }
      if (run_.rows() > 0) Step();
      if (run_.rows() == 0 && counted) {
        counted = false;
        b_->LoopEnded();
      }
    }
  }

 private:
  struct Line {
    Queued queued;
    int64_t group;
    double queue_ms;
    std::chrono::steady_clock::time_point joined;  // Join began: CNN, then encoder
    int first_step;
  };
  struct Group {
    int size = 0;
    int open = 0;  // lines still decoding
    BatchTimings timings;
  };

  // Lines that nobody waits for any more are answered at once; the others
  // join the loop.
  void Admit(std::vector<Queued> lines) {
    if (lines.empty()) return;
    const absl::Time now = absl::Now();
    std::vector<Queued> live;
    for (Queued& q : lines) {
      LineTimings timings;
      timings.queue_ms = absl::ToDoubleMilliseconds(now - q.enqueued);
      if (b_->observer_) b_->observer_->OnQueueWait(timings.queue_ms);
      absl::Status status = StillWanted(q.request, now);
      if (status.ok()) {
        live.push_back(std::move(q));
      } else {
        q.request.done(status, timings);
      }
    }
    if (live.empty()) return;
    const int64_t group = next_group_++;
    Group& g = groups_[group];
    g.size = g.open = static_cast<int>(live.size());
    std::vector<const LineInput*> inputs;
    std::vector<int64_t> ids;
    for (Queued& q : live) {
      const int64_t id = next_line_++;
      const double queue_ms = absl::ToDoubleMilliseconds(now - q.enqueued);
      auto [it, inserted] = lines_.emplace(id, Line{std::move(q), group, queue_ms, {}, 0});
      inputs.push_back(&it->second.queued.request.input);
      ids.push_back(id);
    }
    const auto joined = std::chrono::steady_clock::now();
    std::vector<DecodeRun::Ended> failed = run_.Join(inputs, ids, b_->CnnThreads(), &g.timings);
    for (int64_t id : ids) {
      lines_.at(id).joined = joined;
      lines_.at(id).first_step = run_.steps();
    }
    for (auto& e : failed) End(e.id, std::move(e.reading));
  }

  void Step() {
    const int rows = static_cast<int>(run_.rows());
    const StageClock step;
    std::vector<DecodeRun::Ended> ended =
        run_.Step([this](int64_t id) { return StillWanted(lines_.at(id).queued.request, absl::Now()); });
    const double share = step.WallMs() / rows, cpu_share = step.CpuMs() / rows;
    for (const auto& [id, line] : lines_) {
      groups_[line.group].timings.decoder_ms += share;
      groups_[line.group].timings.decoder_cpu_ms += cpu_share;
    }
    if (b_->observer_) b_->observer_->OnDecodeStep(rows);
    for (auto& e : ended) End(e.id, std::move(e.reading));
  }

  void End(int64_t id, absl::StatusOr<Reading> reading) {
    auto it = lines_.find(id);
    Line line = std::move(it->second);
    lines_.erase(it);
    auto g = groups_.find(line.group);
    g->second.timings.steps = std::max(g->second.timings.steps, run_.steps() - line.first_step);
    LineTimings timings;
    timings.queue_ms = line.queue_ms;
    timings.batch.cnn_ms = g->second.timings.cnn_ms;
    timings.batch.cnn_threads = g->second.timings.cnn_threads;
    timings.batch.decoder_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - line.joined).count() -
        timings.batch.cnn_ms;
    timings.batch.steps = run_.steps() - line.first_step;
    timings.batch_size = g->second.size;
    // The group is reported before its last line is answered, so whoever
    // waits for the answers finds the batch counted.
    if (--g->second.open == 0) {
      if (b_->observer_) b_->observer_->OnBatch(g->second.size, g->second.timings);
      groups_.erase(g);
    }
    line.queued.request.done(std::move(reading), timings);
  }

  Batcher* b_;
  DecodeRun run_;
  std::map<int64_t, Line> lines_;  // by the id given to the loop
  std::map<int64_t, Group> groups_;
  int64_t next_line_ = 0, next_group_ = 0;
};

void Batcher::WorkerLoop() { Worker(this).Loop(); }

}  // namespace vocr
