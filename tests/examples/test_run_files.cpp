// tests/examples/test_run_files.cpp — what the example programs write and how a run
// lives in its folder (examples/common/): files written whole or not at all (a
// file-size limit, and a really full disk where the test may mount one), the log
// that is cut back on resume, the run folder's refusals and checkpoint rotation,
// the flags a checkpoint stores and gives back, and the divergence rule.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "examples/common/atomic_file.h"
#include "examples/common/flags.h"
#include "examples/common/loss_watch.h"
#include "examples/common/run_config.h"
#include "examples/common/run_files.h"
#include "examples/common/run_folder.h"
#include "examples/protein_lm/fasta.h"
#include "tests/examples/program_testing.h"
#include "tests/testing.h"

using namespace ta;
using namespace ta::examples;
using ta::testing::error_message;
using ta::testing::read_text;
using ta::testing::TempDir;

namespace {

namespace fs = std::filesystem;

// A picture that does not compress: its PNG file has about 3 bytes a pixel.
viz::Image noise(int width, int height) {
  viz::Image image(width, height);
  uint32_t x = 12345;
  for (int y = 0; y < height; ++y)
    for (int i = 0; i < width; ++i) {
      x = x * 1664525u + 1013904223u;
      image.set(i, y, {static_cast<uint8_t>(x >> 24), static_cast<uint8_t>(x >> 16), static_cast<uint8_t>(x >> 8)});
    }
  return image;
}

// Every way the programs write a file, each replacing `path` with new contents of
// about `bytes` bytes.
void write_each_way(const std::string& path, size_t bytes, int way) {
  switch (way) {
    case 0: write_file_atomically(path, std::string(bytes, 'a')); return;
    case 1: {
      JsonSummary s;
      s.set("text", std::string(bytes, 'b'));
      s.write(path);
      return;
    }
    case 2: write_png_file(path, noise(static_cast<int>(bytes / 24) + 1, 8)); return;
    case 3: protein::write_fasta(path, {{"id", "", std::string(bytes, 'M'), 0}}); return;
  }
}

std::string folder_listing(const fs::path& dir) {
  std::string names;
  for (const auto& e : fs::directory_iterator(dir)) names += e.path().filename().string() + " ";
  return names;
}

}  // namespace

TEST_CASE("run files: a write that fails leaves the earlier file as it was, no temporary file, and names the path") {
  TempDir dir("writes");
  for (int way = 0; way < 4; ++way) {
    CAPTURE(way);
    const std::string path = dir.file("file" + std::to_string(way));
    write_each_way(path, 100, way);
    const std::string before = read_text(path);
    REQUIRE(!before.empty());
    std::string message;
    {
      const ta::testing::FileSizeLimit limit(8192);
      message = error_message([&] { write_each_way(path, 200000, way); });
    }
    CHECK(message.find("cannot write '" + path + "': File too large") == 0);
    CHECK(read_text(path) == before);
    CHECK_FALSE(fs::exists(path + ".tmp"));
  }
  CHECK(error_message([&] { write_file_atomically(dir.file("no/such/folder/x"), "x"); })
            .find("cannot write '" + dir.file("no/such/folder/x") + "': cannot create") == 0);
}

TEST_CASE("run files: a log row that cannot be appended is an error, and no half row stays behind") {
  TempDir dir("log");
  const std::string path = dir.file("log.csv");
  CsvLog log(path, {"step", "loss"}, LogStart::Fresh);
  log.row({"1", "2.5"});
  const std::string long_value(5000, '7');
  std::string message;
  {
    const ta::testing::FileSizeLimit limit(4096);
    message = error_message([&] { log.row({"2", long_value}); });
  }
  CHECK(message.find("cannot append to '" + path + "': File too large (the lines written before are intact)") == 0);
  CHECK(read_text(path) == "step,loss\n1,2.5\n");
  log.row({"2", "2.4"});  // the log goes on once there is room
  CHECK(read_text(path) == "step,loss\n1,2.5\n2,2.4\n");
  CHECK(error_message([&] { log.row({"3"}); }).find("a row of 1 values for 2 columns") != std::string::npos);
}

