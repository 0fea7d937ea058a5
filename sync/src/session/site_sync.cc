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

#include "exchange.h"
#include "session/link.h"
#include "outpost/content/importer.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/session.h"
#include "outpost/sync/trust_store.h"
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

namespace {

// Offers the channels this site signed itself (its own key, not the hub's publishers) that are
// newer than what the hub serves of them, answers the hub's requests for their files, and reads
// the hub's receipt. `*stopped` is the conversation's state, as Fetch's.
Status Upload(Catalog* catalog, BlobStore* store, SecureChannel* channel, const PublicKey& self,
              const Offer& offer, const SyncOptions& options, SyncSummary* summary,
              Status* stopped) {
  std::map<std::string, uint64_t> hub_serves;
  for (const auto& h : offer.yours) hub_serves[h.channel_id] = h.served;
  Offer up;
  auto versions = OfferChannels(catalog, {nullptr, &self}, hub_serves);
  if (!versions) return versions.error();
  up.versions = std::move(*versions);
  if (up.versions.empty()) return Status::Ok();
  OUTPOST_RETURN_IF_ERROR(channel->Send(kOffer, EncodeOffer(up)));
  OUTPOST_RETURN_IF_ERROR(channel->Flush());
  ++summary->round_trips;
  Link* link = channel->link();
  SyncProgress progress;
  progress.uploading = true;
  for (const auto& v : up.versions) {
    for (const auto& f : v.files) progress.bytes_offered += f.size;
  }
  const uint64_t sent_before = link->bytes_sent();
  const auto started = Clock::now();
  auto last_progress = started - std::chrono::seconds(1);  // the first request is shown at once
  auto show_progress = [&] {
    if (!options.progress || Clock::now() - last_progress < std::chrono::milliseconds(250)) return;
    last_progress = Clock::now();
    progress.bytes_sent = link->bytes_sent() - sent_before;
    progress.seconds = std::chrono::duration<double>(last_progress - started).count();
    options.progress(progress);
  };
  // Asked before each chunk sent: the budget, and a moment to show the progress.
  auto spent = [&] {
    show_progress();
    return options.budget_bytes != 0 &&
           link->bytes_sent() + link->bytes_received() >= options.budget_bytes;
  };
  for (;;) {
    show_progress();
    auto record = channel->Receive();
    if (!record) {
      *stopped = record.error();
      return Status::Ok();
    }
    auto stop_for_budget = [&] {
      summary->budget_reached = true;
      (void)channel->Send(kError, EncodeError({7, "the site's byte budget is spent"}));
      (void)channel->Flush();
      link->Linger();
      *stopped = Status(StatusCode::kBusy, "the byte budget was spent sending this site's channels");
      return Status::Ok();
    };
    if (record->type == kGetPatch && spent()) return stop_for_budget();
    switch (record->type) {
      case kGetChunks: {
        Status answered = AnswerChunks(store, catalog, channel, record->body, options.limits, spent);
        if (answered.code() == StatusCode::kBusy) return stop_for_budget();
        OUTPOST_RETURN_IF_ERROR(answered);
        break;
      }
      case kGetPatch:
        OUTPOST_RETURN_IF_ERROR(AnswerPatch(store, channel, record->body));
        break;
      case kReceipt: {
        auto receipt = DecodeReceipt(record->body);
        if (!receipt) return receipt.error();
        for (const auto& e : *receipt) {
          const char* state = e.state == ReceiptState::kServed       ? "served"
                              : e.state == ReceiptState::kIncomplete ? "incomplete"
                                                                     : "refused";
          summary->uploaded.push_back({e.channel_id, static_cast<int64_t>(e.version), state, e.message});
        }
        return Status::Ok();
      }
      case kError:
        *stopped = HubError(record->body);
        return Status::Ok();
      default:
        return Corrupt("unexpected record " + std::to_string(record->type) + " from the hub");
    }
  }
}

}  // namespace

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
  FetchRequest request;
  for (auto& version : offer->versions) {
    auto accepted = AcceptPublishedVersion(catalog, trust, version);
    if (!accepted) {
      summary.refused.push_back(accepted.error().message());
      continue;
    }
    for (auto& f : version.files) request.offered.emplace(f.blob, std::move(f));
    request.versions.push_back(std::move(*accepted));
  }

  auto staging = StagingLog::Open(paths.staging / "chunks");
  if (!staging) return staging.error();
  // The pipeline keeps about a bandwidth-delay product of requests in flight.
  double rtt_s = std::max(0.001, std::chrono::duration<double>(rtt).count());
  double rate_bps = options.rate_limit_kbps ? options.rate_limit_kbps * 1000.0 / 8 : 64e6;
  request.window = static_cast<uint64_t>(std::clamp(2 * rate_bps * rtt_s, 256.0 * 1024, 16.0 * 1024 * 1024));
  request.max_request_chunks = accept->max_request_chunks;
  request.budget_bytes = options.budget_bytes;
  request.started = started;
  request.progress = options.progress;
  bool refused_before = !summary.refused.empty();
  Status failure;
  OUTPOST_RETURN_IF_ERROR(
      Fetch(store, catalog, &channel, staging->get(), std::move(request), &summary, &failure));
  bool complete = summary.complete && !refused_before;

  if (!from_peer) {
    for (const auto& h : offer->yours) (void)db->NotePeerVersion(pin->node_key, h.channel_id, h.served);
  }
  // Then this site's own channels go up, if the hub takes them.
  if (failure.ok() && offer->uploads && !summary.budget_reached) {
    OUTPOST_RETURN_IF_ERROR(
        Upload(catalog, store, &channel, identity->public_key(), *offer, options, &summary, &failure));
  }
  if (failure.ok()) {
    (void)channel.Send(kBye, "");
    (void)channel.Flush();
  }
  for (const auto& u : summary.uploaded) {
    complete &= u.state == "served";
    if (u.state == "served") (void)db->NotePeerVersion(pin->node_key, u.id, static_cast<uint64_t>(u.version));
  }
  summary.complete = complete && !summary.budget_reached && failure.ok();
  if (!failure.ok()) {
    // The link dropped or the hub stopped: what arrived is staged; the next sync continues.
    summary.refused.push_back("the sync stopped: " + failure.message());
  }
  return finish(std::move(summary));
}

}  // namespace outpost
