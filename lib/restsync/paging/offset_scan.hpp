// One offset-paged scan of a resource with several requests in flight: which
// offsets to ask for, and when the answers prove every record was seen. A pure
// state machine: page answers in, offsets to request and "complete" out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

namespace restsync {

struct offset_scan_settings {
  // The scan covers [start, end of data).
  std::int64_t start = 0;
  // The page size asked for; the server may silently return fewer.
  std::int64_t limit = 50;
  // Requests in flight at most (client.max_in_flight).
  std::size_t window = 1;
  // Offsets at or past this are never requested; coverage up to it completes
  // the scan (dlt's `maximum_offset`).
  std::optional<std::int64_t> maximum_offset;
  // A page size the server served in full in an earlier scan (a silent cap
  // such as 25 for a limit of 50): a first page of that size is full, so the
  // window opens at once. It never proves an end: a short first page is
  // confirmed whatever was learnt before, since a resource that now fits in
  // one page and a cap that shrank since look the same.
  std::optional<std::int64_t> known_page;
  // A page shorter than the largest page this scan was served is the last
  // one: no request confirms it. False for servers whose pages vary in size
  // (records filtered after paging, caps that change from page to page):
  // then only an empty page, a total or maximum_offset ends the scan.
  bool short_page_ends = true;
};

// Signs that the data moved while the scan paged. None of them makes the scan
// lose a record it could have seen, but each makes "absent from this scan"
// weak evidence of deletion.
struct offset_scan_drift {
  // Pages reported different totals.
  bool total_changed = false;
  // Records were seen at or past the (largest) reported total; the total was
  // dropped as an end and the scan went on to an empty page.
  bool records_past_total = false;
  // An offset answered empty while records were seen past it.
  bool records_past_empty = false;
  // An offset below the reported total answered empty.
  bool empty_below_total = false;
  // Records, in pages that arrived after the scan completed, at positions
  // past the end it confirmed.
  std::int64_t records_after_end = 0;
  // A page shorter than one served earlier in the scan was followed by
  // records: page sizes vary, and a short page is no proof of the end. Not
  // movement; kept apart from any() since its cure is not a rescan of the
  // same kind but one that confirms every end (short_page_ends = false).
  bool page_sizes_vary = false;

  bool any() const {
    return total_changed || records_past_total || records_past_empty || empty_below_total ||
           records_after_end > 0;
  }
};

struct offset_scan_stats {
  std::int64_t requests = 0;
  // Answers that counted (before the scan ended), empty ones included.
  std::int64_t pages = 0;
  std::int64_t empty_pages = 0;
  std::int64_t records = 0;
  // Records at positions an earlier page had covered already.
  std::int64_t overlap_records = 0;
  // Requests for a hole below records already seen (a capped page's tail).
  std::int64_t refills = 0;
  // Answers (pages or failures) that arrived after the scan had ended.
  std::int64_t late_answers = 0;
  std::int64_t withdrawn = 0;  // issued, then not sent: past the end by then
};

// A response at `offset` with `n` records covers [offset, offset + n).
//
// The first request goes alone; its n becomes the step (servers cap pages
// silently, e.g. 25 for a limit of 50). Then, up to `window` in flight:
//  1. holes first: the lowest uncovered position that ends a covered stretch,
//     unless a request in flight could still cover it (one page's reach is
//     the largest page seen so far);
//  2. otherwise speculation on offsets step apart past everything requested,
//     but only while the furthest page was full. A short page (below the
//     limit for the first page, below the step later) is more often the last
//     one than a capped one; until records past its end prove a cap, only
//     its end is asked. At ~1 request/s this matters: a resource smaller than
//     one page costs two requests whatever the window, and a capped one pays
//     a single round trip before the window opens. Speculation also stops for
//     good once an offset past every record seen answered empty.
// A page is proven capped when records are seen past its end; the step then
// shrinks to its n. The step never grows: a page larger than the step only
// makes overlaps, which the upsert absorbs.
//
// Complete when the covered prefix from `start` ends at:
//  - an offset that answered empty, or
//  - maximum_offset, or
//  - the largest reported total, unless records were seen at or past it: a
//    total is only an early stop, and a total that records contradict is
//    wrong, so the scan goes on to an empty page, or
//  - the end of a page shorter than the largest page the scan was served
//    (with short_page_ends): the server has shown it serves that many, so
//    fewer means none were left. This is a soft end (soft_end()): it rests
//    on the server's page size staying put within the scan, so the engine
//    confirms it before it marks rows deleted, and records past it
//    (page_sizes_vary) turn soft ends off.
// A short page no larger page preceded (the first page, short of the limit)
// proves nothing: it may be capped. Its end o+n is asked, and only an empty
// answer exactly at the end of coverage ends the scan, even when a
// speculative page past it answered empty already (caps vary). At about one
// request per second this is the difference: 75 records at a limit of 50
// cost 2 requests, not 3; 3 records cost 2.
//
// No offset is ever requested past a known end (an empty page at or past the
// furthest record seen, a total, maximum_offset) or twice. With unchanging
// data at most `window` requests land at or past the end. Answers that
// arrive after the scan ended are accepted and ignored (counted in stats and
// drift). Termination needs only that an offset below the end of the data
// returns at least one record.
class offset_scan {
 public:
  // Throws std::invalid_argument for start < 0, limit < 1 or window < 1.
  explicit offset_scan(const offset_scan_settings& settings);

