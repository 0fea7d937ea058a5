#include "outpost/content/importer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "outpost/content/exercise.h"
#include "outpost/content/metadata.h"
#include "outpost/content/sniff.h"
#include "outpost/base/file.h"
#include "outpost/base/text.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

constexpr size_t kReadSize = 1 << 20;
constexpr size_t kMaxParsedText = 8 << 20;  // HTML pages and exercises parsed for search

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && MtimeNs(a) == MtimeNs(b) && a.st_ino == b.st_ino &&
         a.st_dev == b.st_dev;
}

// "file2" < "file10": digit runs compare as numbers.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      std::string na = a.substr(i, i2 - i), nb = b.substr(j, j2 - j);
      na.erase(0, std::min(na.find_first_not_of('0'), na.size() - 1));
      nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size() - 1));
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

struct Entry {
  std::string name;   // UTF-8 file name
  std::string rel;    // path relative to the channel root
  fs::path source;    // where to read it
  bool is_dir = false;
  struct stat st {};
  // folders
  FolderMeta meta;
  std::vector<Entry> children;
  // files, after ingest
  bool ingested = false;
  Hash hash;
  KindGuess guess;
  HtmlInfo html;
  std::optional<Exercise> exercise;
};

// Inherited metadata flowing from a topic to everything under it.
struct Inherited {
  std::string language, grade, subject, license, author;
};

std::string Pick(const std::optional<std::string>& a, const std::optional<std::string>& b,
                 const std::string& fallback) {
  if (a) return *a;
  if (b) return *b;
  return fallback;
}

void MarkUnlisted(DraftNode* n) {
  n->listed = false;
  for (auto& c : n->children) MarkUnlisted(&c);
}

bool WantsContent(const KindGuess& g) {
  return g.kind == NodeKind::kHtml || g.kind == NodeKind::kExercise;
}

// What an import learns from a file already in the store: its kind (from its name and first
// bytes) and, for pages and exercises, its first kMaxParsedText bytes to parse. The importer
// uses it for files its cache knows, and FillBodyText for versions that arrive without their
// search text, so that both see exactly the same bytes.
struct StoredFileLook {
  KindGuess guess;
  std::string content;
};

