#include "bundle.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "outpost/base/text.h"
#include "outpost/sync/bundle.h"
#include "outpost/sync/drives.h"
#include "outpost/sync/node.h"
#include "outpost/sync/sync_db.h"
#include "sync.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

// "a, b, c"
std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// ---- bundle export ----

struct ExportArgs {
  std::string to;
  BundleExportOptions options;
  double volume_mb = 0;
  bool json = false;
  CLI::Option* continue_option = nullptr;  // given, with or without an id
};

void PrintExportJson(const BundleExportResult& r) {
  std::vector<std::string> volumes;
  for (const auto& v : r.volumes) volumes.push_back(v.string());
  PrintJson({{"bundle", r.bundle_id}, {"volumes", volumes}, {"bytes", r.bytes},
             {"recipients", r.recipients}, {"sealed_to_file", r.sealed_to_file},
             {"channels", r.channels}, {"chunks", r.chunks},
             {"patches", r.patches}, {"complete", r.complete},
             {"remaining_bytes", r.remaining_bytes}});
}

void PrintExportText(const fs::path& data, const BundleExportResult& r) {
  std::printf("bundle %s for %s: %zu volume(s), %s\n", r.bundle_id.substr(0, 8).c_str(),
              JoinNames(r.recipients).c_str(), r.volumes.size(), Megabytes(r.bytes).c_str());
  for (const auto& n : r.sealed_to_file) {
    std::printf("  %s has not enrolled yet: sealed to its enrolment file (send the stick with it)\n",
                n.c_str());
  }
  for (const auto& c : r.channels) std::printf("  %s\n", c.c_str());
  for (const auto& v : r.volumes) std::printf("  %s\n", v.c_str());
  if (r.complete) return;
  // With another export unfinished too, a bare --continue would be refused: name this one.
  std::string which =
      UnfinishedExports(NodePaths(data)).size() > 1 ? " " + r.bundle_id.substr(0, 8) : "";
  std::printf("the drive is full: %zu volume(s), %s written; about %s remain. Insert another drive "
              "and run: outpost bundle export --data %s --continue%s --to <its folder>\n",
              r.volumes.size(), Megabytes(r.bytes).c_str(), Megabytes(r.remaining_bytes).c_str(),
              data.c_str(), which.c_str());
}

int BundleExport(const fs::path& data, const ExportArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  BundleExportOptions options = args.options;
  options.to = args.to;
  options.continue_export = args.continue_option->count() > 0;
  if (args.volume_mb > 0) options.volume_bytes = static_cast<uint64_t>(args.volume_mb * 1e6);
  ProgressLine line;
  options.progress = [&](uint64_t written, uint64_t at_most) {
    line.Show("writing the bundle: " + Megabytes(written) + " (at most " + Megabytes(at_most) +
              ")");
  };
  auto r = ExportBundle(NodePaths(data), lib->store.get(), lib->catalog.get(), db->get(), options);
  line.Done();
  if (!r) return Fail(r.error());
  if (args.json) PrintExportJson(*r);
  else PrintExportText(data, *r);
  return r->complete ? kExitOk : kExitIncomplete;
}

void AddExportCommand(CLI::App* bundle, CommandTable& table) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = table.Add(bundle, "export", "write what a peer lacks to a drive",
                        [args](const fs::path& data) { return BundleExport(data, *args); });
  BundleExportOptions& o = args->options;
  cmd->add_option("--to", args->to, "the folder to write to (a drive's mount point)")->required();
  auto* for_option = cmd->add_option(
      "--for", o.for_peers, "on a hub: a site's name or key, or all (repeat for a courier bundle)");
  auto* full_flag =
      cmd->add_flag("--full", o.full, "everything served, as for a peer never heard from");
  args->continue_option =
      cmd->add_option("--continue", o.continue_id,
                      "go on with an export that filled its drive (its id, if several are "
                      "unfinished)")
          ->expected(0, 1)
          ->excludes(for_option)
          ->excludes(full_flag);
  cmd->add_option("--volume-size", args->volume_mb,
                  "split into files of at most this many MB (default: under FAT32's 4 GiB)")
      ->check(CLI::Range(1.0, 1e7));
  cmd->add_flag("--json", args->json, "print JSON");
}

