// libpq connection strings, as far as the configuration needs to read them:
// finding the passwords they carry so that they are never printed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace restsync {

// The password values in a keyword/value string (`host=db password=s3cret`)
// or a URI (`postgresql://user:s3cret@db/x?password=…`), each exactly as it
// is written there (still quoted-escaped or percent-encoded), so that masking
// that text hides it.
std::vector<std::string> conninfo_passwords(std::string_view conninfo);

}  // namespace restsync
