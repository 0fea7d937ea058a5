// One volume of a USB bundle: see bundle_volume.h and docs/bundle.md.
#include "bundle/bundle_volume.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "wire.h"

namespace outpost::sync {

namespace {

constexpr std::string_view kMagic = "OPBV";
constexpr size_t kFixedHead = 4 + 2 + 16 + 4 + 32 + 8 + 2;
constexpr size_t kSealedKey = crypto_secretstream_xchacha20poly1305_KEYBYTES + crypto_box_SEALBYTES;
constexpr std::string_view kHeaderDomain{"outpost bundle header v1\0", 25};
constexpr std::string_view kEndDomain{"outpost bundle end v1\0", 22};

using StreamKey = std::array<uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES>;

struct Wiped {
  StreamKey key{};
  ~Wiped() { sodium_memzero(key.data(), key.size()); }
};

std::string Signed(std::string_view domain, const Hash& a, const Hash* b = nullptr) {
  std::string m(domain);
  m.append(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
  if (b) m.append(reinterpret_cast<const char*>(b->bytes.data()), b->bytes.size());
  return m;
}

Status Write(WritableFile* file, std::string_view bytes, uint64_t* written) {
  OUTPOST_RETURN_IF_ERROR(
      file->Append({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}));
  *written += bytes.size();
  return Status::Ok();
}

}  // namespace

std::string BundleIdHex(const BundleId& id) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// ---- writing

Result<std::unique_ptr<VolumeWriter>> VolumeWriter::Start(const VolumeHeader& header,
                                                          const Identity& sender,
                                                          WritableFile* file) {
  if (header.sender != sender.public_key()) return InvalidArgument("the header names another sender");
  if (header.recipients.empty()) return InvalidArgument("a bundle needs at least one recipient");
  if (header.format < kVolumeFormat || header.format > kNewestVolumeFormat) {
    return InvalidArgument("no such volume format");
  }
  if (header.recipients.size() > kMaxVolumeRecipients) {
    return InvalidArgument("a bundle has at most " + std::to_string(kMaxVolumeRecipients) +
                           " recipients");
  }
  std::set<PublicKey> seen(header.recipients.begin(), header.recipients.end());
  if (seen.size() != header.recipients.size()) return InvalidArgument("a recipient is named twice");

  std::unique_ptr<VolumeWriter> writer(new VolumeWriter(sender, file));
  Wiped key;
  crypto_secretstream_xchacha20poly1305_keygen(key.key.data());
  wire::Writer w;
  w.Raw(kMagic);
  w.U16(header.format);
  w.Raw(header.bundle_id);
  w.U32(header.volume);
  w.Raw(header.sender.bytes);
  w.U64(header.created_at);
  w.U16(static_cast<uint16_t>(header.recipients.size()));
  for (const PublicKey& r : header.recipients) {
    auto x = X25519FromEd25519(r);
    if (!x) return x.error().WithContext("recipient " + r.Fingerprint());
    std::array<uint8_t, kSealedKey> sealed{};
    if (crypto_box_seal(sealed.data(), key.key.data(), key.key.size(), x->bytes.data()) != 0) {
      return Internal("sealing the stream key failed");
    }
    w.Raw(r.bytes);
    w.Raw(sealed);
  }
  std::array<uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> stream_header{};
  crypto_secretstream_xchacha20poly1305_init_push(&writer->state_, stream_header.data(), key.key.data());
  w.Raw(stream_header);
  std::string head = w.Take();
  writer->header_hash_ = Hash::Of(head);
  Signature signature = sender.Sign(Signed(kHeaderDomain, writer->header_hash_));
  head.append(reinterpret_cast<const char*>(signature.data()), signature.size());
  OUTPOST_RETURN_IF_ERROR(Write(file, head, &writer->written_));
  return writer;
}

VolumeWriter::~VolumeWriter() {
  sodium_memzero(&state_, sizeof state_);
  sodium_memzero(plain_.data(), plain_.size());
}

Status VolumeWriter::Frame(uint8_t type, std::string_view body, uint8_t tag) {
  if (finished_) return Internal("a frame added after the end of the volume");
  if (body.size() + 1 > kMaxFramePlaintext) return InvalidArgument("a bundle frame is too large");
  std::string& plain = plain_;
  plain.clear();
  plain += static_cast<char>(type);
  plain.append(body);
  std::string& out = sealed_;
  out.resize(4 + plain.size() + crypto_secretstream_xchacha20poly1305_ABYTES);
  unsigned long long sealed = 0;
  crypto_secretstream_xchacha20poly1305_push(
      &state_, reinterpret_cast<uint8_t*>(out.data()) + 4, &sealed,
      reinterpret_cast<const uint8_t*>(plain.data()), plain.size(), header_hash_.bytes.data(),
      header_hash_.bytes.size(), tag);
  uint32_t n = static_cast<uint32_t>(sealed);
  out[0] = static_cast<char>(n >> 24);
  out[1] = static_cast<char>(n >> 16);
  out[2] = static_cast<char>(n >> 8);
  out[3] = static_cast<char>(n);
  if (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) transcript_.Update(out);
  ++frames_;
  return Write(file_, out, &written_);
}

Status VolumeWriter::Add(uint8_t type, std::string_view body) {
  if (type == kEndRecord) return InvalidArgument("record type 255 ends a volume");
  return Frame(type, body, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
}

Status VolumeWriter::Finish() {
  Hash transcript = transcript_.Final();
  Signature signature = sender_.Sign(Signed(kEndDomain, header_hash_, &transcript));
  wire::Writer w;
  w.U64(frames_);
  w.Raw(signature);
  OUTPOST_RETURN_IF_ERROR(Frame(kEndRecord, w.Take(), crypto_secretstream_xchacha20poly1305_TAG_FINAL));
  finished_ = true;
  return Status::Ok();
}

// ---- reading

VolumeReader::~VolumeReader() {
  sodium_memzero(&state_, sizeof state_);
  if (fd_ >= 0) ::close(fd_);
}

Status VolumeReader::ReadExact(std::span<uint8_t> out, const char* what) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t r = ::read(fd_, out.data() + done, out.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus("reading " + path_, errno);
    if (r == 0) {
      return Corrupt(path_ + " is cut short at byte " + std::to_string(offset_ + done) + " (in " +
                     what + ")");
    }
    done += static_cast<size_t>(r);
  }
  offset_ += done;
  return Status::Ok();
}

Result<std::unique_ptr<VolumeReader>> VolumeReader::Open(const std::filesystem::path& path,
                                                         const Identity& self) {
  std::unique_ptr<VolumeReader> reader(new VolumeReader());
  reader->path_ = path.string();
  reader->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader->fd_ < 0) return ErrnoStatus("opening " + path.string(), errno);
  auto recipients = reader->ReadHeader();
  if (!recipients) return recipients.error();
  OUTPOST_RETURN_IF_ERROR(reader->OpenStream(self, *recipients));
  return reader;
}

namespace {

// The magic, and a format this reader knows (1 or 2).
Status ReadMagicAndFormat(wire::Reader* r, uint16_t* format) {
  std::string_view magic;
  OUTPOST_RETURN_IF_ERROR(r->Raw(kMagic.size(), &magic, "magic"));
  if (magic != kMagic) return r->Bad(0, "it does not start with \"OPBV\", so it is not a bundle volume");
  OUTPOST_RETURN_IF_ERROR(r->U16(format, "format version"));
  if (*format < kVolumeFormat || *format > kNewestVolumeFormat) {
    return r->Bad(kMagic.size(), "its format version is " + std::to_string(*format) +
                                     "; this outpost reads versions 1 and 2");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> VolumeReader::ReadHeader() {
  std::string head(kFixedHead, '\0');
  OUTPOST_RETURN_IF_ERROR(
      ReadExact({reinterpret_cast<uint8_t*>(head.data()), head.size()}, "the header"));
  VolumeHeader& h = header_;
  uint16_t count = 0;
  {
    wire::Reader r(head, "bundle volume");
    OUTPOST_RETURN_IF_ERROR(ReadMagicAndFormat(&r, &h.format).WithContext(path_));
    OUTPOST_RETURN_IF_ERROR(r.Raw(h.bundle_id, "bundle id"));
    OUTPOST_RETURN_IF_ERROR(r.U32(&h.volume, "volume number"));
    OUTPOST_RETURN_IF_ERROR(r.Raw(h.sender.bytes, "sender"));
    OUTPOST_RETURN_IF_ERROR(r.U64(&h.created_at, "creation time"));
    OUTPOST_RETURN_IF_ERROR(r.U16(&count, "recipient count"));
  }
  if (count == 0 || count > kMaxVolumeRecipients) {
    return Corrupt(path_ + ": " + std::to_string(count) + " recipients is not a bundle's");
  }
  std::string rest(
      count * (PublicKey::kSize + kSealedKey) + crypto_secretstream_xchacha20poly1305_HEADERBYTES,
      '\0');
  OUTPOST_RETURN_IF_ERROR(
      ReadExact({reinterpret_cast<uint8_t*>(rest.data()), rest.size()}, "the recipients"));
  head += rest;
  Signature signature{};
  OUTPOST_RETURN_IF_ERROR(ReadExact(signature, "the header's signature"));
  header_hash_ = Hash::Of(head);
  if (!VerifySignature(h.sender, Signed(kHeaderDomain, header_hash_), signature)) {
    return Corrupt(path_ + ": the header's signature by " + h.sender.Fingerprint() +
                   "… does not verify: the volume is damaged or forged");
  }
  for (size_t i = 0; i < count; ++i) {
    PublicKey r;
    std::copy_n(rest.data() + i * (PublicKey::kSize + kSealedKey), PublicKey::kSize,
                r.bytes.begin());
    h.recipients.push_back(r);
  }
  return rest;
}

Status VolumeReader::OpenStream(const Identity& self, std::string_view recipients) {
  std::optional<size_t> mine;
  for (size_t i = 0; i < header_.recipients.size(); ++i) {
    if (header_.recipients[i] == self.public_key()) mine = i;
  }
  if (!mine) {
    std::string names;
    for (const auto& r : header_.recipients) {
      names += (names.empty() ? "" : ", ") + r.Fingerprint() + "…";
    }
    return NotFound(path_ + " is addressed to " + names + ", not to this node (" +
                    self.public_key().Fingerprint() + "…)");
  }
  Wiped key;
  const auto* sealed = reinterpret_cast<const uint8_t*>(recipients.data()) +
                       *mine * (PublicKey::kSize + kSealedKey) + PublicKey::kSize;
  auto self_x = self.x25519_public_key();
  if (crypto_box_seal_open(key.key.data(), sealed, kSealedKey, self_x.bytes.data(),
                           self.x25519_secret_key().data()) != 0) {
    return Corrupt(path_ + ": the stream key sealed to this node does not open");
  }
  const auto* stream_header = reinterpret_cast<const uint8_t*>(recipients.data()) +
                              header_.recipients.size() * (PublicKey::kSize + kSealedKey);
  if (crypto_secretstream_xchacha20poly1305_init_pull(&state_, stream_header, key.key.data())) {
    return Corrupt(path_ + ": the stream header is invalid");
  }
  return Status::Ok();
}

Result<std::optional<VolumeRecord>> VolumeReader::Next() {
  if (failed_) return Corrupt(path_ + " was damaged earlier");
  if (complete_) return std::optional<VolumeRecord>();
  uint64_t at = offset_;
  std::array<uint8_t, 4> length{};
  std::string plain;
  uint8_t tag = 0;
  if (Status st = ReadFrame(at, &length, &plain, &tag); !st.ok()) return Fail(st);
  ++frames_;
  VolumeRecord record;
  record.type = static_cast<uint8_t>(plain[0]);
  record.body = std::move(plain);
  record.body.erase(0, 1);
  bool final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  if (final != (record.type == kEndRecord)) {
    return Fail(
        Corrupt(path_ + ": the frame at byte " + std::to_string(at) + " ends the volume wrongly"));
  }
  if (!final) {
    std::string framed(reinterpret_cast<const char*>(length.data()), length.size());
    transcript_.Update(framed);
    transcript_.Update(sealed_);
    return std::optional<VolumeRecord>(std::move(record));
  }
  if (Status st = CheckEnd(record.body); !st.ok()) return Fail(st);
  complete_ = true;
  return std::optional<VolumeRecord>();
}

Status VolumeReader::ReadFrame(uint64_t at, std::array<uint8_t, 4>* length, std::string* plain,
                               uint8_t* tag) {
  OUTPOST_RETURN_IF_ERROR(ReadExact(*length, "a frame's length"));
  const auto& l = *length;
  uint32_t n = (uint32_t{l[0]} << 24) | (uint32_t{l[1]} << 16) | (uint32_t{l[2]} << 8) | l[3];
  if (n < crypto_secretstream_xchacha20poly1305_ABYTES + 1 ||
      n > kMaxFramePlaintext + crypto_secretstream_xchacha20poly1305_ABYTES) {
    return Corrupt(path_ + ": the frame at byte " + std::to_string(at) + " claims " +
                   std::to_string(n) + " bytes");
  }
  sealed_.resize(n);
  OUTPOST_RETURN_IF_ERROR(ReadExact({reinterpret_cast<uint8_t*>(sealed_.data()), n}, "a frame"));
  plain->assign(n - crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
  unsigned long long plain_n = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(
          &state_, reinterpret_cast<uint8_t*>(plain->data()), &plain_n, tag,
          reinterpret_cast<const uint8_t*>(sealed_.data()), n, header_hash_.bytes.data(),
          header_hash_.bytes.size()) != 0) {
    return Corrupt(path_ + ": the frame at byte " + std::to_string(at) +
                   " does not verify (damaged, changed, or out of order)");
  }
  plain->resize(plain_n);
  return Status::Ok();
}

Status VolumeReader::CheckEnd(std::string_view body) {
  wire::Reader r(body, "bundle end");
  uint64_t count = 0;
  Signature signature{};
  Status parsed = r.U64(&count, "frame count");
  if (parsed.ok()) parsed = r.Raw(signature, "signature");
  if (parsed.ok()) parsed = r.ExpectEnd();
  if (!parsed.ok()) return parsed.WithContext(path_);
  Hash transcript = transcript_.Final();
  if (count != frames_ - 1 ||
      !VerifySignature(header_.sender, Signed(kEndDomain, header_hash_, &transcript), signature)) {
    return Corrupt(path_ + ": the sender's signature of the volume does not verify");
  }
  uint8_t extra;
  ssize_t more = ::read(fd_, &extra, 1);
  if (more != 0) return Corrupt(path_ + " has bytes after its end");
  return Status::Ok();
}

}  // namespace outpost::sync