// ---- bundle import ----

struct ImportArgs {
  std::string path;
  bool json = false;
};

nlohmann::json SendersJson(const std::vector<BundleSender>& senders) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : senders) {
    list.push_back({{"name", s.name}, {"key", s.fingerprint}, {"enrolled", s.enrolled}});
  }
  return list;
}

void PrintSenders(const std::vector<BundleSender>& senders) {
  for (const auto& s : senders) {
    if (s.enrolled) {
      std::printf("enrolled site %s (%s…) by its stick: its code is spent\n", s.name.c_str(),
                  s.fingerprint.c_str());
    } else {
      std::printf("from %s (%s…)\n", s.name.c_str(), s.fingerprint.c_str());
    }
  }
}

void PrintImported(const BundleImportResult& r, bool json) {
  const SyncSummary& s = r.summary;
  if (json) {
    PrintJson({{"complete", s.complete}, {"senders", SendersJson(r.senders)},
               {"channels_updated", UpdatedJson(s.updated)},
               {"volumes", r.volumes}, {"damaged", r.damaged}, {"skipped", r.skipped},
               {"refused", s.refused}, {"withdrawn", s.withdrawn},
               {"files_received", s.files_received},
               {"chunks_received", s.chunks_received}, {"patches_received", s.patches_received},
               {"chunk_bytes", s.chunk_bytes}, {"review_outcomes", s.review_outcomes}});
    return;
  }
  for (const auto& v : r.skipped) std::fprintf(stderr, "skipped: %s\n", v.c_str());
  for (const auto& v : r.damaged) std::fprintf(stderr, "damaged: %s\n", v.c_str());
  for (const auto& v : s.refused) std::fprintf(stderr, "refused: %s\n", v.c_str());
  for (const auto& v : s.withdrawn) std::fprintf(stderr, "withdrawn: %s\n", v.c_str());
  PrintSenders(r.senders);
  PrintUpdated(s.updated);
  PrintReviewOutcomesArrived(s.review_outcomes);
  std::printf("%s: %zu volume(s) read, %llu chunks and %llu patches taken\n",
              s.complete ? "up to date with the bundle" : "not complete (what arrived is kept)",
              r.volumes.size(), static_cast<unsigned long long>(s.chunks_received),
              static_cast<unsigned long long>(s.patches_received));
}

int BundleImport(const fs::path& data, const ImportArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  ProgressLine line;
  auto r = ImportBundle(NodePaths(data), lib->store.get(), lib->catalog.get(), db->get(), args.path,
                        [&](uint64_t read, uint64_t total) {
                          line.Show("reading the bundle: " + Megabytes(read) + " of " +
                                    Megabytes(total));
                        });
  line.Done();
  if (!r) return Fail(r.error());
  PrintImported(*r, args.json);
  return r->summary.complete ? kExitOk : kExitIncomplete;
}

void AddImportCommand(CLI::App* bundle, CommandTable& table) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = table.Add(bundle, "import", "take in a bundle's volumes",
                        [args](const fs::path& data) { return BundleImport(data, *args); });
  cmd->add_option("PATH", args->path, "a volume (.opb) or a folder of them")->required();
  cmd->add_flag("--json", args->json, "print JSON");
}

// ---- bundle drives ----

// Leaves out the drives that hold the data folder: a data folder kept on a USB disk is not a
// stick to carry away.
void DropDrivesHolding(const fs::path& data, std::vector<RemovableDrive>* drives) {
  std::error_code ec;
  fs::path here = fs::weakly_canonical(data, ec);
  std::erase_if(*drives, [&](const RemovableDrive& d) {
    auto rel = here.lexically_relative(d.mount_point);
    return !rel.empty() && *rel.begin() != "..";
  });
}

