// Reads line images with Tesseract's C++ API, one thread, and reports what
// it read and how long each line took: the baseline of
// tools/bench_vs_tesseract.py, which runs one such process per core.
//
//   tesseract_bench LANG FILE...      (stdout: "ms<TAB>text" per line, in order)
//
// Page segmentation "single line" (psm 7) and the LSTM engine, as a user
// would read a cropped line. OMP_THREAD_LIMIT=1 keeps it on one thread.
#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s LANG FILE...\n", argv[0]);
    return 2;
  }
  tesseract::TessBaseAPI api;
  if (api.Init(nullptr, argv[1], tesseract::OEM_LSTM_ONLY) != 0) {
    std::fprintf(stderr, "tesseract: cannot load language '%s'\n", argv[1]);
    return 1;
  }
  api.SetPageSegMode(tesseract::PSM_SINGLE_LINE);
  for (int i = 2; i < argc; ++i) {
    // Reading the file is part of the work, as the server decodes the PNG.
    const auto start = std::chrono::steady_clock::now();
    Pix* image = pixRead(argv[i]);
    if (image == nullptr) {
      std::fprintf(stderr, "%s: not an image\n", argv[i]);
      return 1;
    }
    api.SetImage(image);
    std::unique_ptr<char[]> text(api.GetUTF8Text());
    pixDestroy(&image);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::string line = text ? text.get() : "";
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    for (char& c : line)
      if (c == '\n' || c == '\t') c = ' ';
    std::printf("%.3f\t%s\n", ms, line.c_str());
  }
  api.End();
  return 0;
}
