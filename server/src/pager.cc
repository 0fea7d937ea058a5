// Paged lists (pager.h).
#include "pager.h"

#include <algorithm>
#include <set>
#include <utility>

namespace outpost {

std::string ShortText(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  size_t space = text.rfind(' ', cut);
  if (space != std::string_view::npos && space + 40 >= cut) cut = space;
  while (cut > 0 && text[cut - 1] == ' ') --cut;
  return std::string(text.substr(0, cut)) + "…";
}

int64_t PageCount(int64_t total) {
  return std::max<int64_t>(1, (std::max<int64_t>(total, 0) + kPageSize - 1) / kPageSize);
}

int64_t ParsePageNumber(const std::string& value) {
  if (value.empty()) return 1;
  if (value.size() > 6) return 0;
  int64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string PageUrl(const std::string& base_url, int64_t page) {
  return page <= 1 ? base_url : base_url + "?page=" + std::to_string(page);
}

namespace {

nlohmann::json PageLinks(const std::string& base_url, int64_t page, int64_t pages) {
  std::set<int64_t> numbers = {1, pages};
  for (int64_t n = page - 2; n <= page + 2; ++n) {
    if (n >= 1 && n <= pages) numbers.insert(n);
  }
  nlohmann::json links = nlohmann::json::array();
  int64_t previous = 0;
  for (int64_t n : numbers) {
    links.push_back({{"number", n},
                     {"url", PageUrl(base_url, n)},
                     {"current", n == page},
                     {"gap", n != previous + 1}});
    previous = n;
  }
  return links;
}

std::string PageLabel(const ViewLanguage& lang, int64_t page, int64_t pages) {
  std::string label = lang.T("pdf_page");  // "Page {page} of {pages}"
  for (auto [field, value] : {std::pair{"{page}", page}, std::pair{"{pages}", pages}}) {
    size_t at = label.find(field);
    if (at != std::string::npos) {
      label.replace(at, std::string_view(field).size(), std::to_string(value));
    }
  }
  return label;
}

}  // namespace

void AddPager(const ViewLanguage& lang, const std::string& base_url, int64_t page,
              int64_t total, nlohmann::json& view) {
  int64_t pages = PageCount(total);
  view["page"] = page;
  view["pages"] = pages;
  view["total"] = total;
  view["page_size"] = kPageSize;
  view["prev"] = page > 1 ? nlohmann::json(PageUrl(base_url, page - 1)) : nlohmann::json();
  view["next"] = page < pages ? nlohmann::json(PageUrl(base_url, page + 1)) : nlohmann::json();
  view["paged"] = pages > 1;
  view["page_label"] = PageLabel(lang, page, pages);
  view["page_links"] = PageLinks(base_url, page, pages);
}

}  // namespace outpost
