#include "server/core/seq_kernels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/core/seq_math.h"
#include "server/core/status_macros.h"

namespace vocr {
namespace {

absl::StatusOr<torch::jit::Module> Child(const torch::jit::Module& parent, const std::string& path) {
  torch::jit::Module m = parent;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string name = path.substr(start, dot - start);
    if (!m.hasattr(name) || !m.attr(name).isModule())
      return absl::FailedPreconditionError(absl::StrCat("seq.pt has no module '", path, "'"));
    m = m.attr(name).toModule();
    start = dot + 1;
  }
  return m;
}

absl::StatusOr<Int8Linear> Linear(const torch::jit::Module& seq, const std::string& path, int blocks = 1) {
  VOCR_ASSIGN_OR_RETURN(torch::jit::Module m, Child(seq, path));
  return Int8Linear::FromModule(m, "seq.pt: " + path, Int8Linear::Arithmetic::kAuto, blocks);
}

}  // namespace

void SeqBatch::Keep(const std::vector<int64_t>& rows, int64_t columns) {
  const torch::Tensor index = torch::tensor(rows, torch::kInt64);
  columns = std::min(columns, memory.size(1));
  memory = memory.index_select(0, index).narrow(1, 0, columns).contiguous();
  keys = keys.index_select(0, index).narrow(1, 0, columns).contiguous();
  std::vector<int64_t> kept;
  for (int64_t r : rows) kept.push_back(lengths[static_cast<size_t>(r)]);
  lengths = std::move(kept);
  hidden = hidden.index_select(0, index);
  tokens = tokens.index_select(0, index);
}

void SeqBatch::Append(const SeqBatch& other) {
  if (rows() == 0) {
    *this = other;
    return;
  }
  const int64_t columns = std::max(memory.size(1), other.memory.size(1));
  // Zero columns on the right of dimension 1 ([rows, columns, n]) up to `columns`.
  auto widen = [columns](const torch::Tensor& x) {
    const int64_t missing = columns - x.size(1);
    return missing == 0 ? x : torch::constant_pad_nd(x, {0, 0, 0, missing}, 0);
  };
  memory = torch::cat({widen(memory), widen(other.memory)}, 0);
  keys = torch::cat({widen(keys), widen(other.keys)}, 0);
  lengths.insert(lengths.end(), other.lengths.begin(), other.lengths.end());
  hidden = torch::cat({hidden, other.hidden}, 0);
  tokens = torch::cat({tokens, other.tokens}, 0);
}

absl::StatusOr<std::unique_ptr<SeqKernels>> SeqKernels::FromModule(const torch::jit::Module& seq) {
  std::unique_ptr<SeqKernels> k(new SeqKernels());
  VOCR_ASSIGN_OR_RETURN(k->input_fwd_, Linear(seq, "encoder.input_fwd"));
  VOCR_ASSIGN_OR_RETURN(k->input_bwd_, Linear(seq, "encoder.input_bwd"));
  // Both directions' recurrent products in one block-diagonal weight.
  VOCR_ASSIGN_OR_RETURN(k->recurrent_, Linear(seq, "encoder.recurrent", /*blocks=*/2));
  VOCR_ASSIGN_OR_RETURN(k->init_hidden_, Linear(seq, "init_hidden"));
  VOCR_ASSIGN_OR_RETURN(k->attn_memory_, Linear(seq, "attn_memory"));
  VOCR_ASSIGN_OR_RETURN(k->attn_hidden_, Linear(seq, "attn_hidden"));
  VOCR_ASSIGN_OR_RETURN(k->attn_score_, Linear(seq, "attn_score"));
  VOCR_ASSIGN_OR_RETURN(k->cell_input_, Linear(seq, "cell.input"));
  VOCR_ASSIGN_OR_RETURN(k->cell_recurrent_, Linear(seq, "cell.recurrent"));
  VOCR_ASSIGN_OR_RETURN(k->out_, Linear(seq, "out"));
  VOCR_ASSIGN_OR_RETURN(torch::jit::Module embed, Child(seq, "embed"));
  if (!embed.hasattr("weight") || !embed.attr("weight").isTensor())
    return absl::FailedPreconditionError("seq.pt: embed has no weight");
  k->embedding_ = embed.attr("weight").toTensor().detach().to(torch::kFloat).contiguous();
  if (k->embedding_.dim() != 2) return absl::FailedPreconditionError("seq.pt: embed.weight is not a matrix");
  if (seq.hasattr("length_head")) {
    VOCR_ASSIGN_OR_RETURN(k->length_head_, Linear(seq, "length_head"));
  }
  k->enc_hidden_ = k->recurrent_.in() / 2;
  k->dec_hidden_ = k->cell_recurrent_.in();

  // The shapes must chain as SeqModel wires them.
  const int64_t e = k->enc_hidden_, d = k->dec_hidden_, a = k->attn_memory_.out(), m = 2 * e;
  const int64_t em = k->embedding_.size(1);
  const bool fits = k->input_bwd_.in() == k->input_fwd_.in() && k->input_fwd_.out() == 3 * e &&
                    k->input_bwd_.out() == 3 * e && k->recurrent_.out() == 6 * e &&
                    k->init_hidden_.in() == m && k->init_hidden_.out() == d && k->attn_memory_.in() == m &&
                    k->attn_hidden_.in() == d && k->attn_hidden_.out() == a && k->attn_score_.in() == a &&
                    k->attn_score_.out() == 1 && k->cell_input_.in() == em + m &&
                    k->cell_input_.out() == 3 * d && k->cell_recurrent_.out() == 3 * d &&
                    k->out_.in() == d + m + em && k->embedding_.size(0) == k->out_.out();
  const bool head_fits =
      !k->length_head_ || (k->length_head_->in() == m && k->length_head_->out() == k->out_.out());
  if (!fits || !head_fits)
    return absl::FailedPreconditionError("seq.pt: the int8 layers' shapes do not chain as SeqModel's");
  return k;
}

