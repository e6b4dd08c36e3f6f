// tests/examples/test_programs.cpp — the example programs themselves (build/cifar_gen,
// build/protein_lm, which `make test` builds first), run with tiny models as a user
// would: every case of issue 17 gives a clear error and a non-zero status, loses
// nothing, or continues the run correctly.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/safetensors.h"
#include "tests/examples/program_testing.h"
#include "tests/testing.h"

using namespace ta;
using namespace ta::testing;

namespace fs = std::filesystem;

// The cases of issue 17 (test_flags.cpp checks every flag of both programs against
// its range without starting a process each time).
TEST_CASE("programs: every bad flag value of issue 17 is an error naming the flag, never a signal") {
  TempDir dir("flags");
  const std::vector<std::vector<std::string>> both = {
      {"--checkpoint-every", "0"}, {"--eval-every", "0"}, {"--steps", "99999999999999999999"}, {"--clip", "-1"},
      {"--clip", "nan"},           {"--d-ff", "-1"},      {"--threads", "-1"},                   {"--time-limit", "-1"},
      {"--time-limit", "nan"},     {"--lr", "0"}};
  const std::vector<std::vector<std::string>> protein = {
      {"--max-len", "288230376151711744"}, {"--max-len", "99999999999999999999"}, {"--max-len", "100000000"},
      {"--max-len", "1e12"}, {"--generate", "-1"}};
  for (const std::string program : {"cifar_gen", "protein_lm"}) {
    std::vector<std::vector<std::string>> cases = both;
    if (program == "protein_lm") cases.insert(cases.end(), protein.begin(), protein.end());
    for (const std::vector<std::string>& c : cases) {
      const std::string flag = c[0], value = c[1];
      CAPTURE(program);
      CAPTURE(flag);
      CAPTURE(value);
      std::string err;
      CHECK(run_program(program, {flag, value, "--out", dir.file("run")}, dir.path, &err) == 1);
      CHECK(err.find(program + ": error: " + flag + ": expected ") != std::string::npos);
      CHECK(err.find("got '" + value + "'") != std::string::npos);
    }
  }
  CHECK_FALSE(fs::exists(dir.file("run")));  // nothing was started
}

TEST_CASE("programs: --help lists every flag, and the attention variants and options of the registry") {
  TempDir dir("help");
  for (const std::string program : {"cifar_gen", "protein_lm"}) {
    CAPTURE(program);
    ProgramRun run(program, {"--help"}, dir.path);
    CHECK(run.wait() == 0);
    const std::string help = run.out();
    for (const std::string flag : {"--out", "--resume", "--overwrite", "--steps", "--lr", "--checkpoint-every",
                                   "--time-limit", "--attention", "--performer-features", "--flash-chunk"})
      CHECK(help.find("  " + flag + " ") != std::string::npos);
    for (const std::string variant : {"softmax", "performer", "sparse-strided", "flash", "nystrom"})
      CHECK(help.find("\n  " + variant + " ") != std::string::npos);
  }
}

