// `outpost hub review list|adopt|decline`: what sites sent up, item by item, and the
// publisher's decisions (sync's review.h; docs/review.md).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "hub.h"
#include "outpost/base/text.h"
#include "outpost/sync/review.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

nlohmann::json ReviewItemJson(const ReviewItem& r) {
  return {{"id", r.id},
          {"site", r.site_name},
          {"site_key", r.site.Hex()},
          {"channel", r.channel_id},
          {"path", r.path},
          {"version", r.version},
          {"kind", r.kind},
          {"title", r.title},
          {"description", r.description},
          {"language", r.language},
          {"grade", r.grade},
          {"subject", r.subject},
          {"license", r.license},
          {"author", r.author},
          {"size", r.size},
          {"mime", r.mime},
          {"blob", r.blob.Hex()},
          {"thumbnail", r.thumbnail ? nlohmann::json(r.thumbnail->Hex()) : nlohmann::json()},
          {"excerpt", r.excerpt},
          {"seen_at", r.seen_at},
          {"state", ReviewStateName(r.state)},
          {"decided_at", r.decided_at},
          {"reason", r.reason},
          {"adopted_channel", r.adopted_channel},
          {"adopted_topic", r.adopted_topic},
          {"adopted_path", r.adopted_path},
          {"adopted_version", r.adopted_version}};
}

std::string Or(const std::string& value, const char* none) { return value.empty() ? none : value; }

// "530 bytes", "48 kB", "12.3 MB": a worksheet's size reads as one.
std::string SizeText(uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " bytes";
  if (bytes < 1000 * 1000) return std::to_string((bytes + 500) / 1000) + " kB";
  return Megabytes(bytes);
}

void PrintReviewItem(const ReviewItem& r) {
  std::printf("%lld  %s  %s/%s  (version %lld, %s)\n", static_cast<long long>(r.id),
              Or(r.site_name, "?").c_str(), r.channel_id.c_str(), r.path.c_str(),
              static_cast<long long>(r.version), ReviewStateName(r.state));
  std::printf("    \"%s\"  %s, %s; language %s, grade %s, subject %s\n", r.title.c_str(),
              r.kind.c_str(), SizeText(r.size).c_str(), Or(r.language, "-").c_str(),
              Or(r.grade, "-").c_str(), Or(r.subject, "-").c_str());
  if (!r.excerpt.empty()) std::printf("    %s\n", r.excerpt.c_str());
  std::printf("    file %s%s%s\n", r.blob.Hex().c_str(), r.thumbnail ? ", thumbnail " : "",
              r.thumbnail ? r.thumbnail->Hex().c_str() : "");
  if (r.state == ReviewState::kDeclined) std::printf("    declined: %s\n", r.reason.c_str());
  if (r.state == ReviewState::kAdopted) {
    std::printf("    adopted into %s at \"%s\" (%s, version %lld)\n", r.adopted_channel.c_str(),
                r.adopted_topic.c_str(), r.adopted_path.c_str(),
                static_cast<long long>(r.adopted_version));
  }
}

// The hub's library and sync.db, with the review brought up to date.
struct ReviewContext {
  Library lib;
  std::unique_ptr<SyncDb> db;
};
Result<ReviewContext> OpenReview(const fs::path& data) {
  auto lib = OpenLibrary(data);
  if (!lib) return lib.error();
  auto db = SyncDb::Open(NodePaths(data).sync_db);
  if (!db) return db.error();
  if (!(*db)->OwnRoot()) return NotAHub(NodePaths(data));
  OUTPOST_RETURN_IF_ERROR(RefreshReview(db->get(), lib->catalog.get()));
  return ReviewContext{std::move(*lib), std::move(*db)};
}

// ---- list ----

struct ListArgs {
  std::string site;
  bool all = false;
  bool json = false;
};

int ReviewList(const fs::path& data, const ListArgs& args) {
  auto ctx = OpenReview(data);
  if (!ctx) return Fail(ctx.error());
  std::optional<PublicKey> site;
  if (!args.site.empty()) {
    for (const auto& p : ctx->db->Peers()) {
      if (p.name == args.site || p.key.Hex() == args.site) site = p.key;
    }
    if (!site) return Fail(NotFound("no site is named \"" + EscapeInvalidUtf8(args.site) +
                                    "\" (outpost hub sites lists them)"));
  }
  auto items = ctx->db->ReviewItems(args.all, site);
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : items) list.push_back(ReviewItemJson(r));
    PrintJson({{"items", list}});
    return kExitOk;
  }
  if (items.empty()) std::printf("nothing to review\n");
  for (const auto& r : items) PrintReviewItem(r);
  return kExitOk;
}

