// Identities (Ed25519 keypairs in private key files) and the hub's signed trust list.
//
// Key files are read and written with POSIX calls rather than through Env: creating one needs
// O_EXCL and a rename that never replaces an existing key (renameat2 RENAME_NOREPLACE), which
// Env does not offer, and it happens once per installation. The formats are in identity.h and
// docs/manifest.md.
#include "outpost/sync/identity.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <utility>

#include "outpost/base/text.h"
#include "wire.h"

namespace outpost {

namespace {

constexpr std::string_view kKeyMagic = "outpost-key v1\n";
constexpr std::string_view kPublicLabel = "ed25519-public ";
constexpr std::string_view kSeedLabel = "ed25519-seed ";
constexpr size_t kSeedSize = crypto_sign_SEEDBYTES;                        // 32
constexpr size_t kEdSecretSize = crypto_sign_SECRETKEYBYTES;               // 64
constexpr size_t kXSecretSize = crypto_scalarmult_curve25519_SCALARBYTES;  // 32
static_assert(kKeyFileSize ==
              kKeyMagic.size() + kPublicLabel.size() + 64 + 1 + kSeedLabel.size() + 64 + 1);

constexpr std::string_view kTrustMagic = "OPTL";
constexpr std::string_view kTrustDomain{"outpost trust list v1\0", 22};
constexpr size_t kMaxChannelIdBytes = 64;

std::string HexOf(std::span<const uint8_t> bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

// Exactly 2 * out.size() hex digits (either case) into `out`.
bool FromHexExact(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  size_t len = 0;
  const char* end = nullptr;
  int rc = sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, &end);
  return rc == 0 && len == out.size() && end == hex.data() + hex.size();
}

// Wipes a buffer of secrets when it goes out of scope.
template <typename T>
class Wiped {
 public:
  explicit Wiped(T* buffer) : buffer_(buffer) {}
  ~Wiped() { sodium_memzero(buffer_->data(), buffer_->size() * sizeof((*buffer_)[0])); }
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;