Result<StoredFileLook> LookAtStoredFile(const fs::path& blob, std::string_view name) {
  UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("reading blob " + blob.string(), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("reading blob " + blob.string(), errno);
  StoredFileLook look;
  uint8_t head[kSniffBytes];
  ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
  look.guess = DetectKind(name, {head, static_cast<size_t>(std::max<ssize_t>(n, 0))});
  if (WantsContent(look.guess)) {
    look.content.resize(std::min<size_t>(static_cast<size_t>(st.st_size), kMaxParsedText));
    ssize_t got = ::pread(fd.get(), look.content.data(), look.content.size(), 0);
    look.content.resize(static_cast<size_t>(std::max<ssize_t>(got, 0)));
  }
  return look;
}

class ImportRun {
 public:
  ImportRun(BlobStore* store, Catalog* catalog, const ImportOptions& options)
      : store_(store), catalog_(catalog), options_(options) {}

  Result<ImportReport> Run(const fs::path& folder);

 private:
  // Run's steps, in order (besides Scan, IngestAll and FlushIndex below).
  Status OpenRoot(const fs::path& folder, Entry* root);
  Status RefuseIfProblems() const;
  Result<VersionDraft> Draft(Entry& root);  // takes the files' search texts
  void Report(const VersionDraft& draft, int64_t version);
  void Problem(const std::string& rel, const std::string& message) {
    std::lock_guard lock(mu_);
    problems_.push_back({EscapeInvalidUtf8(rel), message});
  }
  void Scan(Entry* dir, bool is_root);
  void ScanChild(Entry* dir, const fs::path& path, const std::string& raw_name);
  void ListFiles(Entry* dir, std::vector<Entry*>* files);
  Status IngestAll(Entry* root);
  Status IngestFile(Entry* e, uint8_t* buf);
  Status ReadNewFile(Entry* e, uint8_t* buf);
  UniqueFd OpenUnchanged(const Entry& e, struct stat* before);
  Result<std::optional<uint64_t>> CopyToStore(Entry* e, int fd, uint8_t* buf, BlobWriter* writer,
                                              std::string* content);
  bool UnchangedSince(const Entry& e, int fd, const struct stat& before, uint64_t copied);
  bool QueueNewBlob(const Entry& e, const struct stat& before, PendingBlob pending);
  Status InstallQueued();
  void AddBytes(uint64_t n) {
    std::lock_guard lock(mu_);
    progress_.bytes_done += n;
  }
  Status ReadKnownFile(Entry* e, const Hash& hash);
  void Inspect(Entry* e, std::string_view content);
  Status FlushIndex();
  DraftNode BuildTopic(Entry& dir, const EntryMeta& from_parent, const Inherited& up,
                       bool is_root);
  Inherited DescribeTopic(const Entry& dir, const EntryMeta& from_parent, const Inherited& up,
                          bool is_root, DraftNode* topic);
  std::vector<Entry*> OrderChildren(Entry& dir);
  void CheckFileTables(const Entry& dir);
  // Takes the file's search text (moved, not copied: a library's text is held once).
  DraftNode BuildResource(Entry& file, const EntryMeta& meta, const Inherited& up);
  std::optional<Hash> Thumbnail(const std::optional<std::string>& path, const Entry& dir,
                                const std::string& owner);
  void Progress(const std::string& current, bool file_done = false) {
    std::lock_guard lock(mu_);
    if (file_done) progress_.files_done++;
    if (options_.progress) {
      progress_.current = current;
      options_.progress(progress_);
    }
  }

  BlobStore* store_;
  Catalog* catalog_;
  const ImportOptions& options_;
  fs::path root_real_;
  std::vector<std::pair<dev_t, ino_t>> dir_stack_;  // folders being scanned, for loops
  std::map<std::string, const Entry*> by_rel_;      // every file, by relative path
  // Ingest runs on several threads: mu_ guards the problems, progress, batches and counters
  // below; flush_mu_ serializes index flushes.
  std::mutex mu_, flush_mu_;
  std::vector<ImportProblem> problems_;
  std::vector<ImportProblem> fatal_;
  // Files read and closed but not yet durable nor in place, with their import cache rows; the
  // next FlushIndex installs them all with one syncfs (BlobStore::InstallBatch).
  std::vector<PendingBlob> pending_;
  // Installed, waiting for the catalog (guarded by flush_mu_, which FlushIndex holds).
  std::vector<BlobInfo> index_batch_;
  std::vector<std::pair<std::string, CachedFile>> cache_batch_;
  std::vector<std::pair<std::string, CachedFile>> pending_cache_;
  uint64_t pending_bytes_ = 0;
  std::set<Hash> new_this_run_;
  ImportReport report_;
  ImportProgress progress_;
};

void ImportRun::Scan(Entry* dir, bool is_root) {
  dir_stack_.emplace_back(dir->st.st_dev, dir->st.st_ino);
  std::error_code ec;
  fs::directory_iterator it(dir->source, ec), end;
  if (ec) {
    Problem(dir->rel.empty() ? "." : dir->rel, "cannot read this folder: " + ec.message());
    dir_stack_.pop_back();
    return;
  }
  std::vector<std::pair<std::string, fs::path>> names;
  for (; it != end; it.increment(ec)) {
    if (ec) {
      Problem(dir->rel, "cannot list this folder: " + ec.message());
      break;
    }
    names.emplace_back(it->path().filename().string(), it->path());
  }
  std::sort(names.begin(), names.end());
  for (const auto& [name, path] : names) {
    if (name == kMetadataFileName) {
      std::string rel = dir->rel.empty() ? name : dir->rel + "/" + name;
      std::error_code rec;
      std::string text;
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        fatal_.push_back({rel, std::string("cannot read metadata: ") + strerror(errno)});
        continue;
      }
      char buf[65536];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
      ::close(fd);
      auto meta = ParseFolderMeta(text, rel, is_root);
      if (!meta) {
        fatal_.push_back({rel, meta.error().message()});
      } else {
        dir->meta = std::move(*meta);
      }
      continue;
    }
    ScanChild(dir, path, name);
  }
  dir_stack_.pop_back();
}

