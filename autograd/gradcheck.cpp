#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"

namespace ta {

namespace {

// L = sum_i y_i w_i, accumulated in double.
double projected(const Tensor& y, const std::vector<float>& w) {
  std::vector<float> v = y.to_vector();
  double s = 0.0;
  for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * w[i];
  return s;
}

// The inputs with element `index` of input `which` moved by `delta` (fresh leaves).
std::vector<Tensor> perturbed(const std::vector<Tensor>& inputs, size_t which, int64_t index, float delta) {
  std::vector<Tensor> out = inputs;
  std::vector<float> v = inputs[which].to_vector();
  v[index] += delta;
  out[which] = Tensor::from_vector(v, inputs[which].shape(), inputs[which].device());
  return out;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  // Fresh leaves, so the check never touches the caller's gradients.
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) {
    Tensor leaf = x.detach();
    if (x.requires_grad()) leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  Tensor y = f(leaves);
  Generator gen(opt.seed);
  Tensor w = Tensor::normal(y.shape(), 0.0f, 1.0f, gen, y.device());
  std::vector<float> wv = w.to_vector();
  backward(sum(y * w));

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t k = 0; k < leaves.size(); ++k) {
    if (!leaves[k].requires_grad()) continue;
    Tensor g = leaves[k].grad();
    std::vector<float> analytic = g.defined() ? g.to_vector() : std::vector<float>(leaves[k].numel(), 0.0f);
    for (int64_t i = 0; i < leaves[k].numel(); ++i) {
      double up = projected(f(perturbed(leaves, k, i, opt.eps)), wv);
      double down = projected(f(perturbed(leaves, k, i, -opt.eps)), wv);
      double numeric = (up - down) / (2.0 * opt.eps);
      double diff = std::fabs(analytic[i] - numeric);
      if (!(diff <= opt.atol + opt.rtol * std::fabs(numeric))) {  // also catches NaN
        std::ostringstream os;
        os << "gradcheck: input " << k << " (shape " << leaves[k].shape() << "), element " << i
           << ": analytic " << analytic[i] << " vs numeric " << numeric << " (|diff| " << diff << " > atol "
           << opt.atol << " + rtol " << opt.rtol << " * |numeric|); seed " << opt.seed;
        return {false, os.str()};
      }
    }
  }
  return result;
}

}  // namespace ta
