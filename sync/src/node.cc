// Node: the parts of sync that need no network. A hub is made once (`hub init`), publishes now
// and then (an import and a signature), and enrols sites by one-time codes or enrolment files;
// everything here runs once per command, so plain POSIX calls and SQLite suffice. SyncDb lives
// in sync_db.cc. Formats: docs/sync.md (enrolment file, sync.db) and docs/manifest.md (trust
// lists, manifests, key files).
#include "outpost/sync/node.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <utility>

#include "outpost/base/env.h"
#include "outpost/base/text.h"
#include "outpost/sync/manifest.h"
#include "wire.h"

namespace outpost {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kEnrolMagic = "OPEF";
constexpr std::string_view kEnrolDomain{"outpost enrolment v1\0", 21};
constexpr size_t kMaxSiteNameBytes = 64;
constexpr size_t kMaxAddressBytes = 261;                // "[" 253 "]:" 5
constexpr size_t kCodeBytes = 19;                       // "abcd-efgh-jkmn-pqrs"
constexpr size_t kMaxTrustListBytes = size_t{1} << 20;  // thousands of publishers
constexpr size_t kMaxEnrolmentBytes = kMaxTrustListBytes + 1024;

Status AlreadyExists(std::string message) {
  return Status(StatusCode::kAlreadyExists, std::move(message));
}

Status NotAHub(const NodePaths& paths) {
  return NotFound(paths.data.string() + " is not a hub: run outpost hub init --data " +
                  paths.data.string() + " first");
}

// A whole file of at most `max_bytes` bytes (kInvalidArgument if it is longer).
Result<std::string> ReadSmallFile(const fs::path& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return ErrnoStatus("opening " + path.string(), errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus("reading " + path.string(), errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path.string() + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return InvalidArgument(path.string() + " is too large (" + std::to_string(st.st_size) +
                           " bytes; at most " + std::to_string(max_bytes) + ")");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("reading " + path.string(), errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

Status CreateDir(const fs::path& dir, fs::perms perms) {
  std::error_code ec;
  bool made = fs::create_directories(dir, ec);
  if (ec) return ErrnoStatus("creating folder " + dir.string(), ec.value());
  if (made) fs::permissions(dir, perms, ec);
  if (ec) return ErrnoStatus("setting the mode of " + dir.string(), ec.value());
  return Status::Ok();
}

// An exclusive flock on a lock file, held while alive: read-check-replace of trust.optl must
// not interleave between processes (a lost update could bring back a revoked key).
class FileLock {
 public:
  static Result<FileLock> Exclusive(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("opening lock file " + path.string(), errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus("locking " + path.string(), err);
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

bool ValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::none_of(host.begin(), host.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= ' ' || u == 0x7f || c == '/' || c == '@' || c == '[' || c == ']';
  });
}

}  // namespace

NodePaths::NodePaths(const fs::path& data_folder)
    : data(data_folder),
      keys(data_folder / "keys"),
      node_key(keys / "node.key"),
      root_key(keys / "root.key"),
      publisher_key(keys / "publisher.key"),
      sync_dir(data_folder / "sync"),
      trust_list(sync_dir / "trust.optl"),
      sync_db(sync_dir / "sync.db"),
      staging(data_folder / "staging"),
      trust_lock(sync_dir / "trust.lock") {}

bool IsValidSiteName(std::string_view name) { return IsValidChannelId(name); }

bool IsValidSyncAddress(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3) return false;
    std::string_view inner = host.substr(1, host.size() - 2);
    if (!std::all_of(inner.begin(), inner.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        })) {
      return false;
    }
  } else if (!ValidHost(host) || host.find(':') != std::string_view::npos) {
    return false;
  }
  if (port.empty() || port.size() > 5 || port[0] == '0') return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

// ---- the hub's keys and trust list ----

Result<HubInitResult> InitHub(const NodePaths& paths) {
  std::error_code ec;
  if (fs::exists(paths.root_key, ec)) {
    return AlreadyExists(paths.data.string() + " is already a hub: its root key " +
                         paths.root_key.string() + " exists (hub init never replaces keys)");
  }
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) return db.error();
  if (auto hub = (*db)->Hub()) {
    return InvalidArgument(paths.data.string() + " is a site joined to the hub with key " +
                           hub->node_key.Fingerprint() + "…; make the hub in another data folder");
  }
  OUTPOST_RETURN_IF_ERROR(CreateDir(paths.keys, fs::perms::owner_all));
  OUTPOST_RETURN_IF_ERROR(CreateDir(paths.sync_dir, fs::perms(0755)));
  auto node = LoadOrCreateIdentity(paths.node_key);
  if (!node) return node.error();
  // A publisher key left by an init that stopped half-way was never trusted by anyone: reuse it.
  auto publisher = LoadOrCreateIdentity(paths.publisher_key);
  if (!publisher) return publisher.error();
  auto root = Identity::Generate();
  if (!root) return root.error();

  TrustList first;
  first.sequence = 1;
  first.entries.push_back(
      {publisher->public_key(), {std::string(kAllChannels)}, KeyState::kActive});
  auto document = SignTrustList(first, *root);
  if (!document) return document.error();
  // root.key is written last: once it exists the hub is whole, and until then hub init may run
  // again (replacing the trust list of a root that was never saved).
  OUTPOST_RETURN_IF_ERROR(WriteFileAtomically(Env::Default(), paths.trust_list, *document));
  OUTPOST_RETURN_IF_ERROR((*db)->SetOwnRoot(root->public_key()));
  Status saved = SaveIdentity(*root, paths.root_key);
  if (saved.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("another hub init on " + paths.data.string() +
                         " finished first; run outpost hub init again to see the result");
  }
  OUTPOST_RETURN_IF_ERROR(saved);
  return HubInitResult{node->public_key(), root->public_key(), publisher->public_key()};
}

Result<TrustList> LoadTrustList(const NodePaths& paths, const PublicKey& root) {
  auto document = ReadSmallFile(paths.trust_list, kMaxTrustListBytes);
  if (!document) {
    if (document.error().code() == StatusCode::kNotFound) {
      return NotFound("no trust list at " + paths.trust_list.string());
    }
    return document.error();
  }
  auto list = VerifyTrustList(*document, root);
  if (!list) return list.error().WithContext(paths.trust_list.string());
  return list;
}

Status StoreTrustList(const NodePaths& paths, const PublicKey& root, std::string_view document) {
  auto incoming = VerifyTrustList(document, root);
  if (!incoming) return incoming.error();
  OUTPOST_RETURN_IF_ERROR(CreateDir(paths.sync_dir, fs::perms(0755)));
  auto lock = FileLock::Exclusive(paths.trust_lock);
  if (!lock) return lock.error();
  auto held = LoadTrustList(paths, root);
  if (held) {
    OUTPOST_RETURN_IF_ERROR(CheckTrustListUpdate(*held, *incoming));
    if (held->sequence == incoming->sequence) return Status::Ok();  // the same list
  } else if (held.error().code() != StatusCode::kNotFound) {
    // Without the held list a replayed old one could bring back a revoked key: do not guess.
    const std::string fix = "delete " + paths.trust_list.string() + " and sync again";
    return held.error().WithContext(
        "the trust list held cannot be checked, so no list replaces it (if it is damaged, " + fix +
        ")");
  }
  return WriteFileAtomically(Env::Default(), paths.trust_list, document);
}

// ---- publishing ----

namespace {

// The served version's manifest, signed by `publisher`, attached in the catalog.
Result<Hash> SignServedVersion(Catalog* catalog, const std::string& channel, int64_t version,
                               const Identity& publisher) {
  auto draft = catalog->LoadVersion(channel, version);
  if (!draft) return draft.error();
  auto envelope = SignManifest(*draft, static_cast<uint64_t>(version), publisher);
  if (!envelope) return envelope.error();
  auto parts = ParseSignedManifest(*envelope);
  if (!parts) return parts.error();
  Hash manifest_hash = Hash::Of(parts->manifest);
  OUTPOST_RETURN_IF_ERROR(catalog->AttachManifest(channel, version, *envelope, manifest_hash));
  return manifest_hash;
}

// True if the version's attached manifest is signed by a key `trust` authorizes for it.
bool SignedByATrustedKey(Catalog* catalog, const std::string& channel, int64_t version,
                         const TrustList& trust) {
  auto envelope = catalog->ManifestEnvelope(channel, version);
  if (!envelope) return false;
  auto parts = ParseSignedManifest(*envelope);
  return parts && trust.Authorizes(parts->publisher, channel);
}

std::string NotAllowed(const PublicKey& publisher, const TrustList& trust,
                       const std::string& channel) {
  return "trust list " + std::to_string(trust.sequence) + " does not let publisher key " +
         publisher.Fingerprint() + "… sign " +
         (channel.empty() ? std::string("any channel") : "channel " + channel);
}

}  // namespace

Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const fs::path& folder, const std::string& channel_id) {
  ImportOptions options;
  options.channel_id = channel_id;
  return Publish(paths, store, catalog, folder, options);
}

namespace {

// Imports `folder` and signs the served version of its channel with `signer`. `may_sign` (if
// set) is asked once the channel and version are known: a refusal leaves the version served
// unsigned, and is the result. The signature is skipped when the version already carries a
// manifest that `already_signed` accepts (an unchanged folder published again).
Result<PublishResult> ImportAndSign(
    BlobStore* store, Catalog* catalog, const fs::path& folder, const ImportOptions& options,
    const Identity& signer, const std::function<Status(const std::string&, int64_t)>& may_sign,
    const std::function<bool(const std::string&, int64_t)>& already_signed) {
  auto report = Importer(store, catalog).Import(folder, options);
  if (!report) return report.error();
  PublishResult result;
  result.channel_id = report->channel_id;
  result.new_version = report->version != 0;
  auto channel = catalog->Channel(result.channel_id);
  if (!channel) return Internal("channel " + result.channel_id + " vanished after its import");
  result.version = result.new_version ? report->version : channel->served_version;
  if (may_sign) OUTPOST_RETURN_IF_ERROR(may_sign(result.channel_id, result.version));
  if (channel->manifest_hash && channel->served_version == result.version &&
      already_signed(result.channel_id, result.version)) {
    result.manifest_hash = *channel->manifest_hash;  // published before: nothing to do
    return result;
  }
  auto hash = SignServedVersion(catalog, result.channel_id, result.version, signer);
  if (!hash) {
    return hash.error().WithContext("signing " + result.channel_id + " version " +
                                    std::to_string(result.version));
  }
  result.manifest_hash = *hash;
  return result;
}

// A site publishing its own channel: signed with its node key, which the hub it joined accepts
// for channels this site uploaded first (docs/sync-protocol.md, "Upload").
Result<PublishResult> PublishOnSite(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                    const fs::path& folder, const ImportOptions& options) {
  auto node = LoadIdentity(paths.node_key);
  if (!node) return node.error();
  const PublicKey& key = node->public_key();
  // A channel that came from the hub (signed by another key) is not this site's to publish.
  auto foreign = [&](const std::string& channel) {
    auto info = catalog->Channel(channel);
    if (!info || !info->manifest_hash) return false;
    auto envelope = catalog->ManifestEnvelope(channel, info->served_version);
    auto parts = envelope ? ParseSignedManifest(*envelope) : Result<SignedManifest>(Corrupt(""));
    return !parts || parts->publisher != key;
  };
  auto refuse = [](const std::string& channel) {
    return InvalidArgument("channel " + channel +
                           " comes from the hub; publish this site's own material under another "
                           "channel id (--channel)");
  };
  if (!options.channel_id.empty() && foreign(options.channel_id)) return refuse(options.channel_id);
  ImportOptions checked = options;
  checked.check_channel = [&](const std::string& id) {
    return foreign(id) ? refuse(id) : Status::Ok();
  };
  return ImportAndSign(store, catalog, folder, checked, *node, nullptr,
                       [&](const std::string& id, int64_t) { return !foreign(id); });
}

}  // namespace

Result<PublishResult> Publish(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                              const fs::path& folder, const ImportOptions& options) {
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) return db.error();
  auto publisher = LoadIdentity(paths.publisher_key);
  if (!publisher) {
    if (publisher.error().code() != StatusCode::kNotFound) return publisher.error();
    if ((*db)->Hub()) return PublishOnSite(paths, store, catalog, folder, options);
    return NotAHub(paths);
  }
  auto root = (*db)->OwnRoot();
  if (!root) return NotAHub(paths);
  auto trust = LoadTrustList(paths, *root);
  if (!trust) return trust.error();
  const PublicKey& key = publisher->public_key();
  const TrustEntry* entry = trust->Find(key);
  if (entry == nullptr || entry->state != KeyState::kActive) {
    return InvalidArgument(NotAllowed(key, *trust, "") + " (" + paths.publisher_key.string() +
                           " is not active in it); nothing was imported");
  }
  if (!options.channel_id.empty() && !trust->Authorizes(key, options.channel_id)) {
    return InvalidArgument(NotAllowed(key, *trust, options.channel_id) + "; nothing was imported");
  }