TEST_CASE("programs: impossible combinations are errors before any data is read or file written") {
  TempDir dir("combinations");
  const std::string out = dir.file("run");
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"protein_lm", {"--d-model", "10", "--heads", "3"}},
      {"protein_lm", {"--max-len", "1048576", "--batch", "1048576"}},
      {"protein_lm", {"--d-model", "65536", "--layers", "1024"}},
      {"protein_lm", {"--objective", "causal", "--attention", "nystrom"}},
      {"protein_lm", {"--prompt", "MMMMMMMMMM", "--gen-length", "5"}},
      {"protein_lm", {"--resume", "--overwrite"}},
      {"cifar_gen", {"--attention", "nystrom"}},
      {"cifar_gen", {"--show-attention", "--layers", "1", "--d-model", "8", "--attention-layers", "3"}},
      {"cifar_gen", {"--batch", "1048576"}}};
  const std::vector<std::string> messages = {"must be a multiple of --heads 3",
                                             "GB of memory, and the machine has",
                                             "GB of memory, and the machine has",
                                             "needs a causal variant",
                                             "--prompt has 10 residues, more than the 5",
                                             "--resume continues the run in --out and --overwrite replaces it",
                                             "needs one of:",
                                             "--attention-layers: layer 3 is outside 0..0",
                                             "GB of memory, and the machine has"};
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string& program = cases[i].first;  // not a structured binding: clang 14 cannot capture one
    const std::vector<std::string>& args = cases[i].second;
    CAPTURE(program);
    CAPTURE(i);
    std::string err;
    CHECK(run_program(program, with(args, {"--out", out}), dir.path, &err) == 1);
    CHECK(err.find(messages[i]) != std::string::npos);
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE("programs: a run folder is never overwritten by accident; --overwrite replaces the whole earlier run") {
  TempDir dir("overwrite");
  const std::string out = dir.file("run");
  const std::vector<std::string> args = tiny_protein({"--steps", "3", "--out", out});
  REQUIRE(run_program("protein_lm", args, dir.path) == 0);
  REQUIRE(run_program("protein_lm", with(args, {"--resume", "--steps", "4"}), dir.path) == 0);  // a previous checkpoint too
  const std::string log = read_text(out + "/log.csv"), summary = read_text(out + "/summary.json");
  std::string err;
  CHECK(run_program("protein_lm", args, dir.path, &err) == 1);
  CHECK(err.find("--out " + out + " already holds a run") != std::string::npos);
  CHECK(read_text(out + "/log.csv") == log);
  CHECK(read_text(out + "/summary.json") == summary);
  CHECK(run_program("protein_lm", with(args, {"--overwrite", "--steps", "2"}), dir.path, &err) == 0);
  CHECK(err.find("note: --overwrite: removed the earlier run's") != std::string::npos);
  CHECK(log_column(out + "/log.csv", "step") == std::vector<std::string>{"1", "2", "2"});  // the new run's only
  CHECK(step_of(out + "/checkpoint.safetensors") == "2");
  CHECK_FALSE(fs::exists(out + "/checkpoint.previous.safetensors"));
}

// The interrupted run is stopped (SIGSTOP) once its log has `rows` rows, sent the
// signal, and let go: it sees the signal at the end of the step it is in.
static int interrupt(ProgramRun& run, const fs::path& log, size_t rows, int sig) {
  REQUIRE_MESSAGE(run.wait_for_lines(log, rows + 1), "the run ended before it could be interrupted");
  run.signal(SIGSTOP);
  run.signal(sig);
  run.signal(SIGCONT);
  return run.wait();
}

TEST_CASE("programs: SIGTERM saves and exits 143; --resume --out alone finishes the same job, bit for bit") {
  TempDir dir("sigterm");
  // Flags away from the defaults: a resumed run must take every one of them back.
  const std::vector<std::string> flags = tiny_protein({"--steps", "1500", "--lr", "0.003", "--batch", "3", "--warmup",
                                                       "5", "--weight-decay", "0.02", "--dropout", "0.1", "--seed", "7",
                                                       "--checkpoint-every", "100000", "--eval-every", "400"});
  const fs::path straight = dir.path / "straight", stopped = dir.path / "stopped";
  REQUIRE(run_program("protein_lm", with(flags, {"--out", straight.string()}), dir.path) == 0);

  ProgramRun run("protein_lm", with(flags, {"--out", stopped.string()}), dir.path);
  CHECK(interrupt(run, stopped / "log.csv", 30, SIGTERM) == 143);
  CHECK_FALSE(run.killed_by_signal());
  const std::string step = log_column(stopped / "log.csv", "step").back();
  CHECK(run.err().find("protein_lm: stopped by Terminated at step " + step) != std::string::npos);
  CHECK(step_of(stopped / "checkpoint.safetensors") == step);
  CHECK_FALSE(fs::exists(stopped / "summary.json"));

  std::string err;
  CHECK(run_program("protein_lm", {"--resume", "--out", stopped.string(), "--batch", "4"}, dir.path, &err) == 1);
  CHECK(err.find("--batch 4 (stored: 3)") != std::string::npos);
  CHECK(run_program("protein_lm", {"--resume", "--out", stopped.string()}, dir.path, &err) == 0);
  CHECK(err.find("note:") == std::string::npos);  // nothing missing, nothing replaced
  CHECK(tensors_of(stopped / "checkpoint.safetensors") == tensors_of(straight / "checkpoint.safetensors"));
  CHECK(log_column(stopped / "log.csv", "train_loss") == log_column(straight / "log.csv", "train_loss"));
  CHECK(log_column(stopped / "log.csv", "valid_ppl") == log_column(straight / "log.csv", "valid_ppl"));
  CHECK(read_text(stopped / "generated.fasta") == read_text(straight / "generated.fasta"));
}

