// Starts the real vocr_server binary as a child process on loopback, for the
// integration tests: gRPC on a port the server picks (--port 0, read back
// from --port_file), Prometheus metrics on a port found free beforehand. Start
// waits until grpc.health.v1 answers SERVING; the destructor sends SIGTERM
// and SIGKILL if that did not end it. Every wait is bounded in time.
//
// The child gets SIGKILL when the thread that started it dies
// (PR_SET_PDEATHSIG), so a test killed by ctest's timeout leaves no server
// behind: start servers from the test's main thread.
#ifndef VOCR_TESTS_CPP_INTEGRATION_SERVER_PROCESS_H_
#define VOCR_TESTS_CPP_INTEGRATION_SERVER_PROCESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "ocr/v1/ocr.grpc.pb.h"

namespace vocr::integration {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// The server binary and the model directory the tests serve: compiled in by
// CMake, overridable with VOCR_IT_SERVER_BINARY and VOCR_IT_MODEL_PATH.
std::string ServerBinary();
std::string ModelPath();

// A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, closed).
int PickFreePort();

struct ServerOptions {
  // Extra command-line flags ("--max_batch_size=8"); they come after the
  // helper's defaults, and the last occurrence of a flag wins.
  std::vector<std::string> flags;
  // Extra environment ("VOCR_MAX_BATCH_SIZE=4"), added to (or replacing in)
  // the test's environment.
  std::vector<std::string> env;
  // Wait for health SERVING in Start (otherwise only for the port file).
  bool wait_until_serving = true;
  double start_timeout_s = 60;
};

class ServerProcess {
 public:
  // Starts the server; null with *error (the server's log included) when it
  // does not come up in time.
  static std::unique_ptr<ServerProcess> Start(const ServerOptions& options, std::string* error);
  ~ServerProcess();

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  pid_t pid() const { return pid_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

  // The shared channel to the server, and a fresh one with its own connection.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  std::shared_ptr<grpc::Channel> NewChannel() const;
  std::unique_ptr<ocr::v1::OcrService::Stub> Stub() const { return ocr::v1::OcrService::NewStub(channel_); }
  // Drops this object's reference to the shared channel; the connection
  // closes once no stub uses it any more (CheckHealth opens a new channel).
  void CloseChannel() { channel_.reset(); }

  // One grpc.health.v1 Check of `service` ("" = the whole server).
  grpc::Status CheckHealth(const std::string& service, ServingStatus* status, double timeout_s = 1.0) const;
  // Polls Check("") until SERVING; false with *error after timeout_s or when the process exits.
  bool WaitUntilServing(double timeout_s, std::string* error);

  bool Signal(int signal_number) const;
  // True once the process has exited (it is reaped then); *wait_status is waitpid's status.
  bool WaitForExit(double timeout_s, int* wait_status = nullptr);
  bool Running();
  std::string Log() const;

 private:
  ServerProcess() = default;
  bool Reap(bool block);

  pid_t pid_ = -1;
  bool exited_ = false;
  int wait_status_ = 0;
  int port_ = 0;
  int metrics_port_ = 0;
  std::string dir_;
  std::string log_path_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A channel to `target` on loopback: local subchannel pool (its own
// connection) and message limits large enough for the oversize tests.
std::shared_ptr<grpc::Channel> LoopbackChannel(const std::string& target);

}  // namespace vocr::integration

#endif  // VOCR_TESTS_CPP_INTEGRATION_SERVER_PROCESS_H_
