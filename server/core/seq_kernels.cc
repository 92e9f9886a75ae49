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

absl::StatusOr<Int8Linear> Linear(const torch::jit::Module& seq, const std::string& path) {
  VOCR_ASSIGN_OR_RETURN(torch::jit::Module m, Child(seq, path));
  return Int8Linear::FromModule(m, "seq.pt: " + path);
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
  VOCR_ASSIGN_OR_RETURN(k->recurrent_, Linear(seq, "encoder.recurrent"));
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
  if (!fits)
    return absl::FailedPreconditionError("seq.pt: the int8 layers' shapes do not chain as SeqModel's");
  return k;
}

SeqBatch SeqKernels::Encode(const torch::Tensor& features, const torch::Tensor& lengths,
                            int64_t start_token) const {
  const int64_t b = features.size(0), t = features.size(1), h = enc_hidden_, m = memory_size();
  SeqBatch out;
  const torch::Tensor lengths64 = lengths.to(torch::kInt64).contiguous();
  out.lengths.assign(lengths64.data_ptr<int64_t>(), lengths64.data_ptr<int64_t>() + b);
  const torch::Tensor steps = torch::arange(t, torch::kInt64).unsqueeze(0);
  // The backward GRU reads each line reversed within its own length; the
  // input projection is per column, so project first and reverse after.
  const torch::Tensor last = (lengths64 - 1).unsqueeze(1);
  const torch::Tensor reversed = torch::where(steps <= last, last - steps, steps);
  const torch::Tensor proj_bwd = input_bwd_.Forward(features);
  // [B, T, 2 directions, 3 gates, H]
  const torch::Tensor gates_in =
      torch::stack({input_fwd_.Forward(features),
                    proj_bwd.gather(1, reversed.unsqueeze(2).expand({-1, -1, proj_bwd.size(2)}))},
                   2)
          .contiguous();
  torch::Tensor state = torch::zeros({b, 2 * h});     // [B, 2 directions x H]
  torch::Tensor states = torch::empty({b, t, 2, h});  // every column's state
  const float* x = gates_in.data_ptr<float>();
  float* st = state.data_ptr<float>();
  float* all = states.data_ptr<float>();
  for (int64_t s = 0; s < t; ++s) {
    const torch::Tensor r_h = recurrent_.Forward(state);  // [B, 2 x 3 x H]
    const float* r = r_h.data_ptr<float>();
    for (int64_t row = 0; row < b; ++row) {
      for (int64_t dir = 0; dir < 2; ++dir) {
        const int64_t unit = row * 2 + dir;
        float* now = st + unit * h;
        seq_math::GruUpdate(x + ((row * t + s) * 2 + dir) * 3 * h, r + unit * 3 * h, now, now, h);
        std::copy(now, now + h, all + ((row * t + s) * 2 + dir) * h);
      }
    }
  }
  const torch::Tensor fwd = states.select(2, 0);
  const torch::Tensor bwd = states.select(2, 1).gather(1, reversed.unsqueeze(2).expand({-1, -1, h}));
  const torch::Tensor mask = (steps < lengths64.unsqueeze(1)).unsqueeze(2).to(torch::kFloat);
  out.memory = (torch::cat({fwd, bwd}, 2) * mask).contiguous();
  out.keys = attn_memory_.Forward(out.memory);
  torch::Tensor mean = torch::empty({b, m});
  for (int64_t row = 0; row < b; ++row) {
    float* to = mean.data_ptr<float>() + row * m;
    const int64_t n = out.lengths[static_cast<size_t>(row)];
    seq_math::SumColumns(nullptr, out.memory.data_ptr<float>() + row * t * m, n, m, to);
    for (int64_t j = 0; j < m; ++j) to[j] = to[j] / static_cast<float>(n);
  }
  out.hidden = init_hidden_.Forward(mean);
  seq_math::TanhInPlace(out.hidden.data_ptr<float>(), out.hidden.numel());
  out.tokens = torch::full({b}, start_token, torch::kInt64);
  return out;
}

std::pair<torch::Tensor, torch::Tensor> SeqKernels::Step(SeqBatch* s) const {
  const int64_t rows = s->rows(), t = s->memory.size(1), a = attention(), m = memory_size(), d = dec_hidden_;
  const int64_t e = embedding_.size(1);
  const torch::Tensor query = attn_hidden_.Forward(s->hidden);  // [rows, A]
  torch::Tensor cell_in = torch::empty({rows, e + m});          // [embedding | context]
  torch::Tensor out_in = torch::empty({rows, d + m + e});       // [hidden | context | embedding]
  thread_local std::vector<float> weights;
  weights.resize(static_cast<size_t>(t));
  const int64_t* tokens = s->tokens.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = s->lengths[static_cast<size_t>(r)];
    seq_math::AttentionScores(s->keys.data_ptr<float>() + r * t * a, query.data_ptr<float>() + r * a, n, a,
                              attn_score_.weight().data(), attn_score_.bound(),
                              attn_score_.input_multiplier(), attn_score_.output_scale(),
                              attn_score_.bias()[0], weights.data());
    seq_math::Softmax(weights.data(), n);
    float* cell_row = cell_in.data_ptr<float>() + r * (e + m);
    float* out_row = out_in.data_ptr<float>() + r * (d + m + e);
    seq_math::SumColumns(weights.data(), s->memory.data_ptr<float>() + r * t * m, n, m, cell_row + e);
    const float* emb = embedding_.data_ptr<float>() + tokens[r] * e;
    std::copy(emb, emb + e, cell_row);
    std::copy(cell_row + e, cell_row + e + m, out_row + d);
    std::copy(emb, emb + e, out_row + d + m);
  }
  const torch::Tensor gi = cell_input_.Forward(cell_in);
  const torch::Tensor gh = cell_recurrent_.Forward(s->hidden);
  torch::Tensor hidden = torch::empty({rows, d});
  for (int64_t r = 0; r < rows; ++r) {
    float* now = hidden.data_ptr<float>() + r * d;
    seq_math::GruUpdate(gi.data_ptr<float>() + r * 3 * d, gh.data_ptr<float>() + r * 3 * d,
                        s->hidden.data_ptr<float>() + r * d, now, d);
    std::copy(now, now + d, out_in.data_ptr<float>() + r * (d + m + e));
  }
  s->hidden = hidden;
  const torch::Tensor logits = out_.Forward(out_in);
  auto [best_lp, best] = torch::log_softmax(logits, 1).max(1);
  s->tokens = best;
  return {best, best_lp};
}

}  // namespace vocr