void ImportRun::ScanChild(Entry* dir, const fs::path& path, const std::string& name) {
  std::string rel = dir->rel.empty() ? name : dir->rel + "/" + name;
  if (name.empty() || name[0] == '.') return;  // hidden files: .git, .DS_Store, editor files
  if (!IsValidUtf8(name)) {
    Problem(rel, "the file name is not valid UTF-8; rename it");
    return;
  }
  Entry e;
  e.name = name;
  e.rel = rel;
  e.source = path;
  struct stat lst;
  if (::lstat(path.c_str(), &lst) != 0) {
    Problem(rel, errno == ENOENT ? "vanished while the folder was being read"
                                 : std::string("cannot read: ") + strerror(errno));
    return;
  }
  if (S_ISLNK(lst.st_mode)) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) {
      Problem(rel, errno == ELOOP ? "symbolic link loop"
                                  : std::string("symbolic link to nothing: ") + strerror(errno));
      return;
    }
    std::string target(resolved), root = root_real_.string();
    if (target != root && target.rfind(root + "/", 0) != 0) {
      Problem(rel, "symbolic link points outside the folder, to " + target);
      return;
    }
    e.source = target;
  }
  if (::stat(e.source.c_str(), &e.st) != 0) {
    Problem(rel, std::string("cannot read: ") + strerror(errno));
    return;
  }
  if (S_ISDIR(e.st.st_mode)) {
    for (const auto& [dev, ino] : dir_stack_) {
      if (dev == e.st.st_dev && ino == e.st.st_ino) {
        Problem(rel, "symbolic link loop: this folder contains itself");
        return;
      }
    }
    e.is_dir = true;
    Scan(&e, false);
  } else if (S_ISREG(e.st.st_mode)) {
    progress_.files_total++;
    progress_.bytes_total += static_cast<uint64_t>(e.st.st_size);
  } else {
    Problem(rel, "not a regular file or folder (a device, socket or pipe)");
    return;
  }
  dir->children.push_back(std::move(e));
}

void ImportRun::Inspect(Entry* e, std::string_view content) {
  if (e->guess.kind == NodeKind::kHtml) {
    e->html = ParseHtml(content);
  } else if (e->guess.kind == NodeKind::kExercise) {
    auto ex = ParseExercise(content, e->rel);
    if (!ex) {
      Problem(e->rel, ex.error().message().substr(e->rel.size() + 2));
      e->ingested = false;
      return;
    }
    e->exercise = *ex;
  } else if (e->guess.kind == NodeKind::kOther && e->guess.mime == "application/zip") {
    if (ZipHasIndexHtml(e->source)) e->guess.kind = NodeKind::kApp;
  }
}

// Opens a file found by the scan, if it is still the file the scan saw; otherwise records the
// problem and returns an invalid fd. `before` is the open file's stat, for the checks after.
UniqueFd ImportRun::OpenUnchanged(const Entry& e, struct stat* before) {
  UniqueFd fd(::open(e.source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    Problem(e.rel, errno == ENOENT ? "vanished during the import"
                                   : std::string("cannot read: ") + strerror(errno));
    return fd;
  }
  ::fstat(fd.get(), before);
  if (!SameFile(*before, e.st)) {
    Problem(e.rel, "changed during the import; import again when it is finished");
    return UniqueFd();
  }
  return fd;
}

// Streams the file into `writer` in one pass: its kind is sniffed from the first bytes, and a
// page or exercise keeps its first kMaxParsedText bytes in `content` for Inspect. Returns the
// bytes copied, or nullopt if a read failed (the problem is recorded).
Result<std::optional<uint64_t>> ImportRun::CopyToStore(Entry* e, int fd, uint8_t* buf,
                                                        BlobWriter* writer, std::string* content) {
  bool first = true, keep = false;
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, kReadSize);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Problem(e->rel, std::string("cannot read: ") + strerror(errno));
      return std::optional<uint64_t>();
    }
    if (n == 0) break;
    std::span<const uint8_t> piece(buf, static_cast<size_t>(n));
    if (first) {
      e->guess = DetectKind(e->name, piece.first(std::min(piece.size(), kSniffBytes)));
      keep = WantsContent(e->guess);
      first = false;
    }
    if (keep && content->size() < kMaxParsedText) {
      content->append(reinterpret_cast<const char*>(piece.data()), piece.size());
    }
    Status st = writer->Append(piece);
    if (!st.ok()) return st.WithContext("importing " + e->rel);
    total += piece.size();
    AddBytes(piece.size());
    if (total % (8 * kReadSize) == 0) Progress(e->rel);
  }
  if (first) e->guess = DetectKind(e->name, {});
  return std::optional<uint64_t>(total);
}

