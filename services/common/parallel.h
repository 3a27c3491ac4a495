#pragma once

#include <cstddef>
#include <functional>

namespace shidang {

// The number of slices ForEachSlice cuts n items into: one per core, but none smaller than
// min_per_slice items (a thread costs more than a few hundred small items), and at least one.
size_t SliceCount(size_t n, size_t min_per_slice);

// Runs work(slice, begin, end) for each of SliceCount(n, min_per_slice) contiguous slices of
// [0, n), in row order within a slice, on as many threads (the calling thread is one of them),
// and returns when all are done. For per-item work that shares nothing between items: a
// 10,000-row roster's parsing, hashing and serialising.
void ForEachSlice(size_t n, size_t min_per_slice,
                  const std::function<void(size_t slice, size_t begin, size_t end)>& work);

}  // namespace shidang
