// The optional Prometheus endpoint: `GET /metrics` answers with the text the
// render callback produces on the event loop; anything else is a 404. One
// request per connection, which is how Prometheus scrapes anyway.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "restsync/config/config.hpp"

namespace restsync::service {

class metrics_server {
 public:
  // Listens at once; throws std::system_error when it cannot bind.
  metrics_server(boost::asio::any_io_executor ex, const listen_address& at,
                 std::function<std::string()> render);
  ~metrics_server();  // stops listening; a scrape in progress finishes
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  // The address it listens on, with the port the system chose for port 0.
  listen_address local_address() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace restsync::service
