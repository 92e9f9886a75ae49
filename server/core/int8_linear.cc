#include "server/core/int8_linear.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <type_traits>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/core/seq_math.h"
#include "server/core/status_macros.h"

namespace vocr {
namespace {

using dnnl::memory;

const dnnl::engine& Engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// oneDNN's type for each arithmetic's values and sums.
template <typename T>
constexpr memory::data_type DataType() {
  if constexpr (std::is_same_v<T, int8_t>) return memory::data_type::s8;
  if constexpr (std::is_same_v<T, int32_t>) return memory::data_type::s32;
  return memory::data_type::f32;
}

// Streams are cheap but not thread-safe: one per thread.
dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(Engine());
  return stream;
}

// One call's rows: [rows, width], or for a block-diagonal product the same
// memory seen as `blocks` batches of [rows, width / blocks] side by side.
memory::desc RowsDesc(memory::dim rows, memory::dim width, int blocks, memory::data_type type) {
  if (blocks == 1) return memory::desc({rows, width}, type, memory::format_tag::ab);
  const memory::dim part = width / blocks;
  return memory::desc({blocks, rows, part}, type, memory::dims{part, width, 1});
}

// The weight as oneDNN's [in, out] (or [blocks, in / blocks, out / blocks]):
// torch's [out, in] rows are oneDNN's "ba" order, so no copy is needed.
memory::desc WeightsDesc(memory::dim in, memory::dim out, int blocks, memory::data_type type, bool any) {
  if (blocks == 1)
    return memory::desc({in, out}, type, any ? memory::format_tag::any : memory::format_tag::ba);
  return memory::desc({blocks, in / blocks, out / blocks}, type,
                      any ? memory::format_tag::any : memory::format_tag::acb);
}

// Memory objects over a thread's buffers, made once per thread, argument
// and shape: the few rows of a decoder step or an encoder column come back
// thousands of times per line, and a new object per call cost about as much
// as the smallest products (descriptor, allocation, reference counts). Keyed
// by the argument (a product's source and destination can have one shape in
// the float arithmetic) and the shape, so layers of one shape share them;
// only the data pointer changes from call to call.
memory ThreadRows(int arg, memory::dim rows, memory::dim width, int blocks, memory::data_type type,
                  void* data) {
  using Key = std::tuple<int, memory::dim, memory::dim, int, memory::data_type>;
  thread_local std::map<Key, memory> made;
  const Key key{arg, rows, width, blocks, type};
  auto it = made.find(key);
  if (it == made.end())
    it = made.emplace(key, memory(RowsDesc(rows, width, blocks, type), Engine(), data)).first;
  it->second.set_data_handle(data);
  return it->second;
}

// A scratchpad is a plain byte buffer: its size is its shape.
memory ThreadScratchpad(const memory::desc& desc, void* data) {
  thread_local std::map<size_t, memory> made;
  auto it = made.find(desc.get_size());
  if (it == made.end()) it = made.emplace(desc.get_size(), memory(desc, Engine(), data)).first;
  it->second.set_data_handle(data);
  return it->second;
}

absl::StatusOr<torch::Tensor> Buffer(const torch::jit::Module& module, const std::string& name,
                                     const std::string& attr, torch::ScalarType type, int64_t dims) {
  if (!module.hasattr(attr))
    return absl::FailedPreconditionError(absl::StrCat(name, ": no buffer '", attr, "'"));
  const torch::IValue value = module.attr(attr);
  if (!value.isTensor())
    return absl::FailedPreconditionError(absl::StrCat(name, ".", attr, " is not a tensor"));
  torch::Tensor t = value.toTensor().contiguous();
  if (t.scalar_type() != type || t.dim() != dims) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, ".", attr, " is ", c10::toString(t.scalar_type()), " [", absl::StrJoin(t.sizes().vec(), ", "),
        "], expected ", c10::toString(type), " of ", dims, " dimension(s)"));
  }
  return t;
}

}  // namespace

