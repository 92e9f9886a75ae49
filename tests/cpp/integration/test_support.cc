#include "test_support.h"

#include <arpa/inet.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace vocr::integration {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::chrono::system_clock::time_point DeadlineIn(double seconds) {
  return std::chrono::system_clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
}

uint32_t Crc32(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void PutBigEndian(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::string PngChunk(const std::string& type, const std::string& data) {
  std::string chunk;
  PutBigEndian(&chunk, static_cast<uint32_t>(data.size()));
  chunk += type + data;
  PutBigEndian(&chunk, Crc32(type + data));
  return chunk;
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

std::string StringField(int number, const std::string& value) {
  std::string out;
  PutVarint(&out, (static_cast<uint64_t>(number) << 3) | 2);
  PutVarint(&out, value.size());
  return out + value;
}

}  // namespace

// ---- images -----------------------------------------------------------------

cv::Mat TextLine(int width, int height, uint32_t seed) {
  cv::Mat image(height, width, CV_8UC1, cv::Scalar(235));
  std::mt19937 rng(seed);
  static const std::string kAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,";
  const double scale = height / 40.0;
  const int thickness = std::max(1, height / 16);
  int baseline = 0;
  const cv::Size glyph = cv::getTextSize("a", cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
  const int chars = std::max(1, (width - 4) / std::max(1, glyph.width));
  std::string text;
  for (int i = 0; i < chars; ++i) text.push_back(kAlphabet[rng() % kAlphabet.size()]);
  cv::putText(image, text, cv::Point(2, height * 3 / 4), cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(25), thickness,
              cv::LINE_AA);
  cv::Mat noise(height, width, CV_8UC1);
  cv::RNG(seed).fill(noise, cv::RNG::UNIFORM, 0, 16);
  image -= noise;
  return image;
}

std::string EncodePng(const cv::Mat& image) {
  std::vector<uchar> bytes;
  cv::imencode(".png", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

std::string EncodeJpeg(const cv::Mat& image) {
  std::vector<uchar> bytes;
  cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, 90});
  return std::string(bytes.begin(), bytes.end());
}

std::string PngClaiming(uint32_t width, uint32_t height) {
  std::string ihdr;
  PutBigEndian(&ihdr, width);
  PutBigEndian(&ihdr, height);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit gray, deflate, no filter, no interlace
  // zlib.compress(b"\0"): one filter byte of the first row.
  const std::string idat("\x78\x9c\x63\x00\x00\x00\x01\x00\x01", 9);
  return std::string("\x89PNG\r\n\x1a\n", 8) + PngChunk("IHDR", ihdr) + PngChunk("IDAT", idat) + PngChunk("IEND", "");
}

ocr::v1::Image EncodedImage(const std::string& bytes) {
  ocr::v1::Image image;
  image.set_encoded(bytes);
  return image;
}

ocr::v1::Image RawImage(const cv::Mat& image) {
  ocr::v1::Image out;
  const cv::Mat dense = image.isContinuous() ? image : image.clone();
  ocr::v1::RawImage* raw = out.mutable_raw();
  raw->set_pixels(std::string(reinterpret_cast<const char*>(dense.data), dense.total() * dense.elemSize()));
  raw->set_width(dense.cols);
  raw->set_height(dense.rows);
  raw->set_channels(dense.channels());
  return out;
}

ocr::v1::RecognizeRequest Request(const ocr::v1::Image& image) {
  ocr::v1::RecognizeRequest request;
  *request.mutable_image() = image;
  return request;
}

ocr::v1::RecognizeRequest GoodRequest(int width, uint32_t seed) {
  return Request(EncodedImage(EncodePng(TextLine(width, 32, seed))));
}

size_t CodePoints(const std::string& utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

// ---- calls ------------------------------------------------------------------

grpc::Status Recognize(ocr::v1::OcrService::Stub* stub, const ocr::v1::RecognizeRequest& request,
                       ocr::v1::RecognizeResponse* response, double timeout_s) {
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(timeout_s));
  return stub->Recognize(&context, request, response);
}

struct PendingCalls::State {
  std::mutex mu;
  std::condition_variable done;
  int left = 0;
};

PendingCalls::PendingCalls(ocr::v1::OcrService::Stub* stub, const std::vector<ocr::v1::RecognizeRequest>& requests,
                           double deadline_s)
    : state_(std::make_shared<State>()), results_(requests.size()), requests_(requests) {
  state_->left = static_cast<int>(requests.size());
  for (size_t i = 0; i < requests_.size(); ++i) {
    contexts_.push_back(std::make_unique<grpc::ClientContext>());
    contexts_.back()->set_deadline(DeadlineIn(deadline_s));
  }
  for (size_t i = 0; i < requests_.size(); ++i) {
    State* state = state_.get();
    CallResult* result = &results_[i];
    stub->async()->Recognize(contexts_[i].get(), &requests_[i], &result->response,
                             [state, result](grpc::Status status) {
                               std::lock_guard<std::mutex> lock(state->mu);
                               result->status = std::move(status);
                               if (--state->left == 0) state->done.notify_all();
                             });
  }
}

bool PendingCalls::Wait(double timeout_s) {
  std::unique_lock<std::mutex> lock(state_->mu);
  return state_->done.wait_for(lock, std::chrono::microseconds(static_cast<int64_t>(timeout_s * 1e6)),
                               [this] { return state_->left == 0; });
}

PendingCalls::~PendingCalls() { CancelAndWait(); }

void PendingCalls::CancelAndWait() {
  if (Wait(0)) return;
  for (auto& c : contexts_) c->TryCancel();
  if (!Wait(60)) {
    std::cerr << "PendingCalls: calls did not end 60 s after cancellation\n";
    std::abort();
  }
}

std::vector<CallResult> RecognizeConcurrently(ocr::v1::OcrService::Stub* stub,
                                              const std::vector<ocr::v1::RecognizeRequest>& requests,
                                              double timeout_s) {
  PendingCalls calls(stub, requests, timeout_s);
  if (!calls.Wait(timeout_s + 5)) calls.CancelAndWait();
  return calls.results();
}

// ---- metrics ----------------------------------------------------------------

std::vector<const Sample*> Scrape::Find(const std::string& name,
                                        const std::map<std::string, std::string>& labels) const {
  std::vector<const Sample*> out;
  for (const Sample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [key, value] : labels) {
      auto it = s.labels.find(key);
      if (it == s.labels.end() || it->second != value) {
        match = false;
        break;
      }
    }
    if (match) out.push_back(&s);
  }
  return out;
}

double Scrape::Sum(const std::string& name, const std::map<std::string, std::string>& labels) const {
  double sum = 0;
  for (const Sample* s : Find(name, labels)) sum += s->value;
  return sum;
}

std::vector<Sample> ParseMetrics(const std::string& text) {
  std::vector<Sample> samples;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') sample.name.push_back(line[i++]);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string key, value;
        while (i < line.size() && line[i] != '=') key.push_back(line[i++]);
        i += 2;  // ="
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            value.push_back(line[i] == 'n' ? '\n' : line[i]);
          } else {
            value.push_back(line[i]);
          }
          ++i;
        }
        ++i;  // closing quote
        if (i < line.size() && line[i] == ',') ++i;
        sample.labels[key] = value;
      }
      ++i;  // }
    }
    while (i < line.size() && line[i] == ' ') ++i;
    sample.value = std::strtod(line.c_str() + i, nullptr);
    samples.push_back(std::move(sample));
  }
  return samples;
}

