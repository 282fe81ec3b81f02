// The paginators that learn the next request from the previous answer
// (single_page, page_number, cursor, json_link, header_link), as one pure
// state machine: the page just received goes in, the next request, the end
// of the collection or a failure comes out. The engine sends the requests
// and stores the pages; this decides where paging goes and when it stops.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "restsync/config/config.hpp"
#include "restsync/http/request.hpp"
#include "restsync/http/url.hpp"
#include "restsync/paging/repeat_guard.hpp"

namespace restsync {

struct sequential_settings {
  // Any paginator but offset (offset_scan pages those).
  paginator_config paginator;
  // The origin-relative path of every request, with the run's query.
  std::string base_target;
  // The run's method and body (request_query.hpp's run_request): a body
  // paginator writes its position into the body.
  http_method method = http_method::get;
  std::optional<std::string> base_body;
  // scheme://host:port: a next link must stay on it, since the requests
  // carry credentials.
  std::string origin;
  // Query parameters appended to every next link (credentials sent in the
  // query): the API's link does not carry them.
  query_params link_params;
  // Query parameters whose values never reach a message.
  std::vector<std::string> secret_params;
};

// What the pager needs of the page just received.
struct received_page {
  std::int64_t records = 0;
  // The selector landed on one object: it is the whole collection.
  bool singleton = false;
  // page_fingerprint of a page with records that is not a singleton.
  std::optional<std::uint64_t> fingerprint;
  // The page's hints: the total at total_path (a page count for
  // page_number), the cursor or URL at next_path (absent when missing, null
  // or "").
  std::optional<std::int64_t> total;
  std::optional<std::string> next;
  // The hint was a JSON number (a cursor written into a body stays one).
  bool next_is_number = false;
  // The raw Link response header, for header_link.
  std::optional<std::string> link;
};

struct pager_step {
  enum class kind {
    next,    // request target next
    done,    // the page was the last: the scan is complete
    failed,  // stop with message
  };
  kind what = kind::done;
  http_request request;  // for next: its target origin-relative, with the query
  std::string message;   // for failed, without the resource's name
  // For failed: whether the page just received is still good to store. A
  // page that repeats earlier ones is not; the page before a bad next link is.
  bool store_page = true;
};

// Stop rules, in the order they apply to a page:
//   every paginator: a page with records that was already read at
//     page_repeat_guard::positions_to_fail positions fails (the API ignores
//     the paging parameter); the page is not stored;
//   single_page, or a singleton page: done after it;
//   page_number: done after an empty page, when the next page number reaches
//     the total page count (counted from base_page), or passes maximum_page;
//   cursor: done when the page has no cursor (missing, null or "");
//   json_link: done when the page has no next URL;
//   header_link: done without a Link header or without its rel;
//   json_link, header_link: a link to another origin (or that does not parse
//     as a URL) fails;
//   cursor, json_link, header_link, page_number: a next request (its target
//     and body) already sent in this scan fails (the API would loop).
class sequential_pager {
 public:
  explicit sequential_pager(sequential_settings settings);

  // The request of the scan's first page.
  const http_request& first_request() const { return first_; }

  // Decides after the page that answered the latest request.
  pager_step on_page(const received_page& p);

  // How many pages on_page has been given.
  std::int64_t pages() const { return pages_; }

 private:
  std::optional<http_request> next_request(const received_page& p, pager_step& failure);
  http_request link_request(std::string target) const;
  std::optional<std::string> resolve_link(const std::string& link) const;
  std::string shown(std::string_view target) const;

  sequential_settings s_;
  http_request first_;
  std::int64_t page_no_ = 0;  // page_number's current page
  std::int64_t pages_ = 0;
  std::set<std::pair<std::string, std::string>> seen_;  // target and body sent
  page_repeat_guard repeats_;
};

// How a sequential paginator asks for the next page, for messages:
// "paging parameter `page`", "paging parameter `cursor`", "next link".
std::string paging_parameter(const paginator_config& p);

}  // namespace restsync
