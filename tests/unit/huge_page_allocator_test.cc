// The person cache's tables live in memory advised for huge pages: a large allocation is
// aligned to a huge page and marked for them, a small one is ordinary, and a table using the
// allocator works across its growth.
#include "common/util/huge_page_allocator.h"

#include <absl/container/flat_hash_map.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace gk;

namespace {

// The VmFlags line of the mapping that holds `p`, from /proc/self/smaps.
std::string vm_flags_of(const void* p) {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t from = 0, to = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> from >> dash >> to && dash == '-') {
      inside = from <= at && at < to;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return {};
}

}  // namespace

TEST_CASE("huge page allocator: a large array is aligned to a huge page and advised for them",
          "[cache][memory]") {
  HugePageAllocator<std::uint64_t> alloc;
  const std::size_t n = (3 * HugePageAllocator<std::uint64_t>::kHugePage) / 8 + 5;
  std::uint64_t* p = alloc.allocate(n);
  REQUIRE(p != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(p) % HugePageAllocator<std::uint64_t>::kHugePage == 0);
  std::memset(p, 0xab, n * sizeof(std::uint64_t));  // all of it is usable
  CHECK(p[n - 1] == 0xababababababababULL);
  if (std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
    CHECK(vm_flags_of(p).find(" hg") != std::string::npos);
  }
  alloc.deallocate(p, n);
}

TEST_CASE("huge page allocator: a small array is ordinary memory", "[cache][memory]") {
  HugePageAllocator<std::uint64_t> alloc;
  std::uint64_t* p = alloc.allocate(100);
  REQUIRE(p != nullptr);
  p[99] = 7;
  CHECK(p[99] == 7);
  CHECK(vm_flags_of(p).find(" hg") == std::string::npos);
  alloc.deallocate(p, 100);
}

TEST_CASE("huge page allocator: a hash table grows through it and keeps every entry",
          "[cache][memory]") {
  using Alloc = HugePageAllocator<std::pair<const std::uint64_t, std::uint64_t>>;
  absl::flat_hash_map<std::uint64_t, std::uint64_t, absl::Hash<std::uint64_t>,
                      std::equal_to<std::uint64_t>, Alloc>
      table;
  constexpr std::uint64_t kEntries = 300'000;  // past one huge page of slots
  for (std::uint64_t i = 0; i < kEntries; ++i) table.emplace(i, i * 3);
  REQUIRE(table.size() == kEntries);
  std::uint64_t wrong = 0;
  for (std::uint64_t i = 0; i < kEntries; ++i) {
    const auto it = table.find(i);
    if (it == table.end() || it->second != i * 3) ++wrong;
  }
  CHECK(wrong == 0);
  table.clear();
  CHECK(table.empty());
}
