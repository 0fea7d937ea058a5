// Private to content/: the FTS5 tokenizer "outpost". It splits text into words (text.h's
// IsWordCodePoint) and gives FTS5 each word folded (text.h's FoldForSearch), with the byte
// offsets of the original word, so that snippet() and highlight() show the text as written.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "outpost/base/status.h"

namespace outpost {

// Registers the tokenizer on a connection; must be called before the search table is used.
Status RegisterSearchTokenizer(sqlite3* db);

// The folded words of `text`, as the tokenizer produces them (for building queries).
std::vector<std::string> SearchWords(const std::string& text);

}  // namespace outpost
