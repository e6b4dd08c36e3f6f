// examples/cifar_gen/picture_files.h — the pictures of a trained model as files:
// samples drawn from scratch, completions of test images, attention maps (what
// --sample, --complete, --temperature and --show-attention ask for), written at
// the end of a training run into its folder and by --sample-from wherever
// --output says. The sample grids are captioned with the temperature and the
// step of the model, the attention maps with the step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "examples/cifar_gen/cifar_data.h"
#include "examples/common/flags.h"
#include "layers/transformer.h"

namespace ta::cifar {

struct PictureFiles {
  std::string samples, completions, attention;
};
// samples.png, completions.png and attention.png in `folder`.
PictureFiles pictures_in(const std::string& folder);

// What --show-attention draws: --attention-layers and --attention-heads (empty: all
// of the model's) and --attention-queries.
struct AttentionMapped {
  std::vector<int64_t> layers, heads, queries;
};
AttentionMapped attention_mapped(const examples::Flags& flags);

// Draws what the flags ask for with the model of `step`, and writes each picture:
// --sample images from scratch, --complete test images' bottom halves above the
// originals, with --show-attention the attention maps of test image 0. All draws
// come from one generator seeded --seed + 2, so the same flags and model give the
// same files.
void write_pictures(const PictureFiles& files, const examples::Flags& flags, TransformerLM& model,
                    const Dataset& test, int64_t step);

}  // namespace ta::cifar
