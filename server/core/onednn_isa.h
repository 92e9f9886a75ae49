// Which of the CPU's instruction sets oneDNN may use, for the whole process.
//
// Debian's oneDNN 2.6 (the libdnnl.so.2 that LibTorch 1.13 links) corrupts
// memory in its AMX int8 convolution on CPUs that have AMX (Sapphire Rapids
// and later): the int8 CNN crashes the process within a few lines, in the
// server and in Python alike. So oneDNN is capped at AVX-512 BF16 (VNNI
// included), the level below AMX, unless the operator chose a level with
// ONEDNN_MAX_CPU_ISA or DNNL_MAX_CPU_ISA. The Python predictor and trainer
// set the same cap, so both sides run the same kernels.
#ifndef VOCR_SERVER_CORE_ONEDNN_ISA_H_
#define VOCR_SERVER_CORE_ONEDNN_ISA_H_

namespace vocr {

// Applies the cap once; must run before the first oneDNN primitive is
// created (Bundle::Load calls it first). Later calls do nothing.
void CapOneDnnIsa();

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_ONEDNN_ISA_H_
