// The teachers' materials API's handlers (material_routes.h). Each change goes through
// SchoolMaterials (outpost/sync/school_materials.h), which checks what was sent, makes the next
// version of the school channel and signs it; these handlers only read the JSON, name the
// material and turn the result into an answer.
#include "material_routes.h"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app.h"
#include "http/http_message.h"
#include "http/url.h"
#include "outpost/sync/node.h"
#include "outpost/sync/school_materials.h"
#include "outpost/sync/sync_db.h"

namespace outpost::material_routes {

namespace {

using http::Request;
using http::Response;

// Topics nest at most kMaxTopicDepth deep; a tree read deeper than this is not the school's.
constexpr int kMaxTreeDepth = static_cast<int>(kMaxTopicDepth) + 2;

void Answer(App& app, const Request& req, Response& res, const nlohmann::json& body,
            int status = 200) {
  res.set_header("Cache-Control", "no-store");
  app.SendJson(req, res, body, status);
}

int StatusOf(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kChanged:
      return 409;
    case StatusCode::kNoSpace:
      return 507;
    case StatusCode::kBusy:
      return 503;
    default:
      return 500;
  }
}

void Refused(App& app, const Request& req, Response& res, const Status& st) {
  int status = StatusOf(st);
  if (status >= 500) spdlog::error("{}: {}", RequestTarget(req), st.message());
  std::string message = st.message();
  if (status == 507) message = "the box's disk is full: nothing was changed (" + message + ")";
  Answer(app, req, res, {{"error", message}}, status);
}

SchoolMaterials MaterialsOf(App& app) {
  return SchoolMaterials(NodePaths(app.store()->root()), app.store(), app.catalog());
}

// The JSON object of a POST's body ("" is {}); nullopt (and a 400 answered) if it is not one.
std::optional<nlohmann::json> BodyObject(App& app, const Request& req, Response& res) {
  if (req.body.empty()) return nlohmann::json::object();
  auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    Answer(app, req, res, {{"error", "the body must be a JSON object"}}, 400);
    return std::nullopt;
  }
  return body;
}

// A string field of the body: unset if absent (or null); kInvalidArgument if not a string.
Status ReadField(const nlohmann::json& body, const char* name, std::optional<std::string>* out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return InvalidArgument(std::string("\"") + name + "\" must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Result<MaterialFields> ReadFields(const nlohmann::json& body) {
  MaterialFields f;
  OUTPOST_RETURN_IF_ERROR(ReadField(body, "title", &f.title));
  OUTPOST_RETURN_IF_ERROR(ReadField(body, "description", &f.description));
  OUTPOST_RETURN_IF_ERROR(ReadField(body, "language", &f.language));
  OUTPOST_RETURN_IF_ERROR(ReadField(body, "grade", &f.grade));
  OUTPOST_RETURN_IF_ERROR(ReadField(body, "subject", &f.subject));
  OUTPOST_RETURN_IF_ERROR(ReadField(body, "license", &f.license));
  OUTPOST_RETURN_IF_ERROR(ReadField(body, "author", &f.author));
  return f;
}

// The material the URL names: its path in the school channel, or the id of its node in the
// served version (GET /api/v1/materials lists both).
Result<std::string> NamedPath(App& app, const std::string& channel, std::string_view named) {
  bool digits = !named.empty() && named.size() <= 18 &&
                named.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits) return std::string(named);
  auto node = app.catalog()->GetNode(std::stoll(std::string(named)));
  auto info = app.catalog()->Channel(channel);
  if (!node || !info || node->channel_id != channel || node->version != info->served_version) {
    return NotFound("the school's channel has no material " + std::string(named));
  }
  return node->path;
}