// ---- adopt, decline ----

struct DecideArgs {
  int64_t id = 0;
  std::string channel, topic, folder, reason;
  bool json = false;
};

int ReviewAdopt(const fs::path& data, const DecideArgs& args) {
  auto ctx = OpenReview(data);
  if (!ctx) return Fail(ctx.error());
  AdoptRequest request{args.id, args.channel, args.topic, args.folder};
  auto r = AdoptReviewItem(NodePaths(data), ctx->lib.store.get(), ctx->lib.catalog.get(),
                           ctx->db.get(), request);
  if (!r) return Fail(r.error());
  if (args.json) {
    PrintJson({{"item", ReviewItemJson(r->item)}, {"folder", r->folder.string()},
               {"path", r->path}, {"created", r->created}, {"channel", r->published.channel_id},
               {"version", r->published.version},
               {"manifest", r->published.manifest_hash.Hex()}});
    return kExitOk;
  }
  for (const auto& made : r->created) std::printf("made topic folder %s\n", made.c_str());
  std::printf("adopted item %lld as %s/%s (in %s)\n", static_cast<long long>(args.id),
              r->published.channel_id.c_str(), r->path.c_str(), r->folder.c_str());
  std::printf("%s: version %lld published, manifest %s\n", r->published.channel_id.c_str(),
              static_cast<long long>(r->published.version), r->published.manifest_hash.Hex().c_str());
  return kExitOk;
}

int ReviewDecline(const fs::path& data, const DecideArgs& args) {
  auto ctx = OpenReview(data);
  if (!ctx) return Fail(ctx.error());
  auto r = DeclineReviewItem(ctx->db.get(), args.id, args.reason);
  if (!r) return Fail(r.error());
  if (args.json) PrintJson({{"item", ReviewItemJson(*r)}});
  else std::printf("declined item %lld (%s/%s)\n", static_cast<long long>(r->id),
                   r->channel_id.c_str(), r->path.c_str());
  return kExitOk;
}

}  // namespace

void AddHubReviewCommands(CLI::App* hub, CommandTable& table) {
  auto* review = hub->add_subcommand(
      "review", "what sites sent up: list it, adopt an item into a channel, or decline it");
  review->require_subcommand(1);
  auto list_args = std::make_shared<ListArgs>();
  auto* list = table.Add(review, "list", "the items waiting for a decision, with a preview",
                         [list_args](const fs::path& data) { return ReviewList(data, *list_args); });
  list->add_option("--site", list_args->site, "only this site's (its name or key)");
  list->add_flag("--all", list_args->all, "decided and superseded items too");
  list->add_flag("--json", list_args->json, "print JSON");

  auto adopt_args = std::make_shared<DecideArgs>();
  auto* adopt = table.Add(review, "adopt",
                          "put an item into a channel this hub publishes, and publish it",
                          [adopt_args](const fs::path& data) { return ReviewAdopt(data, *adopt_args); });
  adopt->add_option("ID", adopt_args->id, "the item's id (review list)")->required();
  adopt->add_option("--channel", adopt_args->channel, "the channel to adopt it into")->required();
  adopt->add_option("--topic", adopt_args->topic, "where in it: \"Grade 5/Science\"")->required();
  adopt->add_option("--folder", adopt_args->folder,
                    "the channel's folder (default: the one it was last published from)");
  adopt->add_flag("--json", adopt_args->json, "print JSON");

  auto decline_args = std::make_shared<DecideArgs>();
  auto* decline = table.Add(review, "decline", "decline an item, with a reason for its school",
                            [decline_args](const fs::path& data) {
                              return ReviewDecline(data, *decline_args);
                            });
  decline->add_option("ID", decline_args->id, "the item's id (review list)")->required();
  decline->add_option("--reason", decline_args->reason, "why, for the school's teachers")
      ->required();
  decline->add_flag("--json", decline_args->json, "print JSON");
}

}  // namespace outpost::cli
