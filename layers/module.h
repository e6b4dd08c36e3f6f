// layers/module.h — the base of every layer and model: named parameters in a
// hierarchy, child modules, train/eval mode, and the state dict.
//
// A module registers its parameters (trained tensors), buffers (saved but not
// trained, e.g. Performer's random features) and children by name; names join with
// dots down the tree: "blocks.3.attn.q.weight". Parameters are leaf tensors with
// requires_grad; optimizers update them in place, so every handle to a parameter
// sees the new values.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace ta {

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its descendants, with dotted names, in
  // registration order (depth first).
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  int64_t parameter_count() const;

  // Training mode (dropout active, Performer's feature redraws counted) or evaluation
  // mode, for this module and all its descendants.
  void train() { set_training(true); }
  void eval() { set_training(false); }
  bool training() const { return training_; }
  void zero_grad();
  // Moves every parameter and buffer to `device`, in place (handles held by layers and
  // by the caller stay valid). Build optimizers after the move: their state is made
  // on the parameters' device.
  void to(Device device);
  // Where its parameters are (the CPU for a module without any).
  Device device() const;

  // Parameters and buffers by name (tensors shared, not copied).
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in by name. Every name must be present with the same shape, or
  // nothing is changed and the error lists what is missing, extra or mismatched.
  void load_state_dict(const std::map<std::string, Tensor>& state);
  // What keeps `state` from loading: one line per missing, unexpected or
  // mis-shaped name; empty when it matches. `source` names where `state` came
  // from in the messages ("given", "in the file").
  std::string state_dict_mismatches(const std::map<std::string, Tensor>& state,
                                    const std::string& source = "given") const;

  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

 protected:
  // Registers a trainable tensor (made a leaf that requires grad) and returns it.
  Tensor register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // Replaces a buffer's value (e.g. redrawn random features).
  void set_buffer(const std::string& name, Tensor value);

 private:
  void set_training(bool on);
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name) const;
  const Tensor* first_parameter() const;  // null when the tree has none
  std::vector<std::pair<std::string, Tensor>> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;

  template <class F>
  void visit(const std::string& prefix, F&& f) const;
};

// An ordered list of child modules named "0", "1", ... ("blocks.3.mixer...").
class ModuleList : public Module {
 public:
  void push_back(std::shared_ptr<Module> m) { register_module(std::to_string(size_++), std::move(m)); }
  int64_t size() const { return size_; }

 private:
  int64_t size_ = 0;
};

}  // namespace ta
