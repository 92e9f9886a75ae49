#include "server/core/seq_kernels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/core/status_macros.h"

namespace vocr {
namespace {

// nn.GRU's update from input projections x and recurrent projections r, both
// [..., 3, h] as (reset, update, candidate), for state [..., h]; the ops of
// fixed_range.LockstepBiGRU / Int8GRUCell in the same order.
torch::Tensor GruUpdate(const torch::Tensor& x, const torch::Tensor& r, const torch::Tensor& state,
                        int64_t dim) {
  const torch::Tensor reset = torch::sigmoid(x.select(dim, 0) + r.select(dim, 0));
  const torch::Tensor update = torch::sigmoid(x.select(dim, 1) + r.select(dim, 1));
  const torch::Tensor candidate = torch::tanh(x.select(dim, 2) + reset * r.select(dim, 2));
  return (1.0 - update) * candidate + update * state;
}

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
  memory = memory.index_select(0, index).narrow(1, 0, columns);
  keys = keys.index_select(0, index).narrow(1, 0, columns);
  mask = mask.index_select(0, index).narrow(1, 0, columns);
  hidden = hidden.index_select(0, index);
  tokens = tokens.index_select(0, index);
}

void SeqBatch::Append(const SeqBatch& other) {
  if (rows() == 0) {
    *this = other;
    return;
  }
  const int64_t columns = std::max(memory.size(1), other.memory.size(1));
  // Zero columns on the right of dimension 1 up to `columns`.
  auto widen = [columns](const torch::Tensor& x) {
    const int64_t missing = columns - x.size(1);
    if (missing == 0) return x;
    // Pairs of (left, right) from the last dimension backwards, as pad wants.
    std::vector<int64_t> pad(2 * static_cast<size_t>(x.dim() - 2), 0);
    pad.push_back(0);
    pad.push_back(missing);
    return torch::constant_pad_nd(x, pad, 0);
  };
  memory = torch::cat({widen(memory), widen(other.memory)}, 0);
  keys = torch::cat({widen(keys), widen(other.keys)}, 0);
  mask = torch::cat({widen(mask), widen(other.mask)}, 0);
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
  const int64_t b = features.size(0), t = features.size(1), h = enc_hidden_;
  const torch::Tensor steps = torch::arange(t, torch::kInt64).unsqueeze(0);
  SeqBatch out;
  out.mask = steps < lengths.unsqueeze(1);
  // The backward GRU reads each line reversed within its own length; the
  // input projection is per column, so project first and reverse after.
  const torch::Tensor last = (lengths - 1).unsqueeze(1);
  const torch::Tensor reversed = torch::where(steps <= last, last - steps, steps);
  const torch::Tensor proj_bwd = input_bwd_.Forward(features);
  // [B, T, 2 directions, 3 gates, H]
  const torch::Tensor gates_in =
      torch::stack({input_fwd_.Forward(features),
                    proj_bwd.gather(1, reversed.unsqueeze(2).expand({-1, -1, proj_bwd.size(2)}))},
                   2)
          .view({b, t, 2, 3, h});
  torch::Tensor state = torch::zeros({b, 2, h});
  std::vector<torch::Tensor> outputs;
  outputs.reserve(static_cast<size_t>(t));
  for (int64_t s = 0; s < t; ++s) {
    const torch::Tensor r_h = recurrent_.Forward(state.reshape({b, 2 * h})).view({b, 2, 3, h});
    state = GruUpdate(gates_in.select(1, s), r_h, state, 2);
    outputs.push_back(state);
  }
  const torch::Tensor states = torch::stack(outputs, 1);  // [B, T, 2, H]
  const torch::Tensor fwd = states.select(2, 0).contiguous();
  const torch::Tensor bwd =
      states.select(2, 1).contiguous().gather(1, reversed.unsqueeze(2).expand({-1, -1, h}));
  out.memory = torch::cat({fwd, bwd}, 2) * out.mask.unsqueeze(2).to(torch::kFloat);
  out.keys = attn_memory_.Forward(out.memory);
  const torch::Tensor mean = out.memory.sum(1) / lengths.unsqueeze(1).to(torch::kFloat);
  out.hidden = torch::tanh(init_hidden_.Forward(mean));
  out.tokens = torch::full({b}, start_token, torch::kInt64);
  return out;
}

std::pair<torch::Tensor, torch::Tensor> SeqKernels::Step(SeqBatch* s) const {
  const torch::Tensor emb = embedding_.index_select(0, s->tokens);
  const torch::Tensor energy = torch::tanh(s->keys + attn_hidden_.Forward(s->hidden).unsqueeze(1));
  const torch::Tensor scores = attn_score_.Forward(energy).squeeze(2);
  const torch::Tensor weights = torch::softmax(scores.masked_fill(s->mask.logical_not(), -1e4), 1);
  const torch::Tensor context = torch::bmm(weights.unsqueeze(1), s->memory).squeeze(1);
  const int64_t d = dec_hidden_;
  const torch::Tensor gi = cell_input_.Forward(torch::cat({emb, context}, 1)).view({-1, 3, d});
  const torch::Tensor gh = cell_recurrent_.Forward(s->hidden).view({-1, 3, d});
  s->hidden = GruUpdate(gi, gh, s->hidden, 1);
  const torch::Tensor logits = out_.Forward(torch::cat({s->hidden, context, emb}, 1));
  auto [best_lp, best] = torch::log_softmax(logits, 1).max(1);
  s->tokens = best;
  return {best, best_lp};
}

}  // namespace vocr
