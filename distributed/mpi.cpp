// distributed/mpi.cpp — world.h and the CPU tensors' communicator on MPI: the one
// file that includes mpi.h (built when the Makefile finds MPI; otherwise
// distributed/single_process.cpp stands in).
//
// The library's collectives run on a duplicate of MPI_COMM_WORLD, so that they can
// never be matched with a program's own calls on MPI_COMM_WORLD, and with
// MPI_ERRORS_RETURN, so that a failure becomes a ta::Error naming the call.
#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "core/error.h"
#include "distributed/communicator.h"
#include "distributed/world.h"

namespace ta::dist {

namespace {

struct World {
  bool active = false;  // a Session started MPI (or found it started)
  bool started_here = false;
  MPI_Comm comm = MPI_COMM_NULL;  // the library's duplicate of MPI_COMM_WORLD
  MPI_Comm local = MPI_COMM_NULL;  // the ranks on this machine
  int rank = 0, size = 1, local_rank = 0;
};

World& world() {
  static World w;
  return w;
}

void check_mpi(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw Error(cat("mpi: ", call, " failed on rank ", world().rank, ": ", std::string(text, length)));
}

#define TA_MPI_CHECK(call) check_mpi((call), #call)

int count_of(int64_t n, const char* op) {
  TA_CHECK(n <= INT_MAX, op, ": ", n, " elements in one call; MPI counts are ints (at most ", INT_MAX, ")");
  return static_cast<int>(n);
}

void check_on_host(const Tensor& t, const char* op) {
  check_defined(t, op, "tensor");
  TA_CHECK(t.device() == Device::CPU, op, ": the MPI communicator works on CPU tensors, got one on ", t.device(),
           " (CUDA tensors go through NCCL)");
}

// Non-blocking sums: one MPI request per ticket, the list emptied once all are done.
class MpiCommunicator final : public Communicator {
 public:
  int rank() const override { return world().rank; }
  int size() const override { return world().size; }

  void broadcast(const Tensor& t) override {
    check_on_host(t, "broadcast");
    TA_MPI_CHECK(MPI_Bcast(t.data(), count_of(t.numel(), "broadcast"), MPI_FLOAT, 0, world().comm));
  }

  int start_sum(const Tensor& flat) override {
    check_on_host(flat, "start_sum");
    MPI_Request request;
    TA_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, flat.data(), count_of(flat.numel(), "start_sum"), MPI_FLOAT, MPI_SUM,
                                world().comm, &request));
    requests_.push_back(request);
    return static_cast<int>(requests_.size()) - 1;
  }

  void progress() override {
    if (requests_.empty()) return;
    int all_done = 0;
    TA_MPI_CHECK(MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &all_done, MPI_STATUSES_IGNORE));
  }

  void wait(int ticket) override {
    TA_CHECK(ticket >= 0 && ticket < static_cast<int>(requests_.size()), "wait: no sum in flight with ticket ",
             ticket);
    TA_MPI_CHECK(MPI_Wait(&requests_[ticket], MPI_STATUS_IGNORE));
    for (MPI_Request r : requests_)
      if (r != MPI_REQUEST_NULL) return;
    requests_.clear();
  }

  std::vector<double> sum_on_host(std::vector<double> values) override { return sum_over_ranks(std::move(values)); }

 private:
  std::vector<MPI_Request> requests_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

Session::Session(int& argc, char**& argv) {
  World& w = world();
  TA_CHECK(!w.active, "dist::Session: one per program");
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    TA_MPI_CHECK(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided));
    w.started_here = true;
  }
  TA_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &w.comm));
  TA_MPI_CHECK(MPI_Comm_set_errhandler(w.comm, MPI_ERRORS_RETURN));
  TA_MPI_CHECK(MPI_Comm_rank(w.comm, &w.rank));
  TA_MPI_CHECK(MPI_Comm_size(w.comm, &w.size));
  TA_MPI_CHECK(MPI_Comm_split_type(w.comm, MPI_COMM_TYPE_SHARED, w.rank, MPI_INFO_NULL, &w.local));
  TA_MPI_CHECK(MPI_Comm_rank(w.local, &w.local_rank));
  w.active = true;
}

Session::~Session() {
  World& w = world();
  release_communicators();
  MPI_Comm_free(&w.local);
  MPI_Comm_free(&w.comm);
  if (w.started_here) MPI_Finalize();
  w = World{};
}

std::string mpi_library() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string s(text, length);
  const size_t end = s.find_first_of(",\n");  // "Open MPI v4.1.4, package: ..." -> the first part
  return s.substr(0, end);
}

int rank() { return world().rank; }
int world_size() { return world().size; }
bool is_root() { return world().rank == 0; }
int local_rank() { return world().local_rank; }

void barrier() {
  if (world().active) TA_MPI_CHECK(MPI_Barrier(world().comm));
}

std::vector<double> sum_over_ranks(std::vector<double> values) {
  if (world().size > 1)
    TA_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, values.data(), count_of(static_cast<int64_t>(values.size()), "sum"),
                               MPI_DOUBLE, MPI_SUM, world().comm));
  return values;
}

void broadcast_bytes(void* data, size_t bytes) {
  if (world().size > 1)
    TA_MPI_CHECK(MPI_Bcast(data, count_of(static_cast<int64_t>(bytes), "broadcast_bytes"), MPI_BYTE, 0, world().comm));
}

void abort_all(const std::string& message, int status) {
  std::cerr << "rank " << world().rank << ": " << message << std::endl;
  if (world().size > 1) MPI_Abort(MPI_COMM_WORLD, status);
  std::exit(status);
}

}  // namespace ta::dist