  // A channel a site uploaded is that site's: the hub serves it but does not publish it.
  ImportOptions checked = options;
  SyncDb* sync_db = db->get();
  checked.check_channel = [sync_db](const std::string& id) {
    if (!sync_db->ChannelOwner(id)) return Status::Ok();
    return InvalidArgument("channel " + id +
                           " is a site's own channel, uploaded by it; publish under another id "
                           "(--channel)");
  };
  return ImportAndSign(
      store, catalog, folder, checked, *publisher,
      [&](const std::string& id, int64_t version) {
        if (trust->Authorizes(key, id)) return Status::Ok();
        return InvalidArgument(NotAllowed(key, *trust, id) + "; version " + std::to_string(version) +
                               " is served here unsigned");
      },
      [&](const std::string& id, int64_t version) {
        return SignedByATrustedKey(catalog, id, version, *trust);
      });
}

// ---- the root's work ----

namespace {

struct RootContext {
  std::unique_ptr<SyncDb> db;
  std::optional<Identity> root;
  TrustList trust;
};

Result<RootContext> LoadRoot(const NodePaths& paths, const fs::path& root_key_file) {
  RootContext ctx;
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) return db.error();
  ctx.db = std::move(*db);
  auto own = ctx.db->OwnRoot();
  if (!own) return NotAHub(paths);
  fs::path file = root_key_file.empty() ? paths.root_key : root_key_file;
  auto root = LoadIdentity(file);
  if (!root) {
    if (root.error().code() == StatusCode::kNotFound) {
      return NotFound("no root key at " + file.string() +
                      ": give the file it is kept in (--root-key FILE)");
    }
    return root.error();
  }
  if (root->public_key() != *own) {
    return InvalidArgument(file.string() + " holds key " + root->public_key().Fingerprint() +
                           "…, not this hub's root " + own->Fingerprint() + "…");
  }
  auto trust = LoadTrustList(paths, *own);
  if (!trust) return trust.error();
  ctx.trust = std::move(*trust);
  ctx.root.emplace(std::move(*root));
  return ctx;
}

