// The harness signs as a root or a hub would, so the fuzzer reaches the parsing that follows a
// signature check. The signed messages are docs/manifest.md's and docs/sync.md's: a domain
// separator, then the BLAKE2b-256 of the signed bytes.
#pragma once

#include <string>
#include <string_view>

#include "outpost/base/hash.h"
#include "outpost/sync/identity.h"
#include "wire.h"

namespace outpost::fuzz {

inline constexpr std::string_view kTrustListDomain{"outpost trust list v1\0", 22};
inline constexpr std::string_view kEnrolmentDomain{"outpost enrolment v1\0", 21};

// `magic`, format 1, `key`, then `rest`; followed by `signer`'s signature of the whole.
inline std::string SignedDocument(std::string_view magic, const Identity& signer,
                                  std::string_view domain, std::string_view rest) {
  wire::Writer w;
  w.Raw(magic);
  w.U16(1);
  w.Raw(signer.public_key().bytes);
  w.Raw(rest);
  std::string doc = w.Take();
  Hash h = Hash::Of(doc);
  std::string msg(domain);
  msg.append(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
  Signature sig = signer.Sign(msg);
  doc.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return doc;
}

// What follows the key in a signed document, without the signature: what the fuzzer mutates.
inline std::string_view SignedPart(std::string_view doc) {
  constexpr size_t kHead = 4 + 2 + 32, kSig = 64;
  if (doc.size() < kHead + kSig) return {};
  return doc.substr(kHead, doc.size() - kHead - kSig);
}

}  // namespace outpost::fuzz