  // An offset to request now, marked in flight; nullopt when the window is
  // full, an answer is needed first, or the scan has ended.
  std::optional<std::int64_t> next_request();

  // The request at `offset` returned `count` records (and the total it
  // reported, if any). Throws std::logic_error for an offset not in flight or
  // a negative count: those are driver bugs.
  void on_page(std::int64_t offset, std::int64_t count,
               std::optional<std::int64_t> total = std::nullopt);
  // The request at `offset` failed for good (retries spent): the scan fails.
  void on_failed(std::int64_t offset);
  // Called just before sending an issued request: when offset is no longer
  // needed (the scan is done, offset lies at or past a known end, or past
  // the end of a short page whose end is being asked) the
  // request is withdrawn — no longer in flight, free to be issued again should
  // drift move the end — and the caller must not send it. Under a rate limit
  // requests wait at the gate long after they were issued, and each one not
  // sent is a second saved for every resource.
  bool withdraw_if_unneeded(std::int64_t offset);

  // After a soft end: asks for the end after all (the engine does now and
  // then, so that an API whose pages vary in size cannot end every scan
  // early unnoticed). The scan is no longer complete; its next request is
  // the offset at the end of coverage, where only an empty answer (or a
  // total) completes it again, while records turn soft ends off
  // (page_sizes_vary) and the scan goes on. Throws std::logic_error unless
  // complete on a soft end with nothing in flight.
  void confirm_end();

  bool complete() const { return complete_; }
  // Complete on a short page's end alone (see above).
  bool soft_end() const { return soft_end_; }
  // The page size this scan proved the server serves in full: the limit
  // (a page of `limit` records), a cap (records past a short page), or
  // known_page (a first page of that size); nullopt when it proved none or
  // page sizes vary. What the next scan's known_page should be.
  std::optional<std::int64_t> proven_page() const;
  bool failed() const { return failed_offset_.has_value(); }
  bool done() const { return complete() || failed(); }
  std::optional<std::int64_t> failed_offset() const { return failed_offset_; }

  // End of the covered prefix [start, contiguous_end): every record before it
  // has been seen. The cursor may advance to here.
  std::int64_t contiguous_end() const;
  std::size_t in_flight() const { return in_flight_.size(); }
  // The speculation step; unknown until the first page with records.
  std::optional<std::int64_t> step() const { return step_; }
  // The least offset known to be at or past the end of the data, if any.
  std::optional<std::int64_t> known_end() const;

  const offset_scan_drift& drift() const { return drift_; }
  const offset_scan_stats& stats() const { return stats_; }

 private:
  bool covers(std::int64_t position) const;
  std::optional<std::int64_t> valid_total() const;
  std::optional<std::int64_t> short_page_end() const;
  std::optional<std::int64_t> next_hole() const;
  std::optional<std::int64_t> next_speculative();
  std::int64_t add_coverage(std::int64_t begin, std::int64_t end);
  void update_complete();
  std::int64_t issue(std::int64_t offset);

  std::int64_t start_;
  std::int64_t limit_;
  std::size_t window_;
  std::optional<std::int64_t> maximum_offset_;
  std::optional<std::int64_t> known_page_;
  bool short_page_ends_;

  bool started_ = false;
  bool complete_ = false;
  bool soft_end_ = false;
  // A cap was proven (records past a short page), or the first page matched
  // known_page.
  bool cap_seen_ = false;
  std::optional<std::int64_t> failed_offset_;
  std::optional<std::int64_t> step_;
  std::int64_t spec_next_ = 0;
  // The largest page seen: how far a request in flight may still reach.
  std::int64_t max_page_ = 0;
  // End of the furthest record seen.
  std::int64_t max_seen_end_;
  std::optional<std::int64_t> total_;  // the largest reported
  std::optional<std::int64_t> last_total_;

  std::map<std::int64_t, std::int64_t> covered_;  // begin → end, disjoint, not touching
  std::set<std::int64_t> requested_;
  std::set<std::int64_t> in_flight_;
  std::set<std::int64_t> empties_;
  // Short pages, by end, waiting for records past that end to prove they
  // were capped. Only the furthest page can be waiting: speculation pauses
  // while one is.
  std::multimap<std::int64_t, std::int64_t> short_pages_;

  offset_scan_drift drift_;
  offset_scan_stats stats_;
};

}  // namespace restsync
