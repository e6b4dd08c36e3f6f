// core/causality.h — whether a query may look at the positions after its own: the
// mode of every attention function, from the fused kernels (core/attention/) to the
// variants (attention/) and relative position biases (layers/position.h).
#pragma once

namespace ta {

// Causal: query i sees keys j <= i (a decoder; the next-token objective).
// Bidirectional: every query sees every key (an encoder; masked-token objectives).
enum class Causality { Causal, Bidirectional };

// From a configuration's `causal` field (AttentionConfig, TransformerConfig, ...).
inline Causality causality_if(bool causal) { return causal ? Causality::Causal : Causality::Bidirectional; }

// "causal" or "bidirectional", for messages.
inline const char* causality_name(Causality c) { return c == Causality::Causal ? "causal" : "bidirectional"; }

}  // namespace ta