bool Int8Linear::Int8KernelsAreExact() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
    case dnnl::cpu_isa::avx2_vnni:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<Int8Linear> Int8Linear::FromModule(const torch::jit::Module& module, const std::string& name,
                                                  Arithmetic arithmetic, int blocks) {
  VOCR_ASSIGN_OR_RETURN(torch::Tensor weight, Buffer(module, name, "weight", torch::kChar, 2));
  VOCR_ASSIGN_OR_RETURN(torch::Tensor bias, Buffer(module, name, "bias", torch::kFloat, 1));
  VOCR_ASSIGN_OR_RETURN(torch::Tensor multiplier, Buffer(module, name, "input_multiplier", torch::kFloat, 1));
  VOCR_ASSIGN_OR_RETURN(torch::Tensor scale, Buffer(module, name, "output_scale", torch::kFloat, 1));
  if (!module.hasattr("bound") || !module.attr("bound").isDouble())
    return absl::FailedPreconditionError(absl::StrCat(name, ": no float attribute 'bound'"));
  if (bias.size(0) != weight.size(0) || multiplier.numel() != 1 || scale.numel() != 1)
    return absl::FailedPreconditionError(absl::StrCat(name, ": bias or scales do not match the weight"));
  const int64_t out = weight.size(0);
  // The reference clamps with the bound cast to float32, as ATen does with a Scalar.
  return FromParameters(
      std::vector<int8_t>(weight.data_ptr<int8_t>(), weight.data_ptr<int8_t>() + weight.numel()),
      std::vector<float>(bias.data_ptr<float>(), bias.data_ptr<float>() + out),
      static_cast<float>(module.attr("bound").toDouble()), multiplier.item<float>(), scale.item<float>(),
      name, arithmetic, blocks);
}

absl::StatusOr<Int8Linear> Int8Linear::FromParameters(std::vector<int8_t> weight, std::vector<float> bias,
                                                      float bound, float input_multiplier, float output_scale,
                                                      const std::string& name, Arithmetic arithmetic,
                                                      int blocks) {
  const int64_t out = static_cast<int64_t>(bias.size());
  if (out == 0 || weight.size() % bias.size() != 0 || weight.empty())
    return absl::FailedPreconditionError(absl::StrCat(name, ": the weight is not [", out, ", in]"));
  Int8Linear l;
  l.out_ = out;
  l.in_ = static_cast<int64_t>(weight.size()) / out;
  l.blocks_ = blocks;
  // The blocks of a block-diagonal weight, each [out / blocks, in / blocks]
  // row-major, one after the other; every weight outside them must be zero.
  std::vector<int8_t> packed;
  if (blocks > 1) {
    if (l.in_ % blocks != 0 || l.out_ % blocks != 0)
      return absl::FailedPreconditionError(
          absl::StrCat(name, ": [", out, ", ", l.in_, "] has no ", blocks, " equal diagonal blocks"));
    const int64_t bo = l.out_ / blocks, bi = l.in_ / blocks;
    for (int64_t j = 0; j < l.out_; ++j) {
      for (int64_t i = 0; i < l.in_; ++i) {
        const int8_t w = weight[static_cast<size_t>(j * l.in_ + i)];
        if (j / bo == i / bi) {
          packed.push_back(w);
        } else if (w != 0) {
          return absl::FailedPreconditionError(
              absl::StrCat(name, ": the weight is not block-diagonal (", blocks, " blocks)"));
        }
      }
    }
  }
  l.bound_ = bound;
  l.input_multiplier_ = input_multiplier;
  l.output_scale_ = output_scale;
  l.bias_ = std::move(bias);
  l.weight_ = std::move(weight);
  if (arithmetic == Arithmetic::kAuto)
    arithmetic = Int8KernelsAreExact() ? Arithmetic::kInt8 : Arithmetic::kFloat;
  l.arithmetic_ = arithmetic;
  const bool integer = arithmetic == Arithmetic::kInt8;
  if (!integer && 127 * 127 * l.in_ >= (int64_t{1} << 24)) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, ": ", l.in_, " inputs are too many for exact float32 products on this CPU (at most 1040)"));
  }
  const memory::data_type values = integer ? DataType<int8_t>() : DataType<float>();
  const memory::data_type sums = integer ? DataType<int32_t>() : DataType<float>();
  // The float path holds the same int8 values as floats.
  const std::vector<int8_t>& given_weight = blocks > 1 ? packed : l.weight_;
  std::vector<float> float_weight;
  if (!integer) float_weight.assign(given_weight.begin(), given_weight.end());
  void* given_data =
      integer ? const_cast<int8_t*>(given_weight.data()) : static_cast<void*>(float_weight.data());
  try {
    // Rows vary per call (batch size, line length): a runtime dimension, so
    // one primitive serves every call.
    const memory::desc src = RowsDesc(DNNL_RUNTIME_DIM_VAL, l.in_, blocks, values);
    const memory::desc dst = RowsDesc(DNNL_RUNTIME_DIM_VAL, l.out_, blocks, sums);
    const memory::desc any_weights = WeightsDesc(l.in_, l.out_, blocks, values, /*any=*/true);
    const memory::desc plain_weights = WeightsDesc(l.in_, l.out_, blocks, values, /*any=*/false);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::matmul::primitive_desc pd;
    try {
      pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, any_weights, dst), attr, Engine());
    } catch (const dnnl::error&) {
      pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, plain_weights, dst), attr, Engine());
    }
    l.any_rows_ = {dnnl::matmul(pd), pd.scratchpad_desc()};
    memory given(plain_weights, Engine(), given_data);
    l.weights_ = memory(pd.weights_desc(), Engine());
    dnnl::reorder(given, l.weights_).execute(ThreadStream(), given, l.weights_);
    ThreadStream().wait();
    // A runtime row count keeps oneDNN from specializing its kernel: for the
    // few rows of a decoder step or an encoder column, primitives built for
    // that exact count ran 2.5-3.5x faster (measured: [3, 256] x [256, 768]
    // 3.8 against 10.1 us). One per small row count, on the same reordered
    // weights; the integer result is the same whichever kernel runs.
    for (int64_t rows = 1; rows <= kFixedRows; ++rows) {
      const memory::desc fixed_src = RowsDesc(rows, l.in_, blocks, values);
      const memory::desc fixed_dst = RowsDesc(rows, l.out_, blocks, sums);
      try {
        const dnnl::matmul::primitive_desc fixed(dnnl::matmul::desc(fixed_src, pd.weights_desc(), fixed_dst),
                                                 attr, Engine());
        l.fixed_.push_back({dnnl::matmul(fixed), fixed.scratchpad_desc()});
      } catch (const dnnl::error&) {
        break;  // this layout only takes runtime rows: larger counts will not either
      }
    }
  } catch (const dnnl::error& e) {
    return absl::InternalError(absl::StrCat(name, ": oneDNN ", integer ? "int8" : "float32", " matmul [",
                                            l.in_, " -> ", l.out_, "] could not be created: ", e.what()));
  }
  return l;
}