// What the hub decided on each of the channel's items that went up (sync.db's review outcomes,
// which a sync or a stick brings back), by path: the latest decision for each.
using Decisions = std::map<std::string, ReviewOutcome>;
Decisions HubDecisions(App& app, const std::string& channel) {
  Decisions out;
  NodePaths paths(app.store()->root());
  std::error_code ec;
  if (!std::filesystem::exists(paths.sync_db, ec)) return out;  // never synced: none
  auto db = SyncDb::Open(paths.sync_db);
  if (!db) {
    spdlog::warn("the hub's decisions cannot be read: {}", db.error().message());
    return out;
  }
  for (ReviewOutcome& o : (*db)->ReviewOutcomes(channel)) {
    auto it = out.find(o.path);
    if (it == out.end() || it->second.decided_at <= o.decided_at) out[o.path] = std::move(o);
  }
  return out;
}

// The hub's decision on this very file (a decision on an earlier file of the same path is old
// news: the teacher changed it since, and the hub will look again).
void AddDecision(const Decisions& decisions, const Node& n, nlohmann::json* j) {
  auto it = decisions.find(n.path);
  if (it == decisions.end() || !n.blob || it->second.blob != *n.blob) return;
  const ReviewOutcome& o = it->second;
  nlohmann::json review = {{"state", ReviewStateName(o.state)}, {"decided_at", o.decided_at}};
  if (o.state == ReviewState::kDeclined) review["reason"] = o.reason;
  if (o.state == ReviewState::kAdopted) {
    review["channel"] = o.adopted_channel;
    review["topic"] = o.adopted_topic;
  }
  (*j)["review"] = std::move(review);
}

nlohmann::json NodeJson(App& app, const Node& n, int depth, const Decisions& decisions) {
  bool topic = n.kind == NodeKind::kTopic;
  std::string where = n.channel_id + "/" + PercentEncode(n.path, /*keep_slash=*/true);
  nlohmann::json j = {{"id", n.id},
                      {"path", n.path},
                      {"kind", KindName(n.kind)},
                      {"title", n.meta.title},
                      {"url", (topic ? "/t/" : "/r/") + where}};
  if (!topic) {
    j.update({{"description", n.meta.description},
              {"language", n.meta.language},
              {"grade", n.meta.grade},
              {"subject", n.meta.subject},
              {"license", n.meta.license},
              {"author", n.meta.author},
              {"size", n.size},
              {"mime", n.mime},
              {"file", "/c/" + where}});
    if (n.thumbnail) j["thumbnail"] = "/blob/" + n.thumbnail->Hex();
    AddDecision(decisions, n, &j);
    return j;
  }
  nlohmann::json children = nlohmann::json::array();
  if (depth < kMaxTreeDepth) {
    for (const Node& c : app.catalog()->Children(n.id, /*include_unlisted=*/true)) {
      children.push_back(NodeJson(app, c, depth + 1, decisions));
    }
  }
  j["children"] = std::move(children);
  return j;
}

nlohmann::json ChangeJson(const MaterialChange& c) {
  nlohmann::json j = {
      {"channel", c.channel_id}, {"version", c.version}, {"manifest", c.manifest_hash.Hex()}};
  if (!c.path.empty()) {
    j["path"] = c.path;
    j["url"] = "/r/" + c.channel_id + "/" + PercentEncode(c.path, /*keep_slash=*/true);
  }
  return j;
}

// The finished upload `id` of `owner`'s: kNotFound if there is none, kChanged if unfinished.
Result<UploadInfo> FinishedUpload(App& app, const std::string& id, const std::string& owner) {
  if (!app.uploads()) {
    return Status(StatusCode::kBusy, "uploads are unavailable on this box (see its log)");
  }
  auto upload = app.uploads()->Get(id, owner);
  if (!upload) return NotFound("you have no upload " + id);
  if (!upload->finished) {
    return Status(StatusCode::kChanged,
                  "upload " + id + " has not finished: send the rest of it first");
  }
  return upload;
}

// A POST /api/v1/materials body as the material to add, with its upload's id.
Result<std::pair<std::string, NewMaterial>> ReadNewMaterial(App& app, const nlohmann::json& body,
                                                            const std::string& owner) {
  std::optional<std::string> id, topic;
  auto fields = ReadFields(body);
  if (!fields) return fields.error();
  OUTPOST_RETURN_IF_ERROR(ReadField(body, "upload", &id));
  OUTPOST_RETURN_IF_ERROR(ReadField(body, "topic", &topic));
  if (!id || !IsUploadId(*id)) {
    return InvalidArgument("\"upload\" must be the id of a finished upload (POST /api/v1/uploads)");
  }
  auto upload = FinishedUpload(app, *id, owner);
  if (!upload) return upload.error();
  return std::pair{*id, NewMaterial{upload->file, upload->filename, topic.value_or(""), *fields}};
}

