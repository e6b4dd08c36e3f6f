// layers/safetensors.h — reading and writing the safetensors file format, so that
// common Python tools (the `safetensors` package, PyTorch, NumPy, JAX) read our
// weights and we read theirs.
//
// The format (https://github.com/huggingface/safetensors):
//   bytes [0, 8)        N, the header length, an unsigned 64-bit little-endian integer
//   bytes [8, 8 + N)    the header: UTF-8 JSON, padded with spaces, of the form
//                         {"__metadata__": {"key": "value", ...},
//                          "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//   bytes [8 + N, end)  the data: every tensor's values, row-major, little-endian,
//                       at [begin, end) counted from the start of the data; the
//                       tensors tile the data exactly (no gaps, no overlaps).
//
// We write F32 only, with the header padded to a multiple of 8 bytes so the data
// stays aligned. We read F32, and convert F64, F16 and BF16 to F32. Reading checks
// everything above and fails with a ta::Error naming the file and the problem;
// writing goes to PATH.tmp in the same folder, flushed to disk, then renamed over
// PATH, so a crash mid-save never leaves a torn file at PATH.
//
// Not here: which tensors a model expects (layers/checkpoint.h), memory mapping
// (files are read whole), big-endian hosts.
#pragma once

#include <map>
#include <string>

#include "core/tensor.h"

namespace ta {

using Metadata = std::map<std::string, std::string>;

struct SafetensorsContents {
  std::map<std::string, Tensor> tensors;  // float32, on the CPU
  Metadata metadata;                      // the "__metadata__" strings (empty if absent)
};

// Writes `tensors` (any device; copied to the host) and `metadata` to `path`,
// replacing it atomically. Names must not be empty or "__metadata__".
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const Metadata& metadata = {});

// Reads and validates the whole file: header length within the file, valid JSON,
// every field present and well typed, a supported dtype, shapes matching offsets,
// offsets tiling the data section exactly.
SafetensorsContents read_safetensors(const std::string& path);

// Reads only the header, validated as above, and returns its metadata: e.g. the
// model config, needed to build the model before loading its weights.
Metadata read_safetensors_metadata(const std::string& path);

}  // namespace ta
