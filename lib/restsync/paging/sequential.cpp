#include "restsync/paging/sequential.hpp"

#include <fmt/format.h>

#include <exception>
#include <utility>
#include <variant>

#include "restsync/plan/request_query.hpp"

namespace restsync {

std::string paging_parameter(const paginator_config& p) {
  if (auto* n = std::get_if<page_number_paginator>(&p))
    return fmt::format("paging parameter `{}`", n->page_param);
  if (auto* c = std::get_if<cursor_paginator>(&p))
    return fmt::format("paging parameter `{}`", c->cursor_param);
  return "next link";
}

namespace {

run_request run_of(const sequential_settings& s) { return {s.method, s.base_target, s.base_body}; }

}  // namespace

sequential_pager::sequential_pager(sequential_settings settings)
    : s_(std::move(settings)), page_no_(first_position(s_.paginator)) {
  first_ = request_at(run_of(s_), s_.paginator, page_no_);
}

// A next link is a whole URL: the run's query is in it, or not, as the API
// wrote it; a POST sends the run's body to it again.
http_request sequential_pager::link_request(std::string target) const {
  http_request r;
  r.method = s_.method;
  r.target = std::move(target);
  r.body = s_.base_body;
  return r;
}

std::string sequential_pager::shown(std::string_view target) const {
  return redact_query(target, s_.secret_params);
}

std::optional<std::string> sequential_pager::resolve_link(const std::string& link) const {
  if (!link.empty() && link.front() == '/') return append_query(link, s_.link_params);
  try {
    auto u = parse_url(link);
    if (u.origin() != s_.origin) return std::nullopt;
    return append_query(u.target, s_.link_params);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The next request after p; nullopt with failure.what still done when p was
// the last page, or with failure set to failed.
std::optional<http_request> sequential_pager::next_request(const received_page& p,
                                                           pager_step& failure) {
  const auto& pag = s_.paginator;
  if (std::holds_alternative<single_page_paginator>(pag) || p.singleton) {
    // one page is the whole collection
    return std::nullopt;
  }
  if (auto* n = std::get_if<page_number_paginator>(&pag)) {
    ++page_no_;
    const bool past_total = p.total && page_no_ - n->base_page >= *p.total;
    const bool past_max = n->maximum_page && page_no_ > *n->maximum_page;
    if (p.records > 0 && !past_total && !past_max) return request_at(run_of(s_), pag, page_no_);
    return std::nullopt;
  }
  if (auto* c = std::get_if<cursor_paginator>(&pag)) {
    if (p.next) return request_with_cursor(run_of(s_), *c, *p.next, p.next_is_number);
    return std::nullopt;
  }
  std::optional<std::string> link;
  if (auto* h = std::get_if<header_link_paginator>(&pag)) {
    if (p.link) link = find_link(*p.link, h->links_next_key);
  } else if (std::holds_alternative<json_link_paginator>(pag)) {
    link = p.next;
  }
  if (!link) return std::nullopt;
  auto resolved = resolve_link(*link);
  if (!resolved) {
    failure.what = pager_step::kind::failed;
    failure.message = fmt::format(
        "next link {} points to another origin than {}; refusing to send credentials there",
        shown(*link), s_.origin);
    return std::nullopt;
  }
  return link_request(std::move(*resolved));
}

pager_step sequential_pager::on_page(const received_page& p) {
  const std::int64_t index = pages_++;
  pager_step step;
  if (p.fingerprint) {
    if (auto first = repeats_.on_page(index, *p.fingerprint)) {
      step.what = pager_step::kind::failed;
      step.store_page = false;
      step.message = fmt::format(
          "the API seems to ignore the {}: page {} of the scan holds the same records as page {} "
          "and after; stopping",
          paging_parameter(s_.paginator), index + 1, *first + 1);
      return step;
    }
  }
  auto next = next_request(p, step);
  if (step.what == pager_step::kind::failed) return step;
  if (!next) return step;  // done
  if (!seen_.emplace(next->target, next->body.value_or("")).second) {
    step.what = pager_step::kind::failed;
    step.message = fmt::format(
        "the API sent the same next page twice ({}{}); stopping to avoid a "
        "loop",
        shown(next->target), next->body ? fmt::format(", body {}", *next->body) : "");
    return step;
  }
  step.what = pager_step::kind::next;
  step.request = std::move(*next);
  return step;
}

}  // namespace restsync
