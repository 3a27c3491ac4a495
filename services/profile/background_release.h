#pragma once

// Freeing a 10,000-row import's working state (about 200,000 strings and messages: rows, writes,
// the script's arguments, events) takes tens of milliseconds that the caller would otherwise wait
// for before its answer is sent. These objects are dead once the script has answered, so they are
// freed on a thread of their own.

#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

namespace shidang::profile {

// Takes ownership of `objects` (move them in) and destroys them on a detached thread.
template <typename... T>
void ReleaseInBackground(T&&... objects) {
  static_assert((!std::is_lvalue_reference_v<T> && ...), "move the objects in");
  auto* held = new std::tuple<std::decay_t<T>...>(std::forward<T>(objects)...);
  std::thread([held] { delete held; }).detach();
}

}  // namespace shidang::profile
