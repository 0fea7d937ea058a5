// The console's long actions (docs/console-actions.md, docs/web-api.md "Console jobs"): the
// Sync page and the USB stick page, their forms, and the JSON the pages' script polls. Each
// action runs as a job of the box (jobs.h); these handlers only start, cancel and read jobs,
// so none waits for one.
//
//   GET  /admin/sync                the last sync, "Sync now", a running sync's progress
//   POST /admin/sync                start a sync, then 303 to /admin/sync
//   POST /admin/jobs/cancel         cancel the running job, then 303 to `back`
//   GET  /admin/usb                 the drives, "Write a stick", "Read a stick", "Continue"
//   POST /admin/usb/write|continue|read   start that job for the drive chosen, then 303
//   GET  /api/v1/admin/jobs         the running job, the last sync and the last stick job
//   POST /api/v1/admin/sync         start a sync (202, or 409 while a job runs)
//   DELETE /api/v1/admin/sync, POST /api/v1/admin/jobs/cancel    cancel
//   GET  /api/v1/admin/drives       the removable drives and the unfinished stick exports
//   POST /api/v1/admin/usb/export, /api/v1/admin/usb/import    {"drive": MOUNT, "continue"}
//
// A drive is always named by a mount point the box lists itself (Jobs::Drives); a path typed
// into a form is refused.
//
// Thread-safety: as every handler (routes.h).
#pragma once

namespace outpost {

class App;
namespace http {
struct Request;
struct Response;
}  // namespace http

namespace job_routes {

bool SyncPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool SyncForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool CancelForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool UsbPage(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool UsbWriteForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool UsbContinueForm(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool UsbReadForm(App& app, const http::Request& req, http::Response& res, bool on_loop);

bool JobsJson(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool StartSyncJson(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool CancelJson(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool DrivesJson(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool UsbExportJson(App& app, const http::Request& req, http::Response& res, bool on_loop);
bool UsbImportJson(App& app, const http::Request& req, http::Response& res, bool on_loop);

}  // namespace job_routes
}  // namespace outpost
