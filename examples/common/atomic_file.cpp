#include "examples/common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace ta::examples {

namespace {

// Writes all of `bytes` to fd; false (errno set) when the system refuses part of them.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string folder_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  TA_CHECK(fd >= 0, "cannot write '", path, "': cannot create '", tmp, "': ", std::strerror(errno));
  const bool written = write_all(fd, contents) && ::fsync(fd) == 0;
  const int write_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (!written || !closed) {
    const std::string reason = std::strerror(written ? errno : write_errno);
    ::unlink(tmp.c_str());
    throw Error(cat("cannot write '", path, "': ", reason, " (the file is unchanged)"));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(cat("cannot write '", path, "': renaming '", tmp, "' failed: ", reason, " (the file is unchanged)"));
  }
  // Makes the rename itself durable; a folder that cannot be opened or synced
  // (some file systems) still has the file.
  const int dir = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

AppendFile::AppendFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  TA_CHECK(fd_ >= 0, "cannot open '", path_, "' for appending: ", std::strerror(errno));
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::append(std::string_view text) {
  struct stat st;
  TA_CHECK(::fstat(fd_, &st) == 0, "cannot append to '", path_, "': ", std::strerror(errno));
  if (write_all(fd_, text)) return;
  const std::string reason = std::strerror(errno);
  const bool cut = ::ftruncate(fd_, st.st_size) == 0;  // no half line left behind
  throw Error(cat("cannot append to '", path_, "': ", reason,
                  cut ? " (the lines written before are intact)" : " (and it could not be cut back to its last line)"));
}

}  // namespace ta::examples