Status SignAndStore(const NodePaths& paths, const RootContext& ctx, TrustList next) {
  next.sequence = ctx.trust.sequence + 1;
  auto document = SignTrustList(next, *ctx.root);
  if (!document) return document.error();
  return StoreTrustList(paths, ctx.root->public_key(), *document);
}

Status RenameDurably(const fs::path& from, const fs::path& to) {
  OUTPOST_RETURN_IF_ERROR(Env::Default()->Rename(from, to));
  return Env::Default()->SyncDir(to.parent_path());
}

}  // namespace

Result<PublisherChange> RotatePublisher(const NodePaths& paths, Catalog* catalog,
                                        const fs::path& root_key_file) {
  auto ctx = LoadRoot(paths, root_key_file);
  if (!ctx) return ctx.error();
  const fs::path next_file = paths.keys / "publisher.next.key";
  auto next = LoadOrCreateIdentity(next_file);
  if (!next) return next.error();
  PublisherChange change;
  change.added = next->public_key();
  auto current = LoadIdentity(paths.publisher_key);
  const TrustEntry* listed = ctx->trust.Find(next->public_key());
  if (listed == nullptr || listed->state != KeyState::kActive) {
    if (!current) return current.error().WithContext("the current publisher key");
    const TrustEntry* old = ctx->trust.Find(current->public_key());
    TrustList list = ctx->trust;
    std::vector<std::string> channels = {std::string(kAllChannels)};
    for (auto& e : list.entries) {
      if (e.publisher == current->public_key()) {
        e.state = KeyState::kRevoked;
        channels = old->channels;
      }
    }
    if (old == nullptr) {
      list.entries.push_back({current->public_key(), channels, KeyState::kRevoked});
    }
    list.entries.push_back({next->public_key(), channels, KeyState::kActive});
    OUTPOST_RETURN_IF_ERROR(SignAndStore(paths, *ctx, std::move(list)));
    change.trust_sequence = ctx->trust.sequence + 1;
  } else {
    change.trust_sequence = ctx->trust.sequence;  // a rotation cut short after its list
  }
  // The new key takes the publisher's place; the old file stays beside it, revoked.
  if (current) {
    change.revoked = current->public_key();
    OUTPOST_RETURN_IF_ERROR(RenameDurably(
        paths.publisher_key,
        paths.keys / ("publisher-revoked-" + current->public_key().Fingerprint() + ".key")));
  } else if (current.error().code() != StatusCode::kNotFound) {
    return current.error();
  }
  OUTPOST_RETURN_IF_ERROR(RenameDurably(next_file, paths.publisher_key));

  auto trust = LoadTrustList(paths, ctx->root->public_key());
  if (!trust) return trust.error();
  for (const ChannelInfo& info : catalog->Channels()) {
    if (info.served_version == 0 || !info.manifest_hash) continue;
    if (SignedByATrustedKey(catalog, info.id, info.served_version, *trust)) continue;
    if (!trust->Authorizes(next->public_key(), info.id)) continue;
    auto envelope = catalog->ManifestEnvelope(info.id, info.served_version);
    auto parts = envelope ? ParseSignedManifest(*envelope) : Result<SignedManifest>(Corrupt(""));
    if (!parts || !trust->Find(parts->publisher)) continue;  // a site's channel: not the root's
    auto hash = SignServedVersion(catalog, info.id, info.served_version, *next);
    if (!hash) return hash.error().WithContext("signing " + info.id + " again");
    ++change.resigned;
  }
  return change;
}

