// The site's side of a session: enrolment (Noise XXpsk3, with a hub or a relay) and the routine
// sync (Noise IK with the pinned hub, or XX with a relay), see site_sync.h and session.h.
#include "outpost/sync/site_sync.h"
#include "outpost/sync/usage.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <optional>

#include "catch_all.h"
#include "offer.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/site_report.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"
#include "protocol.h"
#include "session/fetch.h"
#include "session/link.h"
#include "session/secure_channel.h"
#include "session/tcp_link.h"
#include "session/upload.h"
#include "staging.h"

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

Result<std::unique_ptr<Link>> Dial(const SyncDialer& dial, const std::string& address,
                                   std::chrono::milliseconds timeout) {
  return dial ? dial(address, timeout) : TcpLink::Dial(address, timeout);
}

// This node's signing identity and the Noise static key derived from it.
struct NodeKeys {
  Identity identity;
  noise::KeyPair key;
};

Result<NodeKeys> LoadNodeKeys(const NodePaths& paths) {
  auto identity = LoadOrCreateIdentity(paths.node_key);
  if (!identity) return identity.error();
  auto key = noise::KeyPair::FromPrivateKey(identity->x25519_secret_key());
  if (!key) return key.error();
  return NodeKeys{std::move(*identity), std::move(*key)};
}

// The initiator's handshake for a session in `mode`: the preamble ends the prologue, so a
// changed preamble fails the handshake. `remote`: the responder's key, for IK; `psk`: for XXpsk3.
Result<noise::HandshakeState> Initiate(Mode mode, noise::Pattern pattern, const noise::KeyPair& key,
                                       std::optional<noise::PublicKey> remote = std::nullopt,
                                       std::optional<noise::Psk> psk = std::nullopt) {
  noise::HandshakeConfig config;
  config.pattern = pattern;
  config.role = noise::Role::kInitiator;
  config.prologue = Bytes(std::string(kPrologue) + Preamble(mode));
  config.local_static = &key;
  config.remote_static = remote;
  config.psk = psk;
  return noise::HandshakeState::Create(config);
}

// A session's first bytes, in one write: the preamble in clear, then message 1 as a frame.
Status SendFirst(Link* link, Mode mode, const std::vector<uint8_t>& m1) {
  auto frame = noise::EncodeFrame(m1);
  if (!frame) return frame.error();
  std::string preamble = Preamble(mode);
  std::vector<uint8_t> first(preamble.begin(), preamble.end());
  first.insert(first.end(), frame->begin(), frame->end());
  return link->Write(first);
}

// In XX, the other side introduces itself in message 2 (`payload`): its Ed25519 key, whose
// X25519 form must be its session key. `who` ("hub", "relay") names it in the errors.
Result<PublicKey> Introduction(const noise::HandshakeState& hs, const std::vector<uint8_t>& payload,
                               const std::string& who) {
  if (payload.empty() || payload[0] != kHubInfo) return Corrupt("the " + who + " did not introduce itself");
  auto key = DecodeHubInfo(Body(payload));
  if (!key) return key.error();
  auto x = X25519FromEd25519(*key);
  if (!x || x->bytes != hs.RemoteStatic()) return Corrupt("the " + who + "'s key does not match its session key");
  return *key;
}

// ---- enrolment

// Messages 1 and 2 of an enrolment: message 1 names the code by its identifier (`code_id`);
// the answer is the key of the node at `address`, which must be `expected` (a pinned hub) if
// given. An Error in message 2 is not authenticated (the psk comes in message 3): it is shown
// as what it is.
Result<PublicKey> MeetEnroller(Link* link, noise::HandshakeState* hs, const std::string& address,
                               std::span<const uint8_t, 32> code_id,
                               const std::optional<PublicKey>& expected) {
  std::string id(reinterpret_cast<const char*>(code_id.data()), code_id.size());
  auto m1 = hs->WriteMessage(Bytes(Tagged(kEnrolId, id)));
  if (!m1) return m1.error();
  OUTPOST_RETURN_IF_ERROR(SendFirst(link, Mode::kEnrol, *m1));
  auto m2 = ReadHandshakeFrame(link);
  if (!m2) return Status(m2.error().code(), "the hub did not answer the enrolment: " + m2.error().message());
  auto info = hs->ReadMessage(*m2);
  if (!info) return Status(StatusCode::kCorrupt, "the hub's handshake failed: " + info.error().message());
  if (!info->empty() && (*info)[0] == kError) {
    auto refused = HubError(Body(*info));
    return Status(refused.code(), refused.message() + " (not authenticated: the code was not sent)");
  }
  auto hub_key = Introduction(*hs, *info, "hub");
  if (!hub_key) return hub_key.error();
  if (expected && *expected != *hub_key) {
    return Status(StatusCode::kInvalidArgument,
                  "the node at " + address + " has key " + hub_key->Fingerprint() +
                      ", not the pinned " + expected->Fingerprint() + ": wrong hub?");
  }
  return hub_key;
}

