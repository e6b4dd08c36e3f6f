// The coverage test of the backend's operations (in the spirit of ggml's
// test-backend-ops): every operation of core/backend_ops.h that the CUDA backend does
// with a kernel of its own is compared with the CPU backend under the SIMT
// emulation by some BACKEND_OP_CASE (tests/cuda/kernel_testing.h), so a new
// operation cannot land with its CUDA half untested. Each such case checks for
// itself that it ran the CPU operations it names.
#include "tests/cuda/kernel_testing.h"

#include <iterator>
#include <set>
#include <string>
#include <vector>

using namespace ta;
using namespace ta::testing;

namespace {

enum class Kind { Library, Kernel };
struct TableEntry {
  Kind kind;
  const char* name;
};
#define TA_BACKEND_OP(kind, ret, name, params, args) {Kind::kind, #name},
const TableEntry kTable[] = {
#include "core/backend_ops.h"
};
#undef TA_BACKEND_OP

std::set<std::string> named_by_cases() {
  std::set<std::string> names;
  for (const BackendOpCase* c : backend_op_cases()) names.insert(c->ops.begin(), c->ops.end());
  return names;
}

}  // namespace

TEST_CASE("backend ops: every operation with a CUDA kernel of its own has an emulated case against the CPU") {
  const std::set<std::string> covered = named_by_cases();
  int kernels = 0;
  for (const TableEntry& op : kTable) {
    if (op.kind != Kind::Kernel) continue;
    ++kernels;
    CHECK_MESSAGE(covered.count(op.name) == 1, "backend operation '", op.name,
                  "' has a CUDA kernel but no BACKEND_OP_CASE in tests/cuda/ compares it with the CPU backend "
                  "under the emulation: add one");
  }
  CHECK(kernels > 30);  // the table was read (37 of its 44 operations have a kernel of their own)
}

TEST_CASE("backend ops: every operation a case names is in the table") {
  std::set<std::string> table;
  for (const TableEntry& op : kTable) table.insert(op.name);
  CHECK_MESSAGE(table.size() == std::size(kTable), "two entries of core/backend_ops.h share a name");
  for (const BackendOpCase* c : backend_op_cases()) {
    INFO(c->title);
    CHECK_FALSE(c->ops.empty());
    for (const std::string& op : c->ops)
      CHECK_MESSAGE(table.count(op) == 1, "the case names '", op, "', which core/backend_ops.h does not list");
  }
}

TEST_CASE("backend ops: the CPU backend of the tests records the operations it runs, once each") {
  std::vector<float> out(3);
  recording_cpu_backend().take_calls();
  cpu_backend().fill(out.data(), 3, 1.0f);
  cpu_backend().fill(out.data(), 3, 2.0f);
  cpu_backend().arange(out.data(), 2, 0.0f, 1.0f);
  CHECK(recording_cpu_backend().take_calls() == std::set<std::string>{"arange", "fill"});
  CHECK(recording_cpu_backend().take_calls().empty());
  CHECK(out == std::vector<float>{0.0f, 1.0f, 2.0f});  // and runs them
}
