// Pager: the fields of a list shown a page at a time (a topic's children, the home page's
// channels), in the view-model (docs/web-api.md, "Paged lists"), so that every page stays small
// whatever the size of the library: a topic of 5,000 pages is 100 pages of 50 links.
//
// Page N of a list at URL U is U?page=N (page 1 is U itself); pages count from 1. A page
// outside 1 … pages (and any `page` value that is not such a number) is not a page: a 404.
//
// Thread-safety: plain functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "views.h"

namespace outpost {

// Items per page of a paged list.
inline constexpr int64_t kPageSize = 50;

// What a list shows of an item's title or description at most, in bytes: the whole text is on
// the item's own page. With 50 items this bounds a page whatever the publisher wrote.
inline constexpr size_t kListTitleBytes = 200;
inline constexpr size_t kListTextBytes = 300;

// `text` cut to at most `max_bytes` (at a character boundary, at a space when one is near the
// end) with "…" added when it was cut; unchanged when it fits.
std::string ShortText(std::string_view text, size_t max_bytes);

// The number of pages for `total` items: at least 1 (an empty list has one, empty, page).
int64_t PageCount(int64_t total);

// The page number a `page` query value names: 1 when absent (empty), else its decimal value if
// it is 1 … 999999 written with digits only; 0 (no page) for anything else.
int64_t ParsePageNumber(const std::string& value);

// The URL of page `page` of the list at `base_url` (a path without a query).
std::string PageUrl(const std::string& base_url, int64_t page);

// Adds to `view`: page, pages, total, page_size, prev and next (URLs, or null at either end),
// paged (more than one page), page_label ("Page 2 of 100", translated) and page_links, the
// numbers to offer (first, last, and two either side of the current one; `gap` before a number
// that does not follow the previous one; `current` for this page).
void AddPager(const ViewLanguage& lang, const std::string& base_url, int64_t page,
              int64_t total, nlohmann::json& view);

}  // namespace outpost
