// core/error.h — the one exception type of the framework and the check macro.
//
// Every failure a user can cause (wrong shapes, bad indices, missing files) is a
// ta::Error whose message names the op, what it got and what it expected.
// Nothing in the library aborts on bad input.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ta {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// cat(a, b, c) streams its arguments into one string: cat("got ", 3) == "got 3".
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace ta

// TA_CHECK(cond, "op: got ", x, ", expected ", y) throws ta::Error when cond is false.
#define TA_CHECK(cond, ...)                                   \
  do {                                                        \
    if (!(cond)) throw ::ta::Error(::ta::cat(__VA_ARGS__));   \
  } while (0)
