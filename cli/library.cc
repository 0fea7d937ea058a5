#include "library.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>

#include "outpost/content/importer.h"
#include "outpost/content/maintenance.h"
#include "outpost/server/variant_check.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

// ---- import ----

struct ImportArgs {
  std::string folder;
  std::string channel;
  bool skip_errors = false;
  bool rehash = false;
  bool json = false;
  int threads = 0;
};

void PrintImportJson(const ImportReport& r) {
  double mbps = r.seconds > 0 ? static_cast<double>(r.bytes_read) / 1e6 / r.seconds : 0;
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& p : r.skipped) skipped.push_back({{"path", p.path}, {"message", p.message}});
  PrintJson({{"channel", r.channel_id}, {"version", r.version}, {"changed", r.version != 0},
             {"files", r.files}, {"topics", r.topics}, {"bytes", r.bytes},
             {"new_blobs", r.new_blobs}, {"new_bytes", r.new_bytes},
             {"reused_blobs", r.reused_blobs}, {"files_read", r.files_read},
             {"bytes_read", r.bytes_read}, {"seconds", r.seconds}, {"mb_per_s", mbps},
             {"skipped", skipped}});
}

void PrintImportText(const ImportReport& r) {
  for (const auto& p : r.skipped) {
    std::fprintf(stderr, "left out %s: %s\n", p.path.c_str(), p.message.c_str());
  }
  if (!r.version) {
    std::printf("%s: unchanged, still serving the same version (%.1f s)\n", r.channel_id.c_str(),
                r.seconds);
    return;
  }
  std::printf("%s: version %lld served: %lld files in %lld topics, %s (%lld new files, %s new)"
              " in %.1f s\n",
              r.channel_id.c_str(), static_cast<long long>(r.version),
              static_cast<long long>(r.files), static_cast<long long>(r.topics),
              Megabytes(r.bytes).c_str(), static_cast<long long>(r.new_blobs),
              Megabytes(r.new_bytes).c_str(), r.seconds);
}

int Import(const fs::path& data, const ImportArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  Importer importer(lib->store.get(), lib->catalog.get());
  ImportOptions options;
  options.channel_id = args.channel;
  options.skip_errors = args.skip_errors;
  options.rehash = args.rehash;
  options.threads = args.threads;
  ProgressLine line;
  options.progress = [&](const ImportProgress& p) {
    line.Show("importing " + std::to_string(p.files_done) + "/" + std::to_string(p.files_total) +
              " files, " + Megabytes(p.bytes_done) + " of " + Megabytes(p.bytes_total) + "  " +
              p.current);
  };
  auto report = importer.Import(args.folder, options);
  line.Done();
  if (!report) return Fail(report.error());
  if (args.json) PrintImportJson(*report);
  else PrintImportText(*report);
  return kExitOk;
}

void AddImportCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<ImportArgs>();
  auto* import = table.Add(&app, "import", "import a folder as a new version of a channel",
                           [args](const fs::path& data) { return Import(data, *args); });
  import->add_option("PATH", args->folder, "the folder to import")->required();
  import->add_option("--channel", args->channel,
                     "channel id (default: from metadata or folder name)");
  import->add_flag("--skip-errors", args->skip_errors, "leave faulty files out instead of failing");
  import->add_flag("--rehash", args->rehash, "read every file even if it seems unchanged");
  import->add_flag("--json", args->json, "print a JSON summary");
  import->add_option("--threads", args->threads,
                     "files read at once (default: two per core, at most 8)")
      ->check(CLI::Range(1, 64));
}

// ---- verify ----

struct VerifyArgs {
  bool json = false;
  bool keep_damaged = false;
};

// Says on stderr what verify found wrong with one blob, and where it went.
void PrintDamaged(const DamagedBlob& d, bool read_only) {
  std::fprintf(stderr, "damaged: %s\n", d.problem.message().c_str());
  if (!d.quarantined_to.empty()) {
    std::fprintf(stderr, "  moved to %s; importing its channel again restores it\n",
                 d.quarantined_to.c_str());
  } else if (!d.quarantine_error.ok()) {
    std::fprintf(stderr, "  could not move it aside (%s): it is still served\n",
                 d.quarantine_error.message().c_str());
  } else if (read_only && d.problem.code() == StatusCode::kCorrupt) {
    std::fprintf(stderr, "  left in place (the data folder is read-only): it is still served\n");
  }
}

// Checks the compressed copies in DATA/cache, removing the damaged ones (reporting only, on a
// read-only folder); says so on stderr.
Result<VariantCheckReport> CheckCache(const BlobStore& store, bool read_only) {
  auto cache = CheckCompressedVariants(store, read_only);
  if (!cache) return cache;
  for (const auto& d : cache->damaged) {
    std::fprintf(stderr, "damaged: %s\n  %s\n", d.problem.c_str(),
                 read_only ? "left in place (the data folder is read-only)"
                           : "removed; the server makes it again from its blob");
  }
  return cache;
}