SeqBatch SeqKernels::Encode(const torch::Tensor& features, const torch::Tensor& lengths,
                            int64_t start_token) const {
  const int64_t b = features.size(0), t = features.size(1), f = features.size(2), h = enc_hidden_,
                m = memory_size();
  SeqBatch out;
  const torch::Tensor lengths64 = lengths.to(torch::kInt64).contiguous();
  out.lengths.assign(lengths64.data_ptr<int64_t>(), lengths64.data_ptr<int64_t>() + b);
  // Only a line's own columns are computed: a batch of mixed widths costs
  // what its lines' columns cost, not rows x the widest line. The lines are
  // taken longest first, so at column s the lines still running are the
  // first `running` of that order and one product serves exactly them (each
  // row of an int8 product is exact whatever rows run beside it).
  std::vector<int64_t> order(static_cast<size_t>(b));
  for (int64_t r = 0; r < b; ++r) order[static_cast<size_t>(r)] = r;
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    return out.lengths[static_cast<size_t>(x)] > out.lengths[static_cast<size_t>(y)];
  });
  // The input projection is per column: the lines' own columns, packed in
  // that order, go through it at once. first[i]: where line order[i] starts.
  std::vector<int64_t> first(static_cast<size_t>(b) + 1, 0);
  for (int64_t i = 0; i < b; ++i) {
    first[static_cast<size_t>(i) + 1] =
        first[static_cast<size_t>(i)] + out.lengths[static_cast<size_t>(order[i])];
  }
  const torch::Tensor own_features = torch::empty({first.back(), f});
  const torch::Tensor source = features.contiguous();
  for (int64_t i = 0; i < b; ++i) {
    const int64_t n = out.lengths[static_cast<size_t>(order[i])];
    const float* from = source.data_ptr<float>() + order[i] * t * f;
    std::copy(from, from + n * f, own_features.data_ptr<float>() + first[static_cast<size_t>(i)] * f);
  }
  const torch::Tensor proj_fwd = input_fwd_.Forward(own_features);  // [columns, 3 x H]
  const torch::Tensor proj_bwd = input_bwd_.Forward(own_features);
  // The backward GRU reads each line reversed: its step s is column n-1-s.
  std::vector<float> state(static_cast<size_t>(b * 2 * h), 0.0f);  // [running, 2 directions x H]
  // The memory is each line's [forward | backward] states on its own columns,
  // backward ones put back in reading order; packed as the features are.
  const torch::Tensor own_memory = torch::empty({first.back(), m});
  const float* pf = proj_fwd.data_ptr<float>();
  const float* pb = proj_bwd.data_ptr<float>();
  float* mem = own_memory.data_ptr<float>();
  std::vector<float> r_h(static_cast<size_t>(b * 6 * h));
  int64_t running = b;
  for (int64_t s = 0; s < t; ++s) {
    while (running > 0 && out.lengths[static_cast<size_t>(order[running - 1])] <= s) --running;
    if (running == 0) break;
    recurrent_.Forward(state.data(), running, r_h.data());  // [running, 2 x 3 x H]
    for (int64_t i = 0; i < running; ++i) {
      const int64_t row = order[i], n = out.lengths[static_cast<size_t>(row)],
                    at = first[static_cast<size_t>(i)];
      const float* r = r_h.data() + i * 6 * h;
      float* fwd = state.data() + i * 2 * h;
      float* bwd = fwd + h;
      seq_math::GruUpdate(pf + (at + s) * 3 * h, r, fwd, fwd, h);
      seq_math::GruUpdate(pb + (at + n - 1 - s) * 3 * h, r + 3 * h, bwd, bwd, h);
      std::copy(fwd, fwd + h, mem + (at + s) * m);
      std::copy(bwd, bwd + h, mem + (at + n - 1 - s) * m + h);
    }
  }
  const torch::Tensor own_keys = attn_memory_.Forward(own_memory);
  // Each line's columns go to its row of [lines, columns, n]; zero on the padding.
  const int64_t a = attention();
  out.memory = torch::zeros({b, t, m});
  out.keys = torch::zeros({b, t, a});
  torch::Tensor mean = torch::empty({b, m});
  for (int64_t i = 0; i < b; ++i) {
    const int64_t row = order[i], n = out.lengths[static_cast<size_t>(row)],
                  at = first[static_cast<size_t>(i)];
    std::copy(mem + at * m, mem + (at + n) * m, out.memory.data_ptr<float>() + row * t * m);
    const float* keys = own_keys.data_ptr<float>() + at * a;
    std::copy(keys, keys + n * a, out.keys.data_ptr<float>() + row * t * a);
    float* to = mean.data_ptr<float>() + row * m;
    seq_math::SumColumns(nullptr, mem + at * m, n, m, to);
    for (int64_t j = 0; j < m; ++j) to[j] = to[j] / static_cast<float>(n);
  }
  out.hidden = init_hidden_.Forward(mean);
  seq_math::TanhInPlace(out.hidden.data_ptr<float>(), out.hidden.numel());
  out.tokens = torch::full({b}, start_token, torch::kInt64);
  return out;
}

