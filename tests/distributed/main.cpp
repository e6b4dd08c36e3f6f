// tests/distributed/main.cpp — the runner of build/tests_distributed, which `make test`
// starts under `mpirun -np 2` (or as one process where MPI is missing).
//
// Every rank runs every test case, in the same order, so that the collectives of a
// case meet their partners on the other rank. Rank 0 reports as usual; the other
// ranks report only failures (doctest's --minimal), each line after a "rank R:"
// banner so that a failure says where it happened. The exit status is non-zero
// when any rank failed (mpirun passes on the first non-zero status).
//
// `tests_distributed --abort-check` runs no tests: rank 1 throws inside
// dist::run_or_abort_all while rank 0 waits in a barrier that rank 1 never joins.
// The run must end (MPI_Abort) with rank 1's message instead of hanging; the
// Makefile runs it and checks both.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "core/error.h"
#include "distributed/world.h"

namespace {

int abort_check() {
  return ta::dist::run_or_abort_all([] {
    if (ta::dist::rank() == 1) throw ta::Error("abort check: rank 1 fails on purpose");
    ta::dist::barrier();  // rank 0 would wait here forever
    return 0;
  });
}

}  // namespace

int main(int argc, char** argv) {
  ta::dist::Session session(argc, argv);
  if (argc == 2 && std::string(argv[1]) == "--abort-check") return abort_check();
  doctest::Context context(argc, argv);
  if (!ta::dist::is_root()) {
    context.setOption("minimal", true);
    context.setOption("no-intro", true);
    context.setOption("no-version", true);
  } else {
    std::printf("tests_distributed: %d process(es), MPI: %s\n", ta::dist::world_size(),
                ta::dist::mpi_library().c_str());
  }
  const int status = context.run();
  const double failed_ranks = ta::dist::sum_over_ranks(status != 0 ? 1.0 : 0.0);
  if (ta::dist::is_root())
    std::printf("tests_distributed: %s\n", failed_ranks > 0 ? ta::cat("FAILED on ", failed_ranks, " of ",
                                                                         ta::dist::world_size(), " ranks").c_str()
                                                              : ta::cat("passed on all ", ta::dist::world_size(),
                                                                        " ranks").c_str());
  else if (status != 0)
    std::printf("rank %d: the failures above happened on rank %d\n", ta::dist::rank(), ta::dist::rank());
  return status;
}
