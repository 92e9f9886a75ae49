#include "server/core/onednn_isa.h"

#include <cstdlib>
#include <dnnl.hpp>
#include <mutex>

namespace vocr {

void CapOneDnnIsa() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("ONEDNN_MAX_CPU_ISA") || std::getenv("DNNL_MAX_CPU_ISA")) return;
    // Fails only when oneDNN already dispatched on the ISA; nothing to do then.
    try {
      dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx512_core_bf16);
    } catch (const dnnl::error&) {
    }
  });
}

}  // namespace vocr
