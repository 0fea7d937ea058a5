// The coordinator's settings for learners, in DATA/box-settings.json (box_settings.h).
#include "outpost/server/box_settings.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "outpost/base/file.h"
#include "outpost/base/text.h"

namespace outpost {

namespace {

// An interface language code as I18n names them: "en", "ar", "pt-br".
bool PlausibleLanguage(const std::string& code) {
  if (code.empty() || code.size() > 16) return false;
  for (char c : code) {
    if (!((c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

}  // namespace

std::string EncodeBoxSettings(const BoxSettingsData& data) {
  nlohmann::json out = {{"hidden_channels", data.hidden_channels},
                        {"default_language", data.default_language}};
  return out.dump(1) + "\n";
}

std::optional<BoxSettingsData> DecodeBoxSettings(std::string_view text) {
  if (text.size() > kMaxSettingsBytes) return std::nullopt;
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  BoxSettingsData data;
  if (json.contains("hidden_channels")) {
    const auto& hidden = json["hidden_channels"];
    if (!hidden.is_array() || hidden.size() > kMaxHiddenChannels) return std::nullopt;
    for (const auto& id : hidden) {
      if (!id.is_string() || !IsValidChannelId(id.get<std::string>())) return std::nullopt;
      data.hidden_channels.insert(id.get<std::string>());
    }
  }
  if (json.contains("default_language")) {
    const auto& code = json["default_language"];
    if (!code.is_string() || !PlausibleLanguage(code.get<std::string>())) return std::nullopt;
    data.default_language = code.get<std::string>();
  }
  return data;
}

BoxSettings::BoxSettings(std::filesystem::path path, Env* env)
    : path_(std::move(path)), env_(env), current_(std::make_shared<const BoxSettingsData>()) {
  auto text = ReadWholeFile(path_, kMaxSettingsBytes);
  if (!text) {
    if (text.error().code() != StatusCode::kNotFound) {
      spdlog::error("box settings: {}; using the defaults", text.error().message());
    }
    return;
  }
  auto data = DecodeBoxSettings(*text);
  if (!data) {
    spdlog::error("box settings: {} is not a settings file; using the defaults", path_.string());
    return;
  }
  current_ = std::make_shared<const BoxSettingsData>(std::move(*data));
}

Status BoxSettings::SetHidden(const std::string& channel_id, bool hidden) {
  if (!IsValidChannelId(channel_id)) return InvalidArgument("not a channel id: " + channel_id);
  std::lock_guard lock(write_mu_);
  BoxSettingsData next = *Current();
  if (hidden && next.hidden_channels.size() >= kMaxHiddenChannels) {
    return InvalidArgument("too many hidden channels");
  }
  if (hidden) {
    next.hidden_channels.insert(channel_id);
  } else {
    next.hidden_channels.erase(channel_id);
  }
  return Replace(std::move(next));
}

Status BoxSettings::SetDefaultLanguage(const std::string& code) {
  if (!PlausibleLanguage(code)) return InvalidArgument("not a language code: " + code);
  std::lock_guard lock(write_mu_);
  BoxSettingsData next = *Current();
  next.default_language = code;
  return Replace(std::move(next));
}

// Under write_mu_: on disk first, then in memory, then the epoch (a page made from the old
// snapshot is never kept under the new epoch: its key was taken before).
Status BoxSettings::Replace(BoxSettingsData next) {
  OUTPOST_RETURN_IF_ERROR(WriteFileAtomically(env_, path_, EncodeBoxSettings(next)));
  std::atomic_store(&current_, std::make_shared<const BoxSettingsData>(std::move(next)));
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

}  // namespace outpost
