// Identities and trust: who may sign what in Outpost (docs/manifest.md has the formats).
//
// An *identity* is an installation's Ed25519 keypair (libsodium crypto_sign). Every site, the
// hub, the hub's publishers and the hub's root each have one, kept in a key file that only its
// owner may read (mode 0600):
//
//   outpost-key v1\n
//   ed25519-public <64 lowercase hex>\n
//   ed25519-seed <64 lowercase hex>\n
//
// exactly 173 bytes. The seed is the secret; the public key is stored too so that a damaged file
// is noticed (it must equal the key the seed derives). The X25519 keypair used by the Noise
// session is derived from the Ed25519 one (libsodium's ed25519 -> curve25519 conversions), so a
// peer's X25519 public key follows from the Ed25519 public key pinned at enrolment.
//
// *Trust*: the hub's ROOT key (kept offline if wished) signs a TRUST LIST naming the PUBLISHER
// keys and, for each, the channels it may sign versions of, or "*" for all. A site pins the
// root's public key at enrolment and accepts a channel version only if it is signed by a key
// that the newest trust list it holds marks active for that channel. Rotating a publisher key
// is a new list (higher sequence number) with the new key active and the old one revoked; a
// revoked key stays listed, so manifests it signed earlier are refused too. Revocation is
// permanent: a site refuses a list that re-activates a key that its held list revokes.
//
// A trust list document ("OPTL"; docs/manifest.md):
//
//   4f50544c 0001                          "OPTL", format 1
//   <32-byte root key> <u64 sequence>      big-endian, like every integer
//   <u32 entry count>, then per entry, ascending by key:
//     <32-byte publisher key> <u8 state: 1 active, 2 revoked>
//     <u32 channel count> (<u32 length> <channel id>)...   ascending; or just "*"
//   <64-byte Ed25519 signature by the root of "outpost trust list v1\0" || BLAKE2b-256(all
//    the bytes before the signature)>
//
// Secrets live in sodium_malloc memory (guard pages, locked, read-only once made, wiped when
// freed) and are reachable only as spans; nothing prints them.
//
// Thread-safety: PublicKey, TrustList and friends are plain values. An Identity's const methods
// may be called from several threads at once.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/hash.h"
#include "outpost/base/status.h"

namespace outpost {

// An Ed25519 public key.
struct PublicKey {
  static constexpr size_t kSize = crypto_sign_PUBLICKEYBYTES;  // 32
  std::array<uint8_t, kSize> bytes{};

  std::string Hex() const;  // 64 lower-case hex characters
  // The first 16 hex characters, for people comparing keys by eye and for messages; trust
  // decisions always compare whole keys.
  std::string Fingerprint() const;
  // Exactly 64 hex characters (either case); nullopt otherwise.
  static std::optional<PublicKey> FromHex(std::string_view hex);

  auto operator<=>(const PublicKey&) const = default;
  bool operator==(const PublicKey&) const = default;
};
std::ostream& operator<<(std::ostream& os, const PublicKey& key);  // Hex()

// An X25519 public key (for Noise and for sealing USB bundles).
struct X25519PublicKey {
  static constexpr size_t kSize = crypto_scalarmult_curve25519_BYTES;  // 32
  std::array<uint8_t, kSize> bytes{};

  std::string Hex() const;
  auto operator<=>(const X25519PublicKey&) const = default;
  bool operator==(const X25519PublicKey&) const = default;
};
std::ostream& operator<<(std::ostream& os, const X25519PublicKey& key);

using Signature = std::array<uint8_t, crypto_sign_BYTES>;  // 64 bytes, Ed25519 detached

// True if `signature` is `signer`'s Ed25519 signature of `message`.
bool VerifySignature(const PublicKey& signer, std::span<const uint8_t> message,
                     const Signature& signature);
bool VerifySignature(const PublicKey& signer, std::string_view message, const Signature& signature);

// The X25519 key of the peer whose Ed25519 key is `key`. kInvalidArgument for a point that has
// no X25519 counterpart (small order or not on the curve: never a key made by libsodium).
Result<X25519PublicKey> X25519FromEd25519(const PublicKey& key);

// An Ed25519 keypair and its derived X25519 keypair. Move-only; the secrets are wiped when it is
// destroyed.
class Identity {
 public:
  // A fresh random keypair.
  static Result<Identity> Generate();
  // The keypair of a 32-byte seed (tests, and the key file's contents).
  static Result<Identity> FromSeed(std::span<const uint8_t, 32> seed);

  Identity(Identity&&) noexcept = default;
  Identity& operator=(Identity&&) noexcept = default;
  ~Identity() = default;

