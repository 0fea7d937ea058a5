#include "sync.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "outpost/base/text.h"
#include "outpost/sync/enrolment.h"
#include "outpost/sync/link_scheduler.h"
#include "outpost/sync/node.h"
#include "outpost/sync/site_sync.h"
#include "outpost/sync/sync_db.h"
#include "outpost/sync/trust_store.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

// ---- sync ----

struct SyncArgs {
  std::string hub;
  std::string peer;
  // Given, they win over the stored link policy's (docs/cli.md, "sync"); not given, the
  // policy's rate limit and what is left of its budget apply.
  std::optional<uint64_t> rate_limit_kbps;
  std::optional<double> budget_mb;
  bool json = false;
};

// "1h05m", "4m09s"; "?" when unknown.
std::string Eta(double seconds) {
  if (seconds <= 0 || seconds > 1e7) return "?";
  char buf[32];
  int s = static_cast<int>(seconds);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  return buf;
}

std::string ProgressText(const SyncProgress& p) {
  if (p.uploading) {
    double rate = p.seconds > 0 ? static_cast<double>(p.bytes_sent) / p.seconds : 0;
    return "sending this site's channels: " + Megabytes(p.bytes_sent) +
           " sent (the files offered: " + Megabytes(p.bytes_offered) + ") at " +
           Megabytes(static_cast<uint64_t>(rate)) + "/s";
  }
  double rate = p.seconds > 0 ? static_cast<double>(p.bytes_received) / p.seconds : 0;
  double left =
      p.bytes_wanted > p.bytes_done ? static_cast<double>(p.bytes_wanted - p.bytes_done) : 0;
  return "syncing " + std::to_string(p.files_done) + "/" + std::to_string(p.files_wanted) +
         " files, " + Megabytes(p.bytes_done) + " of " + Megabytes(p.bytes_wanted) + ", " +
         Megabytes(p.bytes_received) + " received at " + Megabytes(static_cast<uint64_t>(rate)) +
         "/s, ETA " + Eta(rate > 0 ? left / rate : -1);
}

void PrintSyncJson(const SyncSummary& r, const std::string& message) {
  nlohmann::json uploaded = nlohmann::json::array();
  for (const auto& u : r.uploaded) {
    uploaded.push_back(
        {{"id", u.id}, {"version", u.version}, {"state", u.state}, {"message", u.message}});
  }
  PrintJson({{"bytes_sent", r.bytes_sent}, {"bytes_received", r.bytes_received},
             {"round_trips", r.round_trips}, {"seconds", r.seconds},
             {"complete", r.complete}, {"channels_updated", UpdatedJson(r.updated)},
             {"files_received", r.files_received}, {"chunks_received", r.chunks_received},
             {"chunks_reused", r.chunks_reused}, {"patches_received", r.patches_received},
             {"chunk_bytes", r.chunk_bytes}, {"budget_reached", r.budget_reached},
             {"refused", r.refused}, {"withdrawn", r.withdrawn},
             {"channels_uploaded", uploaded}, {"review_outcomes", r.review_outcomes},
             {"message", message}});
}

void PrintSyncText(const SyncSummary& r, const std::string& message) {
  for (const auto& why : r.refused) std::fprintf(stderr, "refused: %s\n", why.c_str());
  for (const auto& what : r.withdrawn) std::fprintf(stderr, "withdrawn: %s\n", what.c_str());
  for (const auto& u : r.uploaded) {
    if (u.state == "served") {
      std::printf("%s: version %lld sent to the hub\n", u.id.c_str(),
                  static_cast<long long>(u.version));
    } else {
      std::fprintf(stderr, "%s: version %lld %s at the hub: %s\n", u.id.c_str(),
                   static_cast<long long>(u.version), u.state.c_str(), u.message.c_str());
    }
  }
  PrintUpdated(r.updated);
  PrintReviewOutcomesArrived(r.review_outcomes);
  std::printf("%s: %s sent, %s received, %d round trips, %.1f s\n", message.c_str(),
              Megabytes(r.bytes_sent).c_str(), Megabytes(r.bytes_received).c_str(),
              r.round_trips, r.seconds);
}

