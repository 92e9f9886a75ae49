// The int8 sequence model (GRU encoder + attention GRU decoder) as direct
// kernel calls: the weights of seq.pt's fixed_range modules are read once at
// load into oneDNN int8 matmuls (Int8Linear); between those products the
// encoder's recurrence and each decoder step are plain loops (seq_math.h):
// GRU gates, additive attention with its score product, softmax and context
// fused per line. No TorchScript interpreter runs per encoder column or per
// decoder step, and no ATen call runs per column.
//
// Same equations, operation for operation, as FixedRangeSeq.encode /
// decode_step in model/vocr_train/fixed_range.py: the int8 products are
// exact, and the float parts follow bitexact_math.py, so a line reads bit for
// bit as the reference predictor reads it, alone or in any batch.
#ifndef VOCR_SERVER_CORE_SEQ_KERNELS_H_
#define VOCR_SERVER_CORE_SEQ_KERNELS_H_

#include <torch/script.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/int8_linear.h"

namespace vocr {

// The encoder's output and the decoder state of the lines still decoding;
// row r of every tensor is the same line.
struct SeqBatch {
  torch::Tensor memory;          // [rows, columns, memory], contiguous
  torch::Tensor keys;            // [rows, columns, attention], contiguous
  std::vector<int64_t> lengths;  // the line's own columns, from the left
  torch::Tensor hidden;          // [rows, hidden]
  torch::Tensor tokens;          // [rows] int64: the previous token

  // Keeps only these rows, in this order (finished or abandoned lines leave),
  // and the first `columns` columns (the longest kept line's).
  void Keep(const std::vector<int64_t>& rows, int64_t columns);

  // Adds `other`'s rows after these (lines joining between steps). The
  // narrower batch is padded with columns that no reading sees: each line
  // attends over its own columns only.
  void Append(const SeqBatch& other);

  int64_t rows() const { return hidden.defined() ? hidden.size(0) : 0; }
};

class SeqKernels {
 public:
  static absl::StatusOr<std::unique_ptr<SeqKernels>> FromModule(const torch::jit::Module& seq);

  int64_t features() const { return input_fwd_.in(); }
  int64_t memory_size() const { return 2 * enc_hidden_; }
  int64_t attention() const { return attn_memory_.out(); }
  int64_t hidden() const { return dec_hidden_; }
  int64_t vocab_size() const { return out_.out(); }
  // How this CPU computes the products' exact integers (every layer alike).
  Int8Linear::Arithmetic arithmetic() const { return out_.arithmetic(); }

  // features [lines, columns, features] float; lengths [lines] int64 in
  // 1..columns. Every line starts from `start_token`.
  SeqBatch Encode(const torch::Tensor& features, const torch::Tensor& lengths, int64_t start_token) const;

  // Whether seq.pt has a length head (GreedyLengths may be called).
  bool has_length_head() const { return length_head_.has_value(); }

  // The length head's CTC greedy reading length of each row over its own
  // columns: per column the first best class, repeats merged, `blank`
  // dropped (SeqModel.greedy_lengths).
  std::vector<int64_t> GreedyLengths(const SeqBatch& batch, int64_t blank) const;

  // One greedy step for every row: updates hidden and tokens, and returns the
  // best next token [rows] (int64) and its log-probability [rows] (float).
  std::pair<torch::Tensor, torch::Tensor> Step(SeqBatch* batch) const;

 private:
  SeqKernels() = default;

  int64_t enc_hidden_ = 0, dec_hidden_ = 0;
  Int8Linear input_fwd_, input_bwd_, recurrent_;  // encoder
  Int8Linear init_hidden_, attn_memory_, attn_hidden_, attn_score_, cell_input_, cell_recurrent_, out_;
  torch::Tensor embedding_;                // [vocab, embed], fp32 as quantize_dynamic leaves it
  std::optional<Int8Linear> length_head_;  // bundles before it have none
};

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_SEQ_KERNELS_H_