Result<PublisherChange> RevokePublisher(const NodePaths& paths, const std::string& key_hex,
                                        const fs::path& root_key_file) {
  auto key = PublicKey::FromHex(key_hex);
  if (!key) return InvalidArgument("\"" + EscapeInvalidUtf8(key_hex) + "\" is not a key (64 hex digits)");
  auto ctx = LoadRoot(paths, root_key_file);
  if (!ctx) return ctx.error();
  const TrustEntry* entry = ctx->trust.Find(*key);
  if (entry == nullptr) {
    return NotFound("trust list " + std::to_string(ctx->trust.sequence) + " has no publisher key " +
                    key->Fingerprint() + "…");
  }
  if (entry->state == KeyState::kRevoked) {
    return AlreadyExists("publisher key " + key->Fingerprint() + "… is revoked already");
  }
  if (auto current = LoadIdentity(paths.publisher_key); current && current->public_key() == *key) {
    return InvalidArgument("key " + key->Fingerprint() +
                           "… is this hub's publisher key: rotate it (outpost hub publisher rotate)");
  }
  TrustList list = ctx->trust;
  for (auto& e : list.entries) {
    if (e.publisher == *key) e.state = KeyState::kRevoked;
  }
  OUTPOST_RETURN_IF_ERROR(SignAndStore(paths, *ctx, std::move(list)));
  PublisherChange change;
  change.trust_sequence = ctx->trust.sequence + 1;
  change.revoked = *key;
  return change;
}

