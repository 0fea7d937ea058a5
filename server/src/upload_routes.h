// The uploads API: tus 1.0 (core, creation, termination, checksum, expiration) at
// /api/v1/uploads, so that existing tus clients (tus-js-client, Uppy, tusd's own tools) and a
// script with curl can send files of any size, resumably (docs/web-api.md, "Uploads"). The
// bytes go to UploadStore (uploads.h); a finished upload waits there until the materials
// routes place it in the school's channel.
//
// Every route is a teacher's or a coordinator's (kLoggedIn), each sees only their own uploads,
// and every change needs the session's CSRF token (X-CSRF-Token), as any POST does.
#pragma once

#include <memory>

#include "http/http_transport.h"
#include "routes.h"

namespace outpost::upload_routes {

// OPTIONS /api/v1/uploads: what this server speaks.
bool Options(App& app, const http::Request& req, http::Response& res, bool on_loop);
// POST /api/v1/uploads: a new upload (Upload-Length, Upload-Metadata).
bool Create(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET /api/v1/uploads: the account's uploads, as JSON.
bool List(App& app, const http::Request& req, http::Response& res, bool on_loop);
// GET and HEAD /api/v1/uploads/ID: its offset (tus HEAD), and as JSON for GET.
bool Show(App& app, const http::Request& req, http::Response& res, bool on_loop);
// DELETE /api/v1/uploads/ID: tus termination.
bool Remove(App& app, const http::Request& req, http::Response& res, bool on_loop);
// PATCH /api/v1/uploads/ID: the bytes, streamed to disk as they arrive.
std::unique_ptr<http::BodySink> Append(App& app, const http::Request& req, http::Response& res);
// POST /api/v1/uploads/form: the upload form that works without JavaScript (multipart/form-data,
// any number of files in one body, each streamed to disk as a finished upload). Answers 303 to
// `back` (a local path in the query) or, without it, 201 with the uploads as JSON. The CSRF
// token comes in the query (`?csrf=`), since the body is not read before the access check.
std::unique_ptr<http::BodySink> Form(App& app, const http::Request& req, http::Response& res);

}  // namespace outpost::upload_routes
