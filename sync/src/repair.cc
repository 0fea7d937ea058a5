// RepairCatalog (outpost/sync/repair.h). The order is the point: blobs are checked first, so
// that a version is judged whole only by bytes that hash right; the new catalog is built beside
// the old one and switched in by one rename, so that a repair stopped at any step leaves the old
// catalog as it was.
#include "outpost/sync/repair.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>
#include <optional>

#include "assembly.h"
#include "outpost/base/env.h"
#include "outpost/base/file.h"
#include "outpost/content/catalog.h"
#include "outpost/content/chunker.h"
#include "outpost/content/importer.h"
#include "outpost/content/maintenance.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"

namespace outpost {

namespace fs = std::filesystem;
using sync::AcceptedVersion;

namespace {

// Who may have signed what this node serves: the held trust list (a site's hub, a hub's own
// root), this node's key (a site's own channels), and at a hub the site owning a channel.
struct Signers {
  TrustList trust;
  std::optional<PublicKey> self;
  std::unique_ptr<SyncDb> db;  // null on a node that never joined nor became a hub
};

Signers LoadSigners(const NodePaths& paths) {
  Signers s;
  std::error_code ec;
  if (fs::exists(paths.node_key, ec)) {
    if (auto id = LoadIdentity(paths.node_key)) s.self = id->public_key();
  }
  if (!fs::exists(paths.sync_db, ec)) return s;
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) return s;
  s.db = std::move(*db);
  std::optional<PublicKey> root = s.db->OwnRoot();
  if (!root) {
    if (auto pin = s.db->Hub()) root = pin->root_key;
  }
  if (root) {
    if (auto list = LoadTrustList(paths, *root)) s.trust = std::move(*list);
  }
  return s;
}

// The envelope's manifest if one of `signers` may sign its channel; the error otherwise.
Result<Manifest> VerifyEnvelope(const Signers& signers, const std::string& channel,
                                std::string_view envelope) {
  auto manifest = VerifySignedManifest(envelope, signers.trust);
  if (manifest) return manifest;
  std::vector<PublicKey> own;
  if (signers.self) own.push_back(*signers.self);
  if (signers.db) {
    if (auto owner = signers.db->ChannelOwner(channel)) own.push_back(*owner);
  }
  for (const PublicKey& key : own) {
    TrustList only{key, 1, {{key, {channel}, KeyState::kActive}}};
    if (auto mine = VerifySignedManifest(envelope, only)) return mine;
  }
  return manifest.error();
}

// The blobs of `manifest` the store lacks.
std::vector<Hash> MissingBlobs(const BlobStore& store, const Manifest& manifest) {
  std::vector<Hash> missing;
  for (const BlobRef& blob : manifest.Blobs()) {
    if (!store.Contains(blob.hash)) missing.push_back(blob.hash);
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  return missing;
}

// The kept envelopes of one channel, newest version first.
std::vector<std::pair<int64_t, fs::path>> KeptVersions(const fs::path& dir) {
  std::vector<std::pair<int64_t, fs::path>> versions;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (e.path().extension() != ".opsm") continue;
    char* end = nullptr;
    long long v = std::strtoll(name.c_str(), &end, 10);
    if (v > 0 && std::string_view(end) == ".opsm") versions.emplace_back(v, e.path());
  }
  std::sort(versions.rbegin(), versions.rend());
  return versions;
}

// Step 2 for one channel: the newest whole version to serve (if any), and what the newer
// verified ones lack.
std::optional<AcceptedVersion> ChooseVersion(const BlobStore& store, const Signers& signers,
                                             const std::string& channel, const fs::path& dir,
                                             RepairReport* report) {
  std::optional<NeedsHub> lacking;
  for (const auto& [version, path] : KeptVersions(dir)) {
    auto envelope = ReadWholeFile(path, kMaxManifestBytes + (1u << 16));
    auto manifest = envelope ? VerifyEnvelope(signers, channel, *envelope)
                             : Result<Manifest>(envelope.error());
    if (!manifest && manifest.error().code() == StatusCode::kInvalidArgument) {
      // Signed, but by a key no longer trusted for the channel: a version withdrawn by a
      // revocation, not damage.
      report->skipped.push_back(path.string() + ": " + manifest.error().message());
      continue;
    }
    if (!manifest || manifest->channel_id != channel ||
        manifest->version != static_cast<uint64_t>(version)) {
      report->problems.push_back(path.string() + ": not used: " +
                                 (manifest ? "it names another version" : manifest.error().message()));
      continue;
    }
    auto missing = MissingBlobs(store, *manifest);
    if (missing.empty()) {
      if (lacking) report->needs_hub.push_back({channel, lacking->version, version, lacking->blobs});
      return AcceptedVersion{std::move(*manifest), std::move(*envelope)};
    }
    if (!lacking) lacking = NeedsHub{channel, version, 0, std::move(missing)};
  }
  if (lacking) report->needs_hub.push_back(std::move(*lacking));
  return std::nullopt;
}

// Step 2: every channel that has kept envelopes.
Status RebuildFromManifests(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                            RepairReport* report) {
  Signers signers = LoadSigners(paths);
  std::vector<AcceptedVersion> chosen;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(paths.data / "manifests", ec)) {
    if (!e.is_directory()) continue;
    std::string channel = e.path().filename().string();
    if (auto v = ChooseVersion(*store, signers, channel, e.path(), report)) chosen.push_back(*v);
  }
  SyncSummary summary;
  bool all_served = true;
  OUTPOST_RETURN_IF_ERROR(sync::ServeVersions(store, catalog, chosen, &summary, &all_served));
  for (const auto& u : summary.updated) {
    report->channels.push_back({u.id, u.to, "manifest"});
  }
  for (const auto& r : summary.refused) report->problems.push_back(r);
  return Status::Ok();
}

