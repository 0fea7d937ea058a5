// fuzz_seeds: writes the seed corpus, fuzz/corpus/<target>/<name>, from the real encoders
// (and, for the importer's files, from the demo curriculum), so that each seed is a valid
// input the fuzzer mutates from. Run from the repository root:
//   build/fuzz/fuzz/fuzz_seeds fuzz/corpus demo/water-cycle
// Seeds of bundle volumes change at every run (a volume's stream key is random); the others
// are the same bytes each time.
#include <minizip/zip.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bundle/bundle_records.h"
#include "fuzz_keys.h"
#include "noise_steps.h"
#include "outpost/sync/enrolment.h"
#include "outpost/sync/manifest.h"
#include "outpost/sync/site_report.h"
#include "protocol.h"
#include "signing.h"
#include "volume_script.h"

using namespace outpost;
using namespace outpost::sync;
using namespace outpost::fuzz;
namespace fs = std::filesystem;

namespace {

using Seeds = std::map<std::string, std::string>;  // file name -> bytes

std::string Tag(uint8_t selector, std::string_view body) {
  return std::string(1, static_cast<char>(selector)) + std::string(body);
}

Hash H(std::string_view s) { return Hash::Of(s); }

Offer SampleOffer() {
  Offer offer;
  offer.trust_list = "OPTL";
  OfferedVersion v;
  v.channel_id = "water-cycle";
  v.packing = kRaw;
  v.envelope_size = 3;
  v.packed = "abc";
  OfferedFile f{H("file"), 10, {{H("c1"), 4}, {H("c2"), 6}}, H("previous")};
  v.files = {f, OfferedFile{H("new"), 0, {}, std::nullopt}};
  offer.versions = {v};
  offer.uploads = true;
  offer.yours = {{"site-notes", 3, 0}};
  return offer;
}

Seeds ProtocolSeeds() {
  Identity site = FixedIdentity(4);
  Seeds s;
  s["hello"] = Tag(0, EncodeHello({kProtocolVersion, site.public_key(), 2,
                                   {{"water-cycle", 3, 4}, {"maths", 0, 1}}}));
  s["error"] = Tag(1, EncodeError({4, "busy: try again in a minute"}));
  s["offer"] = Tag(2, EncodeOffer(SampleOffer()));
  s["accept"] = Tag(3, EncodeAccept({kProtocolVersion, 256}));
  s["hashes"] = Tag(4, EncodeHashes({H("a"), H("b")}));
  s["chunk"] = Tag(5, EncodeChunk({H("chunk"), 5, "zstd-frame"}));
  s["get_patch"] = Tag(6, EncodeGetPatch(H("new"), H("old")));
  s["patch"] = Tag(7, EncodePatch({H("new"), H("old"), 1, 1000, "zstd-patch"}));
  s["receipt"] = Tag(8, EncodeReceipt({{"notes", 2, ReceiptState::kServed, ""},
                                       {"notes", 3, ReceiptState::kRefused, "not signed"}}));
  s["hub_info"] = Tag(9, EncodeHubInfo(FixedIdentity(3).public_key()));
  s["enrol"] = Tag(10, EncodeEnrol({site.public_key(), "abcd-efgh-jkmn-pqrs", "ecole"}));
  s["enrolled"] = Tag(11, EncodeEnrolled({"ecole", FixedIdentity(3).public_key(),
                                          FixedIdentity(1).public_key(), "OPTL"}));
  ReviewOutcome declined{7, "ecole-notes", "tp/mesures.txt", H("mesures"), ReviewState::kDeclined,
                         1800000000, "Ajoutez les unités.", "", "", 0, 0};
  ReviewOutcome adopted{8, "ecole-notes", "cours.html", H("cours"), ReviewState::kAdopted,
                        1800000100, "", "science", "Grade 5/Science", 4, 0};
  s["outcomes"] = Tag(12, EncodeOutcomes({declined, adopted}));
  return s;
}

Seeds NoiseSeeds() {
  const NoiseKeys keys;
  auto scripts = PlayEveryPattern(keys);
  FUZZ_CHECK(scripts.has_value());
  Seeds s;
  for (uint8_t step = 0; step < static_cast<uint8_t>(NoiseStep::kCount); ++step) {
    auto prepared = PrepareNoiseStep(keys, *scripts, static_cast<NoiseStep>(step));
    std::string m(prepared->honest.begin(), prepared->honest.end());
    s["step" + std::to_string(step)] = Tag(step, m);
  }
  return s;
}

// Records (u8 type, u32 length, body) as fuzz_secure_channel's sealed mode takes them: each
// plaintext frame as a u16 length and its bytes.
Seeds SecureChannelSeeds() {
  auto record = [](uint8_t type, std::string_view body) {
    wire::Writer w;
    w.U8(type);
    w.U32(static_cast<uint32_t>(body.size()));
    w.Raw(body);
    return w.Take();
  };
  auto frame = [](std::string_view plain) {
    wire::Writer w;
    w.U16(static_cast<uint16_t>(plain.size()));
    w.Raw(plain);
    return w.Take();
  };
  std::string two = record(kGetChunks, EncodeHashes({H("x")})) + record(kBye, "");
  std::string split = record(kChunk, std::string(300, 'c'));
  Seeds s;
  s["sealed_two_records"] = Tag(1, frame(two));
  s["sealed_split_record"] = Tag(0, frame(split.substr(0, 100)) + frame(split.substr(100)));
  s["raw_frame"] = Tag(4, frame(std::string(40, 'r')));
  return s;
}

}  // namespace