// Whether the file read through `fd` (`copied` bytes) is still the one opened, both through
// the fd and by its path; if not, records the problem, so a half-written file is not imported.
bool ImportRun::UnchangedSince(const Entry& e, int fd, const struct stat& before,
                               uint64_t copied) {
  struct stat after, again;
  ::fstat(fd, &after);
  bool vanished = ::stat(e.source.c_str(), &again) != 0;
  if (vanished) {
    Problem(e.rel, "vanished during the import");
    return false;
  }
  if (!SameFile(before, after) || !SameFile(before, again) ||
      copied != static_cast<uint64_t>(before.st_size)) {
    Problem(e.rel, "changed during the import; import again when it is finished");
    return false;
  }
  return true;
}

// Queues a finished blob for the next FlushIndex, with the file's identity for the import cache
// (so an unchanged file is not read again next time). Returns whether the batch is full.
bool ImportRun::QueueNewBlob(const Entry& e, const struct stat& before, PendingBlob pending) {
  std::lock_guard lock(mu_);
  pending_cache_.push_back({e.source.string(),
                            CachedFile{pending.info.size, MtimeNs(before),
                                       static_cast<uint64_t>(before.st_ino),
                                       static_cast<uint64_t>(before.st_dev), pending.info.hash}});
  pending_bytes_ += pending.info.size;
  pending_.push_back(std::move(pending));
  return pending_.size() >= options_.batch_files || pending_bytes_ >= options_.batch_bytes;
}

// A problem with the file itself (vanished, changed, unreadable) is recorded and skips the
// file; only a failure of the store stops the import.
Status ImportRun::ReadNewFile(Entry* e, uint8_t* buf) {
  struct stat before;
  UniqueFd fd = OpenUnchanged(*e, &before);
  if (!fd.valid()) return Status::Ok();
  auto writer = store_->NewWriter();
  if (!writer) return writer.error().WithContext("importing " + e->rel);
  std::string content;
  auto copied = CopyToStore(e, fd.get(), buf, writer->get(), &content);
  if (!copied) return copied.error();
  if (!*copied || !UnchangedSince(*e, fd.get(), before, **copied)) return Status::Ok();
  // Closed unsynced: FlushIndex makes the whole batch durable with one syncfs.
  auto pending = (*writer)->Finish();
  if (!pending) return pending.error().WithContext("importing " + e->rel);
  e->hash = pending->info.hash;
  e->ingested = true;
  Inspect(e, content);
  if (QueueNewBlob(*e, before, std::move(*pending))) return FlushIndex();
  return Status::Ok();
}

Status ImportRun::ReadKnownFile(Entry* e, const Hash& hash) {
  // The bytes are already in the store; look at them there for kind and page text.
  auto look = LookAtStoredFile(store_->PathOf(hash), e->name);
  if (!look) return look.error();
  e->guess = look->guess;
  e->hash = hash;
  e->ingested = true;
  AddBytes(static_cast<uint64_t>(e->st.st_size));
  Inspect(e, look->content);
  return Status::Ok();
}

Status ImportRun::IngestFile(Entry* e, uint8_t* buf) {
  Progress(e->rel);
  if (!options_.rehash) {
    auto cached = catalog_->CachedImport(e->source.string());
    if (cached && cached->size == static_cast<uint64_t>(e->st.st_size) &&
        cached->mtime_ns == MtimeNs(e->st) && cached->inode == e->st.st_ino &&
        cached->device == e->st.st_dev &&
        store_->Contains(cached->hash) && catalog_->HasBlob(cached->hash)) {
      OUTPOST_RETURN_IF_ERROR(ReadKnownFile(e, cached->hash));
      Progress(e->rel, /*file_done=*/true);
      return Status::Ok();
    }
  }
  OUTPOST_RETURN_IF_ERROR(ReadNewFile(e, buf));
  Progress(e->rel, /*file_done=*/true);
  store_->env()->CrashPoint("import.blob");
  return Status::Ok();
}

void ImportRun::ListFiles(Entry* dir, std::vector<Entry*>* files) {
  for (auto& child : dir->children) {
    if (child.is_dir) {
      ListFiles(&child, files);
    } else {
      files->push_back(&child);
    }
  }
}

