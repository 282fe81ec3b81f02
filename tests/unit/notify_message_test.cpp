#include "restsync/service/notify_message.hpp"

#include <doctest/doctest.h>

using namespace restsync;

TEST_CASE("assignments are separated by newlines") {
  CHECK(notify_message({{"READY", "1"}, {"STATUS", "9 resources: 9 ok"}}) ==
        "READY=1\nSTATUS=9 resources: 9 ok");
  CHECK(notify_message({{"WATCHDOG", "1"}}) == "WATCHDOG=1");
}

TEST_CASE("a value never carries a newline into the next assignment") {
  CHECK(notify_message({{"STATUS", "line one\nREADY=1\r"}}) == "STATUS=line one READY=1 ");
}