namespace {

VersionDraft SampleDraft() {
  VersionDraft d;
  d.channel_id = "water-cycle";
  d.meta = {"Le cycle de l'eau", "Évaporation", "fr", "", "", "CC BY-SA 4.0", "M. Diallo"};
  d.root.path = "";
  d.root.meta.title = "Le cycle de l'eau";
  DraftNode page{.path = "page.html", .kind = NodeKind::kHtml, .blob = H("page"), .size = 4096,
                 .mime = "text/html; charset=utf-8"};
  page.meta.title = "L'évaporation";
  DraftNode topic{.path = "ar"};
  topic.meta.title = "العربية";
  DraftNode pdf{.path = "ar/rain.pdf", .kind = NodeKind::kDocument, .listed = false,
                .blob = H("pdf"), .size = 123456, .mime = "application/pdf"};
  topic.children = {pdf};
  d.root.children = {page, topic};
  d.root.thumbnail = H("page");
  return d;
}

TrustList SampleTrust() {
  TrustList t;
  t.sequence = 3;
  t.entries = {{FixedIdentity(2).public_key(), {std::string(kAllChannels)}, KeyState::kActive},
               {FixedIdentity(6).public_key(), {"maths", "water-cycle"}, KeyState::kActive},
               {FixedIdentity(7).public_key(), {"water-cycle"}, KeyState::kRevoked}};
  return t;
}

Seeds ManifestSeeds() {
  VersionDraft d = SampleDraft();
  FUZZ_CHECK(CheckManifestDraft(d, 7).ok());
  std::string manifest = EncodeManifest(d, 7);
  auto envelope = SignManifest(d, 7, FixedIdentity(2));
  FUZZ_CHECK(envelope.has_value());
  return {{"manifest", Tag(0, manifest)}, {"envelope", Tag(1, *envelope)},
          {"signed_by_harness", Tag(2, manifest)}};
}

Seeds TrustListSeeds() {
  auto doc = SignTrustList(SampleTrust(), FixedIdentity(1));
  FUZZ_CHECK(doc.has_value());
  return {{"document", Tag(0, *doc)}, {"signed_by_harness", Tag(1, SignedPart(*doc))}};
}

Seeds EnrolmentSeeds() {
  auto trust = SignTrustList(SampleTrust(), FixedIdentity(1));
  HubPin pin{"hub.example.org:7443", FixedIdentity(3).public_key(), FixedIdentity(1).public_key(),
             "abcd-efgh-jkmn-pqrs", "ecole-karantina"};
  auto file = EncodeEnrolment(pin, *trust, FixedIdentity(3));
  FUZZ_CHECK(file.has_value());
  return {{"file", Tag(0, *file)}, {"signed_by_harness", Tag(1, SignedPart(*file))}};
}

Seeds BundleVolumeSeeds() {
  std::vector<VolumeRecord> records = {
      {kOfferRecord, AddressedRecord(FixedIdentity(4).public_key(), EncodeOffer(SampleOffer()))},
      {kReceiptRecord, AddressedRecord(FixedIdentity(4).public_key(),
                                       EncodeReceiptRecord({{"notes", 2}}))}};
  Seeds s;
  s["volume"] = Tag(1, WriteVolume(Keys3{}, records));
  // Records mode: two records, then one edit that flips a bit of the last frame.
  std::string script = {2, kChunksRecord, 0, 3, 'a', 'b', 'c', static_cast<char>(kEndRecord - 1), 0, 0};
  s["records_edited"] = Tag(0, script + std::string("\x7f\xff\xff\xff\x01", 5));
  s["records_truncated"] = Tag(0, script + std::string("\x00\x00\x01\x00", 4));
  return s;
}

Seeds BundleRecordSeeds() {
  wire::Writer chunks;
  chunks.U32(2);
  AppendBundledChunk(&chunks, H("stored"), "stored", std::nullopt);
  AppendBundledChunk(&chunks, H("packed"), "packed bytes", std::string_view("zstd"));
  std::string receipt = EncodeReceiptRecord({{"notes", 2}, {"water-cycle", 9}});
  PublicKey to = FixedIdentity(4).public_key();
  return {{"chunks", Tag(0, chunks.Take())},
          {"receipt", Tag(1, receipt)},
          {"addressed_offer", Tag(2, AddressedRecord(to, EncodeOffer(SampleOffer())))},
          {"addressed_receipt", Tag(3, AddressedRecord(to, receipt))},
          {"addressed_basis", Tag(4, AddressedRecord(to, EncodeBasisRecord({{"water-cycle", {8, {7}, 1765000000}}})))},
          {"seen", Tag(5, EncodeSeenRecord({{9}, 1765000000}))}};
}

// Mode 1 of fuzz_site_report: a report's bytes less its signature (the harness signs them).
Seeds SiteReportSeeds() {
  Identity site = FixedIdentity(4);
  SiteReport r;
  r.reported_at = 1796000000;
  r.software = "0.1.0";
  r.disk_total = uint64_t{64} << 30;
  r.disk_free = uint64_t{12} << 30;
  r.served = {{"water", 3}, {"ecole-1-notes", 2}};
  r.errors_logged = 2;
  r.errors = {{1795999000, "warn", "the stick was pulled out"}, {1795999900, "error", "disk full"}};
  r.usage = {{"2026-12-07", "water", "fr/rain.html", 12}};
  Seeds s;
  std::string full = *EncodeSiteReport(r, site);
  s["report"] = std::string(1, 1) + full.substr(0, full.size() - 64);
  s["report-signed"] = std::string(1, 0) + full;
  s["report-empty"] = std::string(1, 1) + EncodeSiteReport(SiteReport{}, site)->substr(0, 6 + 32 + 8 + 4 + 16 + 16);
  return s;
}

Seeds StagingSeeds() {
  std::string log;
  for (std::string_view chunk : {"first chunk", "second, a little longer chunk", ""}) {
    wire::Writer w;
    w.Raw(H(chunk).bytes);
    w.U32(static_cast<uint32_t>(chunk.size()));
    w.Raw(chunk);
    log += w.Take();
  }
  return {{"three_records", log}, {"torn", log.substr(0, log.size() - 10)}};
}

}  // namespace

