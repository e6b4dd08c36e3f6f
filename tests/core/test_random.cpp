// tests/core/test_random.cpp — Philox4x32-10 against the Random123 known-answer
// vectors (through an independent reference written here from the paper), the
// mapping of (key, counter) onto Philox's words, uint_to_unit_float, and the
// Generator's (seed, offset) bookkeeping. Statistics of random tensors live in
// test_tensor.cpp.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <set>

#include "core/random.h"

namespace {

using Words = std::array<uint32_t, 4>;

// Philox4x32-10 written from Salmon et al. (SC 2011) / Random123's philox.h, with
// the full 128-bit counter and 64-bit key as words: the reference the library's
// philox4x32(key, counter) is compared with.
Words philox_reference(Words ctr, std::array<uint32_t, 2> key) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kW0;
      key[1] += kW1;
    }
    uint64_t p0 = uint64_t(kM0) * ctr[0];
    uint64_t p1 = uint64_t(kM1) * ctr[2];
    uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    ctr = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
  }
  return ctr;
}

// The library's convention: counter -> (c0 = low word, c1 = high word, c2 = c3 = 0),
// key -> (k0 = low word, k1 = high word).
Words reference_for(uint64_t key, uint64_t counter) {
  return philox_reference({uint32_t(counter), uint32_t(counter >> 32), 0, 0}, {uint32_t(key), uint32_t(key >> 32)});
}

}  // namespace

TEST_CASE("philox reference reproduces the Random123 known-answer vectors") {
  // From Random123's tests/kat_vectors: counter (4 words), key (2 words) -> output.
  CHECK(philox_reference({0, 0, 0, 0}, {0, 0}) == Words{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox_reference({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
        Words{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox_reference({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        Words{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("philox4x32(0, 0) is the Random123 known answer for all-zero counter and key") {
  CHECK(ta::philox4x32(0, 0) == Words{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
}

TEST_CASE("philox4x32 maps key and counter words as documented") {
  const uint64_t keys[] = {0, 1, 42, 0xffffffffull, 0x100000000ull, 0x299f31d0a4093822ull, ~0ull};
  const uint64_t counters[] = {0, 1, 2, 1000003, 0xffffffffull, 0x100000000ull, 0x85a308d3243f6a88ull, ~0ull};
  for (uint64_t key : keys) {
    for (uint64_t counter : counters) {
      CAPTURE(key);
      CAPTURE(counter);
      CHECK(ta::philox4x32(key, counter) == reference_for(key, counter));
    }
  }
}

TEST_CASE("philox4x32: different counters and keys give different words") {
  std::set<uint32_t> first_words;
  for (uint64_t c = 0; c < 1000; ++c) first_words.insert(ta::philox4x32(7, c)[0]);
  CHECK(first_words.size() == 1000);  // a collision among 1000 32-bit words has odds ~1e-4
  CHECK(ta::philox4x32(1, 0) != ta::philox4x32(2, 0));
  CHECK(ta::philox4x32(1, 0) != ta::philox4x32(0, 1));
}

TEST_CASE("uint_to_unit_float: 24 bits in [0, 1), never 1") {
  CHECK(ta::uint_to_unit_float(0) == 0.0f);
  CHECK(ta::uint_to_unit_float(0xff) == 0.0f);  // the low 8 bits are dropped
  CHECK(ta::uint_to_unit_float(1u << 8) == 1.0f / 16777216.0f);
  CHECK(ta::uint_to_unit_float(0x80000000u) == 0.5f);
  CHECK(ta::uint_to_unit_float(0xffffffffu) == 1.0f - 1.0f / 16777216.0f);
  CHECK(ta::uint_to_unit_float(0xffffffffu) < 1.0f);
}

TEST_CASE("Generator: advance reserves counters, next_uniform uses one") {
  ta::Generator g(5);
  CHECK(g.seed == 5);
  CHECK(g.offset == 0);
  CHECK(g.advance(3) == 0);
  CHECK(g.offset == 3);
  CHECK(g.advance(2) == 3);
  CHECK(g.offset == 5);
  CHECK(g.advance(0) == 5);
  CHECK(g.offset == 5);

  float u = g.next_uniform();
  CHECK(g.offset == 6);
  CHECK(u == ta::uint_to_unit_float(ta::philox4x32(5, 5)[0]));
  CHECK(u >= 0.0f);
  CHECK(u < 1.0f);
}

TEST_CASE("Generator: same seed, same sequence; another seed, another sequence") {
  ta::Generator a(123), b(123), c(124);
  int differ = 0;
  for (int i = 0; i < 16; ++i) {
    float ua = a.next_uniform(), ub = b.next_uniform(), uc = c.next_uniform();
    CHECK(ua == ub);
    differ += ua != uc;
  }
  CHECK(differ >= 15);
}

TEST_CASE("manual_seed resets the default generator") {
  ta::manual_seed(99);
  CHECK(ta::default_generator().seed == 99);
  CHECK(ta::default_generator().offset == 0);
  float first = ta::default_generator().next_uniform();
  ta::default_generator().advance(10);
  ta::manual_seed(99);
  CHECK(ta::default_generator().offset == 0);
  CHECK(ta::default_generator().next_uniform() == first);
}
