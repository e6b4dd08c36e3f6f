#include "layers/module.h"

#include <algorithm>

#include "core/error.h"
#include "core/kernels.h"

namespace ta {

// Calls f(dotted_name, tensor, is_parameter) for every tensor of the subtree.
template <class F>
void Module::visit(const std::string& prefix, F&& f) const {
  for (const auto& [name, t] : params_) f(prefix + name, t, true);
  for (const auto& [name, t] : buffers_) f(prefix + name, t, false);
  for (const auto& [name, child] : children_) child->visit(prefix + name + ".", f);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  visit("", [&](const std::string& n, const Tensor& t, bool is_param) {
    if (is_param) out.emplace_back(n, t);
  });
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  visit("", [&](const std::string& n, const Tensor& t, bool is_param) {
    if (!is_param) out.emplace_back(n, t);
  });
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

void Module::set_training(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->set_training(on);
}

void Module::zero_grad() {
  for (Tensor t : parameters()) t.zero_grad();
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  visit("", [&](const std::string& n, const Tensor& t, bool) { out[n] = t; });
  return out;
}

std::string Module::state_dict_mismatches(const std::map<std::string, Tensor>& state,
                                          const std::string& source) const {
  const std::map<std::string, Tensor> own = state_dict();
  std::string problems;
  for (const auto& [name, t] : own) {
    auto it = state.find(name);
    if (it == state.end())
      problems += cat("\n  missing: ", name, " ", t.shape());
    else if (!(it->second.shape() == t.shape()))
      problems += cat("\n  shape mismatch: ", name, " is ", t.shape(), " in the model, ", it->second.shape(), " ", source);
  }
  for (const auto& [name, t] : state)
    if (!own.count(name)) problems += cat("\n  unexpected: ", name, " ", t.shape());
  return problems;
}

void Module::to(Device device) {
  for (auto& [name, t] : named_parameters()) t.move_to_(device);
  for (auto& [name, t] : named_buffers()) t.move_to_(device);
}

// Depth first, like named_parameters(), but without building the list of names: the
// examples ask for the device at every decoding step.
const Tensor* Module::first_parameter() const {
  if (!params_.empty()) return &params_.front().second;
  for (const auto& [name, child] : children_)
    if (const Tensor* t = child->first_parameter()) return t;
  return nullptr;
}

Device Module::device() const {
  const Tensor* t = first_parameter();
  return t ? t->device() : Device::CPU;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state) {
  const std::string problems = state_dict_mismatches(state);
  TA_CHECK(problems.empty(), "load_state_dict: the state does not match the model; nothing was loaded:", problems);
  for (const auto& [name, t] : state_dict()) kernels::assign(t, state.at(name).to(t.device()));
}

void Module::check_new_name(const std::string& name) const {
  TA_CHECK(!name.empty() && name.find('.') == std::string::npos, "Module: invalid name '", name,
           "' (non-empty, no dots)");
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& p) { return p.first == name; });
  };
  TA_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_), "Module: the name '", name,
           "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name(name);
  check_defined(value, "register_parameter", name.c_str());
  value = value.detach();
  value.set_requires_grad(true);
  params_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  check_new_name(name);
  buffers_.emplace_back(name, value);
  return value;
}

void Module::set_buffer(const std::string& name, Tensor value) {
  for (auto& [n, t] : buffers_)
    if (n == name) {
      TA_CHECK(value.shape() == t.shape(), "set_buffer: '", name, "' has shape ", t.shape(), ", got ", value.shape());
      kernels::assign(t, value.to(t.device()));  // the buffer stays where the module is
      return;
    }
  throw Error(cat("set_buffer: no buffer named '", name, "'"));
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name);
  TA_CHECK(module != nullptr, "register_module: '", name, "' is null");
  children_.emplace_back(name, std::move(module));
}

}  // namespace ta
