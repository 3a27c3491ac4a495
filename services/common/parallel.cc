#include "services/common/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace shidang {

size_t SliceCount(size_t n, size_t min_per_slice) {
  const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  return std::min(cores, std::max<size_t>(1, n / std::max<size_t>(1, min_per_slice)));
}

void ForEachSlice(size_t n, size_t min_per_slice,
                  const std::function<void(size_t slice, size_t begin, size_t end)>& work) {
  const size_t slices = SliceCount(n, min_per_slice);
  auto run = [&](size_t slice) { work(slice, n * slice / slices, n * (slice + 1) / slices); };
  std::vector<std::thread> helpers;
  helpers.reserve(slices - 1);
  for (size_t slice = 1; slice < slices; ++slice) helpers.emplace_back(run, slice);
  run(0);
  for (std::thread& helper : helpers) helper.join();
}

}  // namespace shidang
