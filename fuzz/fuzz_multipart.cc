// The upload form's multipart/form-data parser (server/src/http/multipart.h), fed a body with
// boundary "B0undary" whole and again in pieces of a size the first byte chooses: both must
// agree on the verdict and on every part's name, file name and bytes, and no part's headers
// may exceed the stated maximum.
#include <string>
#include <vector>

#include "http/multipart.h"
#include "fuzz_support.h"

using namespace outpost;
using namespace outpost::fuzz;
using namespace outpost::http;

namespace {

struct Collect : MultipartHandler {
  std::vector<std::string> parts;  // name, file name and bytes of each part, in one string
  Status OnPartBegin(const FormPart& part) override {
    parts.push_back(part.name + "\n" + part.filename.value_or("(field)") + "\n");
    return Status::Ok();
  }
  Status OnPartData(std::span<const uint8_t> data) override {
    FUZZ_CHECK(!parts.empty());
    parts.back().append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::Ok();
  }
  Status OnPartEnd() override { return Status::Ok(); }
};

struct Outcome {
  bool ok;
  std::vector<std::string> parts;
};

Outcome Run(std::string_view body, size_t piece) {
  Collect c;
  MultipartParser parser("B0undary", &c);
  Status s;
  for (size_t at = 0; at < body.size() && s.ok(); at += piece) {
    std::string_view p = body.substr(at, piece);
    s = parser.Feed({reinterpret_cast<const uint8_t*>(p.data()), p.size()});
  }
  if (s.ok()) s = parser.Finish();
  FUZZ_CHECK(c.parts.size() <= static_cast<size_t>(MultipartParser::kMaxParts));
  return {s.ok(), std::move(c.parts)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  size_t piece = 1 + in.TakeByte() % 97;
  std::string body(in.Rest());
  Outcome whole = Run(body, body.size() + 1);
  Outcome cut = Run(body, piece);
  FUZZ_CHECK(whole.ok == cut.ok);
  if (whole.ok) FUZZ_CHECK(whole.parts == cut.parts);
  return 0;
}