void PrintVerifyJson(const VerifyReport& r, const VariantCheckReport& cache, bool read_only) {
  std::vector<std::string> damaged, missing, stray, cache_damaged;
  for (const auto& d : r.damaged) damaged.push_back(d.hash.Hex());
  for (const auto& h : r.missing) missing.push_back(h.Hex());
  for (const auto& p : r.stray_files) stray.push_back(p.string());
  for (const auto& d : cache.damaged) cache_damaged.push_back(d.path.string());
  nlohmann::json cache_json = {{"variants", cache.variants}, {"damaged", cache_damaged},
                               {"orphans_removed", cache.orphans_removed}};
  PrintJson({{"blobs", r.blobs}, {"bytes", r.bytes}, {"damaged", damaged}, {"missing", missing},
             {"stray_files", stray}, {"catalog", r.catalog_problems}, {"cache", cache_json},
             {"ok", r.ok() && cache.ok()}, {"read_only", read_only}});
}

void PrintVerifyText(const VerifyReport& r, const VariantCheckReport& cache, bool keep_damaged) {
  std::printf("%zu blobs, %s checked: %zu damaged, %zu missing; catalog %s\n", r.blobs,
              Megabytes(r.bytes).c_str(), r.damaged.size(), r.missing.size(),
              r.catalog_problems.empty() ? "ok" : "DAMAGED");
  if (!cache.ok()) {
    std::printf("%zu compressed copies checked: %zu damaged\n", cache.variants,
                cache.damaged.size());
  }
  if (!r.damaged.empty() || !r.missing.empty()) {
    std::printf("import the affected channels again (or sync them) to repair them%s\n",
                keep_damaged ? "" : "; until then their damaged files are not served");
  }
  // The same words as docs/cli.md ("What to do if verify reports damage"), tested there.
  if (!r.catalog_problems.empty()) std::printf("%s\n", kCatalogAdvice);
}

// Whether `data` may not be written: mounted read-only (EROFS, as the kernel remounts a failing
// card) or not writable by this user (EACCES).
bool ReadOnlyFolder(const fs::path& data) {
  if (::access(data.c_str(), W_OK) == 0) return false;
  return errno == EROFS || errno == EACCES || errno == EPERM;
}

// The store and the catalog opened to read only, creating nothing; a catalog that cannot be
// opened is a finding (in *problems), not a failure.
Result<Library> OpenLibraryToCheck(const fs::path& data, std::vector<std::string>* problems) {
  Library lib;
  auto store = BlobStore::OpenExisting(data);
  if (!store) {
    return store.error().WithContext("no library to verify in " + data.string());
  }
  lib.store = std::move(*store);
  auto catalog = Catalog::OpenReadOnly(data / "catalog.db");
  if (catalog) lib.catalog = std::move(*catalog);
  else problems->push_back("cannot open the catalog: " + catalog.error().message());
  return lib;
}

int VerifyCommand(const fs::path& data, const VerifyArgs& args) {
  bool read_only = ReadOnlyFolder(data);
  if (read_only) {
    std::fprintf(stderr, "the data folder %s is read-only: checking only, damaged files are "
                 "reported but left in place\n", data.c_str());
  }
  std::vector<std::string> open_problems;
  auto lib = OpenLibraryToCheck(data, &open_problems);
  if (!lib) return Fail(lib.error());
  ProgressLine line;
  VerifyOptions options;
  options.quarantine_damaged = !args.keep_damaged && !read_only;
  options.progress = [&](uint64_t done, uint64_t total) {
    line.Show("verifying " + Megabytes(done) + " of " + Megabytes(total));
  };
  options.damaged = [&](const DamagedBlob& d) {
    line.Done();
    PrintDamaged(d, read_only);
  };
  auto report = Verify(lib->store.get(), lib->catalog.get(), options);
  line.Done();
  if (!report) return Fail(report.error());
  report->catalog_problems.insert(report->catalog_problems.begin(), open_problems.begin(),
                                  open_problems.end());
  for (const auto& h : report->missing) {
    std::fprintf(stderr, "missing: blob %s is used by the catalog but not in the store\n",
                 h.Hex().c_str());
  }
  for (const auto& p : report->catalog_problems) std::fprintf(stderr, "catalog: %s\n", p.c_str());
  auto cache = CheckCache(*lib->store, read_only);
  if (!cache) return Fail(cache.error());
  if (args.json) PrintVerifyJson(*report, *cache, read_only);
  else PrintVerifyText(*report, *cache, args.keep_damaged || read_only);
  return report->ok() && cache->ok() ? kExitOk : kExitDamaged;
}

void AddVerifyCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<VerifyArgs>();
  auto* verify = table.Add(
      &app, "verify",
      "re-hash every stored file and report damage; damaged files are moved to "
      "DATA/quarantine so that they are never served and the next import restores them",
      [args](const fs::path& data) { return VerifyCommand(data, *args); });
  verify->add_flag("--json", args->json, "print a JSON summary");
  verify->add_flag("--keep-damaged", args->keep_damaged,
                   "report damage but leave damaged files in place");
}

