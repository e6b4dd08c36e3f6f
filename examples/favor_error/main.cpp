// examples/favor_error — how well FAVOR+ approximates softmax attention, the study
// of the Performer paper's Figure 4: the mean squared error of the attention output
// against exact softmax attention, for i.i.d. and orthogonal random features with
// positive (exp) and trigonometric (sin/cos) feature maps, as the number of
// features m grows. Prints one table and writes one log-log plot per input scale.
//
// The estimate is the paper's formula with its plain features (attention/performer.h,
// favor_features), bidirectional: out = phi(Q') (phi(K')^T V) / phi(Q') (phi(K')^T 1)
// with Q' = Q d^-1/4, K' = K d^-1/4; the entries of Q and K are N(0, s^2) for each
// scale s of --qk-std, V is N(0, 1). Each entry is the mean over --draws draws.
//
// What the default scales show: at s = 0.5 most kernel values exp(q'.k') are near
// 1, every estimator converges at about 1/m, orthogonal below i.i.d., and sin/cos
// even ahead of positive features for m >= 32. At s = 1 attention is peaked, many
// kernel values are small, and sin/cos features break down (their variance carries
// exp(|q'|^2 + |k'|^2), the positive features' only exp(q'.k')^2): errors larger by
// orders of magnitude, the paper's case for positive features. The positive error
// then falls slowly, its rare large draws (a lognormal tail) dominating the mean.
#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "attention/performer.h"
#include "examples/common/flags.h"
#include "tinyattn.h"
#include "viz/plot.h"

using namespace ta;

