// The site's side of a session: enrolment (XX) and the routine sync (IK), see session.h.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <map>
#include <set>
#include <unordered_map>

#include "link.h"
#include "outpost/content/importer.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/session.h"
#include "protocol.h"
#include "staging.h"
#include "sync_files.h"

namespace outpost {

using namespace outpost::sync;

namespace {

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::string Preamble(Mode mode) {
  std::string p(kPreambleMagic, 4);
  p += static_cast<char>(mode);
  p += std::string(3, '\0');
  return p;
}

std::string_view Body(const std::vector<uint8_t>& payload) {
  return {reinterpret_cast<const char*>(payload.data()) + 1, payload.size() - 1};
}

Status HubError(std::string_view body) {
  auto error = DecodeError(body);
  if (!error) return error.error();
  return Status(StatusCode::kInvalidArgument, "the hub refused: " + error->message);
}

// One sync at a time per data folder: a second waits for nothing and says so.
class StagingLock {
 public:
  static Result<StagingLock> Take(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    int fd = ::open((dir / "sync.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("opening the sync lock", errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Status(StatusCode::kBusy, "another sync is running on this data folder");
    }
    return StagingLock(fd);
  }
  StagingLock(StagingLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ~StagingLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit StagingLock(int fd) : fd_(fd) {}
  int fd_;
};

// A file to fetch, and how.
struct Wanted {
  OfferedFile file;
  size_t missing = 0;   // chunks not yet here (chunk route)
  bool by_patch = false;
  bool failed = false;
  bool done = false;
};

// What a chunk request is waiting for.
struct InFlight {
  Hash key;  // a chunk, or the file for a patch
  uint64_t bytes = 0;
  bool patch = false;
};

}  // namespace

namespace {

// The enrolment handshake (Noise XX) with a hub or a relay: presents the code, returns what the
// other side answered. `expected` (a pinned hub) must be the other side's key if given.
Result<Enrolled> EnrolHandshake(const NodePaths& paths, const std::string& address,
                                const std::string& code, const std::string& name_hint,
                                std::chrono::milliseconds timeout,
                                const std::optional<PublicKey>& expected) {
  auto identity = LoadOrCreateIdentity(paths.node_key);
  if (!identity) return identity.error();
  auto key = noise::KeyPair::FromPrivateKey(identity->x25519_secret_key());
  if (!key) return key.error();
  auto link = Link::Dial(address, timeout);
  if (!link) return link.error();
  std::string preamble = Preamble(Mode::kEnrol);
  noise::HandshakeConfig config;
  config.pattern = noise::Pattern::kXX;
  config.role = noise::Role::kInitiator;
  config.prologue = Bytes(std::string(kPrologue) + preamble);
  config.local_static = &*key;
  auto hs = noise::HandshakeState::Create(config);
  if (!hs) return hs.error();
  auto m1 = hs->WriteMessage({});
  if (!m1) return m1.error();
  auto frame = noise::EncodeFrame(*m1);
  if (!frame) return frame.error();
  std::vector<uint8_t> first(preamble.begin(), preamble.end());
  first.insert(first.end(), frame->begin(), frame->end());
  OUTPOST_RETURN_IF_ERROR((*link)->Write(first));
  auto m2 = ReadHandshakeFrame(link->get());
  if (!m2) return m2.error();
  auto info = hs->ReadMessage(*m2);
  if (!info) return Status(StatusCode::kCorrupt, "the hub's handshake failed: " + info.error().message());
  if (info->empty() || (*info)[0] != kHubInfo) return Corrupt("the hub did not introduce itself");
  auto hub_key = DecodeHubInfo(Body(*info));
  if (!hub_key) return hub_key.error();
  auto hub_x = X25519FromEd25519(*hub_key);
  if (!hub_x || hub_x->bytes != hs->RemoteStatic()) {
    return Corrupt("the hub's key does not match its session key");
  }
  if (expected && *expected != *hub_key) {
    return Status(StatusCode::kInvalidArgument,
                  "the node at " + address + " has key " + hub_key->Fingerprint() +
                      ", not the pinned " + expected->Fingerprint() + ": wrong hub?");
  }
  sync::EnrolRequest request{identity->public_key(), code, name_hint};
  auto m3 = hs->WriteMessage(Bytes(Tagged(kEnrol, EncodeEnrol(request))));
  if (!m3) return m3.error();
  OUTPOST_RETURN_IF_ERROR(WriteHandshakeFrame(link->get(), *m3));
  auto split = hs->Split();
  if (!split) return split.error();
  SecureChannel channel(link->get(), std::move(split->first), std::move(split->second),
                        SessionLimits{}.rekey_interval, SessionLimits{}.max_record);
  auto record = channel.Receive();
  if (!record) return record.error();
  if (record->type == kError) return HubError(record->body);
  if (record->type != kEnrolled) return Corrupt("unexpected answer to the enrolment");
  auto enrolled = DecodeEnrolled(record->body);
  if (!enrolled) return enrolled.error();
  if (enrolled->hub_key != *hub_key) return Corrupt("the hub named another key than its own");
  return *enrolled;
}

}  // namespace

Result<HubPin> EnrolWithHub(const NodePaths& paths, SyncDb* db, const std::string& address,
                            const std::string& code, const std::string& name_hint,
                            std::chrono::milliseconds timeout) {
  std::optional<PublicKey> pinned;
  if (auto pin = db->Hub()) pinned = pin->node_key;
  auto enrolled = EnrolHandshake(paths, address, code, name_hint, timeout, pinned);
  if (!enrolled) return enrolled.error();
  OUTPOST_RETURN_IF_ERROR(StoreTrustList(paths, enrolled->root_key, enrolled->trust_list));
  HubPin pin;
  pin.address = address;
  pin.node_key = enrolled->hub_key;
  pin.root_key = enrolled->root_key;
  pin.site_name = enrolled->site_name;
  OUTPOST_RETURN_IF_ERROR(db->SetHub(pin));
  return pin;
}

Result<PeerInfo> JoinRelay(const NodePaths& paths, SyncDb* db, const std::string& address,
                           const std::string& code, const std::string& name,
                           std::chrono::milliseconds timeout) {
  auto pin = db->Hub();
  if (!pin) return InvalidArgument("join a hub first (`outpost join`): a relay only carries its versions");
  auto enrolled = EnrolHandshake(paths, address, code, name, timeout, std::nullopt);
  if (!enrolled) return enrolled.error();
  if (enrolled->root_key != pin->root_key) {
    return InvalidArgument("the relay at " + address + " trusts another root (" +
                           enrolled->root_key.Fingerprint() + ") than this site's hub (" +
                           pin->root_key.Fingerprint() + ")");
  }
  PeerInfo relay;
  relay.key = enrolled->hub_key;
  relay.name = name.empty() ? "relay-" + enrolled->hub_key.Fingerprint() : name;
  relay.role = "relay";
  relay.enrolled_at = static_cast<int64_t>(::time(nullptr));
  OUTPOST_RETURN_IF_ERROR(db->AddPeer(relay));
  return relay;
}

Result<SyncSummary> SyncWithHub(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                SyncDb* db, const SyncOptions& options) {
  auto started = Clock::now();
  SyncSummary summary;
  auto lock = StagingLock::Take(paths.staging);
  if (!lock) return lock.error();
  auto pin = db->Hub();
  if (!pin) return Status(StatusCode::kInvalidArgument, "this node has not joined a hub: run `outpost join` first");
  bool from_peer = !options.peer.empty();
  std::string address = from_peer ? options.peer : options.hub.empty() ? pin->address : options.hub;
  if (address.empty()) return InvalidArgument("no hub address: give --hub HOST:PORT");
  if (!pin->pending_code.empty() && !from_peer) {
    auto enrolled = EnrolWithHub(paths, db, address, pin->pending_code, pin->site_name,
                                 options.limits.io_timeout);
    if (!enrolled) return enrolled.error();
    pin = *enrolled;
    if (!options.hub.empty()) pin->address = options.hub;
  }
  auto identity = LoadOrCreateIdentity(paths.node_key);
  if (!identity) return identity.error();
  auto key = noise::KeyPair::FromPrivateKey(identity->x25519_secret_key());
  if (!key) return key.error();
  auto hub_x = X25519FromEd25519(pin->node_key);
  if (!hub_x) return hub_x.error();
  // Trust is the pinned root's, whoever relays the bytes.
  TrustList trust;
  if (auto held = LoadTrustList(paths, pin->root_key)) trust = *held;

  auto link = Link::Dial(address, options.limits.io_timeout);
  if (!link) return link.error();
  (*link)->set_rate_limit_kbps(options.rate_limit_kbps);
  auto finish = [&](SyncSummary s) {
    s.bytes_sent = (*link)->bytes_sent();
    s.bytes_received = (*link)->bytes_received();
    s.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return s;
  };

  Hello hello;
  hello.node_key = identity->public_key();
  hello.trust_sequence = trust.sequence;
  for (const ChannelInfo& c : catalog->Channels()) {
    hello.held.push_back({c.id, static_cast<uint64_t>(c.served_version), 0});
  }
  std::string preamble = Preamble(from_peer ? Mode::kPeerSync : Mode::kSync);
  noise::HandshakeConfig config;
  config.pattern = from_peer ? noise::Pattern::kXX : noise::Pattern::kIK;
  config.role = noise::Role::kInitiator;
  config.prologue = Bytes(std::string(kPrologue) + preamble);
  config.local_static = &*key;
  if (!from_peer) config.remote_static = hub_x->bytes;
  auto hs = noise::HandshakeState::Create(config);
  if (!hs) return hs.error();
  // Hub: IK, the Hello in message 1. Relay: XX, the relay's key in message 2 (it must be a
  // relay this site joined), the Hello in message 3.
  auto m1 = hs->WriteMessage(from_peer ? std::vector<uint8_t>{}
                                       : Bytes(Tagged(kHello, EncodeHello(hello))));
  if (!m1) return m1.error();
  auto frame = noise::EncodeFrame(*m1);
  if (!frame) return frame.error();
  std::vector<uint8_t> first(preamble.begin(), preamble.end());
  first.insert(first.end(), frame->begin(), frame->end());
  auto sent_at = Clock::now();
  OUTPOST_RETURN_IF_ERROR((*link)->Write(first));
  summary.round_trips = 1;
  auto m2 = ReadHandshakeFrame(link->get());
  if (!m2) {
    return Status(m2.error().code(),
                  "the hub ended the handshake (" + m2.error().message() +
                      "): the hub's key may not be the pinned one, or the link dropped");
  }
  auto rtt = Clock::now() - sent_at;
  auto answer = hs->ReadMessage(*m2);
  if (!answer) {
    return Corrupt("the hub's answer failed authentication: it is not the hub this site pinned (" +
                   pin->node_key.Fingerprint() + ")");
  }
  if (answer->empty()) return Corrupt("empty answer from the hub");
  if ((*answer)[0] == kError) return HubError(Body(*answer));
  std::optional<Accept> accept;
  if (from_peer) {
    if ((*answer)[0] != kHubInfo) return Corrupt("the relay did not introduce itself");
    auto relay_key = DecodeHubInfo(Body(*answer));
    if (!relay_key) return relay_key.error();
    auto relay_x = X25519FromEd25519(*relay_key);
    if (!relay_x || relay_x->bytes != hs->RemoteStatic()) {
      return Corrupt("the relay's key does not match its session key");
    }
    auto relay = db->Peer(*relay_key);
    if (!relay || relay->role != "relay") {
      return InvalidArgument("the node at " + address + " (key " + relay_key->Fingerprint() +
                             ") is not a relay this site joined: run `outpost peer join` first");
    }
    if (relay->revoked_at != 0) return InvalidArgument("the relay \"" + relay->name + "\" was revoked");
    auto m3 = hs->WriteMessage(Bytes(Tagged(kHello, EncodeHello(hello))));
    if (!m3) return m3.error();
    OUTPOST_RETURN_IF_ERROR(WriteHandshakeFrame(link->get(), *m3));
  } else {
    if ((*answer)[0] != kAccept) return Corrupt("unexpected answer from the hub");
    auto decoded = DecodeAccept(Body(*answer));
    if (!decoded) return decoded.error();
    accept = *decoded;
  }
  auto split = hs->Split();
  if (!split) return split.error();
  SecureChannel channel(link->get(), std::move(split->first), std::move(split->second),
                        options.limits.rekey_interval, options.limits.max_record);
  if (from_peer) {
    auto record = channel.Receive();
    if (!record) return record.error();
    if (record->type == kError) return HubError(record->body);
    if (record->type != kAccept) return Corrupt("unexpected answer from the relay");
    auto decoded = DecodeAccept(record->body);
    if (!decoded) return decoded.error();
    accept = *decoded;
    ++summary.round_trips;
  }

  auto record = channel.Receive();
  if (!record) return record.error();
  if (record->type == kError) return HubError(record->body);
  if (record->type != kOffer) return Corrupt("expected the hub's offer");
  auto offer = DecodeOffer(record->body);
  if (!offer) return offer.error();

  if (!offer->trust_list.empty() && !from_peer) {
    Status st = StoreTrustList(paths, pin->root_key, offer->trust_list);
    if (!st.ok()) {
      summary.refused.push_back("trust list: " + st.message());
    } else if (auto held = LoadTrustList(paths, pin->root_key)) {
      trust = *held;
    }
  }

  // Verify every offered version; keep those newer than what is served.
  struct Accepted {
    Manifest manifest;
    std::string envelope;
  };
  std::vector<Accepted> accepted;
  std::unordered_map<Hash, OfferedFile> offered;
  for (auto& version : offer->versions) {
    // Unpack the envelope (against this site's own copy of its served version's, for a patch).
    Result<std::string> unpacked = version.packed;
    if (version.packing == kZstd) {
      unpacked = ZstdDecompress(version.packed, version.envelope_size, {});
    } else if (version.packing == kZstdAgainstBase) {
      auto base = catalog->ManifestEnvelope(version.channel_id, static_cast<int64_t>(version.base_version));
      unpacked = base ? ZstdDecompress(version.packed, version.envelope_size, *base)
                      : Result<std::string>(NotFound("this site has no manifest of " +
                                                     version.channel_id + " version " +
                                                     std::to_string(version.base_version)));
    }
    if (!unpacked) {
      summary.refused.push_back("a manifest of " + version.channel_id + " could not be unpacked: " +
                                unpacked.error().message());
      continue;
    }
    version.envelope = std::move(*unpacked);
    auto manifest = VerifySignedManifest(version.envelope, trust);
    if (!manifest) {
      summary.refused.push_back(manifest.error().message());
      continue;
    }
    auto served = catalog->Channel(manifest->channel_id);
    Status newer = CheckVersionIsNewer(*manifest, served ? static_cast<uint64_t>(served->served_version) : 0);
    if (!newer.ok()) {
      summary.refused.push_back(newer.message());
      continue;
    }
    for (auto& f : version.files) offered.emplace(f.blob, std::move(f));
    accepted.push_back({std::move(*manifest), std::move(version.envelope)});
  }

  auto staging = StagingLog::Open(paths.staging / "chunks");
  if (!staging) return staging.error();
  StagingLog& log = **staging;

  // What to fetch: files of accepted versions that this store lacks.
  std::map<Hash, Wanted> wanted;
  bool unobtainable = false;
  for (const auto& a : accepted) {
    for (const BlobRef& blob : a.manifest.Blobs()) {
      if (store->Contains(blob.hash) || wanted.count(blob.hash)) continue;
      auto it = offered.find(blob.hash);
      if (it == offered.end() || it->second.size != blob.size) {
        summary.refused.push_back("the hub did not describe file " + blob.hash.Hex() +
                                  " of channel " + a.manifest.channel_id);
        unobtainable = true;
        continue;
      }
      Wanted w;
      w.file = it->second;
      w.by_patch = w.file.previous && store->Contains(*w.file.previous) && w.file.size <= (1u << 20);
      wanted.emplace(blob.hash, std::move(w));
    }
  }
  // Small files first, then large media.
  std::vector<Wanted*> order;
  for (auto& [hash, w] : wanted) order.push_back(&w);
  std::stable_sort(order.begin(), order.end(),
                   [](const Wanted* a, const Wanted* b) { return a->file.size < b->file.size; });

  std::vector<InFlight> requests;
  std::unordered_map<Hash, std::vector<Wanted*>> waiting;  // chunk -> files that need it
  SyncProgress progress;
  for (Wanted* w : order) {
    if (w->by_patch) {
      requests.push_back({w->file.blob, w->file.size / 4 + 1, true});
      progress.bytes_wanted += w->file.size;
      continue;
    }
    for (const ChunkRef& c : w->file.chunks) {
      bool here = log.Has(c.hash);
      if (!here) {
        if (auto loc = catalog->FindChunk(c.hash); loc && store->Contains(loc->blob)) here = true;
      }
      if (here) {
        ++summary.chunks_reused;
        continue;
      }
      ++w->missing;
      auto& list = waiting[c.hash];
      if (list.empty()) {
        requests.push_back({c.hash, c.length, false});
        progress.bytes_wanted += c.length;
      }
      list.push_back(w);
    }
  }
  progress.files_wanted = wanted.size();

  // Builds a file whose chunks are all here.
  auto assemble = [&](Wanted* w) -> Status {
    auto writer = store->NewWriter();
    if (!writer) return writer.error();
    for (const ChunkRef& c : w->file.chunks) {
      // Staged chunks were verified as they arrived; the file's hash below checks them again.
      Result<std::string> data = log.Has(c.hash) ? log.Read(c.hash, /*verify=*/false)
                                                 : Result<std::string>(NotFound(""));
      if (!data) {
        auto loc = catalog->FindChunk(c.hash);
        if (!loc) return NotFound("chunk " + c.hash.Hex() + " is nowhere");
        data = ReadRange(store->PathOf(loc->blob), loc->offset, loc->length);
        if (!data) return data.error();
        if (Hash::Of(*data) != c.hash) return Corrupt("local chunk " + c.hash.Hex() + " is damaged");
      }
      OUTPOST_RETURN_IF_ERROR((*writer)->Append(
          {reinterpret_cast<const uint8_t*>(data->data()), data->size()}));
    }
    auto info = (*writer)->Commit();
    if (!info) return info.error();
    if (info->hash != w->file.blob) {
      return Corrupt("file " + w->file.blob.Hex() + " rebuilt from its chunks has hash " +
                     info->hash.Hex() + ": the hub's chunk list was wrong");
    }
    OUTPOST_RETURN_IF_ERROR(catalog->RecordBlobs({*info}));
    return Status::Ok();
  };

  // Files are built on two threads beside the one receiving: each ends in an fsync, and a
  // page is a few KB, so waiting for them one by one would hold the link idle.
  struct Builders {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Wanted*> queue;
    std::vector<std::string> failures;
    uint64_t built = 0;
    bool closing = false;
    std::vector<std::thread> threads;
  } builders;
  for (int i = 0; i < 2; ++i) {
    builders.threads.emplace_back([&] {
      for (;;) {
        Wanted* w = nullptr;
        {
          std::unique_lock lock(builders.mu);
          builders.cv.wait(lock, [&] { return builders.closing || !builders.queue.empty(); });
          if (builders.queue.empty()) return;
          w = builders.queue.front();
          builders.queue.pop_front();
        }
        Status st = assemble(w);
        std::lock_guard lock(builders.mu);
        if (st.ok()) ++builders.built;
        else builders.failures.push_back(st.message());
      }
    });
  }
  auto build = [&](Wanted* w) {
    std::lock_guard lock(builders.mu);
    builders.queue.push_back(w);
    builders.cv.notify_one();
  };
  auto finish_building = [&] {
    {
      std::lock_guard lock(builders.mu);
      builders.closing = true;
      builders.cv.notify_all();
    }
    for (auto& t : builders.threads) t.join();
    builders.threads.clear();
    for (auto& f : builders.failures) summary.refused.push_back(f);
    progress.files_done += builders.built;
  };
  struct JoinBuilders {
    std::function<void()> fn;
    ~JoinBuilders() { if (fn) fn(); }
  } join_builders{finish_building};

  // Files that need nothing from the hub are built now.
  for (Wanted* w : order) {
    if (!w->by_patch && w->missing == 0) build(w);
  }

  // The pipeline: keep about a bandwidth-delay product of requests in flight.
  double rtt_s = std::max(0.001, std::chrono::duration<double>(rtt).count());
  double rate_bps = options.rate_limit_kbps ? options.rate_limit_kbps * 1000.0 / 8 : 64e6;
  uint64_t window = static_cast<uint64_t>(std::clamp(2 * rate_bps * rtt_s, 256.0 * 1024, 16.0 * 1024 * 1024));
  std::deque<InFlight> in_flight;
  uint64_t in_flight_bytes = 0;
  size_t next = 0;
  auto last_progress = Clock::now();
  Status failure;
  while (next < requests.size() || !in_flight.empty()) {
    // Issue more.
    std::vector<Hash> batch;
    bool was_idle = in_flight.empty();
    while (next < requests.size()) {
      const InFlight& r = requests[next];
      if (!in_flight.empty() && in_flight_bytes + r.bytes > window) break;
      if (options.budget_bytes &&
          (*link)->bytes_received() + in_flight_bytes + r.bytes > options.budget_bytes) {
        summary.budget_reached = true;
        next = requests.size();
        break;
      }
      if (r.patch) {
        if (!batch.empty()) break;  // send the chunk batch first, in order
        auto& w = wanted.at(r.key);
        OUTPOST_RETURN_IF_ERROR(channel.Send(kGetPatch, EncodeGetPatch(r.key, *w.file.previous)));
      } else {
        batch.push_back(r.key);
        if (batch.size() >= accept->max_request_chunks) {
          OUTPOST_RETURN_IF_ERROR(channel.Send(kGetChunks, EncodeHashes(batch)));
          batch.clear();
        }
      }
      in_flight.push_back(r);
      in_flight_bytes += r.bytes;
      ++next;
    }
    if (!batch.empty()) OUTPOST_RETURN_IF_ERROR(channel.Send(kGetChunks, EncodeHashes(batch)));
    if (was_idle && !in_flight.empty()) ++summary.round_trips;
    OUTPOST_RETURN_IF_ERROR(channel.Flush());
    if (in_flight.empty()) break;

    // Take one answer.
    auto answer_record = channel.Receive();
    if (!answer_record) {
      failure = answer_record.error();
      break;
    }
    InFlight expected = in_flight.front();
    in_flight.pop_front();
    in_flight_bytes -= expected.bytes;
    if (answer_record->type == kError) {
      failure = HubError(answer_record->body);
      break;
    }
    if (answer_record->type == kChunk && !expected.patch) {
      auto chunk = DecodeChunk(answer_record->body);
      if (!chunk) return chunk.error();
      if (chunk->hash != expected.key) return Corrupt("the hub answered out of order");
      auto data = ZstdDecompress(chunk->compressed, chunk->length, {});
      if (!data || Hash::Of(*data) != chunk->hash) {
        // A tampered or damaged chunk: nothing of it is kept; the file cannot be built now.
        summary.refused.push_back("chunk " + chunk->hash.Hex() + " from the hub did not verify");
        for (Wanted* w : waiting[chunk->hash]) w->failed = true;
        continue;
      }
      OUTPOST_RETURN_IF_ERROR(log.Append(chunk->hash, *data));
      ++summary.chunks_received;
      summary.chunk_bytes += data->size();
      progress.bytes_done += data->size();
      if (log.unsynced_bytes() >= (8u << 20)) OUTPOST_RETURN_IF_ERROR(log.Sync());
      for (Wanted* w : waiting[chunk->hash]) {
        if (--w->missing == 0 && !w->failed) {
          // The file is durable on its own once built (BlobWriter fsyncs it); the log needs
          // no sync first.
          build(w);
        }
      }
    } else if (answer_record->type == kPatch && expected.patch) {
      auto patch = DecodePatch(answer_record->body);
      if (!patch) return patch.error();
      auto& w = wanted.at(expected.key);
      if (patch->blob != w.file.blob) return Corrupt("the hub answered out of order");
      Result<std::string> bytes = Corrupt("no patch");
      if (patch->kind == 1) {
        auto old = ReadWholeFile(store->PathOf(*w.file.previous));
        if (old) bytes = ZstdDecompress(patch->compressed, w.file.size, *old);
      } else {
        bytes = ZstdDecompress(patch->compressed, w.file.size, {});
      }
      if (!bytes || Hash::Of(*bytes) != w.file.blob) {
        summary.refused.push_back("file " + w.file.blob.Hex() + " from the hub did not verify");
        w.failed = true;
        continue;
      }
      auto info = store->Put(*bytes);
      if (!info) return info.error();
      OUTPOST_RETURN_IF_ERROR(catalog->RecordBlobs({*info}));
      w.done = true;
      ++summary.patches_received;
      summary.chunk_bytes += bytes->size();
      progress.bytes_done += bytes->size();
      ++progress.files_done;
    } else if (answer_record->type == kMissing) {
      summary.refused.push_back("the hub no longer has " + expected.key.Hex());
      if (expected.patch) {
        wanted.at(expected.key).failed = true;
      } else {
        for (Wanted* w : waiting[expected.key]) w->failed = true;
      }
    } else {
      return Corrupt("unexpected record " + std::to_string(answer_record->type) + " from the hub");
    }
    if (options.progress && Clock::now() - last_progress > std::chrono::milliseconds(250)) {
      last_progress = Clock::now();
      progress.bytes_received = (*link)->bytes_received();
      progress.seconds = std::chrono::duration<double>(Clock::now() - started).count();
      options.progress(progress);
    }
  }
  OUTPOST_RETURN_IF_ERROR(log.Sync());
  finish_building();
  join_builders.fn = nullptr;
  if (failure.ok()) {
    (void)channel.Send(kBye, "");
    (void)channel.Flush();
  }
  summary.files_received = progress.files_done;

  // Serve every version whose files are all here, each in one transaction.
  bool all_served = failure.ok() && !unobtainable;
  for (auto& a : accepted) {
    bool complete = true;
    for (const BlobRef& blob : a.manifest.Blobs()) {
      if (!store->Contains(blob.hash)) {
        complete = false;
        break;
      }
    }
    if (!complete) {
      all_served = false;
      continue;
    }
    OUTPOST_RETURN_IF_ERROR(store->SyncDirs());
    VersionDraft draft = a.manifest.draft;
    OUTPOST_RETURN_IF_ERROR(FillBodyText(&draft, store));
    auto before = catalog->Channel(a.manifest.channel_id);
    auto committed = catalog->CommitVersionAs(draft, static_cast<int64_t>(a.manifest.version),
                                              a.envelope, a.manifest.hash);
    if (!committed) {
      summary.refused.push_back(committed.error().message());
      all_served = false;
      continue;
    }
    summary.updated.push_back({a.manifest.channel_id, before ? before->served_version : 0,
                               static_cast<int64_t>(a.manifest.version)});
  }
  summary.complete = all_served && !summary.budget_reached;
  if (summary.complete) OUTPOST_RETURN_IF_ERROR(log.Clear());
  if (!failure.ok()) {
    // The link dropped or the hub stopped: what arrived is staged; the next sync continues.
    summary = finish(std::move(summary));
    summary.complete = false;
    summary.refused.push_back("the sync stopped: " + failure.message());
    return summary;
  }
  return finish(std::move(summary));
}

}  // namespace outpost
