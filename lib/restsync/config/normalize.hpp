// dlt's shorthand forms of a resource, rewritten into the full form before
// it is read: a resource that is just a string, an endpoint that is just a
// path, `paginator: offset`. Every rewritten node keeps the mark of what was
// written, so errors still point at the user's text.
#pragma once

#include "restsync/config/tree.hpp"

namespace restsync::config_reader {

// `paginator: offset` is `paginator: {type: offset}`.
void normalize_endpoint(config_node& endpoint);

// A resource that is just a string is both its name and its path; an
// endpoint that is just a string is its path. Also normalises the endpoint.
config_node normalize_resource(const config_node& resource);

}  // namespace restsync::config_reader
