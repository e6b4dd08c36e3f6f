// distributed/buckets.h — which parameters' gradients travel together.
//
// One all-reduce per parameter would pay the network's latency hundreds of times a
// step; one for the whole model could start only when backward has finished. So
// gradients go in buckets of about a fixed size (PyTorch DDP: 25 MB), filled in the
// reverse of the parameters' order: backward produces the last layers' gradients
// first, so the first bucket fills first, and is on the wire while backward goes on
// with the layers before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ta::dist {

// The parameters (by index into `numels`, their element counts), last first, cut
// into consecutive buckets of at most `cap` elements; a parameter larger than the
// cap gets a bucket of its own. Every parameter is in exactly one bucket.
std::vector<std::vector<size_t>> plan_buckets(const std::vector<int64_t>& numels, int64_t cap);

}  // namespace ta::dist
