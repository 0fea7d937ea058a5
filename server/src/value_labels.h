// Value labels: the words a learner page shows for a grade, subject or licence value, in the
// interface language (docs/channel-format.md, "Labels"; docs/web-api.md).
//
//   ViewLanguage lang = ...;                          // French
//   auto labels = catalog->ValueLabels("geo-cm2");    // the channel's own [labels]
//   ShownValue(lang, &labels, "grade", "CM2");        // the channel's French label, if any
//   ShownValue(lang, nullptr, "subject", "Science");  // "Sciences" (fr.json "subject_science")
//   ShownValue(lang, nullptr, "license", "CC BY-SA 4.0");  // "CC BY-SA 4.0 (Attribution – …)"
//   ShownValue(lang, nullptr, "subject", "Pottery");  // "Pottery": unknown, shown as written
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "outpost/content/catalog.h"
#include "views.h"

namespace outpost {

// In this order: the channel's label for `value` in the interface language (`lang.code`, or a
// label whose language has the same primary subtag); else the interface catalog's
// "FIELD_KEY" entry, KEY being ValueKey(value) (for a licence whose key ends in a version,
// "cc-by-sa-4.0", also the entry of the key without it, "license_cc-by-sa", with "{v}" in it
// replaced by " 4.0", or " 4.0" appended); else `value` unchanged. Values and label values
// are compared by ValueKey (case, spaces, '_' and '-' do not matter). "" for "".
std::string ShownValue(const ViewLanguage& lang, const std::vector<ValueLabel>* labels,
                       std::string_view field, const std::string& value);

}  // namespace outpost