// ---- gc ----

struct GcArgs {
  GcOptions options;
  bool json = false;
};

int GcCommand(const fs::path& data, const GcArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto r = CollectGarbage(lib->store.get(), lib->catalog.get(), args.options);
  if (!r) return Fail(r.error());
  bool dry_run = args.options.dry_run;
  if (args.json) {
    PrintJson({{"versions_removed", r->versions_removed},
               {"blobs_removed", r->blobs_removed.size()}, {"bytes_freed", r->bytes_freed},
               {"dry_run", dry_run}});
  } else {
    std::printf("%s%zu unused blobs (%s), %d old versions\n",
                dry_run ? "would remove " : "removed ", r->blobs_removed.size(),
                Megabytes(r->bytes_freed).c_str(), r->versions_removed);
  }
  return kExitOk;
}

void AddGcCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<GcArgs>();
  auto* gc = table.Add(&app, "gc", "remove old versions and files no version uses",
                       [args](const fs::path& data) { return GcCommand(data, *args); });
  gc->add_option("--keep-versions", args->options.keep_versions,
                 "older versions to keep per channel besides the served one (default 1)")
      ->check(CLI::Range(0, 1000000));
  gc->add_flag("--dry-run", args->options.dry_run, "only say what would be removed");
  gc->add_flag("--json", args->json, "print a JSON summary");
}

// ---- channels, search ----

void PrintChannelsJson(const std::vector<ChannelInfo>& channels) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : channels) {
    out.push_back({{"id", c.id}, {"version", c.served_version},
                   {"latest_version", c.latest_version}, {"title", c.meta.title},
                   {"language", c.meta.language}, {"license", c.meta.license},
                   {"files", c.files}, {"bytes", c.bytes}, {"tree", c.tree_hash.Hex()},
                   {"manifest", c.manifest_hash ? nlohmann::json(c.manifest_hash->Hex())
                                                : nlohmann::json(nullptr)}});
  }
  PrintJson(out);
}

int Channels(const fs::path& data, bool json) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto channels = lib->catalog->Channels();
  if (json) {
    PrintChannelsJson(channels);
    return kExitOk;
  }
  if (channels.empty()) std::printf("no channels; import one with: outpost import FOLDER\n");
  for (const auto& c : channels) {
    std::printf("%-24s version %-4lld %6lld files %10s  %s\n", c.id.c_str(),
                static_cast<long long>(c.served_version), static_cast<long long>(c.files),
                Megabytes(static_cast<uint64_t>(c.bytes)).c_str(), c.meta.title.c_str());
  }
  return kExitOk;
}

struct SearchArgs {
  std::string query;
  int limit = 20;
  bool json = false;
};

// A snippet without the \x02 and \x03 that mark its matches.
std::string Plain(std::string snippet) {
  std::erase(snippet, '\x02');
  std::erase(snippet, '\x03');
  return snippet;
}

int Search(const fs::path& data, const SearchArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto hits = lib->catalog->Search(args.query, args.limit);
  if (!hits) return Fail(hits.error());
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : *hits) {
      out.push_back({{"channel", h.channel_id}, {"path", h.path}, {"title", h.title},
                     {"kind", h.kind}, {"language", h.language},
                     {"snippet", Plain(h.snippet)}, {"rank", h.rank}});
    }
    PrintJson(out);
    return kExitOk;
  }
  for (const auto& h : *hits) {
    std::printf("%s/%s  %s\n    %s\n", h.channel_id.c_str(), h.path.c_str(), h.title.c_str(),
                Plain(h.snippet).c_str());
  }
  if (hits->empty()) std::printf("nothing found\n");
  return kExitOk;
}

void AddBrowseCommands(CLI::App& app, CommandTable& table) {
  auto channels_json = std::make_shared<bool>(false);
  auto* channels =
      table.Add(&app, "channels", "list the channels and their served versions",
                [channels_json](const fs::path& data) { return Channels(data, *channels_json); });
  channels->add_flag("--json", *channels_json, "print JSON");

  auto args = std::make_shared<SearchArgs>();
  auto* search = table.Add(&app, "search", "search the served library",
                           [args](const fs::path& data) { return Search(data, *args); });
  search->add_option("QUERY", args->query, "words to look for")->required();
  search->add_option("--limit", args->limit, "most results to show")->check(CLI::Range(1, 1000));
  search->add_flag("--json", args->json, "print JSON");
}

}  // namespace

void AddLibraryCommands(CLI::App& app, CommandTable& table) {
  AddImportCommand(app, table);
  AddVerifyCommand(app, table);
  AddGcCommand(app, table);
  AddBrowseCommands(app, table);
}

}  // namespace outpost::cli
