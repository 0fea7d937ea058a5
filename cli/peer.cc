#include "peer.h"

#include <cstdio>
#include <memory>
#include <string>

#include "outpost/sync/enrolment.h"
#include "outpost/sync/node.h"
#include "outpost/sync/session.h"
#include "outpost/sync/site_sync.h"
#include "outpost/sync/sync_db.h"

namespace outpost::cli {

namespace fs = std::filesystem;

namespace {

struct PeerEnrolArgs {
  std::string name;
  bool json = false;
};

int PeerEnrol(const fs::path& data, const PeerEnrolArgs& args) {
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  auto code = (*db)->NewEnrolCode(args.name, kDefaultEnrolCodeTtl);
  if (!code) return Fail(code.error());
  if (args.json) {
    PrintJson({{"name", args.name}, {"code", *code}});
  } else {
    std::printf("%s\n", code->c_str());
    std::fprintf(stderr, "a one-time code for %s to sync from this node (outpost peer join); it "
                         "works once, for 7 days\n", args.name.c_str());
  }
  return kExitOk;
}

struct PeerJoinArgs {
  std::string where;  // HOST:PORT of the relay's sync listener
  std::string code;
  std::string name;
};

int PeerJoin(const fs::path& data, const PeerJoinArgs& args) {
  auto db = OpenSyncDb(data);
  if (!db) return Fail(db.error());
  auto relay = JoinRelay(NodePaths(data), db->get(), args.where, args.code, args.name,
                         SessionLimits{}.io_timeout);
  if (!relay) return Fail(relay.error());
  std::printf("joined relay %s (key %s) at %s; sync from it with: outpost sync --peer %s\n",
              relay->name.c_str(), relay->key.Fingerprint().c_str(), args.where.c_str(),
              args.where.c_str());
  return kExitOk;
}

}  // namespace

void AddPeerCommands(CLI::App& app, CommandTable& table) {
  auto* peer = app.add_subcommand("peer", "relay versions between sites (a neighbour, a laptop)");
  peer->require_subcommand(1);

  auto enrol_args = std::make_shared<PeerEnrolArgs>();
  auto* enrol = table.Add(
      peer, "enrol", "on a relay: a one-time code for a site",
      [enrol_args](const fs::path& data) { return PeerEnrol(data, *enrol_args); });
  enrol->add_option("--name", enrol_args->name, "the site's name (a-z, 0-9, '-')")->required();
  enrol->add_flag("--json", enrol_args->json, "print JSON");

  auto join_args = std::make_shared<PeerJoinArgs>();
  auto* join = table.Add(peer, "join", "on a site: enrol with a relay",
                         [join_args](const fs::path& data) { return PeerJoin(data, *join_args); });
  join->add_option("RELAY", join_args->where, "HOST:PORT of the relay's sync listener")->required();
  join->add_option("CODE", join_args->code, "the code from outpost peer enrol")->required();
  join->add_option("--name", join_args->name, "what to call the relay here");
}

}  // namespace outpost::cli
