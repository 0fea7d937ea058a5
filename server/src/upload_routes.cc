#include "upload_routes.h"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "app.h"
#include "http/multipart.h"
#include "sha1.h"
#include "uploads.h"

namespace outpost::upload_routes {

namespace {

using http::BodySink;
using http::FormPart;
using http::MultipartHandler;
using http::MultipartParser;
using http::Request;
using http::Response;

constexpr char kTusVersion[] = "1.0.0";
constexpr size_t kMaxMetadataBytes = 4096;

void TusHeaders(Response& res) {
  res.set_header("Tus-Resumable", kTusVersion);
  res.set_header("Cache-Control", "no-store");
}

void Answer(App& app, const Request& req, Response& res, const nlohmann::json& body,
            int status) {
  TusHeaders(res);
  app.SendJson(req, res, body, status);
}

void Error(App& app, const Request& req, Response& res, int status, const std::string& why) {
  Answer(app, req, res, {{"error", why}}, status);
}

// The HTTP answer for a store error.
int StatusFor(const outpost::Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound: return 404;
    case StatusCode::kChanged: return 409;
    case StatusCode::kBusy: return 423;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kDenied: return 429;
    case StatusCode::kNoSpace: return 507;
    case StatusCode::kCorrupt: return 460;
    default: return 500;
  }
}

void StoreError(App& app, const Request& req, Response& res, const outpost::Status& s) {
  int status = StatusFor(s);
  if (status == 500) spdlog::error("{} {}: {}", req.method, req.path, s.ToString());
  Error(app, req, res, status, status == 500 ? "the box could not store this upload" : s.message());
}

// Tus-Resumable on every request but OPTIONS (tus 1.0 core); 412 names the version we speak.
bool SpeaksTus(App& app, const Request& req, Response& res) {
  if (req.get_header_value("Tus-Resumable") == kTusVersion) return true;
  res.set_header("Tus-Version", kTusVersion);
  Error(app, req, res, 412, "send Tus-Resumable: 1.0.0 (tus 1.0 is the protocol spoken here)");
  return false;
}

UploadStore* Uploads(App& app, const Request& req, Response& res) {
  if (app.uploads()) return app.uploads();
  Error(app, req, res, 503, "uploads are unavailable on this box (see its log)");
  return nullptr;
}

std::optional<uint64_t> ParseNumber(std::string_view s) {
  uint64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string> Base64Decode(std::string_view in, size_t max_bytes) {
  if (in.size() > (max_bytes / 3 + 1) * 4) return std::nullopt;
  std::string out(in.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(),
                        in.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

// Upload-Metadata: "key base64value,key base64value,key" (tus 1.0, creation).
std::optional<std::map<std::string, std::string>> ParseMetadata(std::string_view header) {
  std::map<std::string, std::string> out;
  if (header.size() > kMaxMetadataBytes) return std::nullopt;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view pair = header.substr(0, comma);
    header = comma == std::string_view::npos ? "" : header.substr(comma + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t space = pair.find(' ');
    std::string key(pair.substr(0, space));
    if (key.empty() || out.count(key)) return std::nullopt;
    std::string value;
    if (space != std::string_view::npos) {
      auto decoded = Base64Decode(pair.substr(space + 1), kMaxMetadataBytes);
      if (!decoded) return std::nullopt;
      value = std::move(*decoded);
    }
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

std::string Base64Encode(std::string_view in) {
  std::string out(sodium_base64_encoded_len(in.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()),
                    in.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// "Wed, 25 Jun 2014 16:00:00 GMT" (RFC 9110's IMF-fixdate), for Upload-Expires.
std::string HttpDate(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  ::gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = ::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

void OffsetHeaders(const UploadStore& store, const UploadInfo& info, Response& res) {
  res.set_header("Upload-Offset", std::to_string(info.offset));
  res.set_header("Upload-Length", std::to_string(info.length));
  auto ttl = info.finished ? store.limits().finished_ttl : store.limits().unfinished_ttl;
  res.set_header("Upload-Expires", HttpDate(info.updated_at + ttl.count()));
}

nlohmann::json InfoJson(const UploadInfo& info) {
  nlohmann::json j = {{"id", info.id},       {"filename", info.filename},
                      {"length", info.length}, {"offset", info.offset},
                      {"finished", info.finished}, {"created_at", info.created_at},
                      {"location", "/api/v1/uploads/" + info.id}};
  if (info.finished) {
    j["kind"] = info.kind;
    j["mime"] = info.mime;
  }
  return j;
}

std::string Owner(App& app, const Request& req) {
  auto session = app.SessionOf(req);
  return session ? session->name : std::string();
}

// ---- The checksum of one PATCH (tus checksum extension): "sha1 BASE64" or "sha256 BASE64".
class RequestChecksum {
 public:
  static std::optional<RequestChecksum> Parse(std::string_view header) {
    size_t space = header.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    std::string_view name = header.substr(0, space);
    auto expected = Base64Decode(header.substr(space + 1), 64);
    if (!expected) return std::nullopt;
    RequestChecksum c;
    c.expected_ = std::move(*expected);
    if (name == "sha1" && c.expected_.size() == Sha1::kSize) {
      c.state_.emplace<Sha1>();
    } else if (name == "sha256" && c.expected_.size() == crypto_hash_sha256_BYTES) {
      crypto_hash_sha256_state s;
      crypto_hash_sha256_init(&s);
      c.state_ = s;
    } else {
      return std::nullopt;
    }
    return c;
  }
  void Update(std::span<const uint8_t> data) {
    if (auto* sha1 = std::get_if<Sha1>(&state_)) return sha1->Update(data);
    crypto_hash_sha256_update(&std::get<crypto_hash_sha256_state>(state_), data.data(),
                              data.size());
  }
  bool Matches() {
    std::string got;
    if (auto* sha1 = std::get_if<Sha1>(&state_)) {
      auto d = sha1->Final();
      got.assign(reinterpret_cast<const char*>(d.data()), d.size());
    } else {
      unsigned char d[crypto_hash_sha256_BYTES];
      crypto_hash_sha256_final(&std::get<crypto_hash_sha256_state>(state_), d);
      got.assign(reinterpret_cast<const char*>(d), sizeof d);
    }
    return got == expected_;
  }

 private:
  std::variant<std::monostate, Sha1, crypto_hash_sha256_state> state_;
  std::string expected_;
};

// Takes one PATCH's bytes into the upload's transfer.
class PatchSink : public BodySink {
 public:
  PatchSink(App* app, Request head, std::unique_ptr<UploadTransfer> transfer,
            std::optional<RequestChecksum> checksum)
      : app_(app), head_(std::move(head)), transfer_(std::move(transfer)),
        checksum_(std::move(checksum)) {}

  bool Write(std::span<const uint8_t> data) override {
    if (checksum_) checksum_->Update(data);
    write_error_ = transfer_->Write(data);
    return write_error_.ok();
  }

  void Finish(End end, Response& res) override {
    if (end == End::kCut) {
      Status kept = transfer_->Abort(/*keep=*/true);  // the client resumes from here
      if (!kept.ok()) spdlog::error("{}: {}", head_.path, kept.ToString());
      return;
    }
    if (end == End::kStopped) {
      (void)transfer_->Abort(/*keep=*/write_error_.code() != StatusCode::kInvalidArgument);
      return StoreError(*app_, head_, res, write_error_);
    }
    if (checksum_ && !checksum_->Matches()) {
      Status back = transfer_->Abort(/*keep=*/false);
      if (!back.ok()) return StoreError(*app_, head_, res, back);
      return Error(*app_, head_, res, 460,
                   "the bytes of this request do not match its Upload-Checksum: send them again");
    }
    auto info = transfer_->Commit();
    if (!info) return StoreError(*app_, head_, res, info.error());
    TusHeaders(res);
    OffsetHeaders(*app_->uploads(), *info, res);
    res.status = 204;
  }

 private:
  App* app_;
  Request head_;
  std::unique_ptr<UploadTransfer> transfer_;
  std::optional<RequestChecksum> checksum_;
  Status write_error_;
};

// The files of one upload form, each a finished upload as soon as its last byte is in.
class FormSink : public BodySink, public MultipartHandler {
 public:
  FormSink(App* app, Request head, UploadStore* store, std::string owner,
           const std::string& boundary, uint64_t body_length)
      : app_(app), head_(std::move(head)), store_(store), owner_(std::move(owner)),
        parser_(boundary, this), body_length_(body_length) {}

  bool Write(std::span<const uint8_t> data) override {
    error_ = parser_.Feed(data);
    return error_.ok();
  }

  void Finish(End end, Response& res) override {
    if (end == End::kComplete && error_.ok()) error_ = parser_.Finish();
    if (end != End::kComplete || !error_.ok()) {
      DropCurrent();
      if (end == End::kCut) return;
      return StoreError(*app_, head_, res, error_);
    }
    std::string back = head_.get_param_value("back");
    if (back.starts_with("/") && !back.starts_with("//") && back.find('\\') == std::string::npos) {
      res.status = 303;
      res.set_header("Location", back);
      res.set_header("Cache-Control", "no-store");
      return;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const UploadInfo& info : done_) list.push_back(InfoJson(info));
    Answer(*app_, head_, res, {{"uploads", list}}, 201);
  }

  Status OnPartBegin(const FormPart& part) override {
    if (!part.filename || part.filename->empty()) return Status::Ok();  // a field, or no file
    // Created with the body's length as its ceiling: the free-disk check covers the whole body.
    auto info = store_->Create(owner_, body_length_, *part.filename, part.content_type);
    if (!info) return info.error();
    auto transfer = store_->Begin(info->id, owner_, 0);
    if (!transfer) return transfer.error();
    current_ = std::move(*transfer);
    current_id_ = info->id;
    return Status::Ok();
  }
  Status OnPartData(std::span<const uint8_t> data) override {
    return current_ ? current_->Write(data) : Status::Ok();
  }
  Status OnPartEnd() override {
    if (!current_) return Status::Ok();
    auto info = current_->CommitWhole();
    current_.reset();
    if (!info) return info.error();
    done_.push_back(*info);
    return Status::Ok();
  }

 private:
  // A file cut off mid-way is no use to anyone: it goes (the whole ones stay).
  void DropCurrent() {
    if (!current_) return;
    (void)current_->Abort(/*keep=*/false);
    current_.reset();
    (void)store_->Remove(current_id_, owner_);
  }

  App* app_;
  Request head_;
  UploadStore* store_;
  std::string owner_;
  MultipartParser parser_;
  uint64_t body_length_;
  std::unique_ptr<UploadTransfer> current_;
  std::string current_id_;
  std::vector<UploadInfo> done_;
  outpost::Status error_;
};

}  // namespace

bool Options(App& app, const Request& req, Response& res, bool) {
  UploadStore* store = Uploads(app, req, res);
  if (!store) return true;
  res.set_header("Tus-Resumable", kTusVersion);
  res.set_header("Tus-Version", kTusVersion);
  res.set_header("Tus-Extension", "creation,termination,checksum,expiration");
  res.set_header("Tus-Max-Size", std::to_string(store->limits().max_upload_bytes));
  res.set_header("Tus-Checksum-Algorithm", "sha1,sha256");
  res.status = 204;
  return true;
}

bool Create(App& app, const Request& req, Response& res, bool) {
  if (!SpeaksTus(app, req, res)) return true;
  UploadStore* store = Uploads(app, req, res);
  if (!store) return true;
  if (!req.body.empty()) {
    Error(app, req, res, 400, "send the bytes with PATCH (creation-with-upload is not spoken here)");
    return true;
  }
  if (req.has_header("Upload-Defer-Length")) {
    Error(app, req, res, 400, "Upload-Defer-Length is not supported: send Upload-Length");
    return true;
  }
  auto length = ParseNumber(req.get_header_value("Upload-Length"));
  if (!length) {
    Error(app, req, res, 400, "Upload-Length must be the file's size in bytes");
    return true;
  }
  if (*length > store->limits().max_upload_bytes) {
    Error(app, req, res, 413, "the file is larger than this box takes (" +
                                  std::to_string(store->limits().max_upload_bytes >> 20) +
                                  " MB at most)");
    return true;
  }
  auto meta = ParseMetadata(req.get_header_value("Upload-Metadata"));
  if (!meta) {
    Error(app, req, res, 400, "Upload-Metadata is not \"key base64,key base64\"");
    return true;
  }
  auto get = [&](const char* a, const char* b) {
    auto it = meta->find(a);
    if (it == meta->end()) it = meta->find(b);
    return it == meta->end() ? std::string() : it->second;
  };
  std::optional<Hash> expected;
  if (std::string hex = get("blake2b", "blake2b-256"); !hex.empty()) {
    expected = Hash::FromHex(hex);
    if (!expected) {
      Error(app, req, res, 400, "metadata blake2b must be 64 hex digits");
      return true;
    }
  }
  auto info = store->Create(Owner(app, req), *length, get("filename", "name"),
                            get("filetype", "type"), expected);
  if (!info) {
    StoreError(app, req, res, info.error());
    return true;
  }
  res.set_header("Location", "/api/v1/uploads/" + info->id);
  OffsetHeaders(*store, *info, res);
  Answer(app, req, res, InfoJson(*info), 201);
  return true;
}

bool List(App& app, const Request& req, Response& res, bool) {
  UploadStore* store = Uploads(app, req, res);
  if (!store) return true;
  nlohmann::json list = nlohmann::json::array();
  for (const UploadInfo& info : store->List(Owner(app, req))) list.push_back(InfoJson(info));
  Answer(app, req, res, {{"uploads", list}}, 200);
  return true;
}

bool Show(App& app, const Request& req, Response& res, bool) {
  UploadStore* store = Uploads(app, req, res);
  if (!store) return true;
  auto info = store->Get(req.matches[1], Owner(app, req));
  if (!info) {
    StoreError(app, req, res, info.error());
    return true;
  }
  OffsetHeaders(*store, *info, res);
  std::string meta = "filename " + Base64Encode(info->filename);
  res.set_header("Upload-Metadata", meta);
  Answer(app, req, res, InfoJson(*info), 200);
  return true;
}

bool Remove(App& app, const Request& req, Response& res, bool) {
  if (!SpeaksTus(app, req, res)) return true;
  UploadStore* store = Uploads(app, req, res);
  if (!store) return true;
  outpost::Status removed = store->Remove(req.matches[1], Owner(app, req));
  if (!removed.ok()) {
    StoreError(app, req, res, removed);
    return true;
  }
  TusHeaders(res);
  res.status = 204;
  return true;
}

std::unique_ptr<BodySink> Append(App& app, const Request& req, Response& res) {
  if (!SpeaksTus(app, req, res)) return nullptr;
  UploadStore* store = Uploads(app, req, res);
  if (!store) return nullptr;
  if (req.get_header_value("Content-Type") != "application/offset+octet-stream") {
    Error(app, req, res, 415, "send the bytes as Content-Type: application/offset+octet-stream");
    return nullptr;
  }
  auto offset = ParseNumber(req.get_header_value("Upload-Offset"));
  if (!offset) {
    Error(app, req, res, 400, "Upload-Offset must be the byte the request starts at");
    return nullptr;
  }
  std::optional<RequestChecksum> checksum;
  if (req.has_header("Upload-Checksum")) {
    checksum = RequestChecksum::Parse(req.get_header_value("Upload-Checksum"));
    if (!checksum) {
      Error(app, req, res, 400, "Upload-Checksum must be \"sha1 BASE64\" or \"sha256 BASE64\"");
      return nullptr;
    }
  }
  auto transfer = store->Begin(req.matches[1], Owner(app, req), *offset);
  if (!transfer) {
    StoreError(app, req, res, transfer.error());
    return nullptr;
  }
  Request head = req;  // the head only: a streamed request's body is empty
  return std::make_unique<PatchSink>(&app, std::move(head), std::move(*transfer),
                                     std::move(checksum));
}

std::unique_ptr<BodySink> Form(App& app, const Request& req, Response& res) {
  UploadStore* store = Uploads(app, req, res);
  if (!store) return nullptr;
  auto boundary = MultipartParser::BoundaryOf(req.get_header_value("Content-Type"));
  if (!boundary) {
    Error(app, req, res, 400, "send the files as multipart/form-data");
    return nullptr;
  }
  auto length = ParseNumber(req.get_header_value("Content-Length"));
  if (!length) {
    Error(app, req, res, 411, "the form needs a Content-Length");
    return nullptr;
  }
  if (*length > store->limits().max_upload_bytes) {
    Error(app, req, res, 413, "the files are larger than this box takes (" +
                                  std::to_string(store->limits().max_upload_bytes >> 20) +
                                  " MB at most)");
    return nullptr;
  }
  return std::make_unique<FormSink>(&app, req, store, Owner(app, req), *boundary, *length);
}

}  // namespace outpost::upload_routes
