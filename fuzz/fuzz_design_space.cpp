// Fuzz target: a design-space file (read_space), then the first and last grid points and one
// random point resolved (derived parameters, workload settings), their configs built and their
// constraints checked, as a sweep does before simulating. The space names "arch.json" and
// "workload.json", copies of shipped files beside it.
#include <filesystem>

#include "explorer/space.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tessera::fuzz::copy_beside("configs/arch/systolic_tiny_8x8.json", "arch.json");
  tessera::fuzz::copy_beside("configs/workloads/lenet5.json", "workload.json");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera::explorer;
  const std::string path = tessera::fuzz::as_file(data, size, "space.json");
  DesignSpace space;
  bool read = false;
  tessera::fuzz::expect_clean(path, [&] {
    space = read_space(path);
    read = true;
  });
  if (!read) return 0;
  // A point that cannot be built or is infeasible fails with an InputError (logged as a failed
  // point by a sweep); it need not name the space file.
  const std::uint64_t last = space.grid_size() - 1;
  for (const auto& point : {space.grid_point(0), space.grid_point(last), space.random_point(1, 7)})
    tessera::fuzz::expect_clean("", [&] {
      const ResolvedPoint resolved = resolve_point(space, point);
      const auto config = point_config(space, resolved);
      check_constraints(space, resolved, config.resolved);
    });
  return 0;
}