TEST_CASE("programs: a resumed run gives the training time of this invocation and of the whole run; one with no step "
          "left says it trained none") {
  TempDir dir("resumed_time");
  const fs::path out = dir.path / "run";
  REQUIRE(run_program("protein_lm", tiny_protein({"--steps", "3", "--out", out.string()}), dir.path) == 0);
  const double first_time = read_json(out / "summary.json")["wall_s"].get<double>();
  const std::string checkpoint = read_text(out / "checkpoint.safetensors");

  ProgramRun again("protein_lm", {"--resume", "--out", out.string()}, dir.path);  // --steps 3, stored: none left
  REQUIRE(again.wait() == 0);
  CHECK(again.out().find("the checkpoint is at step 3 of 3: this invocation trains no steps") != std::string::npos);
  CHECK(again.out().find("after 3 steps and ") != std::string::npos);
  CHECK(again.out().find("of training, all in earlier invocations (this one trained no steps)") != std::string::npos);
  nlohmann::json summary = read_json(out / "summary.json");
  CHECK(summary["session_steps"] == 0);
  CHECK(summary["session_s"].get<double>() < 1.0);
  CHECK(summary["wall_s"].get<double>() == doctest::Approx(first_time + summary["session_s"].get<double>()));
  CHECK(read_text(out / "checkpoint.safetensors") == checkpoint);  // nothing trained, nothing saved

  ProgramRun more("protein_lm", {"--resume", "--out", out.string(), "--steps", "5"}, dir.path);
  REQUIRE(more.wait() == 0);
  CHECK(more.out().find("after 5 steps (2 in this invocation) and ") != std::string::npos);
  CHECK(more.err().find("step 5/5 [") != std::string::npos);
  CHECK(more.err().find(" this session, ") != std::string::npos);  // the progress line: this session and the run
  CHECK(more.err().find(" in all, ") != std::string::npos);
  summary = read_json(out / "summary.json");
  CHECK(summary["session_steps"] == 2);
  CHECK(summary["wall_s"].get<double>() == doctest::Approx(first_time + summary["session_s"].get<double>()));
  const std::vector<std::string> session = log_column(out / "log.csv", "session_s"),
                                 elapsed = log_column(out / "log.csv", "elapsed_s");
  // Steps 1-3 and the final evaluation; the final evaluation of the session that trained nothing; steps 4-5 and
  // the final evaluation.
  REQUIRE(session.size() == 8);
  CHECK(log_column(out / "log.csv", "step") == std::vector<std::string>{"1", "2", "3", "3", "3", "4", "5", "5"});
  CHECK(std::stod(elapsed[6]) == doctest::Approx(first_time + std::stod(session[6])).epsilon(1e-4));
  CHECK(std::stod(session[6]) < std::stod(elapsed[6]));
}