TEST_CASE("run files: a full disk (a small tmpfs, when the test may mount one) is an error naming the file") {
  TempDir dir("disk");
  const ta::testing::SmallDisk disk(dir.path / "disk", "256k");
  if (!disk.mounted()) {
    MESSAGE("skipped: cannot mount a tmpfs here (needs root); the file-size limit tests cover the same writers");
    return;
  }
  const std::string base = (dir.path / "disk").string();
  for (int way = 0; way < 4; ++way) write_each_way(base + "/file" + std::to_string(way), 100, way);
  CsvLog log(base + "/log.csv", {"step", "loss"}, LogStart::Fresh);
  disk.fill();
  for (int way = 0; way < 4; ++way) {
    CAPTURE(way);
    const std::string path = base + "/file" + std::to_string(way), before = read_text(path);
    CHECK(error_message([&] { write_each_way(path, 100000, way); })
              .find("cannot write '" + path + "': No space left on device") == 0);
    CHECK(read_text(path) == before);
  }
  // A row that needs a new page of the disk.
  CHECK(error_message([&] { log.row({"1", std::string(10000, '1')}); }).find("No space left on device") !=
        std::string::npos);
  CHECK(read_text(base + "/log.csv") == "step,loss\n");
  CHECK(folder_listing(base).find(".tmp") == std::string::npos);
}

TEST_CASE("run files: a resumed log keeps its rows up to the checkpoint's step; an older header grows, another is an "
          "error") {
  TempDir dir("resumed_log");
  const std::string path = dir.file("log.csv");
  {
    CsvLog log(path, {"step", "loss"}, LogStart::Fresh);
    for (int step = 1; step <= 5; ++step) log.row({std::to_string(step), "1"});
  }
  {
    CsvLog log(path, {"step", "loss"}, LogStart::Continue, 3);  // the run resumes from step 3
    log.row({"4", "0.5"});
  }
  CHECK(read_text(path) == "step,loss\n1,1\n2,1\n3,1\n4,0.5\n");
  const auto csv = read_csv(path);
  CHECK(csv.at("loss") == std::vector<std::string>{"1", "1", "1", "0.5"});
  CHECK(error_message([&] { CsvLog other(path, {"step", "bpd"}, LogStart::Continue, 3); })
            .find("has columns 'step,loss', expected 'step,bpd'") != std::string::npos);
  CHECK(read_text(path) == "step,loss\n1,1\n2,1\n3,1\n4,0.5\n");  // untouched by the refusal
  {
    // The log of an earlier version, which had fewer columns (session_s came later): kept, the new cells empty.
    CsvLog log(path, {"step", "loss", "session_s", "more"}, LogStart::Continue, 4);
    log.row({"5", "0.4", "2.5", "x"});
  }
  CHECK(read_text(path) == "step,loss,session_s,more\n1,1,,\n2,1,,\n3,1,,\n4,0.5,,\n5,0.4,2.5,x\n");
  CHECK(error_message([&] { CsvLog other(path, {"step", "loss"}, LogStart::Continue, 3); })
            .find("has columns 'step,loss,session_s,more', expected 'step,loss'") != std::string::npos);
}

