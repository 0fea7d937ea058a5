#include "search_tokenizer.h"

#include "outpost/base/text.h"

namespace outpost {

namespace {

// ASCII inline, the rest through base/text: the index tokenizes every byte of every page, and
// most of it is ASCII (markup-free text in Latin scripts). Same results as DecodeUtf8,
// IsWordCodePoint and FoldCodePoint + AppendUtf8 alone.
inline char32_t NextCodePoint(std::string_view s, size_t* pos) {
  auto c = static_cast<unsigned char>(s[*pos]);
  if (c < 0x80) {
    ++*pos;
    return c;
  }
  return DecodeUtf8(s, pos);
}

inline bool IsWord(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
  return IsWordCodePoint(cp);
}

inline void AppendFolded(char32_t cp, std::string* word) {
  if (cp < 0x80) {
    word->push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    return;
  }
  char32_t folded[2];
  int n = FoldCodePoint(cp, folded);
  for (int i = 0; i < n; ++i) AppendUtf8(folded[i], word);
}

template <typename Fn>
void ForEachWord(const char* text, int size, Fn fn) {
  std::string_view s(text, static_cast<size_t>(size));
  size_t pos = 0;
  std::string word;
  while (pos < s.size()) {
    size_t start = pos;
    char32_t cp = NextCodePoint(s, &pos);
    if (!IsWord(cp)) continue;
    word.clear();
    size_t end = pos;
    for (;;) {
      AppendFolded(cp, &word);
      end = pos;
      if (pos >= s.size()) break;
      size_t next = pos;
      cp = NextCodePoint(s, &next);
      if (!IsWord(cp)) break;
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
