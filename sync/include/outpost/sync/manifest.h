// Manifest: one version of a channel as a canonical byte string, and the signed envelope that
// carries it between the hub, sites and USB sticks. docs/manifest.md specifies both byte for
// byte; this header is the C++ side.
//
// A manifest holds what a site needs to serve the version and nothing local: the channel id,
// the version number, the channel's title, description, language, license and author, its
// thumbnail, and the topic tree in pre-order with every node's path, kind, listed flag,
// metadata, thumbnail, blob hash, size and MIME type, then (format 2 only) the channel's labels
// for its grade, subject and licence values per language. It leaves out `source` (where the
// publisher imported from) and `body_text` (search text, rebuilt from the blobs), and the
// channel's grade and subject, which the catalog does not keep (CheckManifestDraft refuses a
// draft that sets them rather than drop them silently).
//
// Encoding is deterministic (same draft and version, same bytes) and decoding is strict (one
// manifest, one encoding), so a site can rebuild a stored version from its catalog
// (Catalog::LoadVersion), encode it, and hand it on with the publisher's signature still valid.
// The manifest hash is BLAKE2b-256 of the bytes (Hash::Of).
//
// A signed manifest ("OPSM") is the manifest bytes, the publisher's Ed25519 public key and the
// publisher's signature of "outpost manifest v1\0" || manifest hash. A site accepts it if the
// signature verifies and its trust list (identity.h) authorizes the key for the channel, and
// applies it only if the version is newer than the one it holds.
//
// Worked example (byte by byte in docs/manifest.md): channel "demo", version 1, title "Démo",
// language "fr", whose root topic holds one listed 3-byte document "a.txt" titled "A":
//
//   4f504d46 0001                          "OPMF", format 1
//   00000004 "demo" 0000000000000001       channel id, version
//   00000005 "Démo" 00000000 00000002 "fr" 00000000 00000000
//                                          title, description, language, license, author
//   00                                     no channel thumbnail
//   00000000 00 01                         root: path "", kind 0 (topic), listed
//   00000005 "Démo" 00000000 (x6)          title, description … author
//   00 00 0000000000000000 00000000        no thumbnail, no file, size 0, MIME type ""
//   00000001                               one child:
//   00000005 "a.txt" 03 01                 path, kind 3 (document), listed
//   00000001 "A" 00000000 (x6)             title, description … author
//   00 01 <BLAKE2b-256 of "abc">           no thumbnail, the file's hash
//   0000000000000003 0000000a "text/plain" size, MIME type
//   00000000                               no children
//
// 207 bytes; its manifest hash is 1eefd112164977b1884e94846dc4602d8a6ce4fb328fcd4b1357db1face27ad7.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/content/catalog.h"
#include "outpost/base/hash.h"
#include "outpost/base/status.h"
#include "outpost/sync/identity.h"

namespace outpost {

inline constexpr uint16_t kManifestFormat = 1;
// Format 2 is format 1 followed by the channel's own value labels (VersionDraft::labels); it is
// written when, and only when, a version has labels, so versions without them keep format 1's
// bytes and hash, and a reader refuses a format 2 manifest with no labels (one encoding).
inline constexpr uint16_t kManifestFormatWithLabels = 2;
inline constexpr size_t kMaxManifestLabels = 65536;
inline constexpr uint16_t kSignedManifestFormat = 1;
inline constexpr int kMaxManifestDepth = 64;                   // the root is at depth 0
inline constexpr size_t kMaxManifestBytes = size_t{64} << 20;  // 64 MiB
inline constexpr size_t kMaxManifestString = size_t{1} << 20;  // 1 MiB per string

// A blob a manifest references, with its size.
struct BlobRef {
  Hash hash;
  uint64_t size = 0;
  auto operator<=>(const BlobRef&) const = default;
  bool operator==(const BlobRef&) const = default;
};

struct Manifest {
  std::string channel_id;  // the same as draft.channel_id
  uint64_t version = 0;
  VersionDraft draft;  // source and every body_text empty
  Hash hash;           // BLAKE2b-256 of the canonical bytes

  // Every blob the version references (resources' files and thumbnails), each once, ascending
  // by hash. Thumbnails are always files of the tree (CheckManifestDraft), so sizes are known.
  std::vector<BlobRef> Blobs() const;
  // The sum of Blobs()' sizes: what a site needs to store this version from nothing.
  uint64_t TotalBytes() const;
};

// Ok if `draft` at `version` can be a manifest; checked before encoding so that a publisher
// never signs one that sites refuse. kInvalidArgument, naming the channel and the node, for:
//   - a bad channel id; a version of 0 or over 2^63-1; a channel grade or subject (not encoded);
//   - a string that is not UTF-8 or is longer than kMaxManifestString;
//   - a root that is not a topic with the path "";
//   - a child whose path is not its parent's path, "/" and one segment (just the segment under
//     the root; a segment is not empty, ".", or "..", and holds no "/" or NUL); two siblings
//     with one path;
//   - a topic with a blob or a size; another kind without a blob, or with children;
//   - a tree deeper than kMaxManifestDepth;
//   - a thumbnail that is not the blob of some node; a blob with two sizes; a size over 2^63-1;
//   - an encoding over kMaxManifestBytes.
Status CheckManifestDraft(const VersionDraft& draft, uint64_t version);

// The canonical bytes of `draft` as version `version`; never fails. `source`, body_text and the
// channel's grade and subject are not encoded. Call CheckManifestDraft first: bytes made from a
// draft it refuses are refused by DecodeManifest.
std::string EncodeManifest(const VersionDraft& draft, uint64_t version);

// Parses canonical bytes. kCorrupt, naming the byte offset and field, for anything that is not
// exactly the encoding of a draft CheckManifestDraft accepts: a wrong magic or format, a
// truncation, trailing bytes, counts larger than the bytes left, flags other than 0 or 1,
// unknown kinds, invalid UTF-8, and every rule above.
Result<Manifest> DecodeManifest(std::string_view bytes);

// ---- signed manifests ----

struct SignedManifest {
  std::string manifest;  // canonical manifest bytes
  PublicKey publisher;
  Signature signature;  // of "outpost manifest v1\0" || Hash::Of(manifest)
};

// Checks the draft, encodes it, signs it with `publisher`, and returns the envelope's bytes.
Result<std::string> SignManifest(const VersionDraft& draft, uint64_t version,
                                 const Identity& publisher);
std::string EncodeSignedManifest(const SignedManifest& envelope);
// The envelope's parts, unverified (kCorrupt if it is malformed).
Result<SignedManifest> ParseSignedManifest(std::string_view bytes);

// The manifest inside an envelope, without checking the signature: for a node reading an
// envelope it signed or verified before (its own offer, a version it holds). kCorrupt for a
// malformed envelope or manifest.
Result<Manifest> DecodeEnvelopeManifest(std::string_view envelope);

// Parses the envelope, checks the signature, decodes the manifest and checks that `trust`
// authorizes the signing key for the manifest's channel. kCorrupt for a malformed envelope or
// manifest or a signature that does not verify; kInvalidArgument, with a message naming the
// channel, version and key, for a key the trust list does not know, has revoked, or has
// authorized for other channels only.
Result<Manifest> VerifySignedManifest(std::string_view bytes, const TrustList& trust);

// Ok if `incoming` is newer than `held_version` (0: the site holds no version of the channel);
// kInvalidArgument naming both versions otherwise (versions only grow: no rollback).
Status CheckVersionIsNewer(const Manifest& incoming, uint64_t held_version);

}  // namespace outpost