namespace {

Seeds HttpSeeds() {
  return {
      {"get", Tag(0, "GET /search?q=cycle+de+l%27eau&page=2 HTTP/1.1\r\nHost: outpost.local\r\n"
                     "Accept-Language: fr, ar;q=0.8\r\nRange: bytes=0-99\r\n")},
      {"post", Tag(0, "POST /api/answer HTTP/1.1\r\nHost: 10.0.0.1\r\nContent-Type: "
                      "application/x-www-form-urlencoded\r\nContent-Length: 12\r\n")},
      {"head_tight", Tag(1, "HEAD /b/%E2%9C%93/a.pdf HTTP/1.0\r\nX: y\r\n")},
  };
}

// Upload forms as browsers send them (boundary "B0undary"), after a byte choosing the piece size.
Seeds MultipartSeeds() {
  std::string b = "--B0undary";
  auto form = [&](uint8_t piece, const std::string& parts) { return std::string(1, char(piece)) + parts + b + "--\r\n"; };
  std::string field = b + "\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntoken\r\n";
  std::string file = b + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"le\\\"çon.pdf\"\r\n"
                         "Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--B0undar\r\n\r\n";
  Seeds s;
  s["field"] = form(1, field);
  s["field_and_file"] = form(7, field + file);
  s["two_files"] = form(96, file + file);
  s["empty_file"] = form(3, b + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\n\r\n");
  s["preamble"] = form(5, "a preamble\r\n" + field);
  return s;
}

// Sizes and headers from the table in byte_range.h.
Seeds ByteRangeSeeds() {
  auto seed = [](uint64_t size, std::string_view header) {
    wire::Writer w;
    w.U8(8);
    w.U64(size);
    w.Raw(header);
    return w.Take();
  };
  Seeds s;
  int n = 0;
  for (std::string_view h : {"bytes=10-19", "bytes=95-200", "bytes=90-", "bytes=-5", "bytes=-500",
                             "bytes=100-", "bytes=-0", "bytes=0-1,5-6", "Bytes = 5 - 1"}) {
    s["range" + std::to_string(n++)] = seed(100, h);
  }
  s["empty_resource"] = seed(0, "bytes=-5");
  s["huge"] = seed(UINT64_MAX, "bytes=18446744073709551615-99999999999999999999999");
  return s;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Seeds ZipSeeds() {
  fs::path tmp = fs::temp_directory_path() / ("outpost-fuzz-seed-" + std::to_string(::getpid()) + ".zip");
  zipFile z = zipOpen64(tmp.c_str(), APPEND_STATUS_CREATE);
  FUZZ_CHECK(z != nullptr);
  for (auto [name, data, method] : {std::tuple{"index.html", "<p>bonjour</p>", Z_DEFLATED},
                                    std::tuple{"a/b.txt", "stored bytes", 0}}) {
    zip_fileinfo info{};
    zipOpenNewFileInZip64(z, name, &info, nullptr, 0, nullptr, 0, nullptr, method,
                          Z_DEFAULT_COMPRESSION, 0);
    zipWriteInFileInZip(z, data, static_cast<unsigned>(std::char_traits<char>::length(data)));
    zipCloseFileInZip(z);
  }
  zipClose(z, nullptr);
  std::string zip = ReadFile(tmp);
  fs::remove(tmp);
  std::string name = "a/b.txt";
  return {{"app", std::string(1, static_cast<char>(name.size())) + name + zip}};
}

// The demo curriculum's own outpost.toml and exercise files.
Seeds DemoSeeds(const fs::path& demo, std::string_view suffix, bool answer_prefix) {
  Seeds s;
  for (const auto& e : fs::recursive_directory_iterator(demo)) {
    std::string name = e.path().filename().string();
    if (!e.is_regular_file() || !name.ends_with(suffix)) continue;
    std::string seed_name = fs::relative(e.path(), demo).string();
    for (char& c : seed_name) c = c == '/' ? '_' : c;
    bool root = e.path().parent_path() == demo;
    std::string prefix = answer_prefix ? std::string("\x01" "2", 2) : std::string(1, root ? 1 : 0);
    s[seed_name] = prefix + ReadFile(e.path());
  }
  return s;
}

void Write(const fs::path& dir, const Seeds& seeds) {
  fs::create_directories(dir);
  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    FUZZ_CHECK(out.good());
  }
  std::printf("%-24s %zu seeds\n", dir.filename().c_str(), seeds.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR DEMO_CHANNEL_DIR\n");
    return 2;
  }
  fs::path out = argv[1], demo = argv[2];
  Write(out / "fuzz_protocol", ProtocolSeeds());
  Write(out / "fuzz_noise_handshake", NoiseSeeds());
  Write(out / "fuzz_secure_channel", SecureChannelSeeds());
  Write(out / "fuzz_manifest", ManifestSeeds());
  Write(out / "fuzz_trust_list", TrustListSeeds());
  Write(out / "fuzz_enrolment", EnrolmentSeeds());
  Write(out / "fuzz_bundle_volume", BundleVolumeSeeds());
  Write(out / "fuzz_bundle_records", BundleRecordSeeds());
  Write(out / "fuzz_staging_log", StagingSeeds());
  Write(out / "fuzz_site_report", SiteReportSeeds());
  Write(out / "fuzz_http_request", HttpSeeds());
  Write(out / "fuzz_byte_range", ByteRangeSeeds());
  Write(out / "fuzz_multipart", MultipartSeeds());
  Write(out / "fuzz_zip", ZipSeeds());
  Write(out / "fuzz_folder_meta", DemoSeeds(demo, "outpost.toml", false));
  Write(out / "fuzz_exercise", DemoSeeds(demo, ".exercise.json", true));
  return 0;
}