bool ScrapeMetrics(int port, Scrape* scrape, std::string* error, double timeout_s) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  timeval timeout{static_cast<time_t>(timeout_s), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error = "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    close(fd);
    return false;
  }
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    *error = "send failed";
    close(fd);
    return false;
  }
  std::string reply;
  char buffer[8192];
  const auto deadline = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(timeout_s * 1e6));
  while (Clock::now() < deadline) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  const size_t body = reply.find("\r\n\r\n");
  if (reply.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos) {
    *error = "bad HTTP reply: " + reply.substr(0, 200);
    return false;
  }
  scrape->text = reply.substr(body + 4);
  scrape->samples = ParseMetrics(scrape->text);
  return true;
}

int PromtoolCheckMetrics(const std::string& text, std::string* output) {
  const char* env = std::getenv("VOCR_IT_PROMTOOL");
  const std::string promtool = env && *env ? env : VOCR_IT_PROMTOOL;
  if (promtool.empty() || promtool.find("NOTFOUND") != std::string::npos || access(promtool.c_str(), X_OK) != 0) {
    *output = "promtool not found ('" + promtool + "'); install Debian's prometheus package";
    return -1;
  }
  std::string dir = (fs::temp_directory_path() / "vocr-promtool-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    *output = "mkdtemp failed";
    return -1;
  }
  const std::string in = dir + "/scrape.txt", out = dir + "/out.txt";
  std::ofstream(in, std::ios::binary) << text;
  const std::string command = "'" + promtool + "' check metrics < '" + in + "' > '" + out + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream result(out, std::ios::binary);
  *output = std::string(std::istreambuf_iterator<char>(result), {});
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// ---- reflection -------------------------------------------------------------

namespace {

// One request, one response on ServerReflectionInfo (a bidi stream), through
// a generic stub: Debian's libgrpc++-dev ships the server-side reflection
// plugin only (no ProtoReflectionDescriptorDatabase, no reflection.pb.h).
grpc::Status ReflectionExchange(const std::shared_ptr<grpc::Channel>& channel, const std::string& request,
                                google::protobuf::UnknownFieldSet* response) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(10));  // bounds every cq.Next below
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto step = [&cq](intptr_t expected) {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && reinterpret_cast<intptr_t>(tag) == expected && ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  bool ok = step(1);
  grpc::ByteBuffer reply;
  if (ok) {
    grpc::Slice slice(request);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, reinterpret_cast<void*>(2));
    ok = step(2);
  }
  if (ok) {
    call->WritesDone(reinterpret_cast<void*>(3));
    ok = step(3);
  }
  if (ok) {
    call->Read(&reply, reinterpret_cast<void*>(4));
    ok = step(4);
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  cq.Shutdown();
  void* tag;
  bool ignored;
  while (cq.Next(&tag, &ignored)) {
  }
  if (!status.ok()) return status;
  if (!ok) return grpc::Status(grpc::StatusCode::INTERNAL, "reflection stream ended without a response");
  std::vector<grpc::Slice> slices;
  reply.Dump(&slices);
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (!response->ParseFromString(bytes)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "unparsable ServerReflectionResponse");
  }
  for (int i = 0; i < response->field_count(); ++i) {
    const auto& f = response->field(i);
    if (f.number() == 7 && f.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {  // error_response
      return grpc::Status(grpc::StatusCode::UNKNOWN, "reflection error response: " + f.length_delimited());
    }
  }
  return grpc::Status::OK;
}

// The length-delimited values of field `number`.
std::vector<std::string> Strings(const google::protobuf::UnknownFieldSet& set, int number) {
  std::vector<std::string> out;
  for (int i = 0; i < set.field_count(); ++i) {
    const auto& f = set.field(i);
    if (f.number() == number && f.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      out.push_back(f.length_delimited());
    }
  }
  return out;
}

}  // namespace