TEST_CASE("programs: SIGINT saves and exits 130 in cifar_gen too, and the resumed run ends where the straight one does") {
  TempDir dir("sigint");
  const std::vector<std::string> flags =
      tiny_cifar({"--steps", "12", "--sample", "0", "--complete", "0", "--checkpoint-every", "100"});
  const fs::path straight = dir.path / "straight", stopped = dir.path / "stopped";
  REQUIRE(run_program("cifar_gen", with(flags, {"--out", straight.string()}), dir.path) == 0);
  ProgramRun run("cifar_gen", with(flags, {"--out", stopped.string()}), dir.path);
  CHECK(interrupt(run, stopped / "log.csv", 2, SIGINT) == 130);
  CHECK(run.err().find("cifar_gen: stopped by Interrupt at step") != std::string::npos);
  REQUIRE(run_program("cifar_gen", {"--resume", "--out", stopped.string()}, dir.path) == 0);
  CHECK(tensors_of(stopped / "checkpoint.safetensors") == tensors_of(straight / "checkpoint.safetensors"));
  CHECK(log_column(stopped / "log.csv", "train_loss") == log_column(straight / "log.csv", "train_loss"));
}

TEST_CASE("programs: a second signal exits at once, and the newest checkpoint is always whole") {
  TempDir dir("second_signal");
  const fs::path out = dir.path / "run";
  const std::vector<std::string> flags = tiny_protein({"--steps", "100000", "--checkpoint-every", "1"});
  for (int attempt = 0; attempt < 3; ++attempt) {
    CAPTURE(attempt);
    // Rows beyond those of the earlier attempt: training has started (before it, a
    // signal ends the program as usual).
    const size_t rows = line_count(out / "log.csv") + 10 + 7 * attempt;
    ProgramRun run("protein_lm", with(flags, {attempt == 0 ? "--overwrite" : "--resume", "--out", out.string()}),
                   dir.path);
    REQUIRE(run.wait_for_lines(out / "log.csv", rows));
    run.signal(SIGSTOP);
    run.signal(SIGINT);
    run.signal(SIGTERM);  // both pending: the first one seen asks to stop, the second exits at once
    run.signal(SIGCONT);
    const int status = run.wait();  // 128 + the signal handled second
    CHECK((status == 130 || status == 143));
    CHECK_FALSE(run.killed_by_signal());
    CHECK(run.err().find("stopped by") == std::string::npos);  // no time to save
    CHECK_NOTHROW(read_safetensors((out / "checkpoint.safetensors").string()));
  }
  std::string err;
  CHECK(run_program("protein_lm", {"--resume", "--out", out.string(), "--steps", "40"}, dir.path, &err) == 0);
}

TEST_CASE("programs: --lr 1e30 and --lr 10 stop as diverged (status 3), never leaving a poisoned newest checkpoint") {
  TempDir dir("diverged");
  for (const std::string program : {"protein_lm", "cifar_gen"}) {
    CAPTURE(program);
    const fs::path out = dir.path / (program + "_huge");
    const std::vector<std::string> base = program == "protein_lm" ? tiny_protein() : tiny_cifar();
    std::string err;
    CHECK(run_program(program, with(base, {"--lr", "1e30", "--steps", "30", "--checkpoint-every", "1", "--out",
                                           out.string()}),
                      dir.path, &err) == 3);
    CHECK(err.find(program + ": diverged at step 2: the loss at step 2 is nan") != std::string::npos);
    CHECK(err.find("try a lower --lr") != std::string::npos);
    // The weights of step 1 are the ones that blew up: set aside, none left as the newest.
    CHECK_FALSE(fs::exists(out / "checkpoint.safetensors"));
    CHECK(step_of(out / "checkpoint.diverged.safetensors") == "1");
    CHECK_FALSE(fs::exists(out / "summary.json"));
  }
  // --lr 10: a finite loss far above the start, for 20 steps.
  const fs::path out = dir.path / "protein_10";
  std::string err;
  CHECK(run_program("protein_lm", tiny_protein({"--lr", "10", "--steps", "300", "--checkpoint-every", "1", "--out",
                                                out.string()}),
                    dir.path, &err) == 3);
  CHECK(err.find("the loss has been above 2 x the starting loss") != std::string::npos);
  CHECK(err.find("protein_lm --resume --out " + out.string() + " --lr 1") != std::string::npos);
  CHECK_FALSE(fs::exists(out / "summary.json"));
  // The newest checkpoint is good: the loss of the step after it is under the limit.
  const std::vector<std::string> losses = log_column(out / "log.csv", "train_loss");
  const size_t step = std::stoul(step_of(out / "checkpoint.safetensors"));
  REQUIRE(step < losses.size());
  CHECK(std::stod(losses[step]) <= 2 * std::stod(losses[0]));  // losses[step] is the loss of step + 1
  // Resuming it at a lower rate goes on from there.
  CHECK(run_program("protein_lm", {"--resume", "--out", out.string(), "--lr", "0.001", "--steps",
                                   std::to_string(step + 5)},
                    dir.path, &err) == 0);
}