int BundleDrives(const fs::path& data, bool json) {
  auto drives = ListRemovableDrives();
  if (!drives) return Fail(drives.error());
  DropDrivesHolding(data, &*drives);
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : *drives) {
      list.push_back({{"device", d.device}, {"mount_point", d.mount_point.string()},
                      {"filesystem", d.filesystem}, {"label", d.label}, {"read_only", d.read_only},
                      {"total_bytes", d.total_bytes}, {"free_bytes", d.free_bytes},
                      {"fat32", d.fat32}});
    }
    PrintJson(list);
    return kExitOk;
  }
  if (drives->empty()) std::printf("no removable drive is mounted\n");
  for (const auto& d : *drives) std::printf("%s\n", DescribeDrive(d).c_str());
  return kExitOk;
}

void AddDrivesCommand(CLI::App* bundle, CommandTable& table) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = table.Add(bundle, "drives", "list the mounted removable drives",
                        [json](const fs::path& data) { return BundleDrives(data, *json); });
  cmd->add_flag("--json", *json, "print JSON");
}

// ---- bundle unfinished ----

struct UnfinishedArgs {
  std::string abandon;
  bool json = false;
};

void PrintUnfinishedJson(const std::vector<UnfinishedExport>& unfinished) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : unfinished) {
    list.push_back({{"bundle", e.bundle_id}, {"recipients", e.recipients}, {"volumes", e.volumes},
                    {"bytes", e.bytes}, {"created_at", e.created_at}, {"damaged", e.damaged}});
  }
  PrintJson(list);
}

void PrintUnfinishedText(const std::vector<UnfinishedExport>& unfinished) {
  if (unfinished.empty()) std::printf("no unfinished export\n");
  for (const auto& e : unfinished) {
    std::string id = e.bundle_id.substr(0, 8);
    if (!e.damaged.empty()) {
      std::printf("%s  its state is damaged: %s\n", id.c_str(), e.damaged.c_str());
      continue;
    }
    std::printf("%s  for %s, begun %s: %u volume(s), %s written; continue with --continue %s\n",
                id.c_str(), JoinNames(e.recipients).c_str(),
                UtcMinute(static_cast<int64_t>(e.created_at)).c_str(), e.volumes,
                Megabytes(e.bytes).c_str(), id.c_str());
  }
}

int BundleUnfinished(const fs::path& data, const UnfinishedArgs& args) {
  NodePaths paths(data);
  if (!args.abandon.empty()) {
    if (Status st = AbandonExport(paths, args.abandon); !st.ok()) return Fail(st);
    if (!args.json) {
      std::printf("forgot the unfinished export %s: it will not be continued\n",
                  args.abandon.c_str());
    }
  }
  auto unfinished = UnfinishedExports(paths);
  if (args.json) PrintUnfinishedJson(unfinished);
  else if (args.abandon.empty()) PrintUnfinishedText(unfinished);
  return kExitOk;
}

void AddUnfinishedCommand(CLI::App* bundle, CommandTable& table) {
  auto args = std::make_shared<UnfinishedArgs>();
  auto* cmd = table.Add(
      bundle, "unfinished", "list the exports a full drive or a pulled one left unfinished",
      [args](const fs::path& data) { return BundleUnfinished(data, *args); });
  cmd->add_option("--abandon", args->abandon,
                  "forget this one (its id, or the first digits of it)");
  cmd->add_flag("--json", args->json, "print JSON");
}

}  // namespace

void AddBundleCommands(CLI::App& app, CommandTable& table) {
  auto* bundle =
      app.add_subcommand("bundle", "carry versions on a USB stick: export, import, drives");
  bundle->require_subcommand(1);
  AddExportCommand(bundle, table);
  AddImportCommand(bundle, table);
  AddDrivesCommand(bundle, table);
  AddUnfinishedCommand(bundle, table);
}

}  // namespace outpost::cli