TEST_CASE("run folder: a run is never overwritten by accident; --overwrite removes all of the earlier run") {
  TempDir dir("folder");
  const std::string out = dir.file("run");
  RunFolder folder(out, {"log.csv", "summary.json"});
  folder.check(RunStart::New);  // missing: fine
  CHECK(error_message([&] { folder.check(RunStart::Resume); }) ==
        "--resume: no checkpoint in '" + out + "' (is --out the folder of the run?)");
  folder.prepare(RunStart::New);
  write_file_atomically(folder.file("notes.txt"), "mine");  // not the run's
  folder.check(RunStart::New);
  write_file_atomically(folder.file("log.csv"), "step\n");
  write_file_atomically(folder.previous_checkpoint(), "old");
  CHECK(error_message([&] { folder.check(RunStart::New); }) ==
        "--out " + out + " already holds a run (checkpoint.previous.safetensors, log.csv): continue it with --resume, "
        "replace it with --overwrite, or choose another --out");
  folder.check(RunStart::Resume);
  folder.prepare(RunStart::Overwrite);
  CHECK_FALSE(fs::exists(folder.file("log.csv")));
  CHECK_FALSE(fs::exists(folder.previous_checkpoint()));
  CHECK(read_text(folder.file("notes.txt")) == "mine");
  CHECK(error_message([&] { RunFolder f("", {}); }).find("--out") == 0);
}

TEST_CASE("run folder: checkpoints rotate; a damaged newest falls back to the previous; a diverged one is set aside") {
  TempDir dir("rotation");
  RunFolder folder(dir.file("run"), {});
  folder.prepare(RunStart::New);
  auto write = [](const std::string& text) {
    return [text](const std::string& path) { write_safetensors(path, {}, {{"text", text}}); };
  };
  auto text_of = [](const std::string& path) { return read_safetensors_metadata(path).at("text"); };
  const Rotation keep = Rotation::KeepAsPrevious;
  folder.save(write("one"), keep);
  CHECK_FALSE(fs::exists(folder.previous_checkpoint()));
  folder.save(write("two"), keep);
  folder.save(write("three"), keep);
  CHECK(text_of(folder.checkpoint()) == "three");
  CHECK(text_of(folder.previous_checkpoint()) == "two");
  folder.save(write("three, again"), Rotation::Replace);  // "three" was not known good: not kept
  CHECK(text_of(folder.previous_checkpoint()) == "two");

  auto load = [&](const std::string& path) {
    const Metadata m = read_safetensors_metadata(path);
    TA_CHECK(m.at("text").rfind("three", 0) != 0, "three is damaged");
    return m;
  };
  const StoredCheckpoint loaded = folder.load(load);
  CHECK(loaded.path == folder.previous_checkpoint());
  CHECK(loaded.metadata.at("text") == "two");

  write_file_atomically(folder.checkpoint(), "not a safetensors file");  // unreadable metadata
  CHECK(folder.stored().path == folder.previous_checkpoint());

  folder.save(write("five"), Rotation::Replace);  // the damaged newest is not kept as the previous
  CHECK(text_of(folder.previous_checkpoint()) == "two");
  CHECK(folder.set_aside_newest());
  CHECK(text_of(folder.checkpoint()) == "two");
  CHECK(text_of(folder.diverged_checkpoint()) == "five");
  CHECK_FALSE(fs::exists(folder.previous_checkpoint()));
  CHECK_FALSE(folder.set_aside_newest());  // no previous left: no checkpoint either
  CHECK_FALSE(fs::exists(folder.checkpoint()));
}