TEST_CASE("programs: --check-inputs on (the default) ends a run that blows up as diverged, at the first bad layer") {
  TempDir dir("check_inputs");
  for (const std::string check : {"on", "off"}) {
    CAPTURE(check);
    const fs::path out = dir.path / check;
    std::string err;
    CHECK(run_program("protein_lm", tiny_protein({"--layers", "2", "--lr", "1e30", "--steps", "30", "--checkpoint-every",
                                                  "1", "--out", out.string(), "--check-inputs", check}),
                      dir.path, &err) == 3);
    if (check == "on")
      CHECK(err.find("protein_lm: diverged at step 2: layer 1: the input of its attention (softmax): 512 of the 512 "
                     "values of [2, 32, 8] are NaN or infinite") != std::string::npos);
    else
      CHECK(err.find("protein_lm: diverged at step 2: the loss at step 2 is nan") != std::string::npos);
    // Either way the weights of step 1, which blew up, are set aside: none left as the newest.
    CHECK_FALSE(fs::exists(out / "checkpoint.safetensors"));
    CHECK(step_of(out / "checkpoint.diverged.safetensors") == "1");
  }
}

TEST_CASE("programs: a checkpoint written before the full configuration was stored still resumes") {
  TempDir dir("old_checkpoint");
  const fs::path out = dir.path / "run";
  REQUIRE(run_program("protein_lm", tiny_protein({"--steps", "4", "--out", out.string()}), dir.path) == 0);
  // What protein_lm stored before: the architecture flags and the attention's options.
  const std::string checkpoint = (out / "checkpoint.safetensors").string();
  SafetensorsContents file = read_safetensors(checkpoint);
  Metadata old;
  for (const auto& [key, value] : file.metadata) {
    const bool architecture = key == "flag.objective" || key == "flag.attention" || key == "flag.layers" ||
                              key == "flag.d-model" || key == "flag.heads" || key == "flag.d-ff" ||
                              key == "flag.dropout" || key == "flag.max-len" || key == "flag.pack" || key == "flag.seed";
    if (architecture || key.rfind("flag.", 0) != 0) old[key] = value;
  }
  old.erase("elapsed_s");
  old.erase("watch.first_loss");
  write_safetensors(checkpoint, file.tensors, old);
  fs::remove(out / "checkpoint.previous.safetensors");
  std::string err;
  CHECK(run_program("protein_lm", {"--resume", "--out", out.string(), "--steps", "6", "--eval-seqs", "4",
                                   "--final-eval-seqs", "4", "--generate", "1", "--gen-length", "10"},
                    dir.path, &err) == 0);
  CHECK(err.find("does not store ") != std::string::npos);
  for (const char* missing : {"--threads", "--device", "--data", "--check-inputs"})
    CHECK_MESSAGE(err.find(missing) != std::string::npos, missing);
  CHECK(step_of(out / "checkpoint.safetensors") == "6");
  CHECK(read_safetensors_metadata(checkpoint).at("flag.batch") == "8");  // stored from now on (the default)
}

