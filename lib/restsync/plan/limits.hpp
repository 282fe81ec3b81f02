// The engine's tuning numbers, in one place, each with why it has its value.
// None is configuration: an operator has no better value to give.
#pragma once

#include <cstddef>

namespace restsync::limits {

// Scans of an offset resource until one sees the data hold still: a scan
// that saw records move is repeated so that a complete scan really saw every
// record. Data that moved under three scans in a row moves all the time, and
// each further scan reads the whole collection again; the run then keeps its
// rows but proves no deletions.
inline constexpr int max_scans = 3;

// How often a scan that ended on a short page (offset_scan's soft end) asks
// the offset after it anyway, one request: an API whose pages come back
// short in the middle of the data (records filtered after paging) would
// otherwise end every scan early, unnoticed when no row is about to be
// marked deleted. Once a day costs one request a day per resource, and
// bounds how long such an API's later records go unsynced.
inline constexpr double short_page_check_seconds = 24 * 3600;

// Offset requests alive per slot of the request window. A page whose response
// arrived frees its slot at once, so the next request goes out while the page
// is stored; twice the window bounds the pages waiting to be stored.
inline constexpr int tasks_per_window_slot = 2;

// The fewest idle keep-alive connections a client keeps, even for one
// resource with max_in_flight 1: the requests of a run overlap with retries,
// re-checks and the next run, and a pool smaller than that would close
// connections only to open them again.
inline constexpr int min_idle_connections = 4;

// Bytes of a failed response's body quoted in messages: enough for a JSON
// error or an error page's title, short enough for one log line.
inline constexpr std::size_t server_message_bytes = 200;

}  // namespace restsync::limits