TEST_CASE("run config: a checkpoint stores every flag; resuming takes them back, refusing a conflicting one") {
  auto program = [] {
    Flags f("prog", "a test program");
    f.add(text_flag("out", "runs/x", "folder"));
    f.add(switch_flag("resume", "continue"));
    f.add(switch_flag("overwrite", "replace"));
    f.add(choice_flag("attention", "softmax", {"softmax", "performer"}, "mixer"));
    f.add(integer_flag("steps", 10, 1, 1000, "steps"));
    f.add(number_flag("lr", "0.1", Range{0, 10, Endpoint::Excluded}, "learning rate"));
    f.add(integer_flag("batch", 4, 1, 64, "batch"));
    return f;
  };
  auto parsed = [&](std::vector<const char*> argv) {
    Flags f = program();
    argv.insert(argv.begin(), "prog");
    f.parse(static_cast<int>(argv.size()), argv.data());
    return f;
  };
  const Metadata saved = run_config(parsed({"--steps", "20", "--lr", "4e-3", "--batch", "8", "--out", "elsewhere"}));
  CHECK(saved == Metadata{{"flag.attention", "softmax"}, {"flag.steps", "20"}, {"flag.lr", "4e-3"}, {"flag.batch", "8"}});

  Flags plain = parsed({"--resume"});
  restore_run_config(plain, saved, {"steps"}, "ckpt");
  CHECK(plain.integer("steps") == 20);
  CHECK(plain.number("lr") == 0.004);
  CHECK(plain.integer("batch") == 8);

  Flags longer = parsed({"--resume", "--steps", "50", "--lr", "0.004"});  // the same lr, written otherwise
  restore_run_config(longer, saved, {"steps"}, "ckpt");
  CHECK(longer.integer("steps") == 50);

  Flags conflict = parsed({"--resume", "--batch", "16", "--lr", "0.5"});
  CHECK(error_message([&] { restore_run_config(conflict, saved, {"steps"}, "ckpt"); }) ==
        "--resume: the run stored in ckpt was started with other flags: --lr 0.5 (stored: 4e-3), --batch 16 (stored: "
        "8). Only --steps may change when a run resumes; to change the others, start a new run (another --out, or "
        "--overwrite)");

  Flags older = parsed({"--resume", "--batch", "16"});  // a checkpoint of an older version stored no batch
  restore_run_config(older, {{"flag.steps", "20"}}, {}, "ckpt");
  CHECK(older.integer("batch") == 16);
  CHECK(older.integer("steps") == 20);

  Flags bad = parsed({"--resume"});
  CHECK(error_message([&] { restore_run_config(bad, {{"flag.steps", "1e9"}}, {}, "ckpt"); }) ==
        "--steps from ckpt: expected a whole number in 1..1000, got '1e9'");
}

TEST_CASE("loss watch: NaN or inf at once; above 2 x the starting loss for 20 steps, or at the end, is diverged") {
  using V = LossWatch::Verdict;
  LossWatch w;
  CHECK(w.observe(1, 5.0, 1.0) == V::Healthy);  // the starting loss
  CHECK(w.observe(2, 10.0, 1.0) == V::Healthy);  // at the limit is not above it
  for (int step = 3; step < 3 + 19; ++step) CHECK(w.observe(step, 10.5, 1.0) == V::AboveLimit);
  CHECK(w.above_limit());
  CHECK(w.at_end() == V::Diverged);
  CHECK(w.observe(22, 9.0, 1.0) == V::Healthy);  // back under: the count starts again
  CHECK(w.at_end() == V::Healthy);
  for (int step = 23; step < 23 + 19; ++step) CHECK(w.observe(step, 11.0, 1.0) == V::AboveLimit);
  CHECK(w.observe(42, 11.0, 1.0) == V::Diverged);
  CHECK(w.diagnosis().find("above 2 x the starting loss 5 = 10 since step 23 (20 steps") != std::string::npos);
  CHECK(w.diagnosis().find("try a lower --lr") != std::string::npos);

  LossWatch n;
  CHECK(n.observe(1, std::nan(""), 1.0) == V::Diverged);
  CHECK(n.diagnosis().find("the loss at step 1 is nan") == 0);
  LossWatch g;
  CHECK(g.observe(1, 5.0, std::numeric_limits<float>::infinity()) == V::Diverged);

  Metadata meta;
  w.store(meta);
  LossWatch resumed;
  resumed.restore(meta);
  CHECK(resumed.observe(43, 10.5, 1.0) == V::AboveLimit);  // the limit of the run's start, not of this step
  LossWatch old;
  old.restore({});  // no starting loss stored: this session's first loss
  CHECK(old.observe(1, 50.0, 1.0) == V::Healthy);
}