TEST_CASE("programs: a file that cannot be written at the end is an error, and the earlier one stays whole") {
  TempDir dir("in_the_way");
  const fs::path out = dir.path / "run";
  REQUIRE(run_program("protein_lm", tiny_protein({"--steps", "2", "--out", out.string()}), dir.path) == 0);
  int steps = 2;
  for (const std::string name : {"curve.png", "summary.json", "generated.fasta"}) {
    CAPTURE(name);
    const std::string before = read_text(out / name);
    fs::create_directory(out / (name + ".tmp"));  // the writer's temporary file cannot be created
    steps += 2;
    std::string err;
    CHECK(run_program("protein_lm", {"--resume", "--out", out.string(), "--steps", std::to_string(steps)}, dir.path,
                      &err) == 1);
    CHECK(err.find("protein_lm: error: cannot write '" + (out / name).string() + "': cannot create '" +
                   (out / name).string() + ".tmp': Is a directory") != std::string::npos);
    CHECK(read_text(out / name) == before);
    CHECK(step_of(out / "checkpoint.safetensors") == std::to_string(steps));  // trained and saved before
    fs::remove(out / (name + ".tmp"));
  }
}

TEST_CASE("programs: a log that cannot grow stops the run with an error naming it") {
  TempDir dir("log_limit");
  const fs::path out = dir.path / "run";
  std::string err;
  Limits limits;
  limits.file_size = 16384;  // the log reaches it after some 200 rows; the checkpoint would be written at the end
  CHECK(run_program("protein_lm", tiny_protein({"--steps", "5000", "--checkpoint-every", "5000", "--out", out.string()}),
                    dir.path, &err, limits) == 1);
  CHECK(err.find("cannot append to '" + (out / "log.csv").string() + "': File too large (the lines written before are "
                 "intact)") != std::string::npos);
  const std::string log = read_text(out / "log.csv");
  CHECK(log.back() == '\n');
  CHECK(log_column(out / "log.csv", "elapsed_s").back() != "");  // the last row is whole
}

TEST_CASE("programs: a disk that fills up after the final checkpoint is an error; no file is left partial") {
  TempDir dir("full_disk");
  const SmallDisk disk(dir.path / "disk", "4m");
  if (!disk.mounted()) {
    MESSAGE("skipped: cannot mount a tmpfs here (needs root); the other write-failure tests still run");
    return;
  }
  const fs::path out = dir.path / "disk" / "run";
  const std::vector<std::string> flags = tiny_protein({"--final-eval-seqs", "0", "--eval-batch", "1"});
  REQUIRE(run_program("protein_lm", with(flags, {"--steps", "3", "--out", out.string()}), dir.path) == 0);
  std::map<std::string, std::string> before;
  for (const std::string name : {"curve.png", "summary.json", "generated.fasta"}) before[name] = read_text(out / name);

  ProgramRun run("protein_lm", {"--resume", "--out", out.string(), "--steps", "6"}, dir.path);
  // Printed right after the final checkpoint, before the evaluation of all sequences one by one.
  REQUIRE_MESSAGE(run.wait_until([&] { return run.out().find("evaluating on") != std::string::npos; }),
                  "the run ended before its final evaluation");
  run.signal(SIGSTOP);
  disk.fill();
  run.signal(SIGCONT);
  CHECK(run.wait() == 1);
  CHECK(run.err().find("No space left on device") != std::string::npos);
  for (const auto& file : before) {
    const std::string& name = file.first;  // not a structured binding: clang 14 cannot capture one
    CAPTURE(name);
    CHECK(read_text(out / name) == file.second);
    CHECK_FALSE(fs::exists(out / (name + ".tmp")));
  }
  CHECK(step_of(out / "checkpoint.safetensors") == "6");
  CHECK(read_text(out / "log.csv").back() == '\n');
}
