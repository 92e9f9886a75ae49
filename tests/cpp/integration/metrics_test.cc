// Prometheus metrics (issue 3, item 5): a scrape after some requests shows the
// counts moved and every family the SPEC lists; promtool accepts it.
#include <gtest/gtest.h>

#include <chrono>

#include "server_test.h"

namespace vocr::integration {
namespace {

class MetricsTest : public ServerTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartServer()); }

  Scrape MustScrape() {
    Scrape scrape;
    std::string error;
    EXPECT_TRUE(ScrapeMetrics(server_->metrics_port(), &scrape, &error)) << error;
    return scrape;
  }
};

TEST_F(MetricsTest, CountsMoveAndEveryFamilyIsThere) {
  const Scrape before = MustScrape();
  const std::map<std::string, std::string> ok = {{"method", "Recognize"}, {"code", "OK"}};
  const std::map<std::string, std::string> invalid = {{"method", "Recognize"}, {"code", "INVALID_ARGUMENT"}};

  for (int i = 0; i < 3; ++i) {
    ocr::v1::RecognizeResponse response;
    ASSERT_TRUE(Recognize(stub_.get(), GoodRequest(120 + 40 * i, i), &response).ok());
  }
  for (int i = 0; i < 2; ++i) {
    ocr::v1::RecognizeResponse response;
    EXPECT_EQ(Recognize(stub_.get(), Request(EncodedImage("not an image")), &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    ocr::v1::RecognizeBatchRequest request;
    *request.add_images() = GoodRequest().image();
    *request.add_images() = EncodedImage("");
    ocr::v1::RecognizeBatchResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ASSERT_TRUE(stub_->RecognizeBatch(&context, request, &response).ok());
  }
  const Scrape after = MustScrape();

  EXPECT_EQ(after.Sum("vocr_requests_total", ok) - before.Sum("vocr_requests_total", ok), 3);
  EXPECT_EQ(after.Sum("vocr_requests_total", invalid) - before.Sum("vocr_requests_total", invalid), 2);
  EXPECT_EQ(after.Sum("vocr_requests_total", {{"method", "RecognizeBatch"}, {"code", "OK"}}), 1);
  EXPECT_EQ(after.Sum("vocr_request_duration_seconds_count", ok), 3);
  EXPECT_TRUE(after.Has("vocr_request_duration_seconds_bucket",
                        {{"method", "Recognize"}, {"code", "OK"}, {"le", "+Inf"}}));
  EXPECT_EQ(after.Sum("vocr_request_duration_seconds_bucket",
                      {{"method", "Recognize"}, {"code", "OK"}, {"le", "+Inf"}}),
            3);
  // Lines: 3 + 1 read, 2 + 1 refused as invalid.
  EXPECT_EQ(after.Sum("vocr_lines_total", {{"code", "OK"}}), 4);
  EXPECT_EQ(after.Sum("vocr_lines_total", {{"code", "INVALID_ARGUMENT"}}), 3);

  for (const std::string stage : {"queue", "decode_image", "preprocess", "cnn", "decoder"}) {
    EXPECT_GE(after.Sum("vocr_stage_duration_seconds_count", {{"stage", stage}}), 1) << stage;
  }
  // The worker's CPU time in the two model stages: some, and no more than
  // their wall time (one thread, which may also have waited for a core).
  for (const std::string stage : {"cnn", "decoder"}) {
    const double cpu = after.Sum("vocr_stage_cpu_seconds_total", {{"stage", stage}});
    EXPECT_GT(cpu, 0) << stage;
    EXPECT_LE(cpu, after.Sum("vocr_stage_duration_seconds_sum", {{"stage", stage}}) + 1e-3) << stage;
  }
  EXPECT_GE(after.Sum("vocr_batch_size_count"), 1);
  EXPECT_GE(after.Sum("vocr_batch_size_sum"), 4);
  EXPECT_TRUE(after.Has("vocr_batch_size_bucket", {{"le", "8"}}));
  EXPECT_TRUE(after.Has("vocr_queue_depth"));
  EXPECT_EQ(after.Sum("vocr_queue_depth"), 0);
  EXPECT_TRUE(after.Has("vocr_inflight_requests"));
  EXPECT_EQ(after.Sum("vocr_inflight_requests"), 0);

  for (const std::string component : {"cnn", "seq"}) {
    SCOPED_TRACE(component);
    const double served = after.Sum("vocr_model_size_bytes", {{"component", component}, {"kind", "served"}});
    const double fp32 =
        after.Sum("vocr_model_size_bytes", {{"component", component}, {"kind", "fp32_reference"}});
    EXPECT_GT(served, 0);
    EXPECT_GT(fp32, served);
    EXPECT_TRUE(after.Has("vocr_model_size_bytes", {{"component", component}, {"precision", "int8"}}));
    EXPECT_TRUE(after.Has("vocr_model_size_bytes", {{"component", component}, {"precision", "fp32"}}));
    EXPECT_GT(after.Sum("vocr_model_parameters", {{"component", component}}), 0);
  }
  EXPECT_EQ(after.Sum("vocr_model_info", {{"name", "vocr_line"}, {"version", "1"}, {"engine", "onednn"}}), 1);
  EXPECT_GT(after.Sum("vocr_model_load_seconds"), 0);
  EXPECT_GT(after.Sum("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(after.Sum("process_cpu_seconds_total"), 0);
  EXPECT_NE(after.text.find("# TYPE vocr_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(after.text.find("# TYPE vocr_requests_total counter"), std::string::npos);
}

TEST_F(MetricsTest, PromtoolAcceptsTheScrape) {
  // Populate the labelled families first, so promtool sees them all.
  ocr::v1::RecognizeResponse response;
  ASSERT_TRUE(Recognize(stub_.get(), GoodRequest(), &response).ok());
  EXPECT_FALSE(Recognize(stub_.get(), Request(EncodedImage("x")), &response).ok());
  const Scrape scrape = MustScrape();
  ASSERT_FALSE(scrape.text.empty());
  std::string output;
  const int code = PromtoolCheckMetrics(scrape.text, &output);
  ASSERT_NE(code, -1) << "cannot run promtool: " << output;
  EXPECT_EQ(code, 0) << "promtool check metrics:\n" << output;
}

}  // namespace
}  // namespace vocr::integration
