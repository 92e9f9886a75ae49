// A minimal HTTP/1.1 endpoint for Prometheus scrapes: GET /metrics answers the
// text exposition format (prometheus-cpp's TextSerializer), anything else 404.
//
// Why not prometheus-cpp's Exposer: its civetweb server fails to start
// ("null context when constructing CivetServer") in any process that loads
// Debian's libtorch_cpu.so (reproduced with a 5-line program and LD_PRELOAD),
// and a scrape endpoint needs nothing civetweb offers beyond this.
#ifndef VOCR_SERVER_HTTP_METRICS_HTTP_H_
#define VOCR_SERVER_HTTP_METRICS_HTTP_H_

#include <prometheus/collectable.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace vocr {

class MetricsHttpServer {
 public:
  // Listens on host:port (port 0 picks a free one) and serves from a thread.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& host, int port, std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  ~MetricsHttpServer();

  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;
  void Serve();
  void Answer(int client) const;

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::thread thread_;
};

}  // namespace vocr

#endif  // VOCR_SERVER_HTTP_METRICS_HTTP_H_