// The answer to an enrolment, from the node whose key is `hub_key`. The first record is the
// first proof that the other side holds the code's psk: a node that does not cannot encrypt it.
Result<Enrolled> ReadEnrolled(SecureChannel* channel, const PublicKey& hub_key) {
  auto record = channel->Receive();
  if (!record) {
    return Status(record.error().code(),
                  "the hub did not prove it knows the code (a mistyped code, or a man in the "
                  "middle?): " + record.error().message());
  }
  if (record->type == kError) return HubError(record->body);
  if (record->type != kEnrolled) return Corrupt("unexpected answer to the enrolment");
  auto enrolled = DecodeEnrolled(record->body);
  if (!enrolled) return enrolled.error();
  if (enrolled->hub_key != hub_key) return Corrupt("the hub named another key than its own");
  return *enrolled;
}

// The enrolment handshake (Noise XXpsk3, the psk derived from the code) with a hub or a relay;
// returns what the other side answered. The code itself never leaves this node. `expected` (a
// pinned hub) must be the other side's key if given.
Result<Enrolled> EnrolHandshake(const NodePaths& paths, const std::string& address,
                                const std::string& code, const std::string& name_hint,
                                std::chrono::milliseconds timeout,
                                const std::optional<PublicKey>& expected, const SyncDialer& dial) {
  auto code_keys = DeriveEnrolCodeKeys(code);
  if (!code_keys) {
    return InvalidArgument("that is not an enrolment code: a code is 16 letters and digits, "
                           "like abcd-efgh-jkmn-pqrs");
  }
  auto keys = LoadNodeKeys(paths);
  if (!keys) return keys.error();
  auto link = Dial(dial, address, timeout);
  if (!link) return link.error();
  auto hs = Initiate(Mode::kEnrol, noise::Pattern::kXXpsk3, keys->key, std::nullopt, code_keys->psk);
  sodium_memzero(code_keys->psk.data(), code_keys->psk.size());
  if (!hs) return hs.error();
  auto hub_key = MeetEnroller(link->get(), &*hs, address, code_keys->id, expected);
  if (!hub_key) return hub_key.error();
  sync::EnrolRequest request{keys->identity.public_key(), "", name_hint};  // no code: the psk
  auto m3 = hs->WriteMessage(Bytes(Tagged(kEnrol, EncodeEnrol(request))));
  if (!m3) return m3.error();
  OUTPOST_RETURN_IF_ERROR(WriteHandshakeFrame(link->get(), *m3));
  auto split = hs->Split();
  if (!split) return split.error();
  SecureChannel channel(link->get(), std::move(split->first), std::move(split->second),
                        SessionLimits{}.rekey_interval, SessionLimits{}.max_record);
  return ReadEnrolled(&channel, *hub_key);
}

}  // namespace

Result<HubPin> EnrolWithHub(const NodePaths& paths, SyncDb* db, const std::string& address,
                            const std::string& code, const std::string& name_hint,
                            std::chrono::milliseconds timeout, const SyncDialer& dial) try {
  std::optional<PublicKey> pinned;
  auto known = db->Hub();  // joined from a file, or joined before: its keys are pinned
  if (known) pinned = known->node_key;
  auto enrolled = EnrolHandshake(paths, address, code, name_hint, timeout, pinned, dial);
  if (!enrolled) return enrolled.error();
  if (known && enrolled->root_key != known->root_key) {
    return InvalidArgument("the hub at " + address + " answered with root " +
                           enrolled->root_key.Fingerprint() + ", not the pinned root " +
                           known->root_key.Fingerprint() + ": nothing installed");
  }
  OUTPOST_RETURN_IF_ERROR(StoreTrustList(paths, enrolled->root_key, enrolled->trust_list));
  HubPin pin;
  pin.address = address;
  pin.node_key = enrolled->hub_key;
  pin.root_key = enrolled->root_key;
  pin.site_name = enrolled->site_name;
  OUTPOST_RETURN_IF_ERROR(db->SetHub(pin));
  return pin;
} catch (...) {
  return CurrentException("joining the hub stopped");
}