 private:
  T* buffer_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

// ---- keys ----

std::string PublicKey::Hex() const { return HexOf(bytes); }

std::string PublicKey::Fingerprint() const { return Hex().substr(0, 16); }

std::optional<PublicKey> PublicKey::FromHex(std::string_view hex) {
  PublicKey key;
  if (!FromHexExact(hex, key.bytes)) return std::nullopt;
  return key;
}

std::ostream& operator<<(std::ostream& os, const PublicKey& key) { return os << key.Hex(); }

std::string X25519PublicKey::Hex() const { return HexOf(bytes); }

std::ostream& operator<<(std::ostream& os, const X25519PublicKey& key) { return os << key.Hex(); }

bool VerifySignature(const PublicKey& signer, std::span<const uint8_t> message,
                     const Signature& signature) {
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     signer.bytes.data()) == 0;
}

bool VerifySignature(const PublicKey& signer, std::string_view message,
                     const Signature& signature) {
  return VerifySignature(signer, {reinterpret_cast<const uint8_t*>(message.data()), message.size()},
                         signature);
}

Result<X25519PublicKey> X25519FromEd25519(const PublicKey& key) {
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  X25519PublicKey x;
  if (crypto_sign_ed25519_pk_to_curve25519(x.bytes.data(), key.bytes.data()) != 0) {
    return InvalidArgument("key " + key.Fingerprint() + "… is not a usable Ed25519 public key");
  }
  return x;
}

// ---- Identity ----

void Identity::SodiumFree::operator()(uint8_t* p) const { sodium_free(p); }

Result<Identity> Identity::Allocate() {
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  auto* p = static_cast<uint8_t*>(sodium_malloc(kEdSecretSize + kXSecretSize));
  if (p == nullptr) return Internal("cannot allocate protected memory for a secret key");
  Identity id;
  id.secret_.reset(p);
  return id;
}

void Identity::Derive() {
  uint8_t* ed = secret_.get();
  crypto_sign_ed25519_sk_to_pk(public_key_.bytes.data(), ed);
  crypto_sign_ed25519_sk_to_curve25519(ed + kEdSecretSize, ed);
  // Cannot fail for a key libsodium made; the X25519 secret's public key, computed the other
  // way, is the same point (identity_test checks it).
  if (crypto_sign_ed25519_pk_to_curve25519(x25519_public_key_.bytes.data(),
                                           public_key_.bytes.data()) != 0) {
    x25519_public_key_ = {};
  }
  sodium_mprotect_readonly(ed);
}

Result<Identity> Identity::Generate() {
  auto id = Allocate();
  if (!id) return id;
  PublicKey pk;
  crypto_sign_keypair(pk.bytes.data(), id->secret_.get());
  id->Derive();
  return id;
}

Result<Identity> Identity::FromSeed(std::span<const uint8_t, 32> seed) {
  auto id = Allocate();
  if (!id) return id;
  PublicKey pk;
  crypto_sign_seed_keypair(pk.bytes.data(), id->secret_.get(), seed.data());
  id->Derive();
  return id;
}

std::span<const uint8_t, 32> Identity::x25519_secret_key() const {
  return std::span<const uint8_t, 32>(secret_.get() + kEdSecretSize, kXSecretSize);
}

Signature Identity::Sign(std::span<const uint8_t> message) const {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.get());
  return sig;
}

Signature Identity::Sign(std::string_view message) const {
  return Sign({reinterpret_cast<const uint8_t*>(message.data()), message.size()});
}

// ---- key files ----

namespace {

// The identity in a key file's bytes (exactly as read; `name` is the path, for messages).
Result<Identity> ParseKeyFile(std::string_view text, const std::string& name) {
  if (text.substr(0, kKeyMagic.size()) != kKeyMagic.substr(0, text.size())) {
    return Corrupt(name + " is not an Outpost key file (it does not begin with \"" +
                   std::string(kKeyMagic.substr(0, kKeyMagic.size() - 1)) + "\")");
  }
  if (text.size() < kKeyFileSize) {
    return Corrupt("key file " + name + " is truncated: " + std::to_string(text.size()) +
                   " bytes of " + std::to_string(kKeyFileSize));
  }
  if (text.size() > kKeyFileSize) {
    return Corrupt("key file " + name + " is malformed: longer than the " +
                   std::to_string(kKeyFileSize) + " bytes of a key file");
  }
  std::string_view public_line = text.substr(kKeyMagic.size(), kPublicLabel.size() + 65);
  std::string_view seed_line = text.substr(kKeyMagic.size() + public_line.size());
  PublicKey stored;
  if (!public_line.starts_with(kPublicLabel) || public_line.back() != '\n' ||
      !FromHexExact(public_line.substr(kPublicLabel.size(), 64), stored.bytes)) {
    return Corrupt("key file " + name + " is malformed: line 2 must be \"ed25519-public\" and " +
                   "64 hex digits");
  }
  std::array<uint8_t, kSeedSize> seed;
  Wiped wipe_seed(&seed);
  if (!seed_line.starts_with(kSeedLabel) || seed_line.back() != '\n' ||
      !FromHexExact(seed_line.substr(kSeedLabel.size(), 64), seed)) {
    return Corrupt("key file " + name + " is malformed: line 3 must be \"ed25519-seed\" and " +
                   "64 hex digits");
  }
  auto id = Identity::FromSeed(seed);
  if (!id) return id;
  if (id->public_key() != stored) {
    return Corrupt("key file " + name + " is damaged: its public key " + stored.Fingerprint() +
                   "… is not the one its seed makes (" + id->public_key().Fingerprint() + "…)");
  }
  return id;
}

// Reads up to buf->size() bytes of `fd`; the count read, or a Status.
template <size_t N>
Result<size_t> ReadUpTo(int fd, std::array<char, N>* buf, const std::string& name) {
  size_t n = 0;
  while (n < N) {
    ssize_t got = ::read(fd, buf->data() + n, N - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("reading key file " + name, errno);
    if (got == 0) break;
    n += static_cast<size_t>(got);
  }
  return n;
}

Status WriteAll(int fd, std::string_view data, const std::string& name) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("writing " + name, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDir(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("opening folder " + dir.string(), errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("syncing folder " + dir.string(), errno);
  return Status::Ok();
}

// Renames `from` to `to` unless `to` exists (kAlreadyExists then).
Status RenameNoReplace(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::Ok();
  }
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {
    // A file system without RENAME_NOREPLACE: link(2) also refuses to replace.
    if (::link(from.c_str(), to.c_str()) == 0) {
      ::unlink(from.c_str());
      return Status::Ok();
    }
    err = errno;
  }
  if (err == EEXIST) return Status(StatusCode::kAlreadyExists, to.string() + " already exists");
  return ErrnoStatus("renaming " + from.string() + " to " + to.string(), err);
}

}  // namespace

Result<Identity> LoadIdentity(const std::filesystem::path& path) {
  const std::string name = path.string();
  // O_NONBLOCK: a FIFO in the key file's place must be refused, not wait for a writer.
  // O_NOFOLLOW: a key file is read as itself, never through a link someone put in its place.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW));
  if (fd.get() < 0 && errno == ELOOP) {
    return InvalidArgument("key file " + name + " is a symbolic link; a key file must be the " +
                           "file itself: put the key there in place of the link");
  }
  if (fd.get() < 0) return ErrnoStatus("opening key file " + name, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("reading key file " + name, errno);
  if (!S_ISREG(st.st_mode)) return Corrupt("key file " + name + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    return InvalidArgument("key file " + name + " is open to other users (mode " +
                           ModeString(st.st_mode) + "); a secret key must be private to its " +
                           "owner: run chmod 600 " + name + ", and if others could read it, " +
                           "treat the key as exposed and replace it");
  }
  std::array<char, kKeyFileSize + 1> buf;  // one more, to notice a longer file
  Wiped wipe(&buf);
  auto n = ReadUpTo(fd.get(), &buf, name);
  if (!n) return n.error();
  return ParseKeyFile(std::string_view(buf.data(), *n), name);
}

Status SaveIdentity(const Identity& identity, const std::filesystem::path& path) {
  const std::string name = path.string();
  std::array<char, kKeyFileSize + 1> text;  // +1 for sodium_bin2hex's terminating NUL
  Wiped wipe(&text);
  char* p = text.data();
  auto put = [&p](std::string_view s) { p = std::copy(s.begin(), s.end(), p); };
  put(kKeyMagic);
  put(kPublicLabel);
  sodium_bin2hex(p, 65, identity.public_key().bytes.data(), PublicKey::kSize);
  p += 64;
  put("\n");
  put(kSeedLabel);
  sodium_bin2hex(p, 65, identity.secret_.get(), kSeedSize);  // the secret key starts with it
  p += 64;
  put("\n");

  std::array<uint8_t, 8> nonce;
  randombytes_buf(nonce.data(), nonce.size());
  std::filesystem::path temp = path;
  temp += ".tmp-" + HexOf(nonce);
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return ErrnoStatus("creating key file " + temp.string(), errno);
  Status st = WriteAll(fd.get(), std::string_view(text.data(), kKeyFileSize), temp.string());
  if (st.ok() && ::fsync(fd.get()) != 0) st = ErrnoStatus("syncing " + temp.string(), errno);
  if (st.ok() && ::close(fd.Release()) != 0) st = ErrnoStatus("closing " + temp.string(), errno);
  if (st.ok()) st = RenameNoReplace(temp, path);
  if (!st.ok()) {
    ::unlink(temp.c_str());
    return st.code() == StatusCode::kAlreadyExists
               ? Status(st.code(), "key file " + name + " already exists; it is never replaced")
               : st;
  }
  return SyncDir(path.parent_path().empty() ? "." : path.parent_path());
}

Result<Identity> LoadOrCreateIdentity(const std::filesystem::path& path) {
  auto loaded = LoadIdentity(path);
  if (loaded || loaded.error().code() != StatusCode::kNotFound) return loaded;
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return ErrnoStatus("creating folder " + path.parent_path().string(), ec.value());
  }
  auto fresh = Identity::Generate();
  if (!fresh) return fresh;
  Status st = SaveIdentity(*fresh, path);
  if (st.code() == StatusCode::kAlreadyExists) return LoadIdentity(path);  // another process won
  if (!st.ok()) return st;
  return fresh;
}

// ---- trust ----

const char* KeyStateName(KeyState state) {
  return state == KeyState::kActive ? "active" : "revoked";
}

const TrustEntry* TrustList::Find(const PublicKey& publisher) const {
  auto it =
      std::lower_bound(entries.begin(), entries.end(), publisher,
                       [](const TrustEntry& e, const PublicKey& k) { return e.publisher < k; });
  return it != entries.end() && it->publisher == publisher ? &*it : nullptr;
}

bool TrustList::Authorizes(const PublicKey& publisher, std::string_view channel_id) const {
  const TrustEntry* e = Find(publisher);
  if (e == nullptr || e->state != KeyState::kActive) return false;
  if (e->channels.size() == 1 && e->channels[0] == kAllChannels) return true;
  return std::binary_search(e->channels.begin(), e->channels.end(), channel_id);
}

namespace {

// A sorted channel list is canonical: valid ids, strictly ascending, or "*" alone.
Status CheckChannels(const std::vector<std::string>& channels, const PublicKey& publisher) {
  const std::string who = "the entry of key " + publisher.Fingerprint() + "…";
  for (size_t i = 0; i < channels.size(); ++i) {
    const std::string& c = channels[i];
    if (c == kAllChannels) {
      if (channels.size() != 1) return InvalidArgument(who + " lists \"*\" next to other channels");
      continue;
    }
    if (!IsValidChannelId(c))
      return InvalidArgument(who + " names an invalid channel id \"" + EscapeInvalidUtf8(c) + "\"");
    if (i > 0 && channels[i - 1] >= c) {
      return InvalidArgument(who + " names channels out of order or twice (\"" + c + "\")");
    }
  }
  return Status::Ok();
}

std::string EncodeTrustBody(const TrustList& list) {
  wire::Writer w;
  w.Raw(kTrustMagic);
  w.U16(kTrustListFormat);
  w.Raw(list.root.bytes);
  w.U64(list.sequence);
  w.U32(static_cast<uint32_t>(list.entries.size()));
  for (const auto& e : list.entries) {
    w.Raw(e.publisher.bytes);
    w.U8(static_cast<uint8_t>(e.state));
    w.U32(static_cast<uint32_t>(e.channels.size()));
    for (const auto& c : e.channels) w.String(c);
  }
  return w.Take();
}

// What the root signs: a domain separator, then the BLAKE2b-256 of the body.
std::string TrustSigningMessage(std::string_view body) {
  Hash h = Hash::Of(body);
  std::string msg(kTrustDomain);
  msg.append(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
  return msg;
}

Status ReadTrustEntry(wire::Reader* r, TrustEntry* e) {
  OUTPOST_RETURN_IF_ERROR(r->Raw(e->publisher.bytes, "a publisher key"));
  size_t at = r->offset();
  uint8_t state = 0;
  OUTPOST_RETURN_IF_ERROR(r->U8(&state, "a key state"));
  if (state != static_cast<uint8_t>(KeyState::kActive) &&
      state != static_cast<uint8_t>(KeyState::kRevoked)) {
    return r->Bad(
        at, "a key state is " + std::to_string(state) + ", neither 1 (active) nor 2 (revoked)");
  }
  e->state = static_cast<KeyState>(state);
  at = r->offset();
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r->U32(&count, "a channel count"));
  if (count > r->remaining() / 4) return r->Bad(at, "a channel count exceeds the bytes left");
  e->channels.resize(count);
  for (auto& c : e->channels) {
    OUTPOST_RETURN_IF_ERROR(r->String(&c, kMaxChannelIdBytes, "a channel id"));
  }
  Status st = CheckChannels(e->channels, e->publisher);
  if (!st.ok()) return r->Bad(at, "an entry is not canonical: " + st.message());
  return Status::Ok();
}

// The body after the root key: sequence, entries, and nothing more.
Status ReadTrustBody(wire::Reader* r, TrustList* list) {
  OUTPOST_RETURN_IF_ERROR(r->U64(&list->sequence, "the sequence number"));
  if (list->sequence == 0) return r->Bad(r->offset() - 8, "the sequence number is 0");
  size_t at = r->offset();
  uint32_t count = 0;
  OUTPOST_RETURN_IF_ERROR(r->U32(&count, "the entry count"));
  if (count > r->remaining() / (PublicKey::kSize + 5)) {
    return r->Bad(at, "the entry count exceeds the bytes left");
  }
  list->entries.resize(count);
  for (size_t i = 0; i < count; ++i) {
    at = r->offset();
    OUTPOST_RETURN_IF_ERROR(ReadTrustEntry(r, &list->entries[i]));
    if (i > 0 && !(list->entries[i - 1].publisher < list->entries[i].publisher)) {
      return r->Bad(at, "keys are out of order or listed twice");
    }
  }
  return r->ExpectEnd();
}

}  // namespace

Result<std::string> SignTrustList(const TrustList& list, const Identity& root) {
  if (list.sequence == 0) return InvalidArgument("a trust list's sequence starts at 1");
  TrustList out;
  out.root = root.public_key();
  out.sequence = list.sequence;
  out.entries = list.entries;
  std::sort(out.entries.begin(), out.entries.end(),
            [](const TrustEntry& a, const TrustEntry& b) { return a.publisher < b.publisher; });
  for (size_t i = 0; i < out.entries.size(); ++i) {
    TrustEntry& e = out.entries[i];
    if (i > 0 && out.entries[i - 1].publisher == e.publisher) {
      return InvalidArgument("key " + e.publisher.Fingerprint() + "… is listed twice");
    }
    std::sort(e.channels.begin(), e.channels.end());
    OUTPOST_RETURN_IF_ERROR(CheckChannels(e.channels, e.publisher));
  }
  std::string doc = EncodeTrustBody(out);
  Signature sig = root.Sign(TrustSigningMessage(doc));
  doc.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return doc;
}

Result<TrustList> VerifyTrustList(std::string_view document, const PublicKey& pinned_root) {
  if (!InitCrypto()) return Internal("libsodium could not initialise");
  wire::Reader r(document, "trust list");
  OUTPOST_RETURN_IF_ERROR(r.Header(kTrustMagic, kTrustListFormat));
  TrustList list;
  OUTPOST_RETURN_IF_ERROR(r.Raw(list.root.bytes, "the root key"));
  if (list.root != pinned_root) {
    return Corrupt("trust list is signed by root key " + list.root.Fingerprint() +
                   "…, but this site trusts root key " + pinned_root.Fingerprint() +
                   "… (a list from another hub?)");
  }
  if (r.remaining() < crypto_sign_BYTES) {
    return Corrupt("trust list is truncated: it ends before its signature");
  }
  std::string_view body = document.substr(0, document.size() - crypto_sign_BYTES);
  Signature sig;
  __builtin_memcpy(sig.data(), document.data() + body.size(), sig.size());
  if (!VerifySignature(pinned_root, TrustSigningMessage(body), sig)) {
    return Corrupt("trust list signature does not verify with root key " +
                   pinned_root.Fingerprint() + "…: the list is damaged or forged");
  }
  // Signed by the root; still parse strictly, so that one list has one encoding.
  wire::Reader b(body, "trust list");
  OUTPOST_RETURN_IF_ERROR(b.Header(kTrustMagic, kTrustListFormat));
  OUTPOST_RETURN_IF_ERROR(b.Raw(list.root.bytes, "the root key"));
  OUTPOST_RETURN_IF_ERROR(ReadTrustBody(&b, &list));
  return list;
}

namespace {
// "OPTL", the format (u16), the root key and the sequence (u64).
constexpr size_t kTrustHeaderSize = 4 + 2 + 32 + 8;
}  // namespace

Result<PublicKey> TrustListRoot(std::string_view document) {
  if (document.size() < kTrustHeaderSize || document.substr(0, 4) != kTrustMagic) {
    return Corrupt("not a trust list");
  }
  PublicKey key;
  std::memcpy(key.bytes.data(), document.data() + 6, 32);
  return key;
}

Result<uint64_t> TrustListSequence(std::string_view document) {
  if (document.size() < kTrustHeaderSize || document.substr(0, 4) != kTrustMagic) {
    return Corrupt("not a trust list");
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(document[38 + i]);
  return v;
}

Status CheckTrustListUpdate(const TrustList& held, const TrustList& incoming) {
  const std::string seq_in = std::to_string(incoming.sequence);
  const std::string seq_held = std::to_string(held.sequence);
  if (incoming.root != held.root) {
    return InvalidArgument("trust list " + seq_in + " comes from root key " +
                           incoming.root.Fingerprint() + "…, the held list from " +
                           held.root.Fingerprint() + "…");
  }
  if (incoming.sequence < held.sequence) {
    return InvalidArgument("trust list " + seq_in + " is older than the list this site holds (" +
                           seq_held + "); keeping " + seq_held);
  }
  if (incoming.sequence == held.sequence) {
    if (incoming == held) return Status::Ok();
    return InvalidArgument("two different trust lists carry sequence " + seq_in +
                           "; keeping the one this site holds");
  }
  for (const auto& e : held.entries) {
    if (e.state != KeyState::kRevoked) continue;
    const TrustEntry* now = incoming.Find(e.publisher);
    if (now != nullptr && now->state == KeyState::kActive) {
      return InvalidArgument("trust list " + seq_in + " re-activates key " +
                             e.publisher.Fingerprint() + "…, which list " + seq_held +
                             " revoked; revocation is permanent (give the publisher a new key)");
    }
  }
  return Status::Ok();
}

}  // namespace outpost
