#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace gk {

// An allocator for large, randomly probed arrays (the person cache's tables): an allocation
// of at least one huge page is aligned to huge pages and asked to be backed by them
// (MADV_HUGEPAGE, which Debian's default transparent-huge-page setting, "madvise", honours).
// A random probe into tens of megabytes of 4 KiB pages misses the TLB almost every time, and
// under a hypervisor each miss is a two-level page walk; with 2 MiB pages the whole table
// needs a few TLB entries. Where huge pages are off, it is plain aligned memory. Smaller
// allocations go to std::allocator.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return std::allocator<T>{}.allocate(n);
    // Mapped directly, not from malloc: freed, it goes back to the system at once (a table
    // that doubled leaves nothing behind), and the alignment wastes no memory: the slack
    // mapped to find an aligned start is unmapped again.
    const std::size_t size = rounded(bytes);
    void* mapped =
        mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(mapped);
    const std::uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned > start) munmap(mapped, aligned - start);
    if (const std::size_t tail = start + kHugePage - aligned; tail > 0) {
      munmap(reinterpret_cast<void*>(aligned + size), tail);
    }
    // Advice only: without huge pages the memory is still good.
    (void)madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
    return reinterpret_cast<T*>(aligned);
  }

  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) {
      std::allocator<T>{}.deallocate(p, n);
      return;
    }
    munmap(p, rounded(bytes));
  }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }

 private:
  static std::size_t rounded(std::size_t bytes) noexcept {
    return (bytes + kHugePage - 1) / kHugePage * kHugePage;
  }
};

}  // namespace gk