grpc::Status ListServices(const std::shared_ptr<grpc::Channel>& channel, std::vector<std::string>* services) {
  google::protobuf::UnknownFieldSet response;
  // ServerReflectionRequest.list_services (field 7).
  grpc::Status status = ReflectionExchange(channel, StringField(7, "*"), &response);
  if (!status.ok()) return status;
  // ServerReflectionResponse.list_services_response (6) -> service (1) -> name (1).
  for (const std::string& list : Strings(response, 6)) {
    google::protobuf::UnknownFieldSet list_set;
    if (!list_set.ParseFromString(list)) continue;
    for (const std::string& service : Strings(list_set, 1)) {
      google::protobuf::UnknownFieldSet service_set;
      if (!service_set.ParseFromString(service)) continue;
      for (const std::string& name : Strings(service_set, 1)) services->push_back(name);
    }
  }
  return grpc::Status::OK;
}

grpc::Status FileContainingSymbol(const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol,
                                  std::vector<std::string>* file_descriptor_protos) {
  google::protobuf::UnknownFieldSet response;
  // ServerReflectionRequest.file_containing_symbol (field 4).
  grpc::Status status = ReflectionExchange(channel, StringField(4, symbol), &response);
  if (!status.ok()) return status;
  // file_descriptor_response (4) -> file_descriptor_proto (1, repeated bytes).
  for (const std::string& files : Strings(response, 4)) {
    google::protobuf::UnknownFieldSet files_set;
    if (!files_set.ParseFromString(files)) continue;
    for (const std::string& file : Strings(files_set, 1)) file_descriptor_protos->push_back(file);
  }
  return grpc::Status::OK;
}

}  // namespace vocr::integration