std::vector<int64_t> SeqKernels::GreedyLengths(const SeqBatch& batch, int64_t blank) const {
  const int64_t t = batch.memory.size(1), m = memory_size(), v = vocab_size();
  std::vector<int64_t> out;
  std::vector<float> logits;
  for (int64_t r = 0; r < batch.rows(); ++r) {
    const int64_t n = batch.lengths[static_cast<size_t>(r)];
    logits.resize(static_cast<size_t>(n * v));
    length_head_->Forward(batch.memory.data_ptr<float>() + r * t * m, n, logits.data());
    int64_t count = 0, previous = blank;
    for (int64_t s = 0; s < n; ++s) {
      const float* row = logits.data() + s * v;
      const int64_t best = std::max_element(row, row + v) - row;  // the first maximum, as torch.argmax
      if (best != blank && best != previous) ++count;
      previous = best;
    }
    out.push_back(count);
  }
  return out;
}

std::pair<torch::Tensor, torch::Tensor> SeqKernels::Step(SeqBatch* s) const {
  const int64_t rows = s->rows(), t = s->memory.size(1), a = attention(), m = memory_size(), d = dec_hidden_;
  const int64_t e = embedding_.size(1), v = vocab_size();
  // The step's buffers, this thread's from step to step.
  thread_local std::vector<float> query, weights, cell_in, out_in, gi, gh, logits;
  query.resize(static_cast<size_t>(rows * a));
  weights.resize(static_cast<size_t>(t));
  cell_in.resize(static_cast<size_t>(rows * (e + m)));     // [embedding | context]
  out_in.resize(static_cast<size_t>(rows * (d + m + e)));  // [hidden | context | embedding]
  gi.resize(static_cast<size_t>(rows * 3 * d));
  gh.resize(static_cast<size_t>(rows * 3 * d));
  logits.resize(static_cast<size_t>(rows * v));
  float* hidden = s->hidden.data_ptr<float>();  // updated in place: each row's own
  int64_t* tokens = s->tokens.data_ptr<int64_t>();
  attn_hidden_.Forward(hidden, rows, query.data());
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = s->lengths[static_cast<size_t>(r)];
    seq_math::AttentionScores(s->keys.data_ptr<float>() + r * t * a, query.data() + r * a, n, a,
                              attn_score_.weight().data(), attn_score_.bound(),
                              attn_score_.input_multiplier(), attn_score_.output_scale(),
                              attn_score_.bias()[0], weights.data());
    seq_math::Softmax(weights.data(), n);
    float* cell_row = cell_in.data() + r * (e + m);
    float* out_row = out_in.data() + r * (d + m + e);
    seq_math::SumColumns(weights.data(), s->memory.data_ptr<float>() + r * t * m, n, m, cell_row + e);
    const float* emb = embedding_.data_ptr<float>() + tokens[r] * e;
    std::copy(emb, emb + e, cell_row);
    std::copy(cell_row + e, cell_row + e + m, out_row + d);
    std::copy(emb, emb + e, out_row + d + m);
  }
  cell_input_.Forward(cell_in.data(), rows, gi.data());
  cell_recurrent_.Forward(hidden, rows, gh.data());
  for (int64_t r = 0; r < rows; ++r) {
    float* now = hidden + r * d;
    seq_math::GruUpdate(gi.data() + r * 3 * d, gh.data() + r * 3 * d, now, now, d);
    std::copy(now, now + d, out_in.data() + r * (d + m + e));
  }
  out_.Forward(out_in.data(), rows, logits.data());
  torch::Tensor log_probs = torch::empty({rows});
  for (int64_t r = 0; r < rows; ++r) {
    seq_math::BestToken(logits.data() + r * v, v, tokens + r, log_probs.data_ptr<float>() + r);
  }
  return {s->tokens, log_probs};
}

}  // namespace vocr
