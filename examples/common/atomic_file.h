// examples/common/atomic_file.h — how the example programs write files: whole and
// checked, or not at all.
//
// write_file_atomically writes the new contents to PATH.tmp in the same folder,
// flushes them to the disk (fsync), then renames PATH.tmp over PATH and flushes
// the folder: PATH holds either its earlier contents or all of the new ones, never
// a part, whatever fails (a full disk, a file-size limit, a kill). A failure throws
// a ta::Error naming the path and the system's reason, and leaves PATH untouched.
// (Checkpoints are written the same way by layers/safetensors.h.)
//
// AppendFile adds lines to a file that grows during a run (log.csv): each line is
// one write, and a failed one is an Error; the file is cut back to its last whole
// line, so a full disk never leaves half a row behind.
#pragma once

#include <string>
#include <string_view>

namespace ta::examples {

void write_file_atomically(const std::string& path, std::string_view contents);

class AppendFile {
 public:
  explicit AppendFile(std::string path);  // creates the file if missing
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  void append(std::string_view text);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace ta::examples
