// Request bytes -> pixels (header checks before decoding, truncation, raw
// buffers) and pixels -> model input (width rule, normalisation, padding),
// the latter checked bitwise against the reference predictor.
#include <cstring>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/image.h"
#include "server/core/preprocess.h"
#include "tests/cpp/server/test_util.h"

namespace vocr {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::vocr::testing::Encode;
using ::vocr::testing::PatternImage;
using ::vocr::testing::ReadFile;
namespace fs = std::filesystem;

// The tiny bundle's input spec, written out so these tests need no bundle.
InputSpec TinySpec() {
  InputSpec spec;
  spec.height = 32;
  spec.channels = 1;
  spec.min_width = 16;
  spec.max_width = 512;
  spec.width_multiple = 8;
  spec.feature_stride = 4;
  spec.mean = 0.5f;
  spec.std = 0.5f;
  spec.pad_value = 0.0f;
  return spec;
}

void PutBigEndian32(std::string& bytes, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
}

// ---- PeekDimensions ----------------------------------------------------------------

TEST(PeekDimensions, ReadsPngJpegBmpAndWebpHeaders) {
  const cv::Mat image = PatternImage(37, 13);
  struct Case {
    const char* ext;
    std::vector<int> params;
  };
  for (const Case& c : {Case{".png", {}}, Case{".jpg", {}}, Case{".bmp", {}}, Case{".webp", {}},
                        Case{".webp", {cv::IMWRITE_WEBP_QUALITY, 101}}}) {
    absl::StatusOr<Dimensions> d = PeekDimensions(Encode(c.ext, image, c.params));
    ASSERT_TRUE(d.ok()) << c.ext << ": " << d.status();
    EXPECT_EQ(d->width, 37) << c.ext;
    EXPECT_EQ(d->height, 13) << c.ext;
  }
}

TEST(PeekDimensions, ReadsColourAndProgressiveJpegs) {
  cv::Mat colour;
  cv::cvtColor(PatternImage(301, 45), colour, cv::COLOR_GRAY2BGR);
  absl::StatusOr<Dimensions> d = PeekDimensions(Encode(".jpg", colour, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->width, 301);
  EXPECT_EQ(d->height, 45);
}

TEST(PeekDimensions, ReadsAGifHeader) {
  std::string gif = "GIF89a";
  gif += std::string("\x2C\x01\x20\x00", 4);  // 300 x 32, little-endian
  gif += std::string(16, '\0');
  absl::StatusOr<Dimensions> d = PeekDimensions(gif);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->width, 300);
  EXPECT_EQ(d->height, 32);
}

TEST(PeekDimensions, SaysNotFoundForFormatsWithoutAHeaderParser) {
  EXPECT_EQ(PeekDimensions("just some text").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(PeekDimensions("").status().code(), absl::StatusCode::kNotFound);
}

TEST(PeekDimensions, RefusesTruncatedHeaders) {
  const std::string png = Encode(".png", PatternImage(20, 10));
  EXPECT_EQ(PeekDimensions(png.substr(0, 16)).status().code(), absl::StatusCode::kInvalidArgument);
  const std::string jpg = Encode(".jpg", PatternImage(20, 10));
  EXPECT_THAT(PeekDimensions(jpg.substr(0, 8)).status().message(), HasSubstr("truncated"));
  EXPECT_EQ(PeekDimensions("BM1234").status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- DecodeImage ---------------------------------------------------------------------

TEST(DecodeImage, DecodesEncodedImagesKeepingTheirChannels) {
  const cv::Mat gray = PatternImage(40, 12);
  absl::StatusOr<cv::Mat> png = DecodeImage(Encode(".png", gray), ImageLimits{});
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(png->type(), CV_8UC1);
  EXPECT_EQ(cv::norm(*png, gray, cv::NORM_INF), 0.0);  // lossless round trip

  cv::Mat bgr;
  cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
  for (const char* ext : {".jpg", ".bmp", ".webp", ".tiff"}) {
    absl::StatusOr<cv::Mat> m = DecodeImage(Encode(ext, bgr), ImageLimits{});
    ASSERT_TRUE(m.ok()) << ext << ": " << m.status();
    EXPECT_EQ(m->cols, 40) << ext;
    EXPECT_EQ(m->rows, 12) << ext;
    EXPECT_EQ(m->depth(), CV_8U) << ext;
  }
  cv::Mat bgra;
  cv::cvtColor(gray, bgra, cv::COLOR_GRAY2BGRA);
  EXPECT_EQ(DecodeImage(Encode(".png", bgra), ImageLimits{})->type(), CV_8UC4);
}

TEST(DecodeImage, RefusesAPngClaimingHugeDimensionsBeforeDecoding) {
  std::string png = Encode(".png", PatternImage(8, 8));
  PutBigEndian32(png, 16, 100000);  // IHDR width
  PutBigEndian32(png, 20, 100000);  // IHDR height
  absl::Status s = DecodeImage(png, ImageLimits{}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("100000x100000"));
}

TEST(DecodeImage, RefusesImagesOverTheConfiguredLimits) {
  ImageLimits limits;
  limits.max_side = 100;
  limits.max_pixels = 2000;
  EXPECT_EQ(DecodeImage(Encode(".jpg", PatternImage(101, 10)), limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(DecodeImage(Encode(".bmp", PatternImage(100, 21)), limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(DecodeImage(Encode(".tiff", PatternImage(101, 10)), limits).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(DecodeImage(Encode(".png", PatternImage(100, 20)), limits).ok());
}

TEST(DecodeImage, RefusesFormatsWhoseSizeCannotBeReadBeforeDecoding) {
  // OpenCV reads PGM, but its header could claim any size: refused unread.
  const absl::Status s = DecodeImage(Encode(".pgm", PatternImage(40, 20)), ImageLimits()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown format"));
}

TEST(DecodeImage, RefusesAPngClaimingZeroWidth) {
  std::string png = Encode(".png", PatternImage(8, 8));
  PutBigEndian32(png, 16, 0);
  absl::Status s = DecodeImage(png, ImageLimits{}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("0x8"));
}

TEST(DecodeImage, RefusesATruncatedPng) {
  const std::string png = Encode(".png", PatternImage(200, 40));
  absl::Status s = DecodeImage(png.substr(0, png.size() / 2), ImageLimits{}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("truncated"), HasSubstr("PNG")));
  // Only the IEND chunk missing.
  s = DecodeImage(png.substr(0, png.size() - 12), ImageLimits{}).status();
  EXPECT_THAT(s.message(), HasSubstr("truncated"));
}

TEST(DecodeImage, RefusesATruncatedJpeg) {
  const std::string jpg = Encode(".jpg", PatternImage(200, 40));
  for (size_t keep : {jpg.size() * 2 / 3, jpg.size() - 2, size_t{10}}) {
    absl::Status s = DecodeImage(jpg.substr(0, keep), ImageLimits{}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << keep;
    EXPECT_THAT(s.message(), AllOf(HasSubstr("truncated"), HasSubstr("JPEG"))) << keep;
  }
}

TEST(DecodeImage, RefusesBytesThatAreNoImage) {
  absl::Status s = DecodeImage("this is not an image, just text", ImageLimits{}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("not a decodable image"));
  // A PNG signature followed by garbage.
  std::string fake("\x89PNG\r\n\x1a\n", 8);
  fake += std::string(64, 'z');
  EXPECT_EQ(DecodeImage(fake, ImageLimits{}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DecodeImage, RefusesAnEmptyPayload) {
  absl::Status s = DecodeImage("", ImageLimits{}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("empty"));
}

TEST(DecodeImage, ConvertsA16BitPngTo8BitsScaledByItsMaximum) {
  cv::Mat deep(4, 64, CV_16UC1);
  for (int y = 0; y < deep.rows; ++y) {
    for (int x = 0; x < deep.cols; ++x)
      deep.at<uint16_t>(y, x) = static_cast<uint16_t>(x * 1000);  // max 63000
  }
  absl::StatusOr<cv::Mat> m = DecodeImage(Encode(".png", deep), ImageLimits{});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->type(), CV_8UC1);
  EXPECT_EQ(m->at<uint8_t>(0, 0), 0);
  EXPECT_EQ(m->at<uint8_t>(0, 63), 255);
  EXPECT_EQ(m->at<uint8_t>(2, 21), cv::saturate_cast<uint8_t>(21000 * 255.0 / 63000));
}

TEST(DecodeImage, DecodesAOnePixelImage) {
  absl::StatusOr<cv::Mat> m =
      DecodeImage(Encode(".png", cv::Mat(1, 1, CV_8UC1, cv::Scalar(9))), ImageLimits{});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->total(), 1u);
}

// ---- RawImage --------------------------------------------------------------------------

TEST(RawImage, CopiesPixelsOfTheDeclaredShape) {
  std::string pixels(5 * 3 * 3, '\0');
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>(i);
  absl::StatusOr<cv::Mat> m = RawImage(pixels, 5, 3, 3, ImageLimits{});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->type(), CV_8UC3);
  EXPECT_EQ(m->cols, 5);
  EXPECT_EQ(m->rows, 3);
  EXPECT_EQ(m->at<cv::Vec3b>(1, 2)[1], static_cast<uint8_t>((1 * 5 + 2) * 3 + 1));
  EXPECT_NE(static_cast<const void*>(m->data), static_cast<const void*>(pixels.data()));  // a copy
}

TEST(RawImage, RefusesALengthThatDoesNotMatchNamingTheExpectedSize) {
  absl::Status s = RawImage(std::string(299, '\0'), 10, 10, 3, ImageLimits{}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("299"), HasSubstr("10x10x3"), HasSubstr("300")));
  EXPECT_EQ(RawImage(std::string(301, '\0'), 10, 10, 3, ImageLimits{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RawImage, RefusesBadShapes) {
  EXPECT_THAT(RawImage(std::string(8, '\0'), 2, 2, 2, ImageLimits{}).status().message(),
              HasSubstr("2 channels"));
  EXPECT_EQ(RawImage("", 0, 5, 1, ImageLimits{}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RawImage("", -4, 5, 1, ImageLimits{}).status().code(), absl::StatusCode::kInvalidArgument);
  // Absurd sizes are refused before the length is even compared (no overflow).
  EXPECT_EQ(RawImage("", int64_t{1} << 40, int64_t{1} << 40, 1, ImageLimits{}).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// ---- TargetWidth ----------------------------------------------------------------------

TEST(TargetWidth, ScalesToTheModelHeightAndRoundsToTheWidthMultiple) {
  const InputSpec spec = TinySpec();
  EXPECT_EQ(TargetWidth(128, 32, spec), 128);
  EXPECT_EQ(TargetWidth(100, 32, spec), 104);  // 12.5 multiples rounds half up
  EXPECT_EQ(TargetWidth(99, 32, spec), 96);    // 12.375 -> 12
  EXPECT_EQ(TargetWidth(300, 48, spec), 200);  // shrink: 200 exactly
  EXPECT_EQ(TargetWidth(90, 20, spec), 144);   // grow: 144 exactly
  EXPECT_EQ(TargetWidth(77, 40, spec), 64);    // 61.6 -> 64
  EXPECT_EQ(TargetWidth(100, 64, spec), 48);   // 50 -> 6.25 multiples -> 48
}

TEST(TargetWidth, ClampsToTheMinimumAndMaximumWidth) {
  const InputSpec spec = TinySpec();
  EXPECT_EQ(TargetWidth(10, 32, spec), 16);
  EXPECT_EQ(TargetWidth(3, 100, spec), 16);  // rounds to 0, clamped up
  EXPECT_EQ(TargetWidth(4000, 32, spec), 512);
  EXPECT_EQ(TargetWidth(100000, 2, spec), 512);
}

// ---- Preprocess ------------------------------------------------------------------------

TEST(Preprocess, GivesOneChannelAtModelHeightAndAWidthMultipleOfEight) {
  const InputSpec spec = TinySpec();
  for (auto [w, h] : {std::pair{37, 13}, {300, 48}, {90, 20}, {1000, 32}, {5, 40}, {801, 33}}) {
    absl::StatusOr<LineInput> in = Preprocess(PatternImage(w, h), spec);
    ASSERT_TRUE(in.ok()) << w << "x" << h << ": " << in.status();
    EXPECT_EQ(in->pixels.sizes().vec(), (std::vector<int64_t>{1, 32, in->width})) << w << "x" << h;
    EXPECT_EQ(in->width % 8, 0);
    EXPECT_EQ(in->width, TargetWidth(w, h, spec));
    EXPECT_EQ(in->pixels.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(in->pixels.is_contiguous());
  }
}

TEST(Preprocess, NormalisesBlackToMinusOneAndWhiteToOne) {
  const InputSpec spec = TinySpec();
  absl::StatusOr<LineInput> black = Preprocess(cv::Mat(32, 64, CV_8UC1, cv::Scalar(0)), spec);
  absl::StatusOr<LineInput> white = Preprocess(cv::Mat(16, 64, CV_8UC1, cv::Scalar(255)), spec);
  absl::StatusOr<LineInput> mid = Preprocess(cv::Mat(64, 64, CV_8UC1, cv::Scalar(51)), spec);
  ASSERT_TRUE(black.ok() && white.ok() && mid.ok());
  EXPECT_FLOAT_EQ(black->pixels.min().item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(black->pixels.max().item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(white->pixels.min().item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(white->pixels.max().item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(mid->pixels.mean().item<float>(), (51.0f / 255.0f - 0.5f) / 0.5f);
}

TEST(Preprocess, UsesTheManifestsMeanAndStd) {
  InputSpec spec = TinySpec();
  spec.mean = 0.25f;
  spec.std = 2.0f;
  absl::StatusOr<LineInput> white = Preprocess(cv::Mat(32, 32, CV_8UC1, cv::Scalar(255)), spec);
  ASSERT_TRUE(white.ok());
  EXPECT_FLOAT_EQ(white->pixels[0][0][0].item<float>(), (1.0f - 0.25f) / 2.0f);
}

TEST(Preprocess, ReadsColourAsItsGrayConversion) {
  const InputSpec spec = TinySpec();
  cv::Mat gray = PatternImage(120, 30), bgr, bgra;
  cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
  cv::cvtColor(gray, bgra, cv::COLOR_GRAY2BGRA);
  absl::StatusOr<LineInput> g = Preprocess(gray, spec), c = Preprocess(bgr, spec), a = Preprocess(bgra, spec);
  ASSERT_TRUE(g.ok() && c.ok() && a.ok());
  EXPECT_TRUE(torch::equal(g->pixels, c->pixels));
  EXPECT_TRUE(torch::equal(g->pixels, a->pixels));
}

TEST(Preprocess, RefusesImagesTooSmallForALine) {
  absl::Status s = Preprocess(cv::Mat(1, 1, CV_8UC1, cv::Scalar(0)), TinySpec()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("1x1"));
  EXPECT_FALSE(Preprocess(cv::Mat(1, 300, CV_8UC1, cv::Scalar(0)), TinySpec()).ok());
  EXPECT_FALSE(Preprocess(cv::Mat(10, 10, CV_8UC2, cv::Scalar(0)), TinySpec()).ok());
}

// ---- PadBatch -------------------------------------------------------------------------

TEST(PadBatch, StacksLinesAndPadsOnTheRightWithPadValue) {
  InputSpec spec = TinySpec();
  spec.pad_value = -7.5f;
  LineInput narrow{torch::full({1, 32, 16}, 0.25f), 16};
  LineInput wide{torch::full({1, 32, 40}, -0.75f), 40};
  torch::Tensor batch = PadBatch({&narrow, &wide}, spec);
  ASSERT_EQ(batch.sizes().vec(), (std::vector<int64_t>{2, 1, 32, 40}));
  EXPECT_TRUE(torch::equal(batch[0].narrow(2, 0, 16), narrow.pixels));
  EXPECT_TRUE(torch::equal(batch[0].narrow(2, 16, 24), torch::full({1, 32, 24}, -7.5f)));
  EXPECT_TRUE(torch::equal(batch[1], wide.pixels));
}

TEST(PadBatch, LeavesLinesOfTheSameWidthUnpadded) {
  const InputSpec spec = TinySpec();
  LineInput a{torch::rand({1, 32, 24}), 24}, b{torch::rand({1, 32, 24}), 24};
  torch::Tensor batch = PadBatch({&a, &b, &a}, spec);
  ASSERT_EQ(batch.sizes().vec(), (std::vector<int64_t>{3, 1, 32, 24}));
  EXPECT_TRUE(torch::equal(batch[0], a.pixels));
  EXPECT_TRUE(torch::equal(batch[1], b.pixels));
  EXPECT_TRUE(torch::equal(batch[2], a.pixels));
}

TEST(PadBatch, PadsEveryLineToTheNextMultipleOfTheSpecs) {
  InputSpec spec = TinySpec();
  spec.pad_to_multiple = 64;
  spec.pad_value = -1.0f;
  EXPECT_EQ(PaddedWidth(16, spec), 64);
  EXPECT_EQ(PaddedWidth(64, spec), 64);
  EXPECT_EQ(PaddedWidth(72, spec), 128);
  LineInput a{torch::rand({1, 32, 24}), 24}, b{torch::rand({1, 32, 40}), 40};
  torch::Tensor batch = PadBatch({&a, &b}, spec);
  ASSERT_EQ(batch.sizes().vec(), (std::vector<int64_t>{2, 1, 32, 64}));
  EXPECT_TRUE(torch::equal(batch[0].narrow(2, 0, 24), a.pixels));
  EXPECT_TRUE(torch::equal(batch[1].narrow(2, 40, 24), torch::full({1, 32, 24}, -1.0f)));
}

// ---- Against the reference predictor ---------------------------------------------------

TEST(Preprocess, IsBitwiseEqualToTheReferencePredictor) {
  VOCR_REQUIRE_REFERENCE();
  VOCR_REQUIRE_TINY_BUNDLE();
  const fs::path dir = ::vocr::testing::ReferenceDir();
  const nlohmann::json ref = nlohmann::json::parse(ReadFile((dir / "reference.json").string()));
  absl::StatusOr<Manifest> m = ParseManifest(
      ReadFile((fs::path(::vocr::testing::TinyVersionDir()) / kManifestFile).string()), "manifest.json");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_FALSE(ref["images"].empty());
  for (const auto& image : ref["images"]) {
    const std::string name = image["name"];
    absl::StatusOr<cv::Mat> mat =
        DecodeImage(ReadFile((dir / image["png"].get<std::string>()).string()), ImageLimits{});
    ASSERT_TRUE(mat.ok()) << name << ": " << mat.status();
    absl::StatusOr<LineInput> in = Preprocess(*mat, m->input);
    ASSERT_TRUE(in.ok()) << name << ": " << in.status();
    const std::vector<int64_t> shape = image["shape"];
    ASSERT_EQ(in->pixels.sizes().vec(), shape) << name;
    const std::string expected = ReadFile((dir / image["tensor"].get<std::string>()).string());
    ASSERT_EQ(expected.size(), static_cast<size_t>(in->pixels.numel()) * sizeof(float)) << name;
    const float* got = in->pixels.data_ptr<float>();
    size_t differing = 0, first = 0;
    for (size_t i = 0; i < static_cast<size_t>(in->pixels.numel()); ++i) {
      float want;
      std::memcpy(&want, expected.data() + i * sizeof(float), sizeof(float));
      if (std::memcmp(&want, got + i, sizeof(float)) != 0 && differing++ == 0) first = i;
    }
    EXPECT_EQ(differing, 0u) << name << ": " << differing << " values differ, the first at index " << first;
  }
}

}  // namespace
}  // namespace vocr
