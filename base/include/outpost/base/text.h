// Text helpers shared by the catalog's search and the importer: UTF-8 validation and decoding,
// and the folding that makes search work as people type.
//
// Folding ("eleve" finds "élève"; Arabic with or without harakat, with any alef form, finds the
// same word):
//   - lower case (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic);
//   - Latin letters lose their accents (é→e, ç→c, ø→o), ligatures open (œ→oe, æ→ae, ß→ss);
//     combining marks U+0300–U+036F are dropped;
//   - Arabic: harakat and other marks U+0610–U+061A, U+064B–U+065F, U+0670, U+06D6–U+06ED and
//     tatweel U+0640 are dropped; alef forms آ أ إ ٱ become ا; ى becomes ي; ة becomes ه
//     (the usual normalisation of Arabic search engines).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace outpost {

// True if `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// "2026-11-30 15:40 UTC": a time for people, in messages and listings.
std::string UtcMinute(int64_t unix_seconds);

// Decodes one code point at s[*pos] and advances *pos; invalid bytes decode as U+FFFD one byte
// at a time.
char32_t DecodeUtf8(std::string_view s, size_t* pos);
void AppendUtf8(char32_t cp, std::string* out);

// Replaces invalid bytes with "\xNN" so that a bad file name can be shown in a message.
std::string EscapeInvalidUtf8(std::string_view s);

// Replaces each invalid byte with U+FFFD.
std::string SanitizeUtf8(std::string_view s);
// The same, keeping `s`'s buffer when it is valid already (no copy of a page's text).
std::string SanitizeUtf8(std::string&& s);

// The folding described above, applied to a whole string. Characters that are not letters or
// digits are kept as they are.
std::string FoldForSearch(std::string_view s);

// Folds one code point; returns the number of code points written to out[] (0: dropped).
// out must have room for 2.
int FoldCodePoint(char32_t cp, char32_t out[2]);

// False for spaces and punctuation (ASCII, Latin-1, Arabic, general and CJK punctuation), true
// for everything else (letters, digits, marks, and symbols such as € or emoji). Used by the
// search tokenizer.
bool IsWordCodePoint(char32_t cp);

// "01-the_water-cycle.pdf" -> "The water cycle" (see docs/channel-format.md).
std::string ReadableTitle(std::string_view file_name, bool strip_extension = true);

// "Science Grade 5" -> "science-grade-5"; at most 64 characters; empty if nothing is left.
std::string ChannelIdFromName(std::string_view name);
bool IsValidChannelId(std::string_view id);

}  // namespace outpost