// ---- enrolment files ----

namespace {

std::string EnrolSigningMessage(std::string_view body) {
  Hash h = Hash::Of(body);
  std::string message(kEnrolDomain);
  message.append(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
  return message;
}

Status CheckPinFields(const HubPin& pin) {
  if (!pin.address.empty() && !IsValidSyncAddress(pin.address)) {
    return InvalidArgument("\"" + EscapeInvalidUtf8(pin.address) + "\" is not HOST:PORT");
  }
  if (!IsValidSiteName(pin.site_name)) {
    return InvalidArgument("site name \"" + EscapeInvalidUtf8(pin.site_name) + "\" is not valid");
  }
  if (NormalizeEnrolCode(pin.pending_code) != pin.pending_code) {
    return InvalidArgument("an enrolment file needs a code written like abcd-efgh-jkmn-pqrs");
  }
  return Status::Ok();
}

// The fields after the node key, read from the signed body.
Status ReadEnrolmentBody(wire::Reader* r, Enrolment* out) {
  OUTPOST_RETURN_IF_ERROR(r->Raw(out->pin.root_key.bytes, "the root key"));
  size_t at = r->offset();
  OUTPOST_RETURN_IF_ERROR(r->String(&out->pin.address, kMaxAddressBytes, "the address"));
  if (!out->pin.address.empty() && !IsValidSyncAddress(out->pin.address)) {
    return r->Bad(at, "the address is not HOST:PORT");
  }
  at = r->offset();
  OUTPOST_RETURN_IF_ERROR(r->String(&out->pin.site_name, kMaxSiteNameBytes, "the site name"));
  if (!IsValidSiteName(out->pin.site_name)) return r->Bad(at, "the site name is not valid");
  at = r->offset();
  OUTPOST_RETURN_IF_ERROR(r->String(&out->pin.pending_code, kCodeBytes, "the code"));
  if (NormalizeEnrolCode(out->pin.pending_code) != out->pin.pending_code) {
    return r->Bad(at, "the code is not written like abcd-efgh-jkmn-pqrs");
  }
  at = r->offset();
  uint32_t length = 0;
  OUTPOST_RETURN_IF_ERROR(r->U32(&length, "the trust list's length"));
  if (length > kMaxTrustListBytes) return r->Bad(at, "the trust list is longer than 1 MiB");
  std::string_view list;
  OUTPOST_RETURN_IF_ERROR(r->Raw(length, &list, "the trust list"));
  out->trust_list.assign(list);
  return r->ExpectEnd();
}

}  // namespace

Result<std::string> EncodeEnrolment(const HubPin& pin, std::string_view trust_list,
                                    const Identity& hub_node) {
  if (pin.node_key != hub_node.public_key()) {
    return InvalidArgument("the pin names hub key " + pin.node_key.Fingerprint() +
                           "…, but the file would be signed by " +
                           hub_node.public_key().Fingerprint() + "…");
  }
  OUTPOST_RETURN_IF_ERROR(CheckPinFields(pin));
  if (trust_list.size() > kMaxTrustListBytes) return InvalidArgument("the trust list is too long");
  auto trust = VerifyTrustList(trust_list, pin.root_key);
  if (!trust) return InvalidArgument(trust.error().message());
  wire::Writer w;
  w.Raw(kEnrolMagic);
  w.U16(kEnrolmentFileFormat);
  w.Raw(pin.node_key.bytes);
  w.Raw(pin.root_key.bytes);
  w.String(pin.address);
  w.String(pin.site_name);
  w.String(pin.pending_code);
  w.String(trust_list);
  std::string bytes = w.Take();
  Signature sig = hub_node.Sign(EnrolSigningMessage(bytes));
  bytes.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return bytes;
}

Result<Enrolment> DecodeEnrolment(std::string_view bytes) {
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  wire::Reader r(bytes, "enrolment file");
  OUTPOST_RETURN_IF_ERROR(r.Header(kEnrolMagic, kEnrolmentFileFormat));
  Enrolment out;
  OUTPOST_RETURN_IF_ERROR(r.Raw(out.pin.node_key.bytes, "the hub's node key"));
  if (r.remaining() < crypto_sign_BYTES) {
    return Corrupt("enrolment file is truncated: it ends before its signature");
  }
  std::string_view body = bytes.substr(0, bytes.size() - crypto_sign_BYTES);
  Signature sig;
  __builtin_memcpy(sig.data(), bytes.data() + body.size(), sig.size());
  if (!VerifySignature(out.pin.node_key, EnrolSigningMessage(body), sig)) {
    return Corrupt("enrolment file: its signature does not verify with the hub key it carries (" +
                   out.pin.node_key.Fingerprint() + "…): the file is damaged or was altered");
  }
  wire::Reader b(body, "enrolment file");
  OUTPOST_RETURN_IF_ERROR(b.Header(kEnrolMagic, kEnrolmentFileFormat));
  OUTPOST_RETURN_IF_ERROR(b.Raw(out.pin.node_key.bytes, "the hub's node key"));
  OUTPOST_RETURN_IF_ERROR(ReadEnrolmentBody(&b, &out));
  auto trust = VerifyTrustList(out.trust_list, out.pin.root_key);
  if (!trust) return Corrupt("enrolment file: its trust list: " + trust.error().message());
  out.trust = std::move(*trust);
  return out;
}

Status WriteEnrolmentFile(const fs::path& file, const HubPin& pin, std::string_view trust_list,
                          const Identity& hub_node) {
  auto bytes = EncodeEnrolment(pin, trust_list, hub_node);
  if (!bytes) return bytes.error();
  return WriteFileAtomically(Env::Default(), file, *bytes, /*private_file=*/true);
}

Result<Enrolment> ReadEnrolmentFile(const fs::path& file) {
  auto bytes = ReadSmallFile(file, kMaxEnrolmentBytes);
  if (!bytes) return bytes.error();
  auto enrolment = DecodeEnrolment(*bytes);
  if (!enrolment) return enrolment.error().WithContext(file.string());
  return enrolment;
}

// ---- enrolling a site ----

Result<EnrolResult> Enrol(const NodePaths& paths, SyncDb* db, const EnrolRequest& request) {
  if (!IsValidSiteName(request.site_name)) {
    return InvalidArgument("site name \"" + EscapeInvalidUtf8(request.site_name) +
                           "\" must be 1 to 64 characters of a-z, 0-9 and '-', not starting "
                           "with '-'");
  }
  if (request.ttl_seconds <= 0) return InvalidArgument("a code must be valid for some time");
  auto root = db->OwnRoot();
  if (!root) return NotAHub(paths);
  if (!request.address.empty()) OUTPOST_RETURN_IF_ERROR(db->SetOwnAddress(request.address));
  EnrolResult result;
  result.address = request.address.empty() ? db->OwnAddress() : request.address;

  // Everything the file needs is read before a code exists.
  std::optional<Identity> node;
  std::string trust_list;
  if (!request.to_file.empty()) {
    auto loaded = LoadIdentity(paths.node_key);
    if (!loaded) return loaded.error();
    node.emplace(std::move(*loaded));
    auto document = ReadSmallFile(paths.trust_list, kMaxTrustListBytes);
    if (!document) return document.error();
    trust_list = std::move(*document);
  }
  result.expires_at = db->Now() + request.ttl_seconds;  // the stored expiry is this or later
  auto code = db->NewEnrolCode(request.site_name, request.ttl_seconds);
  if (!code) return code.error();
  result.code = std::move(*code);
  if (node) {
    HubPin pin{result.address, node->public_key(), *root, result.code, request.site_name};
    OUTPOST_RETURN_IF_ERROR(WriteEnrolmentFile(request.to_file, pin, trust_list, *node));
  }
  return result;
}

}  // namespace outpost