// Runs `change` on the material the URL names (req.matches[1]) and answers what it did.
template <typename Change>
void ChangeNamed(App& app, const Request& req, Response& res, const Change& change) {
  SchoolMaterials materials = MaterialsOf(app);
  auto channel = materials.ChannelId();
  auto path = channel ? NamedPath(app, *channel, req.matches[1]) : channel.error();
  auto done = path ? change(materials, *path) : Result<MaterialChange>(path.error());
  if (!done) return Refused(app, req, res, done.error());
  Answer(app, req, res, ChangeJson(*done));
}

}  // namespace

bool List(App& app, const Request& req, Response& res, bool) {
  SchoolMaterials materials = MaterialsOf(app);
  auto topics = materials.Topics();
  auto channel = materials.ChannelId();
  if (!topics || !channel)
    return Refused(app, req, res, !topics ? topics.error() : channel.error()), true;
  nlohmann::json body = {{"channel", *channel},
                         {"version", 0},
                         {"title", ""},
                         {"url", "/t/" + *channel + "/"},
                         {"topics", nlohmann::json::array()}};
  for (const SchoolTopic& t : *topics)
    body["topics"].push_back({{"path", t.path}, {"title", t.title}});
  auto info = app.catalog()->Channel(*channel);
  if (info && info->served_version != 0) {
    body["version"] = info->served_version;
    body["title"] = info->meta.title;
    if (auto root = app.catalog()->GetNode(info->root_node)) {
      body["tree"] = NodeJson(app, *root, 0, HubDecisions(app, *channel));
    }
  }
  Answer(app, req, res, body);
  return true;
}

bool Add(App& app, const Request& req, Response& res, bool) {
  auto session = app.SessionOf(req);  // there is one: the route is kLoggedIn
  auto body = session ? BodyObject(app, req, res) : std::nullopt;
  if (!body) return true;
  auto material = ReadNewMaterial(app, *body, session->name);
  if (!material) return Refused(app, req, res, material.error()), true;
  auto added = MaterialsOf(app).Add(material->second);
  if (!added) return Refused(app, req, res, added.error()), true;
  // Its file is in the blob store now; only the record is left to forget.
  if (Status placed = app.uploads()->Placed(material->first, session->name); !placed.ok()) {
    spdlog::warn("upload {} placed as {} but not forgotten: {}", material->first, added->path,
                 placed.message());
  }
  Answer(app, req, res, ChangeJson(*added), 201);
  return true;
}

bool Edit(App& app, const Request& req, Response& res, bool) {
  auto body = BodyObject(app, req, res);
  if (!body) return true;
  auto fields = ReadFields(*body);
  if (!fields) return Refused(app, req, res, fields.error()), true;
  ChangeNamed(app, req, res,
              [&](SchoolMaterials& m, const std::string& path) { return m.Edit(path, *fields); });
  return true;
}

bool Move(App& app, const Request& req, Response& res, bool) {
  auto body = BodyObject(app, req, res);
  if (!body) return true;
  std::optional<std::string> topic;
  Status st = ReadField(*body, "topic", &topic);
  if (st.ok() && !topic)
    st = InvalidArgument("say where to: \"topic\", such as \"Grade 5/Science\"");
  if (!st.ok()) return Refused(app, req, res, st), true;
  ChangeNamed(app, req, res,
              [&](SchoolMaterials& m, const std::string& path) { return m.Move(path, *topic); });
  return true;
}

bool Delete(App& app, const Request& req, Response& res, bool) {
  ChangeNamed(app, req, res,
              [](SchoolMaterials& m, const std::string& path) { return m.Delete(path); });
  return true;
}

}  // namespace outpost::material_routes
