// tests/attention/test_conformance.cpp — the conformance suite
// (attention/conformance.h) on every registered variant. Nothing here names a
// variant: registering one (attention/registry.h) puts it under the suite.
#include <doctest/doctest.h>

#include "attention/conformance.h"
#include "attention/registry.h"

using namespace ta;

TEST_CASE("conformance: every registered variant passes the suite at lengths around its own sizes") {
  for (const AttentionVariant& v : attention_variants()) {
    CAPTURE(v.name);
    const ConformanceReport report = check_conformance(v);
    CHECK_MESSAGE(report.ok(), report.str());
    CHECK(report.cases > 0);
    CHECK(report.notes.empty());  // no length left out
  }
}