Result<PeerInfo> JoinRelay(const NodePaths& paths, SyncDb* db, const std::string& address,
                           const std::string& code, const std::string& name,
                           std::chrono::milliseconds timeout, const SyncDialer& dial) try {
  auto pin = db->Hub();
  if (!pin) return InvalidArgument("join a hub first (`outpost join`): a relay only carries its versions");
  auto enrolled = EnrolHandshake(paths, address, code, name, timeout, std::nullopt, dial);
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
} catch (...) {
  return CurrentException("joining the relay stopped");
}

// ---- the routine sync

namespace {

// One sync, from the pin to the Bye, while the caller holds the staging lock.
class SiteSync {
 public:
  SiteSync(const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db,
           const SyncOptions& options, Clock::time_point started)
      : paths_(paths), store_(store), catalog_(catalog), db_(db), options_(options),
        started_(started) {}
  Result<SyncSummary> Run();

 private:
  // The pin and the address; a pending enrolment first; this node's keys and trust list.
  Status Prepare();
  // Dials and runs the handshake: channel_ and accept_ then hold the session.
  Status Connect();
  Status OpenWithHub(noise::HandshakeState hs, const std::vector<uint8_t>& answer);
  Status OpenWithRelay(noise::HandshakeState hs, const std::vector<uint8_t>& answer);
  Status OpenChannel(noise::HandshakeState* hs);
  Status TakeAccept(std::string_view body);
  std::vector<uint8_t> HelloPayload();
  // The hub's offer, and the trust list it may bring.
  Result<Offer> ReceiveOffer();
  // From version 2, after the offer: the hub's review decisions on this site's items, kept.
  Status ReceiveOutcomes();
  // From version 3, to a hub (not a relay), before the Bye: this site's signed report
  // (site_report.h), with options_.usage's counts. One that cannot be made is logged, not sent.
  void SendReport();
  // Notes an Error 9 (a version the other side does not speak) while speaking above version 1:
  // Run() then tries again one version lower. The error as a Status.
  Status RefusedBy(std::string_view error_body);
  // Verifies the offered versions and fetches those newer than what is served. `*complete`:
  // all are served; `*failure` as Fetch's *stopped.
  Status FetchOffered(Offer* offer, bool* complete, Status* failure);
  uint64_t Window() const;

