// One int8 product of the sequence model, run as oneDNN matmul primitives
// built once at load (one for any row count, one for each small count): the
// arithmetic model/vocr_train/fixed_range.py specifies, bit for bit,
//   q = round_half_even(clamp(x, -bound, bound) * input_multiplier)  (int8)
//   y = float(q . W^T) * output_scale + bias                          (exact integer q . W^T)
// The weights are reordered once into the layout the primitive prefers; each
// call quantizes its rows into per-thread buffers and runs the primitive.
// A block-diagonal weight (the encoder's two directions side by side) runs
// as a batch of its blocks, so the zero blocks are neither read nor
// multiplied; the integers are the same.
//
// The integer product q . W^T must be exact, and oneDNN 2.6's int8 kernels
// are exact only on CPUs with VNNI (AVX-512 VNNI, AVX-VNNI, AMX). Without
// it they multiply with vpmaddubsw, which saturates each pair of products at
// 16 bits: measured on an AVX2 EPYC, 256 products of 127 x 127 came back as
// 32640 instead of 4129024, and the server read lines differently from the
// reference. There the same integers run as float32 products of the int8
// values: every product and partial sum is an integer below 127^2 * in,
// exact in float32 while that stays under 2^24 (in <= 1040), in any order.
#ifndef VOCR_SERVER_CORE_INT8_LINEAR_H_
#define VOCR_SERVER_CORE_INT8_LINEAR_H_

#include <torch/script.h>

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vocr {

class Int8Linear {
 public:
  // Which arithmetic computes the exact integer products (see above).
  enum class Arithmetic {
    kAuto,   // int8 where oneDNN's int8 kernels are exact (VNNI), float32 elsewhere
    kInt8,   // oneDNN s8 x s8 -> s32
    kFloat,  // oneDNN f32 on the int8 values
  };

  Int8Linear() = default;  // empty until assigned from FromModule
  // From a scripted fixed_range.Int8Linear: buffers `weight` (int8 [out, in]),
  // `bias` [out], `input_multiplier` [1], `output_scale` [1], attribute `bound`.
  // `name` is the submodule's path, for error messages. `blocks` > 1: the
  // weight is block-diagonal with that many equal blocks (refused otherwise).
  static absl::StatusOr<Int8Linear> FromModule(const torch::jit::Module& module, const std::string& name,
                                               Arithmetic arithmetic = Arithmetic::kAuto, int blocks = 1);
  // From the parameters themselves: weight row-major [out, in].
  static absl::StatusOr<Int8Linear> FromParameters(std::vector<int8_t> weight, std::vector<float> bias,
                                                   float bound, float input_multiplier, float output_scale,
                                                   const std::string& name,
                                                   Arithmetic arithmetic = Arithmetic::kAuto, int blocks = 1);
  // Whether this CPU's oneDNN int8 kernels compute exact integer products.
  static bool Int8KernelsAreExact();

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  // The parameters as the reference holds them (weight row-major [out, in]),
  // for loops that fuse a small product with what feeds it.
  const std::vector<int8_t>& weight() const { return weight_; }
  const std::vector<float>& bias() const { return bias_; }
  float bound() const { return bound_; }
  float input_multiplier() const { return input_multiplier_; }
  float output_scale() const { return output_scale_; }
  // kInt8 or kFloat: the arithmetic chosen at load.
  Arithmetic arithmetic() const { return arithmetic_; }

  // This product over the last dimension of a float tensor [..., in] -> [..., out].
  torch::Tensor Forward(const torch::Tensor& x) const;
  // The same on `rows` contiguous rows of in() floats, into rows x out().
  void Forward(const float* x, int64_t rows, float* y) const;

 private:
  // Forward in one arithmetic: Value and Sum are int8_t/int32_t or float/float.
  template <typename Value, typename Sum>
  void Run(const float* x, int64_t rows, float* y) const;

  int64_t in_ = 0, out_ = 0;
  int blocks_ = 1;
  Arithmetic arithmetic_ = Arithmetic::kInt8;
  float bound_ = 0, input_multiplier_ = 0, output_scale_ = 0;
  std::vector<float> bias_;
  std::vector<int8_t> weight_;
  // A primitive and the scratchpad it needs. Workers run the same primitive
  // at once, so each call passes its thread's own scratchpad (user mode): a
  // library-managed one belongs to the primitive and would be shared.
  struct Kernel {
    dnnl::matmul matmul;
    dnnl::memory::desc scratchpad;
  };
  // Row counts up to this get a primitive of their own (see FromModule).
  static constexpr int64_t kFixedRows = 16;
  Kernel any_rows_;
  std::vector<Kernel> fixed_;  // fixed_[r - 1]: exactly r rows
  dnnl::memory weights_;       // in the primitive's layout
};

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_INT8_LINEAR_H_
