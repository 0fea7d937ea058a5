// Small blobs held in memory (hot_files.h).
#include "hot_files.h"

#include <unistd.h>

#include <cerrno>

namespace outpost {

namespace {

constexpr size_t kOverhead = 256;  // map node, list node, control block, strings' headers

// Reads exactly `size` bytes of `file` into a string; Corrupt if the file is shorter.
Result<std::string> ReadWhole(const OpenFile& file, const Hash& hash) {
  std::string bytes(file.size(), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t got = ::pread(file.fd(), bytes.data() + done, bytes.size() - done,
                          static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("reading blob " + hash.Hex(), errno);
    if (got == 0) return Corrupt("blob " + hash.Hex() + " is shorter than it was");
    done += static_cast<size_t>(got);
  }
  return bytes;
}

}  // namespace

HotFiles::Lookup HotFiles::Find(const Hash& hash) {
  std::lock_guard lock(mu_);
  auto it = held_.find(hash);
  if (it != held_.end()) {
    uses_.splice(uses_.begin(), uses_, it->second.use);
    return {State::kHot, it->second.file};
  }
  if (cold_.contains(hash)) return {State::kCold, nullptr};
  return {};
}

Result<std::shared_ptr<const HotFile>> HotFiles::Load(const Hash& hash,
                                                      const std::filesystem::path& path,
                                                      std::string_view mime) {
  auto file = OpenFile::Open(path);
  if (!file) return ErrnoStatus("opening blob " + hash.Hex(), errno);
  if (file->size() > kMaxFileBytes) {  // checked before anything is allocated
    std::lock_guard lock(mu_);
    MarkCold(hash);
    return std::shared_ptr<const HotFile>();
  }
  auto bytes = ReadWhole(*file, hash);
  if (!bytes) return bytes.error();
  auto hot = std::make_shared<HotFile>();
  hot->tag = hash.Hex();
  if (Hash::Of(*bytes) != hash) {
    return Corrupt("blob " + hot->tag + " is damaged: its bytes do not match its hash");
  }
  hot->bytes = std::move(*bytes);
  hot->variants = CompressedVariants::Make(hot->bytes, mime, options_);
  std::lock_guard lock(mu_);
  Keep(hash, hot);
  return std::shared_ptr<const HotFile>(std::move(hot));
}

size_t HotFiles::CostOf(const HotFile& file) {
  size_t cost = file.bytes.size() + file.tag.size() + kOverhead;
  for (auto encoding : {ContentEncoding::kGzip, ContentEncoding::kZstd}) {
    if (const std::string* v = file.variants.Get(encoding)) cost += v->size();
  }
  return cost;
}

void HotFiles::Keep(const Hash& hash, std::shared_ptr<const HotFile> file) {
  size_t cost = CostOf(*file);
  if (cost > max_bytes_) return;
  if (auto it = held_.find(hash); it != held_.end()) {  // another worker took it in first
    uses_.splice(uses_.begin(), uses_, it->second.use);
    return;
  }
  while (bytes_ + cost > max_bytes_ && !uses_.empty()) {
    auto oldest = held_.find(uses_.back());
    bytes_ -= oldest->second.cost;
    held_.erase(oldest);
    uses_.pop_back();
  }
  uses_.push_front(hash);
  held_.emplace(hash, Held{std::move(file), cost, uses_.begin()});
  bytes_ += cost;
}

void HotFiles::MarkCold(const Hash& hash) {
  if (cold_.size() >= kMaxColdHashes) cold_.clear();  // forgotten ones are looked at again
  cold_.insert(hash);
}

size_t HotFiles::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t HotFiles::files() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

}  // namespace outpost
