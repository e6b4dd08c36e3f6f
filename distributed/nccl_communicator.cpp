#include "distributed/nccl_communicator.h"

#include "core/error.h"
#include "distributed/world.h"

namespace ta::dist {

namespace {

void check_on_gpu(const Tensor& t, const char* op) {
  check_defined(t, op, "tensor");
  TA_CHECK(t.device() == Device::CUDA, op, ": the NCCL communicator works on CUDA tensors, got one on ", t.device());
}

}  // namespace

NcclCommunicator::NcclCommunicator(std::unique_ptr<NcclApi> api)
    : api_(std::move(api)), rank_(dist::rank()), size_(world_size()) {
  NcclApi::UniqueId id{};
  if (rank_ == 0) id = api_->unique_id();
  broadcast_bytes(id.data(), id.size());
  api_->init(size_, id, rank_);
}

void NcclCommunicator::broadcast(const Tensor& t) {
  check_on_gpu(t, "NcclCommunicator::broadcast");
  api_->broadcast(t.data(), t.numel());
  api_->compute_waits_for_communication();
}

// NCCL keeps its own order on the communication stream, so one wait covers every
// sum started before it: the ticket needs no identity.
int NcclCommunicator::start_sum(const Tensor& flat) {
  check_on_gpu(flat, "NcclCommunicator::start_sum");
  api_->all_reduce_sum(flat.data(), flat.numel());
  return 0;
}

void NcclCommunicator::wait(int) { api_->compute_waits_for_communication(); }

std::vector<double> NcclCommunicator::sum_on_host(std::vector<double> values) {
  return sum_over_ranks(std::move(values));
}

std::unique_ptr<Communicator> make_nccl_communicator() {
  return std::make_unique<NcclCommunicator>(make_nccl_api());
}

}  // namespace ta::dist
