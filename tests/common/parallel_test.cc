#include "services/common/parallel.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace shidang {
namespace {

TEST(SliceCountTest, OnePerCoreButNoneSmallerThanTheMinimum) {
  const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  EXPECT_EQ(SliceCount(0, 500), 1u);
  EXPECT_EQ(SliceCount(499, 500), 1u);
  EXPECT_EQ(SliceCount(1000, 500), std::min<size_t>(cores, 2));
  EXPECT_EQ(SliceCount(1000000, 500), cores);
  EXPECT_EQ(SliceCount(10, 0), std::min<size_t>(cores, 10));  // a zero minimum counts as one
}

TEST(ForEachSliceTest, EveryItemOnceInContiguousSlicesInOrder) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{999}, size_t{10007}}) {
    std::vector<std::atomic<int>> seen(n);
    std::mutex mu;
    std::vector<std::pair<size_t, size_t>> ranges;  // by slice
    ranges.resize(SliceCount(n, 1000));
    ForEachSlice(n, 1000, [&](size_t slice, size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) seen[i]++;
      std::lock_guard<std::mutex> lock(mu);
      ranges.at(slice) = {begin, end};
    });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i << " of " << n;
    // Slices tile [0, n) in slice order.
    size_t next = 0;
    for (const auto& [begin, end] : ranges) {
      EXPECT_EQ(begin, next) << n;
      EXPECT_LE(begin, end);
      next = end;
    }
    EXPECT_EQ(next, n);
  }
}

TEST(ForEachSliceTest, SlicesRunOnTheirOwnThreadsAndTheCallerIsOne) {
  const size_t slices = SliceCount(100000, 1);
  std::mutex mu;
  std::set<std::thread::id> threads;
  ForEachSlice(100000, 1, [&](size_t, size_t, size_t) {
    std::lock_guard<std::mutex> lock(mu);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(threads.size(), slices);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 1u);
}

}  // namespace
}  // namespace shidang