// Files are ingested by a few threads at once (each file by one thread): hashing and chunking
// are CPU-bound, a box has several cores, and fsyncs overlap.
Status ImportRun::IngestAll(Entry* root) {
  std::vector<Entry*> files;
  ListFiles(root, &files);
  // Two per core: while one waits for its fsync, the other hashes.
  unsigned workers = options_.threads > 0
                         ? static_cast<unsigned>(options_.threads)
                         : std::clamp(2 * std::thread::hardware_concurrency(), 2u, 8u);
  workers = std::min<unsigned>(workers, std::max<size_t>(files.size(), 1));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  Status first_error;
  std::mutex error_mu;
  auto work = [&] {
    std::unique_ptr<uint8_t[]> buf(new uint8_t[kReadSize]);
    for (size_t i; !failed && (i = next++) < files.size();) {
      Status st = IngestFile(files[i], buf.get());
      if (!st.ok()) {
        std::lock_guard lock(error_mu);
        if (!failed.exchange(true)) first_error = st;
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (failed) return first_error;
  for (Entry* f : files) {
    if (f->ingested) by_rel_[f->rel] = f;
  }
  return Status::Ok();
}

// Installs the queued blobs: one syncfs makes the batch's temp files durable, then each is
// renamed into place (BlobStore::InstallBatch), and counted.
Status ImportRun::InstallQueued() {
  std::vector<PendingBlob> pending;
  std::vector<std::pair<std::string, CachedFile>> cache;
  {
    std::lock_guard lock(mu_);
    pending.swap(pending_);
    cache.swap(pending_cache_);
    pending_bytes_ = 0;
  }
  if (pending.empty()) return Status::Ok();
  size_t count = pending.size();
  auto installed = store_->InstallBatch(std::move(pending));
  if (!installed) {
    return installed.error().WithContext("importing a batch of " + std::to_string(count) +
                                         " files");
  }
  std::lock_guard lock(mu_);
  for (const BlobInfo& info : *installed) {
    report_.files_read++;
    report_.bytes_read += info.size;
    if (!info.existed) new_this_run_.insert(info.hash);
  }
  index_batch_.insert(index_batch_.end(), std::make_move_iterator(installed->begin()),
                      std::make_move_iterator(installed->end()));
  cache_batch_.insert(cache_batch_.end(), cache.begin(), cache.end());
  return Status::Ok();
}

Status ImportRun::FlushIndex() {
  std::lock_guard flush_lock(flush_mu_);
  OUTPOST_RETURN_IF_ERROR(InstallQueued());
  store_->env()->CrashPoint("import.install");
  // Blobs must be durable before the catalog records them anywhere. Every blob in the batch
  // was renamed into place before it joined the batch, so this sync covers it.
  Status synced = store_->SyncDirs();
  if (!synced.ok()) return synced.WithContext("importing a batch of files");
  OUTPOST_RETURN_IF_ERROR(catalog_->RecordBlobs(index_batch_));
  OUTPOST_RETURN_IF_ERROR(catalog_->RememberImports(cache_batch_));
  index_batch_.clear();
  cache_batch_.clear();
  store_->env()->CrashPoint("import.index");
  return Status::Ok();
}

// Resolves a metadata thumbnail path, relative to the folder `dir`, to a file of the import.
std::optional<Hash> ImportRun::Thumbnail(const std::optional<std::string>& path,
                                         const Entry& dir, const std::string& owner) {
  if (!path) return std::nullopt;
  fs::path joined = (fs::path(dir.rel) / *path).lexically_normal();
  std::string rel = joined.generic_string();
  auto it = by_rel_.find(rel);
  if (rel.starts_with("..") || joined.is_absolute() || it == by_rel_.end()) {
    Problem(owner, "thumbnail \"" + *path + "\" is not a file of this folder");
    return std::nullopt;
  }
  return it->second->hash;
}

DraftNode ImportRun::BuildResource(Entry& f, const EntryMeta& m, const Inherited& up) {
  DraftNode n;
  n.path = f.rel;
  n.kind = f.guess.kind;
  if (m.kind) n.kind = *KindFromName(*m.kind);
  n.listed = !f.guess.asset && !m.hidden.value_or(false);
  if (m.hidden && !*m.hidden) n.listed = true;
  n.mime = f.guess.mime;
  n.blob = f.hash;
  n.size = static_cast<uint64_t>(f.st.st_size);
  std::string title = ReadableTitle(f.name);
  std::string language = up.language;
  if (!f.html.title.empty()) title = f.html.title;
  if (!f.html.language.empty()) language = f.html.language;
  if (f.exercise && !f.exercise->title.empty()) title = f.exercise->title;
  if (f.exercise && !f.exercise->language.empty()) language = f.exercise->language;
  n.meta.title = m.title.value_or(title);
  n.meta.description = m.description.value_or("");
  n.meta.language = m.language.value_or(language);
  n.meta.grade = m.grade.value_or(up.grade);
  n.meta.subject = m.subject.value_or(up.subject);
  n.meta.license = m.license.value_or(up.license);
  n.meta.author = m.author.value_or(up.author);
  // FillBodyText (BodyTextOf) gives the same text from the stored file: keep them in step.
  n.body_text = f.exercise ? f.exercise->SearchText() : std::move(f.html.text);
  return n;
}

// A topic's metadata: its own [topic] table first, then its parent's [files."name"] table, then
// what it inherits (the root inherits [channel] first). Returns what its children inherit.
Inherited ImportRun::DescribeTopic(const Entry& dir, const EntryMeta& pm, const Inherited& up,
                                   bool is_root, DraftNode* n) {
  const FolderMeta& fm = dir.meta;
  const EntryMeta& t = fm.topic;
  std::string fallback_title = ReadableTitle(dir.name, /*strip_extension=*/false);
  if (is_root) fallback_title = fm.channel.title.value_or(fallback_title);
  n->meta.title = Pick(t.title, pm.title, fallback_title);
  n->meta.description = Pick(t.description, pm.description, "");
  Inherited here;
  here.language = Pick(t.language, pm.language,
                       is_root ? fm.channel.language.value_or(up.language) : up.language);
  here.grade = Pick(t.grade, pm.grade, up.grade);
  here.subject = Pick(t.subject, pm.subject, up.subject);
  here.license = Pick(t.license, pm.license,
                      is_root ? fm.channel.license.value_or(up.license) : up.license);
  here.author = Pick(t.author, pm.author,
                     is_root ? fm.channel.author.value_or(up.author) : up.author);
  n->meta.language = here.language;
  n->meta.grade = here.grade;
  n->meta.subject = here.subject;
  n->meta.license = here.license;
  n->meta.author = here.author;
  n->thumbnail = Thumbnail(t.thumbnail ? t.thumbnail : pm.thumbnail, dir, dir.rel);
  return here;
}

// The folder's metadata file, as problems name it.
std::string MetadataPathOf(const Entry& dir) {
  return dir.rel.empty() ? kMetadataFileName : dir.rel + "/" + kMetadataFileName;
}

// The children a topic lists (folders and the files ingested): the metadata's "order" first,
// then the rest in natural order of names.
std::vector<Entry*> ImportRun::OrderChildren(Entry& dir) {
  std::vector<Entry*> kids;
  for (auto& c : dir.children) {
    if (c.is_dir || c.ingested) kids.push_back(&c);
  }
  std::sort(kids.begin(), kids.end(),
            [](const Entry* a, const Entry* b) { return NaturalLess(a->name, b->name); });
  std::vector<Entry*> ordered;
  for (const auto& name : dir.meta.order) {
    auto it =
        std::find_if(kids.begin(), kids.end(), [&](const Entry* e) { return e->name == name; });
    if (it == kids.end()) {
      Problem(MetadataPathOf(dir), "\"order\" names \"" + name + "\", which is not in this folder");
      continue;
    }
    ordered.push_back(*it);
    kids.erase(it);
  }
  ordered.insert(ordered.end(), kids.begin(), kids.end());
  return ordered;
}

// A [files."name"] table for a name not in the folder is most likely a typo: say so, or the
// metadata would be silently ignored.
void ImportRun::CheckFileTables(const Entry& dir) {
  for (const auto& entry : dir.meta.files) {
    const std::string& name = entry.first;
    bool found = std::any_of(dir.children.begin(), dir.children.end(),
                             [&](const Entry& e) { return e.name == name; });
    if (!found) {
      Problem(MetadataPathOf(dir),
              "[files.\"" + name + "\"] names a file that is not in this folder");
    }
  }
}

DraftNode ImportRun::BuildTopic(Entry& dir, const EntryMeta& pm, const Inherited& up,
                                bool is_root) {
  DraftNode n;
  n.path = dir.rel;
  n.kind = NodeKind::kTopic;
  Inherited here = DescribeTopic(dir, pm, up, is_root, &n);
  std::vector<Entry*> ordered = OrderChildren(dir);
  CheckFileTables(dir);
  static const EntryMeta kNone;
  for (Entry* c : ordered) {
    auto it = dir.meta.files.find(c->name);
    const EntryMeta& cm = it == dir.meta.files.end() ? kNone : it->second;
    if (c->is_dir) {
      n.children.push_back(BuildTopic(*c, cm, here, false));
      // A hidden folder (style sheets, images used by pages) is served but not listed.
      if (cm.hidden.value_or(false)) MarkUnlisted(&n.children.back());
    } else {
      n.children.push_back(BuildResource(*c, cm, here));
      n.children.back().thumbnail = Thumbnail(cm.thumbnail, dir, c->rel);
    }
  }
  return n;
}

int64_t CountNodes(const DraftNode& n, bool topics) {
  int64_t count = (n.kind == NodeKind::kTopic) == topics ? 1 : 0;
  for (const auto& c : n.children) count += CountNodes(c, topics);
  return count;
}

std::string ListProblems(const std::vector<ImportProblem>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p.path + ": " + p.message;
  return out;
}

Result<ImportReport> ImportRun::Run(const fs::path& folder) {
  auto start = std::chrono::steady_clock::now();
  Entry root;
  OUTPOST_RETURN_IF_ERROR(OpenRoot(folder, &root));
  auto lock = store_->LockShared();  // gc must not remove what we write before we commit
  if (!lock) return lock.error();

  Scan(&root, true);
  if (!fatal_.empty()) return InvalidArgument("the metadata is broken:" + ListProblems(fatal_));
  OUTPOST_RETURN_IF_ERROR(RefuseIfProblems());
  OUTPOST_RETURN_IF_ERROR(IngestAll(&root));
  OUTPOST_RETURN_IF_ERROR(FlushIndex());
  std::sort(problems_.begin(), problems_.end(),
            [](const ImportProblem& a, const ImportProblem& b) { return a.path < b.path; });

  auto draft = Draft(root);
  if (!draft) return draft.error();
  OUTPOST_RETURN_IF_ERROR(RefuseIfProblems());  // building the tree may have found more

  store_->env()->CrashPoint("import.commit");
  auto version = catalog_->CommitVersion(*draft);
  if (!version) return version.error().WithContext("recording the new version");
  store_->env()->CrashPoint("import.done");

  Report(*draft, *version);
  report_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report_;
}

// Checks the options and that `folder` is one; `root` becomes its entry.
Status ImportRun::OpenRoot(const fs::path& folder, Entry* root) {
  if (!options_.channel_id.empty() && !IsValidChannelId(options_.channel_id)) {
    return InvalidArgument("channel id \"" + options_.channel_id +
                           "\" must be 1 to 64 characters of a-z, 0-9 and '-', not starting "
                           "with '-'");
  }
  char resolved[PATH_MAX];
  if (!::realpath(folder.c_str(), resolved)) {
    return ErrnoStatus("cannot open the folder " + folder.string(), errno);
  }
  root_real_ = resolved;
  root->source = root_real_;
  root->name = root_real_.filename().string();
  if (::stat(resolved, &root->st) != 0 || !S_ISDIR(root->st.st_mode)) {
    return InvalidArgument(folder.string() + " is not a folder");
  }
  return Status::Ok();
}

// Without --skip-errors, a folder with problems imports nothing.
Status ImportRun::RefuseIfProblems() const {
  if (problems_.empty() || options_.skip_errors) return Status::Ok();
  return InvalidArgument("the folder has problems; nothing was imported:" +
                         ListProblems(problems_) +
                         "\n(fix them, or import with --skip-errors to leave these files out)");
}

// The version to commit: the channel id (checked by options_.check_channel), the tree, and the
// channel's metadata, taken from [channel] or else from the root topic.
Result<VersionDraft> ImportRun::Draft(Entry& root) {
  VersionDraft draft;
  std::string id = options_.channel_id;
  if (id.empty()) id = root.meta.channel_id.value_or(ChannelIdFromName(root.name));
  if (!IsValidChannelId(id)) {
    return InvalidArgument("cannot make a channel id from the folder name \"" + root.name +
                           "\"; set [channel] id in " + kMetadataFileName + " or use --channel");
  }
  if (options_.check_channel) OUTPOST_RETURN_IF_ERROR(options_.check_channel(id));
  draft.channel_id = id;
  draft.source = root_real_.string();
  draft.root = BuildTopic(root, EntryMeta{}, Inherited{}, true);
  const EntryMeta& cm = root.meta.channel;
  draft.meta.title = cm.title.value_or(draft.root.meta.title);
  draft.meta.description = cm.description.value_or(draft.root.meta.description);
  draft.meta.language = cm.language.value_or(draft.root.meta.language);
  draft.meta.license = cm.license.value_or(draft.root.meta.license);
  draft.meta.author = cm.author.value_or(draft.root.meta.author);
  draft.thumbnail = Thumbnail(cm.thumbnail, root, kMetadataFileName);
  if (!draft.thumbnail) draft.thumbnail = draft.root.thumbnail;
  draft.labels = root.meta.labels;
  return draft;
}

// Counts what was committed: files, topics, bytes, and blobs new to the store or reused.
void ImportRun::Report(const VersionDraft& draft, int64_t version) {
  report_.channel_id = draft.channel_id;
  report_.version = version;
  report_.files = CountNodes(draft.root, false);
  report_.topics = CountNodes(draft.root, true);
  report_.skipped = problems_;
  std::set<Hash> all;
  for (const auto& [rel, e] : by_rel_) {
    report_.bytes += static_cast<uint64_t>(e->st.st_size);
    all.insert(e->hash);
  }
  for (const auto& h : all) {
    if (new_this_run_.count(h)) {
      report_.new_blobs++;
      report_.new_bytes += static_cast<uint64_t>(fs::file_size(store_->PathOf(h)));
    } else {
      report_.reused_blobs++;
    }
  }
}

}  // namespace

Result<ImportReport> Importer::Import(const fs::path& folder, const ImportOptions& options) {
  ImportRun run(store_, catalog_, options);
  return run.Run(folder);
}

namespace {

// The search text the importer gives a file (BuildResource): a page's visible text, an
// exercise's questions and answers, nothing for other kinds. An exercise that does not parse
// gets none (an import would have refused it or, with --skip-errors, left it out).
std::string BodyTextOf(const StoredFileLook& look, const std::string& rel) {
  if (look.guess.kind == NodeKind::kHtml) return ParseHtml(look.content).text;
  if (look.guess.kind == NodeKind::kExercise) {
    auto exercise = ParseExercise(look.content, rel);
    return exercise ? exercise->SearchText() : std::string();
  }
  return {};
}

void CollectFiles(DraftNode* n, std::vector<DraftNode*>* out) {
  if (n->blob) out->push_back(n);
  for (auto& child : n->children) CollectFiles(&child, out);
}

}  // namespace

// Reading a version's pages for their text takes a second or more for thousands of pages, and
// each file is independent: two threads share the list.
Status FillBodyText(VersionDraft* draft, BlobStore* store) {
  std::vector<DraftNode*> files;
  CollectFiles(&draft->root, &files);
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status failure;
  auto work = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      DraftNode* n = files[i];
      size_t slash = n->path.rfind('/');
      std::string name = slash == std::string::npos ? n->path : n->path.substr(slash + 1);
      auto look = LookAtStoredFile(store->PathOf(*n->blob), name);
      if (!look) {
        std::lock_guard lock(mu);
        if (failure.ok()) failure = look.error().WithContext("search text of " + EscapeInvalidUtf8(n->path));
        next = files.size();
        return;
      }
      n->body_text = BodyTextOf(*look, n->path);
    }
  };
  std::thread helper(work);
  work();
  helper.join();
  return failure;
}