// Step 3: the channels given a folder that step 2 did not serve.
void ImportSources(BlobStore* store, Catalog* catalog, const RepairOptions& options,
                   RepairReport* report) {
  for (const auto& [channel, folder] : options.sources) {
    if (catalog->Channel(channel)) {
      report->problems.push_back("--source " + channel + ": not imported, its signed manifest "
                                 "rebuilt it");
      continue;
    }
    ImportOptions import;
    import.channel_id = channel;
    auto r = Importer(store, catalog).Import(folder, import);
    if (!r) {
      report->problems.push_back("--source " + channel + ": " + r.error().message());
      continue;
    }
    report->channels.push_back({channel, r->version, folder.string()});
    const std::string& id = channel;  // a structured binding cannot be captured (clang 14)
    std::erase_if(report->needs_hub, [&id](const NeedsHub& n) { return n.channel_id == id; });
  }
}

// The hash and chunks of a stored blob, read in 1 MiB pieces.
Result<BlobInfo> ChunkBlob(const BlobStore& store, const Hash& hash) {
  UniqueFd fd(::open(store.PathOf(hash).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("opening blob " + hash.Hex(), errno);
  Chunker chunker(store.chunker_params());
  BlobInfo info{hash, 0, {}, true};
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t got = ::read(fd.get(), buf.data(), buf.size());
    if (got < 0) return ErrnoStatus("reading blob " + hash.Hex(), errno);
    if (got == 0) break;
    chunker.Update({reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(got)},
                   &info.chunks);
    info.size += static_cast<uint64_t>(got);
  }
  chunker.Finish(&info.chunks);
  return info;
}

// Step 4: the chunk index of every blob the new catalog uses (blobs were verified in step 1).
Status IndexChunks(BlobStore* store, Catalog* catalog) {
  auto used = catalog->ReferencedBlobs();
  if (!used) return used.error();
  std::vector<BlobInfo> batch;
  for (const Hash& hash : *used) {
    if (catalog->HasBlob(hash) || !store->Contains(hash)) continue;
    auto info = ChunkBlob(*store, hash);
    if (!info) return info.error();
    batch.push_back(std::move(*info));
    if (batch.size() >= 256) {
      OUTPOST_RETURN_IF_ERROR(catalog->RecordBlobs(batch));
      batch.clear();
    }
  }
  return catalog->RecordBlobs(batch);
}

Status FsyncFile(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) return ErrnoStatus("syncing " + path.string(), errno);
  return Status::Ok();
}

// Step 5: the old catalog kept aside, the new one renamed into its place, durably.
Result<fs::path> SwitchCatalog(const fs::path& data, const fs::path& fresh) {
  Env* env = Env::Default();
  OUTPOST_RETURN_IF_ERROR(FsyncFile(fresh));
  fs::path live = data / "catalog.db";
  fs::path aside;
  std::error_code ec;
  if (fs::exists(live, ec)) {
    aside = data / ("catalog.db.damaged-" + std::to_string(std::time(nullptr)));
    for (int n = 2; fs::exists(aside, ec); ++n) {  // a second repair in the same second
      aside = data / ("catalog.db.damaged-" + std::to_string(std::time(nullptr)) + "-" +
                      std::to_string(n));
    }
    // The old log first: left beside the new file, SQLite would replay it into it.
    for (const char* suffix : {"-wal", "-shm"}) {
      fs::path side = live.string() + suffix;
      if (fs::exists(side, ec)) OUTPOST_RETURN_IF_ERROR(env->Rename(side, aside.string() + suffix));
    }
    fs::create_hard_link(live, aside, ec);
    if (ec) return ErrnoStatus("keeping " + live.string() + " aside", ec.value());
  }
  OUTPOST_RETURN_IF_ERROR(env->Rename(fresh, live));
  OUTPOST_RETURN_IF_ERROR(env->SyncDir(data));
  return aside;
}

// Steps 1 to 4 into the new catalog at `fresh`.
Status BuildCatalog(const NodePaths& paths, BlobStore* store, const fs::path& fresh,
                    const RepairOptions& options, RepairReport* report) {
  auto catalog = Catalog::Open(fresh);
  if (!catalog) return catalog.error();
  {
    auto lock = store->TryLockExclusive();
    if (!lock) return lock.error();
    auto checked = Verify(store, catalog->get());
    if (!checked) return checked.error();
    for (const auto& d : checked->damaged) report->damaged.push_back(d.hash);
    OUTPOST_RETURN_IF_ERROR(RebuildFromManifests(paths, store, catalog->get(), report));
  }  // the importer takes the shared lock itself
  ImportSources(store, catalog->get(), options, report);
  return IndexChunks(store, catalog->get());
}

}  // namespace

Result<RepairReport> RepairCatalog(const NodePaths& paths, BlobStore* store,
                                   const RepairOptions& options) {
  RepairReport report;
  fs::path fresh = paths.data / "catalog.db.repair";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    OUTPOST_RETURN_IF_ERROR(Env::Default()->Remove(fresh.string() + suffix));  // a repair cut short
  }
  OUTPOST_RETURN_IF_ERROR(BuildCatalog(paths, store, fresh, options, &report));
  auto aside = SwitchCatalog(paths.data, fresh);
  if (!aside) return aside.error();
  report.kept_aside = *aside;
  return report;
}

}  // namespace outpost
