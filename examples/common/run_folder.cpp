#include "examples/common/run_folder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "examples/common/atomic_file.h"

namespace ta::examples {

// Creates each prefix of the path that ends at a '/', then the path itself.
void make_dirs(const std::string& path) {
  TA_CHECK(!path.empty(), "cannot create a folder with an empty name");
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    const std::string prefix = path.substr(0, i);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      throw Error(cat("cannot create folder '", prefix, "': ", std::strerror(errno)));
  }
  struct stat st;
  TA_CHECK(stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode), "'", path, "' exists and is not a folder");
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

namespace {

std::string names_of(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& p : paths) out += (out.empty() ? "" : ", ") + p.substr(p.rfind('/') + 1);
  return out;
}

// Makes `to` name the same file as `from` (replacing what `to` named) without a
// moment where `to` is missing or partial: a hard link renamed into place, or a
// whole copy where the file system has no hard links.
void keep_as(const std::string& from, const std::string& to) {
  const std::string tmp = to + ".tmp";
  ::unlink(tmp.c_str());
  if (::link(from.c_str(), tmp.c_str()) == 0) {
    TA_CHECK(::rename(tmp.c_str(), to.c_str()) == 0, "cannot keep '", from, "' as '", to, "': ", std::strerror(errno));
    return;
  }
  std::ifstream in(from, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  TA_CHECK(in.good() || in.eof(), "cannot keep '", from, "' as '", to, "': reading it failed");
  write_file_atomically(to, bytes.str());
}

}  // namespace

RunFolder::RunFolder(std::string dir, std::vector<std::string> outputs)
    : dir_(std::move(dir)), outputs_(std::move(outputs)) {
  TA_CHECK(!dir_.empty(), "--out: the run's folder needs a name");
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

std::vector<std::string> RunFolder::run_files() const {
  std::vector<std::string> files = {checkpoint(), previous_checkpoint(), diverged_checkpoint()};
  for (const std::string& name : outputs_) files.push_back(file(name));
  return files;
}

void RunFolder::check(RunStart start) const {
  std::vector<std::string> existing;
  for (const std::string& f : run_files())
    if (file_exists(f)) existing.push_back(f);
  TA_CHECK(start != RunStart::New || existing.empty(), "--out ", dir_, " already holds a run (", names_of(existing),
           "): continue it with --resume, replace it with --overwrite, or choose another --out");
  TA_CHECK(start != RunStart::Resume || file_exists(checkpoint()) || file_exists(previous_checkpoint()),
           "--resume: no checkpoint in '", dir_, "' (is --out the folder of the run?)");
}

void RunFolder::prepare(RunStart start) const {
  make_dirs(dir_);
  if (start != RunStart::Overwrite) return;
  std::vector<std::string> removed;
  for (const std::string& f : run_files()) {
    ::unlink((f + ".tmp").c_str());
    if (!file_exists(f)) continue;
    TA_CHECK(::unlink(f.c_str()) == 0, "--overwrite: cannot remove '", f, "': ", std::strerror(errno));
    removed.push_back(f);
  }
  if (!removed.empty())
    std::fprintf(stderr, "note: --overwrite: removed the earlier run's %s from %s\n", names_of(removed).c_str(),
                 dir_.c_str());
}

StoredCheckpoint RunFolder::stored() const {
  std::string problems;
  for (const std::string& path : {checkpoint(), previous_checkpoint()}) {
    if (!file_exists(path)) continue;
    try {
      StoredCheckpoint s{path, read_safetensors_metadata(path)};
      if (!problems.empty()) std::fprintf(stderr, "warning: %s; using %s\n", problems.c_str(), path.c_str());
      return s;
    } catch (const Error& e) {
      problems += (problems.empty() ? "" : "; ") + cat("cannot read ", path, ": ", e.what());
    }
  }
  throw Error(cat("--resume: no usable checkpoint in '", dir_, "'", problems.empty() ? "" : ": " + problems));
}

StoredCheckpoint RunFolder::load(const std::function<Metadata(const std::string& path)>& load) const {
  const std::string first = stored().path;  // the newest, unless its metadata cannot be read
  try {
    return {first, load(first)};
  } catch (const Error& e) {
    if (first != checkpoint() || !file_exists(previous_checkpoint())) throw;
    std::fprintf(stderr, "warning: cannot resume from %s: %s\nwarning: resuming from %s instead\n", first.c_str(),
                 e.what(), previous_checkpoint().c_str());
    return {previous_checkpoint(), load(previous_checkpoint())};
  }
}

void RunFolder::save(const std::function<void(const std::string& path)>& write, Rotation rotation) const {
  if (rotation == Rotation::KeepAsPrevious && file_exists(checkpoint())) keep_as(checkpoint(), previous_checkpoint());
  write(checkpoint());
}

bool RunFolder::set_aside_newest() const {
  TA_CHECK(::rename(checkpoint().c_str(), diverged_checkpoint().c_str()) == 0, "cannot rename '", checkpoint(), "' to '",
           diverged_checkpoint(), "': ", std::strerror(errno));
  if (!file_exists(previous_checkpoint())) return false;
  TA_CHECK(::rename(previous_checkpoint().c_str(), checkpoint().c_str()) == 0, "cannot rename '", previous_checkpoint(),
           "' to '", checkpoint(), "': ", std::strerror(errno));
  return true;
}

}  // namespace ta::examples
