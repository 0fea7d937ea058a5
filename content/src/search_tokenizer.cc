#include "search_tokenizer.h"

#include "outpost/base/text.h"

namespace outpost {

namespace {

template <typename Fn>
void ForEachWord(const char* text, int size, Fn fn) {
  std::string_view s(text, static_cast<size_t>(size));
  size_t pos = 0;
  std::string word;
  char32_t folded[2];
  while (pos < s.size()) {
    size_t start = pos;
    char32_t cp = DecodeUtf8(s, &pos);
    if (!IsWordCodePoint(cp)) continue;
    word.clear();
    size_t end = pos;
    for (;;) {
      int n = FoldCodePoint(cp, folded);
      for (int i = 0; i < n; ++i) AppendUtf8(folded[i], &word);
      end = pos;
      if (pos >= s.size()) break;
      size_t next = pos;
      cp = DecodeUtf8(s, &next);
      if (!IsWordCodePoint(cp)) break;
      pos = next;
    }
    if (!word.empty() && !fn(word, static_cast<int>(start), static_cast<int>(end))) return;
  }
}

int TokenizerCreate(void*, const char**, int, Fts5Tokenizer** out) {
  static int dummy;
  *out = reinterpret_cast<Fts5Tokenizer*>(&dummy);
  return SQLITE_OK;
}

void TokenizerDelete(Fts5Tokenizer*) {}

int Tokenize(Fts5Tokenizer*, void* ctx, int, const char* text, int size,
             int (*token)(void*, int, const char*, int, int, int)) {
  int rc = SQLITE_OK;
  ForEachWord(text, size, [&](const std::string& word, int start, int end) {
    rc = token(ctx, 0, word.data(), static_cast<int>(word.size()), start, end);
    return rc == SQLITE_OK;
  });
  return rc;
}

}  // namespace

Status RegisterSearchTokenizer(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK) {
    return Internal("this SQLite has no FTS5");
  }
  sqlite3_bind_pointer(stmt, 1, reinterpret_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (!api) return Internal("this SQLite has no FTS5");
  static fts5_tokenizer tokenizer = {TokenizerCreate, TokenizerDelete, Tokenize};
  if (api->xCreateTokenizer(api, "outpost", nullptr, &tokenizer, nullptr) != SQLITE_OK) {
    return Internal("cannot register the search tokenizer");
  }
  return Status::Ok();
}

std::vector<std::string> SearchWords(const std::string& text) {
  std::vector<std::string> words;
  ForEachWord(text.data(), static_cast<int>(text.size()),
              [&](const std::string& w, int, int) {
                words.push_back(w);
                return true;
              });
  return words;
}

}  // namespace outpost