  const PublicKey& public_key() const { return public_key_; }
  const X25519PublicKey& x25519_public_key() const { return x25519_public_key_; }
  // The X25519 secret scalar for Noise's static key. Do not copy it into ordinary memory.
  std::span<const uint8_t, 32> x25519_secret_key() const;

  Signature Sign(std::span<const uint8_t> message) const;
  Signature Sign(std::string_view message) const;

 private:
  struct SodiumFree {
    void operator()(uint8_t* p) const;
  };
  Identity() = default;
  static Result<Identity> Allocate();
  void Derive();  // fills the public keys and the X25519 secret from the Ed25519 secret

  PublicKey public_key_;
  X25519PublicKey x25519_public_key_;
  // sodium_malloc'd: the 64-byte Ed25519 secret key (seed || public key), then the 32-byte
  // X25519 secret. Read-only once filled.
  std::unique_ptr<uint8_t, SodiumFree> secret_;

  friend Status SaveIdentity(const Identity& identity, const std::filesystem::path& path);
};

// ---- key files ----

inline constexpr size_t kKeyFileSize = 173;

// Reads a key file. Refuses, with a message naming the file and the fix: a file that group or
// others may read (kInvalidArgument), one that is not a regular file, truncated or malformed
// (kCorrupt), or whose public key is not the seed's. kNotFound if there is no file.
Result<Identity> LoadIdentity(const std::filesystem::path& path);

// Writes `identity` to a new key file, durably: a temporary file in the same folder created
// with open(O_CREAT | O_EXCL, 0600), written, fsynced, renamed into place without replacing
// anything (renameat2 RENAME_NOREPLACE), and the folder fsynced. kAlreadyExists if `path`
// exists: a key file is never overwritten.
Status SaveIdentity(const Identity& identity, const std::filesystem::path& path);

// LoadIdentity, or, if there is no file yet, a new identity saved there (creating the folder if
// needed). If another process creates the file at the same moment, both end up with its key.
Result<Identity> LoadOrCreateIdentity(const std::filesystem::path& path);

// ---- trust ----

enum class KeyState : uint8_t { kActive = 1, kRevoked = 2 };
const char* KeyStateName(KeyState state);  // "active", "revoked"

// In a trust entry's channel list, alone: every channel.
inline constexpr std::string_view kAllChannels = "*";

struct TrustEntry {
  PublicKey publisher;
  std::vector<std::string> channels;  // channel ids, ascending; or just kAllChannels
  KeyState state = KeyState::kActive;
  bool operator==(const TrustEntry&) const = default;
};

struct TrustList {
  PublicKey root;                   // the key that signed it
  uint64_t sequence = 0;            // 1, 2, 3, ...: a newer list has a higher number
  std::vector<TrustEntry> entries;  // ascending by publisher key, each key once

  // The entry of `publisher`, or nullptr.
  const TrustEntry* Find(const PublicKey& publisher) const;
  // True if `publisher` is listed, active, and allowed `channel_id` (or every channel).
  bool Authorizes(const PublicKey& publisher, std::string_view channel_id) const;

  bool operator==(const TrustList&) const = default;
};

inline constexpr uint16_t kTrustListFormat = 1;

// The signed trust list document for `list`'s sequence and entries, signed by `root` (the
// list's `root` field is ignored: the signer's key is written). Entries and channel lists are
// sorted here. kInvalidArgument for sequence 0, a key listed twice, a channel id that is not
// valid, a channel named twice, or "*" next to other channels.
Result<std::string> SignTrustList(const TrustList& list, const Identity& root);

// Parses a signed trust list and checks that `pinned_root` signed it. kCorrupt for a malformed
// document, a bad signature, or a list made by another root (the message names both keys).
Result<TrustList> VerifyTrustList(std::string_view document, const PublicKey& pinned_root);

// The root key and the sequence number in a trust list document's fixed header, unverified:
// for a hub handing out its own list, and for choosing whether to send it. kCorrupt ("not a
// trust list") if the document does not start with "OPTL" or is too short to hold them.
Result<PublicKey> TrustListRoot(std::string_view document);
Result<uint64_t> TrustListSequence(std::string_view document);

// Whether `incoming` (verified) may replace `held` (verified). Ok for a higher sequence, or the
// same sequence with the same contents (nothing new). kInvalidArgument for a lower sequence, a
// different list under the same sequence, or a list that re-activates a key `held` revokes.
Status CheckTrustListUpdate(const TrustList& held, const TrustList& incoming);

}  // namespace outpost