namespace {

struct Setting {
  const char* name;
  FeatureRows rows;
  FeatureMap map;
};

// Mean squared error of FAVOR's output against `exact`, over `draws` feature draws.
// Draw i starts from the same generator state in every setting: the orthogonal W
// is the i.i.d. W with its blocks orthogonalized (draw_features), and the sin/cos
// features use the same W as the positive ones, so the settings are compared on
// the same random numbers and their differences are not drowned in draw noise.
double favor_mse(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& exact, int64_t m,
                 const Setting& s, int64_t draws, uint64_t seed) {
  const int64_t n = q.size(0);
  const Tensor ones = Tensor::ones(Shape{n, 1});
  double total = 0.0;
  for (int64_t i = 0; i < draws; ++i) {
    Generator gen(seed + 1 + static_cast<uint64_t>(i));
    const Tensor w = draw_features(m, q.size(1), s.rows, gen);
    const Tensor fq = favor_features(q, w, s.map), fk = favor_features(k, w, s.map);
    const Tensor out = matmul(fq, matmul(fk, v, Transposed::A)) / matmul(fq, matmul(fk, ones, Transposed::A));
    const Tensor diff = out - exact;
    total += static_cast<double>(mean(diff * diff).item()) / static_cast<double>(draws);
  }
  return total;
}

// The items of "0.5,1" (a single item when there is no comma).
std::vector<std::string> comma_items(const std::string& text) {
  std::vector<std::string> items;
  for (size_t begin = 0, end; begin <= text.size(); begin = end + 1) {
    end = std::min(text.find(',', begin), text.size());
    items.push_back(text.substr(begin, end - begin));
  }
  return items;
}

// "0.5,1": numbers > 0, comma-separated.
examples::TextRule positive_numbers() {
  return {"comma-separated numbers > 0", [](const std::string& text) {
            for (const std::string& item : comma_items(text)) {
              double v = 0;
              if (!examples::parse_finite_number(item, v) || v <= 0) return false;
            }
            return true;
          }};
}

examples::Flags program_flags() {
  using namespace examples;
  Flags flags("favor_error", "MSE of FAVOR+ attention against exact softmax attention (Performer, Fig. 4)");
  flags.add(integer_flag("n", 1024, 1, 16384, "sequence length L (the paper: 4096)"));
  flags.add(integer_flag("d", 16, 1, 4096, "head dimension"));
  flags.add(integer_flag("draws", 30, 1, 100000, "feature draws averaged per entry (the paper: 15)"));
  flags.add(text_flag("qk-std", "0.5,1", "standard deviations of the entries of Q and K (one table each)",
                      positive_numbers()));
  flags.add(integer_flag("seed", 1, 0, std::numeric_limits<int64_t>::max(), "seed of the inputs and the draws"));
  flags.add(text_flag("out", "favor_error", "prefix of the plots: <out>_std<s>.png", non_empty_text()));
  return flags;
}

const Setting kSettings[] = {{"iid positive", FeatureRows::Iid, FeatureMap::Positive},
                             {"orthogonal positive", FeatureRows::Orthogonal, FeatureMap::Positive},
                             {"iid trig", FeatureRows::Iid, FeatureMap::Trigonometric},
                             {"orthogonal trig", FeatureRows::Orthogonal, FeatureMap::Trigonometric}};
const int64_t kFeatureCounts[] = {8, 16, 32, 64, 128, 256, 512};

// The table of one scale: a row per feature count m, a column per setting, printed
// as it is measured; returns one series (m, MSE) per setting.
std::vector<viz::Series> mse_table(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& exact,
                                   int64_t draws, uint64_t seed, const std::string& scale) {
  std::printf("MSE of the attention output vs exact softmax: L = %lld, d = %lld, %lld draws, q/k std %s\n\n",
              static_cast<long long>(q.size(0)), static_cast<long long>(q.size(1)), static_cast<long long>(draws),
              scale.c_str());
  std::printf("%6s", "m");
  for (const Setting& st : kSettings) std::printf(" %20s", st.name);
  std::printf("\n");
  std::vector<viz::Series> series;
  for (const Setting& st : kSettings) series.push_back({st.name, {}, {}});
  for (int64_t m : kFeatureCounts) {
    std::printf("%6lld", static_cast<long long>(m));
    for (size_t i = 0; i < series.size(); ++i) {
      const double mse = favor_mse(q, k, v, exact, m, kSettings[i], draws, seed);
      std::printf(" %20.4e", mse);
      series[i].x.push_back(static_cast<double>(m));
      series[i].y.push_back(mse);
    }
    std::printf("\n");
  }
  return series;
}

// The log-log plot of one scale's table, written to <out>_std<scale>.png.
void write_mse_plot(const std::string& out, const std::string& scale, int64_t n, int64_t d,
                    const std::vector<viz::Series>& series) {
  viz::PlotOptions plot;
  plot.title = "FAVOR+ output MSE vs exact softmax (L=" + std::to_string(n) + ", d=" + std::to_string(d) +
               ", q/k std " + scale + ")";
  plot.x_label = "random features m";
  plot.y_label = "MSE";
  plot.log_x = plot.log_y = true;
  const std::string path = out + "_std" + scale + ".png";
  viz::write_plot(path, series, plot);
  std::printf("\nplot: %s\n\n", path.c_str());
}

}  // namespace

// Per scale of --qk-std: draw the inputs, attend exactly, then measure and plot.
int main(int argc, char** argv) try {
  examples::Flags flags = program_flags();
  if (flags.parse(argc, argv) == examples::ParseResult::HelpShown) return 0;
  const int64_t n = flags.integer("n"), d = flags.integer("d"), draws = flags.integer("draws");
  const uint64_t seed = static_cast<uint64_t>(flags.integer("seed"));
  for (const std::string& scale : comma_items(flags.str("qk-std"))) {
    const float qk_std = std::stof(scale);
    TA_CHECK(qk_std > 0.0f && std::isfinite(qk_std), "favor_error: --qk-std needs positive numbers, got '", scale, "'");
    Generator gen(seed);
    const float root = std::pow(static_cast<float>(d), -0.25f);  // q' = q d^-1/4: q'.k' = q.k / sqrt(d)
    const Tensor q = Tensor::normal(Shape{n, d}, 0.0f, qk_std, gen) * root;
    const Tensor k = Tensor::normal(Shape{n, d}, 0.0f, qk_std, gen) * root;
    const Tensor v = Tensor::normal(Shape{n, d}, 0.0f, 1.0f, gen);
    const Tensor exact = matmul(softmax(matmul(q, k, Transposed::B), -1), v);

    write_mse_plot(flags.str("out"), scale, n, d, mse_table(q, k, v, exact, draws, seed, scale));
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "favor_error: %s\n", e.what());
  return 1;
}
