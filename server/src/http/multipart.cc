#include "multipart.h"

#include <strings.h>

#include <vector>

namespace outpost::http {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The parameters after the first ';' of a header value: key=token or key="quoted", keys
// lowercased. A backslash in a quoted string takes the next character as it is.
std::optional<std::vector<std::pair<std::string, std::string>>> Params(std::string_view v) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = v.find(';');
  while (i != std::string_view::npos && i < v.size()) {
    ++i;  // past ';'
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    size_t eq = v.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string key(Trim(v.substr(i, eq - i)));
    for (char& c : key) c = static_cast<char>(::tolower(static_cast<unsigned char>(c)));
    i = eq + 1;
    std::string value;
    if (i < v.size() && v[i] == '"') {
      ++i;
      bool closed = false;
      for (; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) {
          value += v[++i];
        } else if (v[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          value += v[i];
        }
      }
      if (!closed) return std::nullopt;
      i = v.find(';', i);
    } else {
      size_t end = v.find(';', i);
      value = std::string(Trim(v.substr(i, end == std::string_view::npos ? v.npos : end - i)));
      i = end;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace

std::optional<std::string> MultipartParser::BoundaryOf(std::string_view content_type) {
  std::string_view type = Trim(content_type.substr(0, content_type.find(';')));
  if (!IEquals(type, "multipart/form-data")) return std::nullopt;
  auto params = Params(content_type);
  if (!params) return std::nullopt;
  for (const auto& [key, value] : *params) {
    if (key != "boundary") continue;
    if (value.empty() || value.size() > kMaxBoundary) return std::nullopt;
    for (unsigned char c : value) {
      if (c < 0x20 || c > 0x7e) return std::nullopt;
    }
    return value;
  }
  return std::nullopt;
}

MultipartParser::MultipartParser(const std::string& boundary, MultipartHandler* handler)
    : delimiter_("\r\n--" + boundary), handler_(handler), pending_("\r\n") {}

Status MultipartParser::Fail(Status s) {
  state_ = State::kFailed;
  pending_.clear();
  return s;
}

Status MultipartParser::Feed(std::span<const uint8_t> data) {
  if (state_ == State::kFailed) return InvalidArgument("the form was refused already");
  if (state_ == State::kEpilogue) return Status::Ok();  // after the closing boundary: ignored
  pending_.append(reinterpret_cast<const char*>(data.data()), data.size());
  for (bool progressed = true; progressed;) {
    progressed = false;
    Status s = Step(&progressed);
    if (!s.ok()) return Fail(std::move(s));
  }
  return Status::Ok();
}

Status MultipartParser::Step(bool* progressed) {
  std::string_view p = pending_;
  size_t keep = delimiter_.size() - 1;  // a delimiter may start in these and end in the next piece
  switch (state_) {
    case State::kPreamble: {
      size_t at = p.find(delimiter_);
      if (at == std::string_view::npos) {
        if (p.size() > keep) pending_.erase(0, p.size() - keep);
        return Status::Ok();
      }
      pending_.erase(0, at + delimiter_.size());
      state_ = State::kAfterDelimiter;
      *progressed = true;
      return Status::Ok();
    }
    case State::kAfterDelimiter: {
      if (p.size() < 2) return Status::Ok();
      if (p.starts_with("--")) {
        state_ = State::kEpilogue;
        pending_.clear();
        return Status::Ok();
      }
      if (!p.starts_with("\r\n")) return InvalidArgument("a form boundary is not followed by a line end");
      pending_.erase(0, 2);
      state_ = State::kHeaders;
      *progressed = true;
      return Status::Ok();
    }
    case State::kHeaders: {
      size_t end = p.starts_with("\r\n") ? 0 : p.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        // Past this, the block's end (4 bytes) could no longer fall within the maximum.
        if (p.size() > kMaxHeaderBytes + 3) {
          return InvalidArgument("a form part's headers are too long");
        }
        return Status::Ok();
      }
      if (end > kMaxHeaderBytes) return InvalidArgument("a form part's headers are too long");
      if (++parts_ > kMaxParts) return InvalidArgument("the form has too many parts");
      OUTPOST_RETURN_IF_ERROR(ParseHeaders(p.substr(0, end)));
      pending_.erase(0, end == 0 ? 2 : end + 4);
      state_ = State::kData;
      *progressed = true;
      return Status::Ok();
    }
    case State::kData: {
      size_t at = p.find(delimiter_);
      if (at == std::string_view::npos) {
        if (p.size() > keep) {
          size_t give = p.size() - keep;
          OUTPOST_RETURN_IF_ERROR(handler_->OnPartData(
              {reinterpret_cast<const uint8_t*>(p.data()), give}));
          pending_.erase(0, give);
        }
        return Status::Ok();
      }
      if (at > 0) {
        OUTPOST_RETURN_IF_ERROR(handler_->OnPartData({reinterpret_cast<const uint8_t*>(p.data()), at}));
      }
      OUTPOST_RETURN_IF_ERROR(handler_->OnPartEnd());
      pending_.erase(0, at + delimiter_.size());
      state_ = State::kAfterDelimiter;
      *progressed = true;
      return Status::Ok();
    }
    case State::kEpilogue:
    case State::kFailed:
      return Status::Ok();
  }
  return Status::Ok();
}

Status MultipartParser::ParseHeaders(std::string_view block) {
  FormPart part;
  bool disposition = false;
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return InvalidArgument("a form part's header has no ':'");
    std::string_view name = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (IEquals(name, "Content-Type")) {
      part.content_type = std::string(value);
    } else if (IEquals(name, "Content-Disposition")) {
      if (!IEquals(Trim(value.substr(0, value.find(';'))), "form-data")) {
        return InvalidArgument("a form part is not form-data");
      }
      auto params = Params(value);
      if (!params) return InvalidArgument("a form part's Content-Disposition does not parse");
      for (auto& [key, v] : *params) {
        if (key == "name") part.name = std::move(v);
        if (key == "filename") part.filename = std::move(v);
      }
      disposition = true;
    }
  }
  if (!disposition || part.name.empty()) {
    return InvalidArgument("a form part has no Content-Disposition name");
  }
  return handler_->OnPartBegin(part);
}

Status MultipartParser::Finish() {
  if (state_ == State::kEpilogue) return Status::Ok();
  if (state_ == State::kFailed) return InvalidArgument("the form was refused");
  return Fail(InvalidArgument("the form ended before its closing boundary: was it cut off?"));
}

}  // namespace outpost::http
