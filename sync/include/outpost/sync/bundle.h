// USB bundles (docs/bundle.md): channel versions carried on a removable drive between a hub and
// its sites, for sites that never see a link. A bundle carries, for each recipient, the offer a
// network sync would make it (signed manifests and every new file's chunk list), then the bytes:
// zstd patches for small edited files, and the chunks the recipients lack, each once however
// many recipients need it. Import verifies exactly as a sync does (the trust list, the hashes),
// stages what arrives, and serves a version only when it is complete; importing again changes
// nothing.
//
// A drive too small for the whole bundle takes whole volumes as long as they fit; the export
// then stops, saying it is incomplete, and keeps what the drive carries in DATA/sync/exports/,
// so that an export with `continue_export` writes the rest on another drive.
//
// The two halves have headers of their own: bundle_export.h (ExportBundle, unfinished exports)
// and bundle_import.h (ImportBundle). This one includes both.
//
// Thread-safety: one export at a time per data folder (a lock in DATA/sync/exports), and one
// import or sync (the staging lock).
#pragma once

#include "outpost/sync/bundle_export.h"
#include "outpost/sync/bundle_import.h"