SyncOverrides Overrides(const SyncArgs& args) {
  SyncOverrides out;
  out.rate_limit_kbps = args.rate_limit_kbps;
  if (args.budget_mb) out.budget_bytes = static_cast<uint64_t>(*args.budget_mb * 1e6);
  return out;
}

// The policy's budget is spent and no --budget given: nothing was started.
int BudgetSpent(const PolicySync& r, bool json) {
  if (json) {
    PrintJson({{"complete", false}, {"budget_reached", true}, {"message", r.message},
               {"bytes_sent", 0}, {"bytes_received", 0}, {"round_trips", 0}, {"seconds", 0},
               {"channels_updated", nlohmann::json::array()}});
  } else {
    std::printf("%s (outpost sync --budget MB syncs anyway)\n", r.message.c_str());
  }
  return kExitIncomplete;
}

int SyncCommand(const fs::path& data, const SyncArgs& args) {
  auto lib = OpenLibrary(data);
  if (!lib) return Fail(lib.error());
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  SyncOptions options;
  options.hub = args.hub;
  options.peer = args.peer;
  ProgressLine line;
  options.progress = [&](const SyncProgress& p) { line.Show(ProgressText(p)); };
  auto r = SyncUnderPolicy(NodePaths(data), lib->store.get(), lib->catalog.get(), db->get(),
                           options, Overrides(args), LocalTime::Now());
  line.Done();
  if (!r) {
    if (args.json) {
      PrintJson({{"complete", false}, {"error", r.error().message()}, {"bytes_sent", 0},
                 {"bytes_received", 0}, {"round_trips", 0}, {"seconds", 0},
                 {"channels_updated", nlohmann::json::array()}});
    }
    return Fail(r.error());
  }
  if (!r->summary) return BudgetSpent(*r, args.json);
  if (args.json) PrintSyncJson(*r->summary, r->message);
  else PrintSyncText(*r->summary, r->message);
  return r->summary->complete ? kExitOk : kExitIncomplete;
}

// ---- join ----

struct JoinArgs {
  std::string where;  // HOST:PORT, or an enrolment file
  std::string code;
  std::string name;
};

// Joins with an enrolment file: trusts its hub now, presents its code at the first sync.
int JoinFromFile(const NodePaths& paths, SyncDb* db, const std::string& file) {
  auto enrolment = ReadEnrolmentFile(file);
  if (!enrolment) return Fail(enrolment.error());
  Status st = StoreTrustList(paths, enrolment->pin.root_key, enrolment->trust_list);
  if (!st.ok()) return Fail(st);
  st = db->SetHub(enrolment->pin);
  if (!st.ok()) return Fail(st);
  std::printf("joined hub %s as \"%s\" from %s; the code is presented at the first sync%s\n",
              enrolment->pin.node_key.Fingerprint().c_str(), enrolment->pin.site_name.c_str(),
              file.c_str(),
              enrolment->pin.address.empty() ? " (give the hub's address with sync --hub)" : "");
  return kExitOk;
}

int JoinCommand(const fs::path& data, const JoinArgs& args) {
  auto lib = OpenLibrary(data);  // a site is a library too: make it whole
  if (!lib) return Fail(lib.error());
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  NodePaths paths(data);
  if (args.code.empty()) return JoinFromFile(paths, db->get(), args.where);
  auto pin = EnrolWithHub(paths, db->get(), args.where, args.code, args.name,
                          SessionLimits{}.io_timeout);
  if (!pin) return Fail(pin.error());
  std::printf("joined hub %s at %s as \"%s\"\n", pin->node_key.Fingerprint().c_str(),
              pin->address.c_str(), pin->site_name.c_str());
  return kExitOk;
}

}  // namespace

void AddSyncCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<SyncArgs>();
  auto* sync = table.Add(&app, "sync", "bring this site up to date with its hub",
                         [args](const fs::path& data) { return SyncCommand(data, *args); });
  sync->add_option("--hub", args->hub, "HOST:PORT of the hub (default: the one joined)");
  sync->add_option("--rate-limit", args->rate_limit_kbps,
                   "receive at most this many kilobits per second (0: none; default: the link "
                   "policy's)");
  sync->add_option("--budget", args->budget_mb,
                   "move at most about this many MB, then stop cleanly (the next sync goes on; "
                   "default: what is left of the link policy's budget)")
      ->check(CLI::PositiveNumber);
  sync->add_flag("--json", args->json, "print a JSON summary");
  sync->add_option("--peer", args->peer,
                   "HOST:PORT of a relay this site joined (outpost peer join), instead of the hub");
}

namespace {

struct OutcomesArgs {
  std::string channel;
  bool json = false;
};

int OutcomesCommand(const fs::path& data, const OutcomesArgs& args) {
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  auto outcomes = (*db)->ReviewOutcomes(args.channel);
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& o : outcomes) {
      list.push_back({{"id", o.id}, {"channel", o.channel_id}, {"path", o.path},
                      {"blob", o.blob.Hex()}, {"state", ReviewStateName(o.state)},
                      {"decided_at", o.decided_at}, {"reason", o.reason},
                      {"adopted_channel", o.adopted_channel}, {"adopted_topic", o.adopted_topic},
                      {"adopted_version", o.adopted_version}, {"received_at", o.received_at}});
    }
    PrintJson(list);
    return kExitOk;
  }
  if (outcomes.empty()) std::printf("the hub has decided on none of this site's items yet\n");
  for (const auto& o : outcomes) {
    std::printf("%s/%s  %s on %s\n", o.channel_id.c_str(), o.path.c_str(),
                ReviewStateName(o.state), UtcMinute(o.decided_at).c_str());
    if (o.state == ReviewState::kDeclined) std::printf("    why: %s\n", o.reason.c_str());
    if (o.state == ReviewState::kAdopted) {
      std::printf("    into %s at \"%s\" (version %lld)\n", o.adopted_channel.c_str(),
                  o.adopted_topic.c_str(), static_cast<long long>(o.adopted_version));
    }
  }
  return kExitOk;
}

}  // namespace

void AddOutcomesCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<OutcomesArgs>();
  auto* cmd = table.Add(&app, "outcomes",
                        "on a site: what the hub decided on this site's items (adopted, declined)",
                        [args](const fs::path& data) { return OutcomesCommand(data, *args); });
  cmd->add_option("--channel", args->channel, "only this channel's items");
  cmd->add_flag("--json", args->json, "print JSON");
}

void AddJoinCommand(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<JoinArgs>();
  auto* join = table.Add(&app, "join", "enrol this site with a hub (a code, or an enrolment file)",
                         [args](const fs::path& data) { return JoinCommand(data, *args); });
  join->add_option("HUB", args->where,
                   "HOST:PORT of the hub's sync listener, or an enrolment file")
      ->required();
  join->add_option("CODE", args->code, "the one-time code the hub's coordinator gave");
  join->add_option("--name", args->name, "a name to suggest for this site");
}

nlohmann::json UpdatedJson(const std::vector<UpdatedChannel>& updated) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& u : updated) out.push_back({{"id", u.id}, {"from", u.from}, {"to", u.to}});
  return out;
}

void PrintReviewOutcomesArrived(uint64_t count) {
  if (count == 0) return;
  std::printf("%llu review decision(s) of the hub on this site's items: outpost outcomes shows them\n",
              static_cast<unsigned long long>(count));
}

void PrintUpdated(const std::vector<UpdatedChannel>& updated) {
  for (const auto& u : updated) {
    std::printf("%s: version %lld served (was %lld)\n", u.id.c_str(), static_cast<long long>(u.to),
                static_cast<long long>(u.from));
  }
}

}  // namespace outpost::cli
