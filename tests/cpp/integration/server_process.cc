#include "server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace vocr::integration {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

Clock::time_point After(double seconds) {
  return Clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
}

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "vocr-it-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

}  // namespace

std::string ServerBinary() { return EnvOr("VOCR_IT_SERVER_BINARY", VOCR_IT_SERVER_BINARY); }
std::string ModelPath() { return EnvOr("VOCR_IT_MODEL_PATH", VOCR_IT_MODEL_PATH); }

int PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::shared_ptr<grpc::Channel> LoopbackChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const ServerOptions& options, std::string* error) {
  const std::string binary = ServerBinary();
  if (access(binary.c_str(), X_OK) != 0) {
    *error = "server binary not executable: " + binary;
    return nullptr;
  }
  // A metrics port picked free can be taken by someone else before the
  // server binds it; then the server exits at once and we try another.
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<ServerProcess> server(new ServerProcess());
    server->dir_ = MakeTempDir();
    if (server->dir_.empty()) {
      *error = std::string("mkdtemp: ") + std::strerror(errno);
      return nullptr;
    }
    server->log_path_ = server->dir_ + "/server.log";
    const std::string port_file = server->dir_ + "/port";
    server->metrics_port_ = PickFreePort();

    std::vector<std::string> args = {binary,
                                     "--host=127.0.0.1",
                                     "--port=0",
                                     "--port_file=" + port_file,
                                     "--metrics_port=" + std::to_string(server->metrics_port_),
                                     "--model_path=" + ModelPath(),
                                     "--drain_grace_s=5"};
    args.insert(args.end(), options.flags.begin(), options.flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env = options.env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      const std::string key = entry.substr(0, entry.find('=') + 1);
      bool replaced = false;
      for (const std::string& extra : options.env) replaced |= extra.rfind(key, 0) == 0;
      if (!replaced) env.push_back(entry);
    }
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    const int log_fd = open(server->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
      *error = "cannot open " + server->log_path_;
      return nullptr;
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      // Child: async-signal-safe calls only until exec.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(null_fd, 0);
      dup2(log_fd, 1);
      dup2(log_fd, 2);
      struct sigaction default_action {};
      default_action.sa_handler = SIG_DFL;
      for (int s : {SIGTERM, SIGINT, SIGPIPE}) sigaction(s, &default_action, nullptr);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    close(log_fd);
    close(null_fd);
    if (pid < 0) {
      *error = std::string("fork: ") + std::strerror(errno);
      return nullptr;
    }
    server->pid_ = pid;

    // The port file appears once gRPC listens (before the model loads).
    const auto deadline = After(options.start_timeout_s);
    while (!fs::exists(port_file) && Clock::now() < deadline && server->Running()) Sleep(20);
    if (!fs::exists(port_file)) {
      const bool exited = !server->Running();
      last_error = std::string(exited ? "vocr_server exited before listening" : "vocr_server did not listen in time") +
                   "; its log:\n" + server->Log();
      if (exited && server->Log().find("metrics: cannot listen") != std::string::npos) continue;  // port race
      *error = last_error;
      return nullptr;
    }
    server->port_ = std::atoi(ReadFile(port_file).c_str());
    if (server->port_ <= 0) {
      *error = "bad port file " + port_file;
      return nullptr;
    }
    server->channel_ = LoopbackChannel(server->target());
    if (options.wait_until_serving) {
      const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
      if (!server->WaitUntilServing(std::max(1.0, left), error)) return nullptr;
    }
    return server;
  }
  *error = last_error;
  return nullptr;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !exited_) {
    // The server's drain waits (up to its grace) for connected clients to
    // hang up, so close our connection before the signal.
    channel_.reset();
    Signal(SIGTERM);
    if (!WaitForExit(15)) {
      std::cerr << "[server_process] pid " << pid_ << " ignored SIGTERM for 15 s; sending SIGKILL\n";
      Signal(SIGKILL);
      WaitForExit(10);
    }
  }
  if (::testing::Test::HasFailure() && !log_path_.empty()) {
    std::string log = Log();
    if (log.size() > 6000) log = "...\n" + log.substr(log.size() - 6000);
    std::cerr << "[server_process] log of vocr_server on port " << port_ << ":\n" << log << "\n";
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

std::shared_ptr<grpc::Channel> ServerProcess::NewChannel() const { return LoopbackChannel(target()); }

grpc::Status ServerProcess::CheckHealth(const std::string& service, ServingStatus* status, double timeout_s) const {
  auto stub = grpc::health::v1::Health::NewStub(channel_ ? channel_ : NewChannel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(static_cast<int64_t>(timeout_s * 1e6)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = stub->Check(&context, request, &response);
  if (s.ok() && status != nullptr) *status = response.status();
  return s;
}

bool ServerProcess::WaitUntilServing(double timeout_s, std::string* error) {
  const auto deadline = After(timeout_s);
  std::string last = "no answer";
  while (Clock::now() < deadline) {
    if (!Running()) {
      *error = "vocr_server exited while starting (wait status " + std::to_string(wait_status_) + "); its log:\n" +
               Log();
      return false;
    }
    ServingStatus status = grpc::health::v1::HealthCheckResponse::UNKNOWN;
    const grpc::Status s = CheckHealth("", &status, 1.0);
    if (s.ok() && status == grpc::health::v1::HealthCheckResponse::SERVING) return true;
    last = s.ok() ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(status)
                  : "code " + std::to_string(s.error_code()) + " " + s.error_message();
    Sleep(50);
  }
  *error = "health not SERVING after " + std::to_string(timeout_s) + " s (last: " + last + "); log:\n" + Log();
  return false;
}

bool ServerProcess::Signal(int signal_number) const {
  return pid_ > 0 && !exited_ && kill(pid_, signal_number) == 0;
}

bool ServerProcess::Reap(bool block) {
  if (exited_) return true;
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    exited_ = true;
    wait_status_ = status;
  }
  return exited_;
}

bool ServerProcess::Running() { return pid_ > 0 && !Reap(false); }

bool ServerProcess::WaitForExit(double timeout_s, int* wait_status) {
  const auto deadline = After(timeout_s);
  while (!Reap(false) && Clock::now() < deadline) Sleep(10);
  if (exited_ && wait_status != nullptr) *wait_status = wait_status_;
  return exited_;
}

std::string ServerProcess::Log() const { return ReadFile(log_path_); }

}  // namespace vocr::integration
