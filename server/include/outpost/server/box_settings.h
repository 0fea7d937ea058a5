// BoxSettings: what a coordinator chooses for the learners of this box on /admin/channels
// (docs/console.md): which channels are hidden from them, and the box's default interface
// language (what a learner gets whose browser asks for no language the box has, or for none).
//
// Kept in DATA/box-settings.json, replaced whole (temp file, fsync, rename: WriteFileAtomically)
// on every change, and read once at start (decision "box settings in a file"). Learner routes
// read the settings on every request, so they are held in memory as an immutable snapshot that
// a change replaces: a read is one atomic shared_ptr load, never a file or database access.
//
// The file, as written (at most kMaxSettingsBytes; unknown fields are ignored):
//   {"hidden_channels": ["old-maths"], "default_language": "ar"}
// A file that cannot be read as that (damaged, too long) is logged and the defaults are used:
// nothing hidden, English; the next change writes a good file.
//
// Thread-safety: thread-safe. Changes are serialized; a reader sees the old snapshot or the
// new one, whole. epoch() grows with each change, so a cache of pages made under the settings
// (the page cache) can key on it.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "outpost/base/env.h"
#include "outpost/base/status.h"

namespace outpost {

inline constexpr size_t kMaxSettingsBytes = 64 * 1024;
inline constexpr size_t kMaxHiddenChannels = 1000;

struct BoxSettingsData {
  std::set<std::string> hidden_channels;  // channel ids
  std::string default_language = "en";   // an interface language the box has
  bool Hidden(const std::string& channel_id) const {
    return !hidden_channels.empty() && hidden_channels.contains(channel_id);
  }
};

// The file's JSON, and back: nullopt for text that is not a settings file (not JSON, wrong
// types, a channel id that is not one, more than kMaxHiddenChannels).
std::string EncodeBoxSettings(const BoxSettingsData& data);
std::optional<BoxSettingsData> DecodeBoxSettings(std::string_view text);

class BoxSettings {
 public:
  // Reads `path` if it exists (see above for a bad file); never fails. `env` writes changes.
  BoxSettings(std::filesystem::path path, Env* env = Env::Default());

  std::shared_ptr<const BoxSettingsData> Current() const { return std::atomic_load(&current_); }
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

  // Hides or shows `channel_id` for learners; durable when it returns ok. On an error nothing
  // changes, in memory or on disk.
  Status SetHidden(const std::string& channel_id, bool hidden);
  // `code` must be a language the caller checked the box has.
  Status SetDefaultLanguage(const std::string& code);

 private:
  Status Replace(BoxSettingsData next);

  std::filesystem::path path_;
  Env* env_;
  std::mutex write_mu_;
  std::shared_ptr<const BoxSettingsData> current_;
  std::atomic<uint64_t> epoch_{1};
};

}  // namespace outpost
