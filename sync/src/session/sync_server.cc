// SyncServer: the hub's side of enrolment (Noise XXpsk3) and routine syncs (Noise IK). A thread per
// connection: at most max_handshakes in their handshake, which must end within handshake_timeout,
// and max_sessions admitted, at most max_sessions_per_address from one address (more are closed
// at accept); a peer whose key is unknown or revoked, or whose Hello is a replay, is refused in
// the handshake's answer, before any content moves.
#include "outpost/sync/sync_server.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "offer.h"
#include "outpost/base/file.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/site_report.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"
#include "protocol.h"
#include "session/answer.h"
#include "session/fetch.h"
#include "session/link.h"
#include "session/secure_channel.h"
#include "session/tcp_link.h"
#include "staging.h"

namespace outpost {

using namespace outpost::sync;

struct SyncServer::Impl {
  Impl(const NodePaths& p, BlobStore* s, Catalog* c, SyncDb* d, SessionLimits l)
      : paths(p), store(s), catalog(c), db(d), limits(l) {}

  // This node's identity and Noise key, loaded once.
  Status LoadKey();
  // Counts a connection in, as in its handshake (false when max_handshakes are, or
  // max_sessions_per_address from its address), and out; Stop() closes the links counted in.
  // Untrack destroys the link if it owns it.
  bool Track(Link* link, bool limited);
  void Untrack(Link* link, std::unique_ptr<Link> owned = nullptr);
  // Moves an authenticated peer's connection from the handshakes to the sessions and lifts its
  // handshake deadline; the refusal (Error 4, busy) when max_sessions run already.
  std::optional<ErrorMessage> Promote(Link* link);

  // A whole session, logged when it ends early; never throws (an exception is its result).
  Status Run(Link* link);
  Status Session(Link* link);
  Status SyncSession(Link* link, const std::string& prologue);
  Status EnrolSession(Link* link, const std::string& prologue);
  // Mode 1, enrolment over plain XX: withdrawn; the peer is told so in XX message 2.
  Status RefuseXxEnrol(Link* link, const std::string& prologue);
  Status PeerSession(Link* link, const std::string& prologue);
  // Both XX sessions: this node introduces itself in message 2; the peer's message 3 payload,
  // its static key and the transport come back.
  struct XxSession {
    std::vector<uint8_t> payload;
    std::optional<noise::PublicKey> remote;
    SecureChannel channel;
  };
  Result<XxSession> RespondXX(Link* link, const std::string& prologue);
  // The enrolment handshake (XXpsk3): message 1 names the code (*code_id), whose psk the site
  // must prove it holds by message 3. The payload is message 3's.
  Result<XxSession> RespondEnrol(Link* link, const std::string& prologue,
                                 std::array<uint8_t, 32>* code_id);
  // The psk of the code message 1 names (`payload`), into *hs; the refusal to send otherwise.
  std::optional<ErrorMessage> PickEnrolPsk(const std::vector<uint8_t>& payload,
                                           noise::HandshakeState* hs,
                                           std::array<uint8_t, 32>* code_id);
  // The answer to an admitted site: its name, this node's key, the root and trust list.
  Result<Enrolled> EnrolledAnswer(const std::string& site_name);
  // The responder's handshake with this node's static key, for `pattern` (XX or IK).
  Result<noise::HandshakeState> Responder(noise::Pattern pattern, const std::string& prologue);
  // After the handshake: the offer, then requests until Bye.
  Status Converse(SecureChannel* channel, const Hello& hello);
  // Who may sync: an enrolled peer that is not revoked; the refusal's code and text otherwise.
  std::optional<ErrorMessage> Admit(const Hello& hello, const std::optional<noise::PublicKey>& remote);
  // A replayed IK message 1: its Hello's counter is not above the last accepted from its key.
  std::optional<ErrorMessage> Replayed(const Hello& hello, const std::string& from);
  // `uploads`: this node is a hub and the peer one of its sites, which may send its own
  // channels up.
  Result<Offer> BuildOffer(const Hello& hello, bool uploads);
  // From protocol version 2, right after the Offer: the hub's review decisions on this site's
  // items that have not reached it yet (none from a relay). `*ids`: those sent, delivered once
  // the site says Bye.
  Status SendOutcomes(SecureChannel* channel, const Hello& hello, std::vector<int64_t>* ids);
  // A site's own channels, offered up: verified, fetched and served; the answer is a Receipt.
  Status ReceiveUpload(SecureChannel* channel, const PeerInfo& site, Offer up);
  // The versions of `up` that pass AcceptSiteVersion, to fetch; an entry in `receipt` for each.
  FetchRequest CheckUpload(const PeerInfo& site, Offer up, std::vector<ReceiptEntry>* receipt);
  // Fetches them into the site's own staging folder. Not Ok: the session ends.
  Status FetchUpload(SecureChannel* channel, const PeerInfo& site, FetchRequest request,
                     SyncSummary* summary);

