// `std::visit(overloaded{[](const a&) {…}, [](const b&) {…}}, v)`: one lambda
// per alternative of a variant.
#pragma once

namespace restsync {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace restsync
