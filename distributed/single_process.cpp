// distributed/single_process.cpp — world.h for a build without MPI: one process,
// rank 0 of 1, every collective the identity (compiled instead of
// distributed/mpi.cpp when the Makefile finds no MPI).
#include <cstdlib>
#include <iostream>

#include "core/error.h"
#include "distributed/communicator.h"
#include "distributed/world.h"

namespace ta::dist {

Session::Session(int&, char**&) {}
Session::~Session() { release_communicators(); }

std::string mpi_library() { return "none (single process)"; }

int rank() { return 0; }
int world_size() { return 1; }
bool is_root() { return true; }
int local_rank() { return 0; }
void barrier() {}
std::vector<double> sum_over_ranks(std::vector<double> values) { return values; }
void broadcast_bytes(void*, size_t) {}

void abort_all(const std::string& message, int status) {
  std::cerr << "rank 0: " << message << std::endl;
  std::exit(status);
}

std::unique_ptr<Communicator> make_mpi_communicator() {
  throw Error("distributed: this build has no MPI (the Makefile found no mpicxx), so a run has one process");
}

}  // namespace ta::dist