  NodePaths paths;
  BlobStore* store;
  Catalog* catalog;
  SyncDb* db;
  SessionLimits limits;
  std::mutex key_mu;  // guards the loading of node and static_key, which then stay
  std::optional<Identity> node;
  std::optional<noise::KeyPair> static_key;

  std::unique_ptr<TcpListener> listener;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> offers_built{0};
  std::mutex mu;
  std::condition_variable idle;
  struct Tracked {
    std::string address;  // "" for a session not limited (ServeSession)
    bool admitted = false;
  };
  std::map<Link*, Tracked> links;          // guarded by mu
  std::map<std::string, int> per_address;  // guarded by mu: limited connections from each address
  int handshaking = 0;                     // guarded by mu: limited links not yet admitted
  int admitted = 0;                        // guarded by mu: limited links admitted
};

SyncServer::SyncServer(const NodePaths& paths, BlobStore* store, Catalog* catalog, SyncDb* db,
                       SessionLimits limits)
    : impl_(std::make_unique<Impl>(paths, store, catalog, db, limits)) {}

SyncServer::~SyncServer() { Stop(); }

int SyncServer::port() const { return impl_->listener ? impl_->listener->port() : 0; }

uint64_t SyncServer::offers_built() const { return impl_->offers_built; }

void SyncServer::WaitUntilNoConnectionFrom(const std::string& address) {
  std::unique_lock lock(impl_->mu);
  impl_->idle.wait(lock, [&] { return impl_->per_address.count(address) == 0; });
}

Status SyncServer::Impl::LoadKey() {
  std::lock_guard lock(key_mu);
  if (static_key) return Status::Ok();
  auto identity = LoadOrCreateIdentity(paths.node_key);
  if (!identity) return identity.error();
  auto key = noise::KeyPair::FromPrivateKey(identity->x25519_secret_key());
  if (!key) return key.error();
  node.emplace(std::move(*identity));
  static_key.emplace(std::move(*key));
  return Status::Ok();
}

Status SyncServer::Bind(const std::string& listen) {
  OUTPOST_RETURN_IF_ERROR(impl_->LoadKey());
  auto listener = TcpListener::Bind(listen);
  if (!listener) return listener.error();
  impl_->listener = std::move(*listener);
  return Status::Ok();
}

namespace {

// "ADDR" of a link's "ADDR:PORT" ("::1" of "::1:7000").
std::string AddressOf(const std::string& peer) {
  size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

}  // namespace

bool SyncServer::Impl::Track(Link* link, bool limited) {
  std::lock_guard lock(mu);
  if (!limited) {
    links.emplace(link, Tracked{});
    return true;
  }
  if (handshaking >= limits.max_handshakes) {
    spdlog::warn("sync: {} connections in their handshake already; another is turned away",
                 handshaking);
    return false;
  }
  std::string address = AddressOf(link->peer());
  if (per_address[address] >= limits.max_sessions_per_address) {
    spdlog::warn("sync: {} holds {} connections already; another from it is closed", address,
                 per_address[address]);
    return false;
  }
  ++per_address[address];
  ++handshaking;
  links.emplace(link, Tracked{std::move(address), false});
  return true;
}

std::optional<ErrorMessage> SyncServer::Impl::Promote(Link* link) {
  std::lock_guard lock(mu);
  auto it = links.find(link);
  if (it != links.end() && !it->second.address.empty() && !it->second.admitted) {
    if (admitted >= limits.max_sessions) {
      spdlog::warn("sync: {} sessions already; an admitted peer is told to come back", admitted);
      return ErrorMessage{4, "the hub is busy (" + std::to_string(admitted) +
                                 " sessions): try again later"};
    }
    --handshaking;
    ++admitted;
    it->second.admitted = true;
  }
  link->set_deadline(Clock::time_point::max());
  return std::nullopt;
}

void SyncServer::Impl::Untrack(Link* link, std::unique_ptr<Link> owned) {
  std::lock_guard lock(mu);
  auto it = links.find(link);
  if (it != links.end() && !it->second.address.empty()) {
    if (--per_address[it->second.address] <= 0) per_address.erase(it->second.address);
    --(it->second.admitted ? admitted : handshaking);
  }
  if (it != links.end()) links.erase(it);
  owned.reset();  // under the lock: Stop() never closes a link being destroyed
  idle.notify_all();
}

// No exception ends more than its own session: a session's thread is detached, and one that
// escaped it would end the process, every other site's session with it. The log says only what
// the exception says (what()), never a key or a record's bytes.
Status SyncServer::Impl::Run(Link* link) {
  std::string peer = link->peer();
  Status st;
  try {
    st = Session(link);
  } catch (const std::exception& e) {
    st = Internal(std::string("an unexpected error: ") + e.what());
  } catch (...) {
    st = Internal("an unexpected error");
  }
  if (!st.ok()) spdlog::info("sync: session with {} ended: {}", peer, st.message());
  return st;
}

Status SyncServer::Serve() {
  Impl* impl = impl_.get();
  if (!impl->listener) return InvalidArgument("the sync server is not bound (Bind() first)");
  while (!impl->stopping) {
    auto link = impl->listener->Accept(impl->limits.io_timeout);
    if (impl->stopping) break;
    if (!link) {
      spdlog::warn("sync: {}", link.error().message());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // accept(2) failing: EMFILE
      continue;
    }
    std::unique_ptr<Link> owned = std::move(*link);
    if (!impl->Track(owned.get(), /*limited=*/true)) continue;  // closed as it goes
    std::thread([impl, owned = std::move(owned)]() mutable {
      (void)impl->Run(owned.get());
      Link* raw = owned.get();
      impl->Untrack(raw, std::move(owned));
    }).detach();
  }
  std::unique_lock lock(impl->mu);
  impl->idle.wait(lock, [impl] { return impl->links.empty(); });
  return Status::Ok();
}

Status SyncServer::ServeSession(Link* link) {
  OUTPOST_RETURN_IF_ERROR(impl_->LoadKey());
  if (impl_->stopping) return Status(StatusCode::kBusy, "the sync server is stopping");
  impl_->Track(link, /*limited=*/false);
  Status st = impl_->Run(link);
  impl_->Untrack(link);
  return st;
}

void SyncServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  if (impl_->listener) impl_->listener->Shutdown();
  std::lock_guard lock(impl_->mu);
  for (const auto& [link, tracked] : impl_->links) link->Close();
}

// ---------------------------------------------------------------------------------------------

namespace {

std::string Prologue(std::string_view preamble) {
  return std::string(kPrologue) + std::string(preamble);
}

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

// Tells the peer why it is refused (best effort: it may be gone) and ends the session.
Status Refuse(SecureChannel* channel, uint16_t code, const std::string& why) {
  (void)channel->Send(kError, EncodeError({code, why}));
  (void)channel->Flush();
  channel->link()->Linger();
  return Status(StatusCode::kInvalidArgument, why);
}

// The Hello a handshake payload carries. Its version is read first: one this hub does not speak
// is refused as such (Error 9, naming both), whatever the rest looks like.
std::optional<ErrorMessage> ReadHello(const std::vector<uint8_t>& payload, Hello* hello) {
  if (payload.empty() || payload[0] != kHello) return ErrorMessage{5, "expected a hello"};
  std::string_view body(reinterpret_cast<const char*>(payload.data()) + 1, payload.size() - 1);
  auto version = HelloVersion(body);
  if (!version) return ErrorMessage{5, version.error().message()};
  if (Status spoken = CheckProtocolVersion(*version, "the site", "the hub"); !spoken.ok()) {
    return ErrorMessage{kErrorVersion, spoken.message()};
  }
  auto decoded = DecodeHello(body);
  if (!decoded) return ErrorMessage{5, decoded.error().message()};
  *hello = std::move(*decoded);
  return std::nullopt;
}

}  // namespace

Status SyncServer::Impl::Session(Link* link) {
  // Until the peer is admitted, however slowly or steadily its bytes come.
  link->set_deadline(Clock::now() + limits.handshake_timeout);
  uint8_t preamble[8];
  OUTPOST_RETURN_IF_ERROR(link->ReadExact(preamble));
  if (std::memcmp(preamble, kPreambleMagic, 4) != 0) {
    return Corrupt("not an Outpost sync client (bad preamble)");
  }
  std::string prologue = Prologue({reinterpret_cast<const char*>(preamble), 8});
  switch (static_cast<Mode>(preamble[4])) {
    case Mode::kSync: return SyncSession(link, prologue);
    case Mode::kEnrol: return EnrolSession(link, prologue);
    case Mode::kEnrolXX: return RefuseXxEnrol(link, prologue);
    case Mode::kPeerSync: return PeerSession(link, prologue);
  }
  return Corrupt("unknown session mode " + std::to_string(preamble[4]));
}

Result<noise::HandshakeState> SyncServer::Impl::Responder(noise::Pattern pattern,
                                                          const std::string& prologue) {
  noise::HandshakeConfig config;
  config.pattern = pattern;
  config.role = noise::Role::kResponder;
  config.prologue = Bytes(prologue);
  config.local_static = &*static_key;
  return noise::HandshakeState::Create(config);
}

Result<SyncServer::Impl::XxSession> SyncServer::Impl::RespondXX(Link* link,
                                                                 const std::string& prologue) {
  auto hs = Responder(noise::Pattern::kXX, prologue);
  if (!hs) return hs.error();
  auto m1 = ReadHandshakeFrame(link);
  if (!m1) return m1.error();
  if (auto p = hs->ReadMessage(*m1); !p) return p.error();
  auto m2 = hs->WriteMessage(Bytes(Tagged(kHubInfo, EncodeHubInfo(node->public_key()))));
  if (!m2) return m2.error();
  OUTPOST_RETURN_IF_ERROR(WriteHandshakeFrame(link, *m2));
  auto m3 = ReadHandshakeFrame(link);
  if (!m3) return m3.error();
  auto payload = hs->ReadMessage(*m3);
  if (!payload) return payload.error();
  auto remote = hs->RemoteStatic();
  auto split = hs->Split();
  if (!split) return split.error();
  return XxSession{std::move(*payload), remote,
                   SecureChannel(link, std::move(split->second), std::move(split->first),
                                 limits.rekey_interval, limits.max_record)};
}

std::optional<ErrorMessage> SyncServer::Impl::PickEnrolPsk(const std::vector<uint8_t>& payload,
                                                           noise::HandshakeState* hs,
                                                           std::array<uint8_t, 32>* code_id) {
  if (payload.size() != 1 + code_id->size() || payload[0] != kEnrolId) {
    return ErrorMessage{5, "expected the enrolment code's identifier in message 1"};
  }
  std::copy(payload.begin() + 1, payload.end(), code_id->begin());
  auto psk = db->EnrolCodePsk(*code_id);
  if (!psk) {
    return ErrorMessage{3, "unknown enrolment code: mistyped, made by another hub, or made "
                           "before this hub could enrol over Noise XXpsk3"};
  }
  Status st = hs->SetPsk(*psk);
  sodium_memzero(psk->data(), psk->size());
  if (!st.ok()) return ErrorMessage{6, st.message()};
  return std::nullopt;
}

Result<SyncServer::Impl::XxSession> SyncServer::Impl::RespondEnrol(
    Link* link, const std::string& prologue, std::array<uint8_t, 32>* code_id) {
  auto hs = Responder(noise::Pattern::kXXpsk3, prologue);
  if (!hs) return hs.error();
  auto m1 = ReadHandshakeFrame(link);
  if (!m1) return m1.error();
  auto first = hs->ReadMessage(*m1);
  if (!first) return first.error();
  auto refusal = PickEnrolPsk(*first, &*hs, code_id);
  std::string m2_payload = refusal ? Tagged(kError, EncodeError(*refusal))
                                   : Tagged(kHubInfo, EncodeHubInfo(node->public_key()));
  auto m2 = hs->WriteMessage(Bytes(m2_payload));
  if (!m2) return m2.error();
  OUTPOST_RETURN_IF_ERROR(WriteHandshakeFrame(link, *m2));
  if (refusal) {
    link->Linger();
    return Status(StatusCode::kInvalidArgument, refusal->message);
  }
  auto m3 = ReadHandshakeFrame(link);
  if (!m3) return m3.error();
  auto payload = hs->ReadMessage(*m3);
  if (!payload) {
    return Status(payload.error().code(), "the enrolling node did not prove it holds the code "
                                          "(a wrong code, or a man in the middle): " +
                                              payload.error().message());
  }
  auto remote = hs->RemoteStatic();
  auto split = hs->Split();
  if (!split) return split.error();
  return XxSession{std::move(*payload), remote,
                   SecureChannel(link, std::move(split->second), std::move(split->first),
                                 limits.rekey_interval, limits.max_record)};
}

Status SyncServer::Impl::RefuseXxEnrol(Link* link, const std::string& prologue) {
  const std::string why =
      "enrolment over Noise XX (mode 1) was withdrawn: it showed the code to whoever answered. "
      "Update outpost on this node: it enrols over Noise XXpsk3 (mode 4)";
  auto hs = Responder(noise::Pattern::kXX, prologue);
  if (!hs) return hs.error();
  auto m1 = ReadHandshakeFrame(link);
  if (!m1) return m1.error();
  if (auto p = hs->ReadMessage(*m1); !p) return p.error();
  auto m2 = hs->WriteMessage(Bytes(Tagged(kError, EncodeError({5, why}))));
  if (!m2) return m2.error();
  (void)WriteHandshakeFrame(link, *m2);
  link->Linger();
  return Status(StatusCode::kInvalidArgument, why);
}

Result<Enrolled> SyncServer::Impl::EnrolledAnswer(const std::string& site_name) {
  Enrolled answer;
  answer.site_name = site_name;
  answer.hub_key = node->public_key();
  auto trust_doc = ReadWholeFile(paths.trust_list, kMaxTrustListBytes);
  if (!trust_doc) return Internal("the hub has no trust list (run `outpost hub init`)");
  answer.trust_list = *trust_doc;
  auto root = TrustListRoot(*trust_doc);
  if (!root) return Internal(root.error().message());
  answer.root_key = *root;
  return answer;
}

Status SyncServer::Impl::EnrolSession(Link* link, const std::string& prologue) {
  std::array<uint8_t, 32> code_id{};
  auto session = RespondEnrol(link, prologue, &code_id);
  if (!session) return session.error();
  SecureChannel& channel = session->channel;
  const std::vector<uint8_t>* payload = &session->payload;
  auto refuse = [&](uint16_t code, const std::string& why) { return Refuse(&channel, code, why); };
  if (payload->empty() || (*payload)[0] != kEnrol) return refuse(5, "expected an enrolment");
  auto request = DecodeEnrol({reinterpret_cast<const char*>(payload->data()) + 1, payload->size() - 1});
  if (!request) return refuse(5, request.error().message());
  if (!request->code.empty()) return refuse(5, "a code never travels in mode 4: send it empty");
  auto x = X25519FromEd25519(request->node_key);
  if (!x || !session->remote || x->bytes != *session->remote) {
    return refuse(5, "the enrolling node's key does not match its session key");
  }
  // The handshake completed: the site holds the psk of the code `code_id` names.
  auto admitted = db->AdmitSiteByCodeId(code_id, request->node_key);
  if (!admitted) {
    uint16_t code = admitted.error().code() == StatusCode::kNotFound ? 3 : 2;
    return refuse(code, "the enrolment was refused: " + admitted.error().message());
  }
  auto answer = EnrolledAnswer(admitted->name);
  if (!answer) return refuse(6, answer.error().message());
  OUTPOST_RETURN_IF_ERROR(channel.Send(kEnrolled, EncodeEnrolled(*answer)));
  OUTPOST_RETURN_IF_ERROR(channel.Flush());
  spdlog::info("sync: enrolled site \"{}\" (key {})", admitted->name, request->node_key.Fingerprint());
  return Status::Ok();
}

Status SyncServer::Impl::SyncSession(Link* link, const std::string& prologue) {
  auto hs = Responder(noise::Pattern::kIK, prologue);
  if (!hs) return hs.error();
  auto m1 = ReadHandshakeFrame(link);
  if (!m1) return m1.error();
  auto payload = hs->ReadMessage(*m1);
  if (!payload) return payload.error();

  auto answer = [&](uint8_t type, const std::string& body) -> Status {
    auto m2 = hs->WriteMessage(Bytes(Tagged(type, body)));
    if (!m2) return m2.error();
    return WriteHandshakeFrame(link, *m2);
  };
  auto refuse = [&](uint16_t code, const std::string& why) {
    (void)answer(kError, EncodeError({code, why}));
    return Status(StatusCode::kInvalidArgument, why);
  };
  Hello hello;
  if (auto refusal = ReadHello(*payload, &hello)) return refuse(refusal->code, refusal->message);
  if (auto refusal = Admit(hello, hs->RemoteStatic())) return refuse(refusal->code, refusal->message);
  if (auto refusal = Replayed(hello, link->peer())) return refuse(refusal->code, refusal->message);
  if (auto refusal = Promote(link)) return refuse(refusal->code, refusal->message);
  Accept accept;
  accept.protocol = hello.protocol;  // the Hello's: the hub speaks every version it accepted
  accept.max_request_chunks = limits.max_request_chunks;
  OUTPOST_RETURN_IF_ERROR(answer(kAccept, EncodeAccept(accept)));
  auto split = hs->Split();
  if (!split) return split.error();
  SecureChannel channel(link, std::move(split->second), std::move(split->first),
                        limits.rekey_interval, limits.max_record);
  return Converse(&channel, hello);
}

std::optional<ErrorMessage> SyncServer::Impl::Admit(const Hello& hello,
                                                    const std::optional<noise::PublicKey>& remote) {
  auto x = X25519FromEd25519(hello.node_key);
  if (!x || !remote || x->bytes != *remote) {
    return ErrorMessage{5, "the node's key does not match its session key"};
  }
  auto peer = db->Peer(hello.node_key);
  if (!peer) {
    return ErrorMessage{1, "this node (key " + hello.node_key.Fingerprint() +
                               ") is not enrolled here: ask for a code and run `outpost join` "
                               "(or `outpost peer join` for a relay)"};
  }
  if (peer->revoked_at != 0) return ErrorMessage{2, "this node (\"" + peer->name + "\") was revoked"};
  return std::nullopt;
}

// Before anything is read for the peer: a replay costs one decryption and one indexed row.
std::optional<ErrorMessage> SyncServer::Impl::Replayed(const Hello& hello, const std::string& from) {
  auto fresh = db->AcceptHelloCounter(hello.node_key, hello.counter);
  if (!fresh) return ErrorMessage{6, "the hub cannot record the hello: " + fresh.error().message()};
  if (*fresh) return std::nullopt;
  spdlog::warn("sync: a replayed first message from {} as node {} (hello counter {}) was refused",
               from, hello.node_key.Fingerprint(), hello.counter);
  return ErrorMessage{8, "this hello is not newer than the last one the hub accepted from this "
                         "node: a replay (or two syncs at once)"};
}

// A peer (a site syncing from a relay) does not know the relay's key in advance: Noise XX, the
// relay introducing itself in message 2 and the peer sending its Hello in message 3.
Status SyncServer::Impl::PeerSession(Link* link, const std::string& prologue) {
  auto session = RespondXX(link, prologue);
  if (!session) return session.error();
  SecureChannel& channel = session->channel;
  const std::vector<uint8_t>* payload = &session->payload;
  auto refuse = [&](uint16_t code, const std::string& why) { return Refuse(&channel, code, why); };
  Hello hello;
  if (auto refusal = ReadHello(*payload, &hello)) return refuse(refusal->code, refusal->message);
  if (auto refusal = Admit(hello, session->remote)) return refuse(refusal->code, refusal->message);
  if (auto refusal = Promote(link)) return refuse(refusal->code, refusal->message);
  Accept accept;
  accept.protocol = hello.protocol;
  accept.max_request_chunks = limits.max_request_chunks;
  OUTPOST_RETURN_IF_ERROR(channel.Send(kAccept, EncodeAccept(accept)));
  return Converse(&channel, hello);
}

Status SyncServer::Impl::Converse(SecureChannel* channel, const Hello& hello) {
  auto peer = db->Peer(hello.node_key);
  bool uploads = peer && peer->role == "site" && db->OwnRoot().has_value();
  for (const auto& h : hello.held) {
    if (h.served > 0) (void)db->NotePeerVersion(hello.node_key, h.channel_id, h.served);
  }
  // The Hello says what the site serves now, and this session brings it the rest: a stick still
  // on its way is not a base for the next one (docs/bundle.md, "Packed against what was sent").
  (void)db->ForgetSentVersions(hello.node_key, INT64_MAX);
  auto offer = BuildOffer(hello, uploads);
  if (!offer) {
    (void)channel->Send(kError, EncodeError({6, offer.error().message()}));
    (void)channel->Flush();
    return offer.error();
  }
  OUTPOST_RETURN_IF_ERROR(channel->Send(kOffer, EncodeOffer(*offer)));
  std::vector<int64_t> outcomes_sent;
  OUTPOST_RETURN_IF_ERROR(SendOutcomes(channel, hello, &outcomes_sent));
  OUTPOST_RETURN_IF_ERROR(channel->Flush());
  // The peer gets only what was offered to it: not another school's upload, not a channel its
  // trust list does not let it take.
  const Answerable may(offer->versions);
  offer->versions.clear();
  for (;;) {
    auto record = channel->Receive();
    if (!record) return record.error();
    switch (record->type) {
      case kGetChunks:
        OUTPOST_RETURN_IF_ERROR(AnswerChunks(store, catalog, channel, record->body, may, limits));
        break;
      case kGetPatch:
        OUTPOST_RETURN_IF_ERROR(AnswerPatch(store, channel, record->body, may, limits));
        break;
      case kOffer: {
        if (!uploads) return Refuse(channel, 5, "this node takes no channels up from its peers");
        auto up = DecodeOffer(record->body);
        if (!up) return Refuse(channel, 5, up.error().message());
        OUTPOST_RETURN_IF_ERROR(ReceiveUpload(channel, *peer, std::move(*up)));
        break;
      }
      case kReport:  // taken from the hub's own sites only; a bad one is logged, the sync goes on
        if (uploads) (void)TakeSiteReport(db, hello.node_key, record->body, kViaLink);
        break;
      case kBye:
        (void)db->TouchPeer(hello.node_key, kViaLink);
        if (!outcomes_sent.empty()) (void)db->NoteOutcomesDelivered(hello.node_key, outcomes_sent);
        return Status::Ok();
      case kError: {  // the peer stops (an Accept of a version it does not speak)
        auto error = DecodeError(record->body);
        return InvalidArgument("the peer stopped: " + (error ? error->message : error.error().message()));
      }
      default:
        return Refuse(channel, 5, "unexpected record " + std::to_string(record->type));
    }
  }
}

Status SyncServer::Impl::SendOutcomes(SecureChannel* channel, const Hello& hello,
                                      std::vector<int64_t>* ids) {
  if (hello.protocol < kOutcomesProtocolVersion) return Status::Ok();
  std::vector<ReviewOutcome> outcomes;
  auto peer = db->Peer(hello.node_key);
  if (peer && peer->role == "site" && db->OwnRoot()) outcomes = db->UndeliveredOutcomes(peer->key);
  for (const auto& o : outcomes) ids->push_back(o.id);
  return channel->Send(kOutcomes, EncodeOutcomes(outcomes));
}

Result<Offer> SyncServer::Impl::BuildOffer(const Hello& hello, bool uploads) {
  ++offers_built;
  Offer offer;
  // Only versions the peer can accept: signed by a key the trust list authorizes for the
  // channel. Sites' own channels (signed by their node keys) stay here.
  std::optional<TrustList> trust;
  if (auto trust_doc = ReadWholeFile(paths.trust_list, kMaxTrustListBytes)) {
    auto sequence = TrustListSequence(*trust_doc);
    if (sequence && *sequence > hello.trust_sequence) offer.trust_list = *trust_doc;
    if (auto root = TrustListRoot(*trust_doc)) {
      if (auto list = VerifyTrustList(*trust_doc, *root)) trust = std::move(*list);
    }
  }
  std::map<std::string, uint64_t> held;
  for (const auto& h : hello.held) held[h.channel_id] = h.served;
  if (trust) {
    // A peer taking a newer list may withdraw what it serves: it gets every channel.
    auto versions = OfferChannels(catalog, {&*trust, nullptr}, held, !offer.trust_list.empty());
    if (!versions) return versions.error();
    offer.versions = std::move(*versions);
  }
  offer.uploads = uploads;
  if (uploads) {
    for (const std::string& id : db->ChannelsOf(hello.node_key)) {
      auto info = catalog->Channel(id);
      offer.yours.push_back({id, info ? static_cast<uint64_t>(info->served_version) : 0, 0});
    }
  }
  return offer;
}

Status SyncServer::Impl::ReceiveUpload(SecureChannel* channel, const PeerInfo& site, Offer up) {
  std::vector<ReceiptEntry> receipt;
  FetchRequest request = CheckUpload(site, std::move(up), &receipt);
  SyncSummary summary;
  if (!request.versions.empty()) {
    OUTPOST_RETURN_IF_ERROR(FetchUpload(channel, site, std::move(request), &summary));
  }
  for (auto& entry : receipt) {
    if (entry.state != ReceiptState::kIncomplete) continue;
    bool served = false;
    for (const auto& u : summary.updated) {
      served |= u.id == entry.channel_id && static_cast<uint64_t>(u.to) == entry.version;
    }
    if (served) {
      entry.state = ReceiptState::kServed;
      spdlog::info("sync: site \"{}\" sent channel {} version {}", site.name, entry.channel_id,
                   entry.version);
    } else {
      entry.message = summary.refused.empty() ? "not every file arrived" : summary.refused.front();
    }
  }
  OUTPOST_RETURN_IF_ERROR(channel->Send(kReceipt, EncodeReceipt(receipt)));
  return channel->Flush();
}

FetchRequest SyncServer::Impl::CheckUpload(const PeerInfo& site, Offer up,
                                           std::vector<ReceiptEntry>* receipt) {
  FetchRequest request;
  request.max_request_chunks = limits.max_request_chunks;
  for (auto& version : up.versions) {
    ReceiptEntry entry{version.channel_id, 0, ReceiptState::kRefused, ""};
    auto accepted = AcceptSiteVersion(catalog, db, site.key, version);
    if (!accepted) {
      entry.message = accepted.error().message();
      spdlog::warn("sync: refused channel {} from site \"{}\": {}", entry.channel_id, site.name,
                   entry.message);
      receipt->push_back(entry);
      continue;
    }
    entry.version = accepted->manifest.version;
    for (auto& f : version.files) request.offered.emplace(f.blob, std::move(f));
    entry.state = ReceiptState::kIncomplete;  // until the fetch serves it
    receipt->push_back(entry);
    request.versions.push_back(std::move(*accepted));
  }
  return request;
}

Status SyncServer::Impl::FetchUpload(SecureChannel* channel, const PeerInfo& site,
                                     FetchRequest request, SyncSummary* summary) {
  std::filesystem::path dir = paths.staging / ("from-" + site.key.Hex().substr(0, 16));
  auto lock = StagingLock::Take(dir);
  if (!lock) return Refuse(channel, 4, "this site's upload is already being received");
  auto log = StagingLog::Open(dir / "chunks");
  if (!log) return log.error();
  Status stopped;
  ChannelSource source(channel);
  Status fetched = Fetch(store, catalog, &source, log->get(), std::move(request), summary, &stopped);
  if (!fetched.ok()) {
    (void)channel->Send(kError, EncodeError({6, fetched.message()}));
    (void)channel->Flush();
    return fetched;
  }
  return stopped;  // not Ok when the link dropped: what arrived stays staged
}

}  // namespace outpost