torch::Tensor Int8Linear::Forward(const torch::Tensor& x) const {
  const torch::Tensor in = x.contiguous();
  std::vector<int64_t> shape = in.sizes().vec();
  shape.back() = out_;
  torch::Tensor y = torch::empty(shape, torch::kFloat);
  Forward(in.data_ptr<float>(), in.numel() / in_, y.data_ptr<float>());
  return y;
}

void Int8Linear::Forward(const float* x, int64_t rows, float* y) const {
  if (rows == 0) return;
  if (arithmetic_ == Arithmetic::kInt8) {
    Run<int8_t, int32_t>(x, rows, y);
  } else {
    Run<float, float>(x, rows, y);  // the same integers, held as floats
  }
}

template <typename Value, typename Sum>
void Int8Linear::Run(const float* x, int64_t rows, float* y) const {
  // Buffers each thread reuses from call to call; grown, never shrunk.
  thread_local std::vector<Value> quantized;
  thread_local std::vector<Sum> accumulators;
  thread_local std::vector<uint8_t> scratch;
  quantized.resize(static_cast<size_t>(rows * in_));
  accumulators.resize(static_cast<size_t>(rows * out_));
  seq_math::Quantize(x, rows * in_, bound_, input_multiplier_, quantized.data());
  const Kernel& kernel = rows <= static_cast<int64_t>(fixed_.size()) ? fixed_[rows - 1] : any_rows_;
  scratch.resize(std::max<size_t>(1, kernel.scratchpad.get_size()));
  thread_local std::unordered_map<int, memory> args;
  if (rows <= kFixedRows) {  // the frequent calls: objects made once
    args[DNNL_ARG_SRC] = ThreadRows(DNNL_ARG_SRC, rows, in_, blocks_, DataType<Value>(), quantized.data());
    args[DNNL_ARG_DST] = ThreadRows(DNNL_ARG_DST, rows, out_, blocks_, DataType<Sum>(), accumulators.data());
  } else {
    args[DNNL_ARG_SRC] = memory(RowsDesc(rows, in_, blocks_, DataType<Value>()), Engine(), quantized.data());
    args[DNNL_ARG_DST] =
        memory(RowsDesc(rows, out_, blocks_, DataType<Sum>()), Engine(), accumulators.data());
  }
  args[DNNL_ARG_SCRATCHPAD] = ThreadScratchpad(kernel.scratchpad, scratch.data());
  args[DNNL_ARG_WEIGHTS] = weights_;
  kernel.matmul.execute(ThreadStream(), args);
  ThreadStream().wait();
  seq_math::Dequantize(accumulators.data(), rows, out_, output_scale_, bias_.data(), y);
}

}  // namespace vocr