namespace {

// A stored file's title and language, from its page or exercise; empty where it says none.
Status ReadTitle(const StoredFileLook& look, const std::string& path, DraftNode* n) {
  if (look.guess.kind == NodeKind::kHtml) {
    HtmlInfo html = ParseHtml(look.content);
    n->meta.title = std::move(html.title);
    n->meta.language = std::move(html.language);
    n->body_text = std::move(html.text);
  } else if (look.guess.kind == NodeKind::kExercise) {
    auto exercise = ParseExercise(look.content, path);
    if (!exercise) return InvalidArgument(exercise.error().message());
    n->meta.title = exercise->title;
    n->meta.language = exercise->language;
    n->body_text = exercise->SearchText();
  }
  return Status::Ok();
}

}  // namespace

Result<DraftNode> DescribeFile(const fs::path& file, const std::string& path) {
  std::error_code ec;
  uint64_t size = fs::file_size(file, ec);
  if (ec) return ErrnoStatus("reading " + file.string(), ec.value());
  size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto look = LookAtStoredFile(file, name);
  if (!look) return look.error();
  DraftNode n;
  n.path = path;
  n.kind = look->guess.kind;
  if (n.kind == NodeKind::kOther && look->guess.mime == "application/zip" && ZipHasIndexHtml(file)) {
    n.kind = NodeKind::kApp;
  }
  n.listed = !look->guess.asset;
  n.mime = look->guess.mime;
  n.size = size;
  OUTPOST_RETURN_IF_ERROR(ReadTitle(*look, path, &n));
  if (n.meta.title.empty()) n.meta.title = ReadableTitle(name);
  return n;
}

}  // namespace outpost
