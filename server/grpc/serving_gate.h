// Lets the gRPC server (and its health service) start before the model is
// loaded: until Open(), calls get UNAVAILABLE "model is loading".
#ifndef VOCR_SERVER_GRPC_SERVING_GATE_H_
#define VOCR_SERVER_GRPC_SERVING_GATE_H_

#include <atomic>

#include "server/core/ocr_core.h"

namespace vocr {

class ServingGate {
 public:
  void Open(OcrCore* core) { core_.store(core, std::memory_order_release); }
  // The core, or null while the model is still loading.
  OcrCore* core() const { return core_.load(std::memory_order_acquire); }

 private:
  std::atomic<OcrCore*> core_{nullptr};
};

}  // namespace vocr

#endif  // VOCR_SERVER_GRPC_SERVING_GATE_H_
