#include "examples/cifar_gen/pictures.h"

#include <algorithm>
#include <cmath>

#include "attention/multi_head.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "examples/cifar_gen/cifar_data.h"

namespace ta::cifar {

viz::Image token_image(const uint8_t* tokens, int scale) {
  viz::Image img(kSide * scale, kSide * scale);
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x) {
      const uint8_t* p = tokens + (y * kSide + x) * kChannels;
      img.fill_rect(x * scale, y * scale, (x + 1) * scale, (y + 1) * scale, {p[0], p[1], p[2]});
    }
  return img;
}

viz::Image grid(const std::vector<std::vector<uint8_t>>& images, int columns, int scale) {
  const int n = static_cast<int>(images.size()), rows = (n + columns - 1) / columns, cell = kSide * scale + 2;
  viz::Image out(columns * cell + 2, rows * cell + 2);
  for (int i = 0; i < n; ++i) out.paste(token_image(images[i].data(), scale), 2 + (i % columns) * cell, 2 + (i / columns) * cell);
  return out;
}

std::vector<MultiHeadAttention*> check_attention_map(TransformerLM& model, const std::vector<int64_t>& layers,
                                                     const std::vector<int64_t>& heads) {
  std::vector<MultiHeadAttention*> mhas;
  for (int64_t l : layers) {
    TA_CHECK(l >= 0 && l < static_cast<int64_t>(model.blocks.size()), "--attention-layers: layer ", l,
             " is outside 0..", model.blocks.size() - 1);
    auto* mha = dynamic_cast<MultiHeadAttention*>(model.blocks[l]->mixer.get());
    TA_CHECK(mha != nullptr, "--show-attention: layer ", l, " uses '", model.blocks[l]->mixer->name(),
             "', which is not multi-head attention with a core; attention maps need q and k");
    for (int64_t h : heads)
      TA_CHECK(h >= 0 && h < mha->options.heads, "--attention-heads: head ", h, " is outside 0..",
               mha->options.heads - 1);
    mhas.push_back(mha);
  }
  return mhas;
}

viz::Image attention_map(TransformerLM& model, const uint8_t* image_tokens, const std::vector<int64_t>& layers,
                         const std::vector<int64_t>& heads, const std::vector<int64_t>& queries, int scale) {
  NoGradGuard no_grad;
  model.eval();
  const std::vector<MultiHeadAttention*> mhas = check_attention_map(model, layers, heads);
  for (MultiHeadAttention* mha : mhas) mha->keep_qk = true;
  Tensor inputs, targets;
  Dataset one;
  one.tokens.assign(image_tokens, image_tokens + kTokens);
  one.labels = {0};
  make_batch(one, {0}, inputs, targets);
  model.forward(inputs.to(model.device()));

  const int cell = kSide * scale + 2;
  const int columns = static_cast<int>(layers.size() * heads.size()) + 1;
  viz::Image out(columns * cell + 2, static_cast<int>(queries.size()) * cell + 2);
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    const int64_t query = queries[qi];  // a token index: the input at `query` predicts token `query`
    TA_CHECK(query >= 0 && query < kTokens, "--attention-queries: query ", query, " is outside 0..", kTokens - 1);
    out.paste(token_image(image_tokens, scale), 2, 2 + static_cast<int>(qi) * cell);
    int col = 1;
    for (size_t li = 0; li < layers.size(); ++li) {
      MultiHeadAttention* mha = mhas[li];
      // [1, heads, n]
      Tensor w = mha->core->query_weights(mha->last_q, mha->last_k, query, causality_if(mha->causal()));
      for (int64_t h : heads) {
        std::vector<float> wv = narrow(w, 1, h, 1).to_vector();
        // Input position j holds token j - 1 (position 0 is the start token).
        std::vector<float> pixel(kPixels, 0.0f);
        for (int64_t j = 1; j < kTokens; ++j) pixel[(j - 1) / kChannels] += wv[j];
        const float peak = std::max(1e-12f, *std::max_element(pixel.begin(), pixel.end()));
        viz::Image img = token_image(image_tokens, 1);
        const int64_t query_pixel = std::max<int64_t>(0, query - 1) / kChannels;
        for (int64_t p = 0; p < kPixels; ++p) {
          viz::Rgb c = img.get(p % kSide, p / kSide);
          const int grey = (c.r + c.g + c.b) / 3;
          if (p > query_pixel) {
            c = {static_cast<uint8_t>(grey / 3 + 170), static_cast<uint8_t>(grey / 3 + 170),
                 static_cast<uint8_t>(grey / 3 + 170)};
          } else {
            const float a = std::sqrt(pixel[p] / peak);  // sqrt: faint weights stay visible
            c = {static_cast<uint8_t>(grey / 2 * (1 - a) + 255 * a), static_cast<uint8_t>(grey / 2 * (1 - a)),
                 static_cast<uint8_t>(grey / 2 * (1 - a))};
          }
          if (p == query_pixel) c = {0, 255, 0};
          img.set(static_cast<int>(p % kSide), static_cast<int>(p / kSide), c);
        }
        out.paste(img, 2 + col * cell, 2 + static_cast<int>(qi) * cell, scale);
        ++col;
      }
    }
  }
  for (MultiHeadAttention* mha : mhas) mha->keep_qk = false;
  return out;
}

}  // namespace ta::cifar