  const NodePaths& paths_;
  BlobStore* store_;
  Catalog* catalog_;
  SyncDb* db_;
  uint64_t hello_counter_ = 0;  // this session's (docs/sync-protocol.md, Hello)
  uint16_t protocol_ = kProtocolVersion;  // this session's; lower after a hub refused it
  bool version_refused_ = false;
  const SyncOptions& options_;
  const Clock::time_point started_;
  HubPin pin_;
  bool from_peer_ = false;
  std::string address_;
  std::optional<NodeKeys> keys_;
  noise::PublicKey hub_x_{};
  TrustList trust_;
  std::unique_ptr<Link> link_;
  std::optional<SecureChannel> channel_;
  Accept accept_;
  Clock::duration rtt_{};
  SyncSummary summary_;
};

Result<SyncSummary> SiteSync::Run() {
  OUTPOST_RETURN_IF_ERROR(Prepare());
  Status connected = Connect();
  while (!connected.ok() && version_refused_) {  // an older hub: a new session, one version lower
    --protocol_;
    version_refused_ = false;
    connected = Connect();
  }
  OUTPOST_RETURN_IF_ERROR(connected);
  auto offer = ReceiveOffer();
  if (!offer) return offer.error();
  if (protocol_ >= kOutcomesProtocolVersion) OUTPOST_RETURN_IF_ERROR(ReceiveOutcomes());
  bool complete = false;
  Status failure;
  OUTPOST_RETURN_IF_ERROR(FetchOffered(&*offer, &complete, &failure));
  if (!from_peer_) {
    for (const auto& h : offer->yours) (void)db_->NotePeerVersion(pin_.node_key, h.channel_id, h.served);
  }
  // Then this site's own channels go up, if the hub takes them.
  if (failure.ok() && offer->uploads && !summary_.budget_reached && !summary_.cancelled) {
    OUTPOST_RETURN_IF_ERROR(Upload(catalog_, store_, &*channel_, keys_->identity.public_key(),
                                   *offer, options_, &summary_, &failure));
  }
  if (failure.ok()) {
    SendReport();
    (void)channel_->Send(kBye, "");
    (void)channel_->Flush();
  }
  for (const auto& u : summary_.uploaded) {
    complete &= u.state == "served";
    if (u.state == "served") (void)db_->NotePeerVersion(pin_.node_key, u.id, static_cast<uint64_t>(u.version));
  }
  summary_.complete = complete && !summary_.budget_reached && !summary_.cancelled && failure.ok();
  if (!failure.ok() && !summary_.cancelled) {
    // The link dropped or the hub stopped: what arrived is staged; the next sync continues.
    summary_.refused.push_back("the sync stopped: " + failure.message());
  }
  summary_.bytes_sent = link_->bytes_sent();
  summary_.bytes_received = link_->bytes_received();
  summary_.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  return std::move(summary_);
}

Status SiteSync::Prepare() {
  auto pin = db_->Hub();
  if (!pin) return Status(StatusCode::kInvalidArgument, "this node has not joined a hub: run `outpost join` first");
  pin_ = *pin;
  from_peer_ = !options_.peer.empty();
  address_ = from_peer_ ? options_.peer : options_.hub.empty() ? pin_.address : options_.hub;
  if (address_.empty()) return InvalidArgument("no hub address: give --hub HOST:PORT");
  if (!pin_.pending_code.empty() && !from_peer_) {
    auto enrolled = EnrolWithHub(paths_, db_, address_, pin_.pending_code, pin_.site_name,
                                 options_.limits.io_timeout, options_.dial);
    if (!enrolled) return enrolled.error();
    pin_ = *enrolled;
    if (!options_.hub.empty()) pin_.address = options_.hub;
  }
  auto keys = LoadNodeKeys(paths_);
  if (!keys) return keys.error();
  keys_.emplace(std::move(*keys));
  auto hub_x = X25519FromEd25519(pin_.node_key);
  if (!hub_x) return hub_x.error();
  hub_x_ = hub_x->bytes;
  // Trust is the pinned root's, whoever relays the bytes.
  if (auto held = LoadTrustList(paths_, pin_.root_key)) trust_ = *held;
  return Status::Ok();
}

Status SiteSync::Connect() {
  auto link = Dial(options_.dial, address_, options_.limits.io_timeout);
  if (!link) return link.error();
  link_ = std::move(*link);
  link_->set_rate_limit_kbps(options_.rate_limit_kbps);
  auto counter = db_->NextHelloCounter();  // recorded before it is sent: a Hello is never reused
  if (!counter) return counter.error();
  hello_counter_ = *counter;
  Mode mode = from_peer_ ? Mode::kPeerSync : Mode::kSync;
  auto hs = from_peer_ ? Initiate(mode, noise::Pattern::kXX, keys_->key)
                       : Initiate(mode, noise::Pattern::kIK, keys_->key, hub_x_);
  if (!hs) return hs.error();
  // Hub: IK, the Hello in message 1. Relay: XX, the relay's key in message 2 (it must be a
  // relay this site joined), the Hello in message 3.
  auto m1 = hs->WriteMessage(from_peer_ ? std::vector<uint8_t>{} : HelloPayload());
  if (!m1) return m1.error();
  auto sent_at = Clock::now();
  OUTPOST_RETURN_IF_ERROR(SendFirst(link_.get(), mode, *m1));
  summary_.round_trips = 1;
  auto m2 = ReadHandshakeFrame(link_.get());
  if (!m2) {
    return Status(m2.error().code(),
                  "the hub ended the handshake (" + m2.error().message() +
                      "): the hub's key may not be the pinned one, or the link dropped");
  }
  rtt_ = Clock::now() - sent_at;
  auto answer = hs->ReadMessage(*m2);
  if (!answer) {
    return Corrupt("the hub's answer failed authentication: it is not the hub this site pinned (" +
                   pin_.node_key.Fingerprint() + ")");
  }
  if (answer->empty()) return Corrupt("empty answer from the hub");
  if ((*answer)[0] == kError) return RefusedBy(Body(*answer));
  return from_peer_ ? OpenWithRelay(std::move(*hs), *answer) : OpenWithHub(std::move(*hs), *answer);
}

std::vector<uint8_t> SiteSync::HelloPayload() {
  Hello hello;
  hello.node_key = keys_->identity.public_key();
  hello.trust_sequence = trust_.sequence;
  hello.counter = hello_counter_;
  hello.protocol = protocol_;
  for (const ChannelInfo& c : catalog_->Channels()) {
    hello.held.push_back({c.id, static_cast<uint64_t>(c.served_version), 0});
  }
  return Bytes(Tagged(kHello, EncodeHello(hello)));
}

Status SiteSync::OpenWithHub(noise::HandshakeState hs, const std::vector<uint8_t>& answer) {
  if (answer[0] != kAccept) return Corrupt("unexpected answer from the hub");
  OUTPOST_RETURN_IF_ERROR(OpenChannel(&hs));
  return TakeAccept(Body(answer));
}

// An Accept of a version this site does not speak: it tells the hub (Error 9) and stops.
Status SiteSync::TakeAccept(std::string_view body) {
  auto accept = DecodeAccept(body);
  if (!accept) return accept.error();
  Status spoken = accept->protocol == protocol_
                     ? Status::Ok()
                     : InvalidArgument("the hub answered in sync protocol version " +
                                       std::to_string(accept->protocol) + "; the site spoke version " +
                                       std::to_string(protocol_) + ": update the older of the two");
  if (!spoken.ok()) {
    (void)channel_->Send(kError, EncodeError({kErrorVersion, spoken.message()}));
    (void)channel_->Flush();
    link_->Linger();  // so that the hub reads the Error before the link closes
    return spoken;
  }
  accept_ = *accept;
  return Status::Ok();
}

Status SiteSync::OpenWithRelay(noise::HandshakeState hs, const std::vector<uint8_t>& answer) {
  auto relay_key = Introduction(hs, answer, "relay");
  if (!relay_key) return relay_key.error();
  auto relay = db_->Peer(*relay_key);
  if (!relay || relay->role != "relay") {
    return InvalidArgument("the node at " + address_ + " (key " + relay_key->Fingerprint() +
                           ") is not a relay this site joined: run `outpost peer join` first");
  }
  if (relay->revoked_at != 0) return InvalidArgument("the relay \"" + relay->name + "\" was revoked");
  auto m3 = hs.WriteMessage(HelloPayload());
  if (!m3) return m3.error();
  OUTPOST_RETURN_IF_ERROR(WriteHandshakeFrame(link_.get(), *m3));
  OUTPOST_RETURN_IF_ERROR(OpenChannel(&hs));
  auto record = channel_->Receive();
  if (!record) return record.error();
  if (record->type == kError) return RefusedBy(record->body);
  if (record->type != kAccept) return Corrupt("unexpected answer from the relay");
  OUTPOST_RETURN_IF_ERROR(TakeAccept(record->body));
  ++summary_.round_trips;
  return Status::Ok();
}

Status SiteSync::OpenChannel(noise::HandshakeState* hs) {
  auto split = hs->Split();
  if (!split) return split.error();
  channel_.emplace(link_.get(), std::move(split->first), std::move(split->second),
                   options_.limits.rekey_interval, options_.limits.max_record);
  return Status::Ok();
}

Result<Offer> SiteSync::ReceiveOffer() {
  auto record = channel_->Receive();
  if (!record) return record.error();
  if (record->type == kError) return HubError(record->body);
  if (record->type != kOffer) return Corrupt("expected the hub's offer");
  auto offer = DecodeOffer(record->body);
  if (!offer) return offer.error();
  // The root signs trust lists, so a relay may carry them too; what they revoke stops here.
  trust_ = TakeTrustList(paths_, catalog_, pin_.root_key, keys_->identity.public_key(), &*offer,
                         &summary_);
  return offer;
}

Status SiteSync::RefusedBy(std::string_view error_body) {
  auto error = DecodeError(error_body);
  if (error && error->code == kErrorVersion && protocol_ > kMinProtocolVersion) {
    version_refused_ = true;
  }
  return HubError(error_body);
}

void SiteSync::SendReport() {
  if (from_peer_ || protocol_ < kReportProtocolVersion) return;
  // The usage counts: the caller's, else usage.db's (sending switched off: none).
  UsageSource usage = options_.usage ? options_.usage : ReportedUsageFrom(paths_.data / "usage.db");
  auto report = BuildSiteReport(paths_, catalog_, keys_->identity, usage(), db_->Now());
  if (!report) {
    spdlog::warn("this site's report to its hub could not be made: {}", report.error().message());
    return;
  }
  (void)channel_->Send(kReport, *report);
}

Status SiteSync::ReceiveOutcomes() {
  auto record = channel_->Receive();
  if (!record) return record.error();
  if (record->type == kError) return HubError(record->body);
  if (record->type != kOutcomes) return Corrupt("expected the hub's review outcomes");
  auto outcomes = DecodeOutcomes(record->body);
  if (!outcomes) return outcomes.error();
  if (from_peer_ || outcomes->empty()) return Status::Ok();  // a relay decides nothing
  OUTPOST_RETURN_IF_ERROR(db_->NoteReviewOutcomes(*outcomes));
  summary_.review_outcomes = outcomes->size();
  return Status::Ok();
}

Status SiteSync::FetchOffered(Offer* offer, bool* complete, Status* failure) {
  FetchRequest request;
  std::vector<HubHead> heads;
  for (auto& version : offer->versions) {
    auto accepted = AcceptPublishedVersion(catalog_, trust_, version);
    if (!accepted) {
      // One served already (re-offered with a new trust list) is not refused.
      if (accepted.error().code() != StatusCode::kAlreadyExists) {
        summary_.refused.push_back(accepted.error().message());
      }
      continue;
    }
    uint64_t bytes = 0;
    for (const auto& f : version.files) bytes += f.size;
    heads.push_back({accepted->manifest.channel_id, accepted->manifest.version, bytes, 0});
    for (auto& f : version.files) request.offered.emplace(f.blob, std::move(f));
    request.versions.push_back(std::move(*accepted));
  }
  // What the hub offers, kept before fetching: a sync cut short still tells the console how
  // far behind the box is and what the rest would cost (box_status.h).
  if (!from_peer_ && !heads.empty()) (void)db_->NoteHubHeads(heads);
  auto staging = StagingLog::Open(paths_.staging / "chunks");
  if (!staging) return staging.error();
  request.window = Window();
  request.max_request_chunks = accept_.max_request_chunks;
  request.budget_bytes = options_.budget_bytes;
  request.started = started_;
  request.progress = options_.progress;
  request.cancelled = options_.cancelled;
  bool refused_before = !summary_.refused.empty();
  ChannelSource source(&*channel_);
  OUTPOST_RETURN_IF_ERROR(
      Fetch(store_, catalog_, &source, staging->get(), std::move(request), &summary_, failure));
  *complete = summary_.complete && !refused_before;
  return Status::Ok();
}

// The pipeline keeps about a bandwidth-delay product of requests in flight.
uint64_t SiteSync::Window() const {
  double rtt_s = std::max(0.001, std::chrono::duration<double>(rtt_).count());
  double rate_bps = options_.rate_limit_kbps ? options_.rate_limit_kbps * 1000.0 / 8 : 64e6;
  return static_cast<uint64_t>(std::clamp(2 * rate_bps * rtt_s, 256.0 * 1024, 16.0 * 1024 * 1024));
}

// How a sync ended, as sync.db keeps it for the console (SyncDb::NoteSyncRun).
SyncRun RunOf(const Result<SyncSummary>& summary, int64_t started_at, int64_t finished_at) {
  SyncRun run;
  run.started_at = started_at;
  run.finished_at = finished_at;
  if (!summary) {
    run.message = summary.error().message();
    return run;
  }
  run.ok = true;
  run.complete = summary->complete;
  run.bytes_received = summary->bytes_received;
  if (summary->budget_reached) {
    run.message = "stopped at the data budget";
  } else if (!summary->refused.empty()) {
    run.message = summary->refused.back();
  }
  return run;
}

}  // namespace

Result<SyncSummary> SyncWithHub(const NodePaths& paths, BlobStore* store, Catalog* catalog,
                                SyncDb* db, const SyncOptions& options) try {
  auto started = Clock::now();
  auto lock = StagingLock::Take(paths.staging);
  if (!lock) return lock.error();
  int64_t started_at = db->Now();
  SiteSync sync(paths, store, catalog, db, options, started);
  auto summary = sync.Run();
  if (options.peer.empty()) (void)db->NoteSyncRun(RunOf(summary, started_at, db->Now()));
  return summary;
} catch (...) {
  return CurrentException("the sync stopped");
}

}  // namespace outpost
