// tests/examples/test_checkpoint_modes.cpp — --evaluate and --sample-from
// (examples/common/checkpoint_mode.h): the real programs (build/cifar_gen,
// build/protein_lm) use the checkpoint of a short training run without training,
// with the configuration it stores; their figures and pictures equal those of the
// run's own end, the run's folder is left as it was, and bad input is a clear error.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "examples/cifar_gen/checkpoint_modes.h"
#include "examples/cifar_gen/settings.h"
#include "examples/common/checkpoint_mode.h"
#include "examples/common/flags.h"
#include "examples/protein_lm/checkpoint_modes.h"
#include "examples/protein_lm/settings.h"
#include "tests/examples/program_testing.h"
#include "tests/fake_cuda.h"
#include "tests/testing.h"

using namespace ta;
using namespace ta::testing;
using ta::examples::Flags;

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Every file of a folder with its bytes: what "left as it was" compares.
std::map<std::string, std::string> contents_of(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(folder)) files[entry.path().filename().string()] = read_text(entry.path());
  return files;
}

// Runs `program` with `args`; CHECKs the status and that stderr holds `message`.
void check_refused(const std::string& program, const std::vector<std::string>& args, const fs::path& logs,
                   const std::string& message) {
  CAPTURE(program);
  CAPTURE(message);
  std::string err;
  CHECK(run_program(program, args, logs, &err) == 1);
  CHECK(err.find(program + ": error: ") != std::string::npos);
  CHECK(err.find(message) != std::string::npos);
}

}  // namespace

TEST_CASE("cifar_gen --evaluate: the checkpoint's stored configuration, the figure of the run's final evaluation") {
  TempDir dir("cifar_evaluate");
  const fs::path run = dir.path / "run";
  // A model away from the defaults (1 layer, width 8, softmax): --evaluate must take it from the checkpoint.
  REQUIRE(run_program("cifar_gen", tiny_cifar({"--steps", "3", "--attention", "softmax", "--final-eval-images", "2",
                                               "--out", run.string()}),
                      dir.path) == 0);
  const std::map<std::string, std::string> before = contents_of(run);
  const Json summary = read_json(run / "summary.json");

  ProgramRun evaluation("cifar_gen", {"--evaluate", (run / "checkpoint.safetensors").string(), "--images", "2",
                                      "--output", dir.file("scores.json")},
                        dir.path);
  REQUIRE(evaluation.wait() == 0);
  const Json figures = read_json(dir.file("scores.json"));
  CHECK(figures["test_bpd"].get<double>() == doctest::Approx(summary["test_bpd"].get<double>()).epsilon(1e-6));
  CHECK(figures["test_images"] == 2);
  CHECK(figures["step"] == 3);
  CHECK(figures["attention"] == "softmax");
  CHECK(evaluation.out().find("test bits/dim: ") != std::string::npos);
  CHECK(evaluation.out().find("wrote " + dir.file("scores.json")) != std::string::npos);
  CHECK(contents_of(run) == before);  // nothing in the run's folder changed, nothing added

  // The run's folder names its checkpoint; the default output lies beside it. The
  // bundled test split given as a file (the official test_batch.bin's format) scores the same.
  REQUIRE(run_program("cifar_gen", {"--evaluate", run.string(), "--images", "2", "--test-file",
                                    "examples/data/cifar10/test.bin"},
                      dir.path) == 0);
  const Json beside = read_json(dir.path / "run-step3-evaluation.json");
  CHECK(beside["test_bpd"].get<double>() == doctest::Approx(figures["test_bpd"].get<double>()).epsilon(1e-6));
  CHECK(beside["test_data"] == "examples/data/cifar10/test.bin");
  CHECK(contents_of(run) == before);
}

TEST_CASE("cifar_gen --sample-from: the run's pictures again, or others with another seed and temperature") {
  TempDir dir("cifar_sample");
  const fs::path run = dir.path / "run";
  REQUIRE(run_program("cifar_gen", tiny_cifar({"--steps", "2", "--out", run.string()}), dir.path) == 0);
  const std::map<std::string, std::string> before = contents_of(run);

  // The stored --sample 1 --complete 1 --seed 1 --temperature 1: the run's own pictures, byte for byte.
  REQUIRE(run_program("cifar_gen", {"--sample-from", run.string(), "--output", dir.file("same")}, dir.path) == 0);
  CHECK(read_text(dir.file("same/samples.png")) == read_text(run / "samples.png"));
  CHECK(read_text(dir.file("same/completions.png")) == read_text(run / "completions.png"));

  REQUIRE(run_program("cifar_gen", {"--sample-from", run.string(), "--seed", "5", "--temperature", "0.5", "--sample",
                                    "2", "--complete", "0", "--show-attention", "--output", dir.file("other")},
                      dir.path) == 0);
  CHECK(fs::exists(dir.file("other/samples.png")));
  CHECK(read_text(dir.file("other/samples.png")) != read_text(run / "samples.png"));
  CHECK_FALSE(fs::exists(dir.file("other/completions.png")));
  CHECK(fs::exists(dir.file("other/attention.png")));

  REQUIRE(run_program("cifar_gen", {"--sample-from", run.string(), "--complete", "0"}, dir.path) == 0);
  CHECK(fs::exists(dir.path / "run-step2-samples" / "samples.png"));  // the default: beside the run's folder
  CHECK(contents_of(run) == before);
}

TEST_CASE("protein_lm --evaluate and --sample-from: the run's test figures and sequences, from the checkpoint alone") {
  TempDir dir("protein_checkpoint");
  const fs::path run = dir.path / "run";
  REQUIRE(run_program("protein_lm", tiny_protein({"--steps", "3", "--final-eval-seqs", "0", "--eval-batch", "64",
                                                  "--generate", "2", "--out", run.string()}),
                      dir.path) == 0);
  const std::map<std::string, std::string> before = contents_of(run);
  const Json summary = read_json(run / "summary.json");

  REQUIRE(run_program("protein_lm", {"--evaluate", run.string(), "--output", dir.file("scores.json")}, dir.path) == 0);
  const Json figures = read_json(dir.file("scores.json"));
  for (const std::string key : {"test_ppl", "test_acc", "unigram_ppl", "unigram_acc", "test_scored"}) {
    CAPTURE(key);
    CHECK(figures[key].get<double>() == doctest::Approx(summary[key].get<double>()).epsilon(1e-6));
  }
  CHECK(figures["step"] == 3);

  // Any FASTA file: the bundled test split as one gives the same figures; of three
  // sequences of 40 residues the first 32 of each are scored (--max-len 32: the
  // model reads <bos> and 31 residues, predicting 32).
  REQUIRE(run_program("protein_lm", {"--evaluate", run.string(), "--test-file", "examples/data/protein/test.fasta",
                                     "--output", dir.file("file.json")},
                      dir.path) == 0);
  CHECK(read_json(dir.file("file.json"))["test_ppl"].get<double>() ==
        doctest::Approx(figures["test_ppl"].get<double>()).epsilon(1e-6));
  write_text(dir.file("three.fasta"), ">a\n" + std::string(40, 'M') + "\n>b\n" + std::string(40, 'K') + "\n>c\n" +
                                          std::string(40, 'L') + "\n");
  REQUIRE(run_program("protein_lm", {"--evaluate", run.string(), "--test-file", dir.file("three.fasta"), "--output",
                                     dir.file("three.json")},
                      dir.path) == 0);
  CHECK(read_json(dir.file("three.json"))["test_scored"] == 96);

  REQUIRE(run_program("protein_lm", {"--sample-from", run.string(), "--output", dir.file("same.fasta")}, dir.path) == 0);
  CHECK(read_text(dir.file("same.fasta")) == read_text(run / "generated.fasta"));
  REQUIRE(run_program("protein_lm", {"--sample-from", run.string(), "--seed", "9", "--temperature", "2", "--prompt",
                                     "MKV", "--output", dir.file("other.fasta")},
                      dir.path) == 0);
  const std::string other = read_text(dir.file("other.fasta"));
  CHECK(other != read_text(run / "generated.fasta"));
  CHECK(other.find("\nMKV") != std::string::npos);
  CHECK(other.find("steps=3 temperature=2") != std::string::npos);
  CHECK(contents_of(run) == before);
}

TEST_CASE("checkpoint modes: a missing, corrupt, truncated or foreign checkpoint, wrong data and conflicting flags are "
          "clear errors") {
  TempDir dir("checkpoint_errors");
  const fs::path cifar = dir.path / "cifar", protein = dir.path / "protein";
  REQUIRE(run_program("cifar_gen", tiny_cifar({"--steps", "1", "--out", cifar.string()}), dir.path) == 0);
  REQUIRE(run_program("protein_lm", tiny_protein({"--steps", "1", "--out", protein.string()}), dir.path) == 0);
  const std::string cifar_ckpt = (cifar / "checkpoint.safetensors").string();
  const std::string protein_ckpt = (protein / "checkpoint.safetensors").string();
  const std::string out = dir.file("x.json");

  check_refused("cifar_gen", {"--evaluate", dir.file("none.safetensors")}, dir.path,
                "--evaluate: no checkpoint at '" + dir.file("none.safetensors") + "'");
  write_text(dir.file("garbage.safetensors"), "this is not a checkpoint");
  check_refused("protein_lm", {"--sample-from", dir.file("garbage.safetensors")}, dir.path,
                "--sample-from: cannot read the checkpoint '" + dir.file("garbage.safetensors") + "'");
  const std::string whole = read_text(cifar_ckpt);
  write_text(dir.file("truncated.safetensors"), whole.substr(0, whole.size() / 2));
  check_refused("cifar_gen", {"--evaluate", dir.file("truncated.safetensors"), "--output", out}, dir.path,
                dir.file("truncated.safetensors"));
  check_refused("protein_lm", {"--evaluate", cifar_ckpt, "--output", out}, dir.path,
                "which protein_lm does not have: a checkpoint of another program?");
  check_refused("cifar_gen", {"--evaluate", protein_ckpt, "--output", out}, dir.path,
                "which cifar_gen does not have: a checkpoint of another program?");

  // Wrong data: a FASTA file as CIFAR-10 records, CIFAR-10 records as FASTA, a folder without test images.
  check_refused("cifar_gen", {"--evaluate", cifar_ckpt, "--test-file", "examples/data/protein/test.fasta", "--output", out},
                dir.path, "not a whole number of 3073-byte records");
  check_refused("protein_lm", {"--evaluate", protein_ckpt, "--test-file", "examples/data/cifar10/test.bin", "--output", out},
                dir.path, "examples/data/cifar10/test.bin:1: sequence data before the first header");
  check_refused("cifar_gen", {"--evaluate", cifar_ckpt, "--data", "examples/data/protein", "--output", out}, dir.path,
                "cifar: no test data in 'examples/data/protein'");

  // Flags: the model comes from the checkpoint; what a mode does not read is refused.
  check_refused("cifar_gen", {"--evaluate", cifar_ckpt, "--layers", "3", "--output", out}, dir.path,
                "--evaluate: the model of " + cifar_ckpt + " was trained with other flags: --layers 3 (stored: 1)");
  check_refused("protein_lm", {"--sample-from", protein_ckpt, "--out", dir.file("o")}, dir.path,
                "--out is not read by --sample-from, which reads only");
  check_refused("cifar_gen", {"--sample-from", cifar_ckpt, "--images", "3"}, dir.path,
                "--images is not read by --sample-from");
  check_refused("cifar_gen", {"--evaluate", cifar_ckpt, "--sample-from", cifar_ckpt}, dir.path,
                "--evaluate and --sample-from are two modes: give one of them");
  check_refused("protein_lm", tiny_protein({"--steps", "1", "--output", out, "--out", dir.file("o")}), dir.path,
                "--output is read by --evaluate and --sample-from only");
  check_refused("cifar_gen", {"--sample-from", cifar_ckpt, "--sample", "0", "--complete", "0"}, dir.path,
                "--sample-from: nothing to draw");
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(dir.file("o")));

  const fs::path masked = dir.path / "masked";
  REQUIRE(run_program("protein_lm", tiny_protein({"--steps", "1", "--objective", "masked", "--out", masked.string()}),
                      dir.path) == 0);
  check_refused("protein_lm", {"--sample-from", masked.string()}, dir.path,
                "holds a masked (bidirectional) model; sequences are sampled from causal models only");
}

// The figures of --evaluate, run in this process on `device` (the fake CUDA device: tests/fake_cuda.h).
Json evaluated_on(const std::string& device, Flags flags, const examples::CheckpointModes& modes,
                  const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"prog", "--device", device.c_str(), "--threads", "0"};  // 0: this process's own
  for (const std::string& a : args) argv.push_back(a.c_str());
  flags.parse(static_cast<int>(argv.size()), argv.data());
  const int status = examples::run_program_mode(flags, [](Flags&) { return 99; }, modes);
  CHECK(status == 0);
  return read_json(args.back());
}

TEST_CASE("checkpoint modes: --device cuda loads the checkpoint's model there and scores it as the CPU does") {
  TempDir dir("checkpoint_device");
  const fs::path cifar = dir.path / "cifar", protein = dir.path / "protein";
  REQUIRE(run_program("cifar_gen", tiny_cifar({"--steps", "2", "--out", cifar.string()}), dir.path) == 0);
  REQUIRE(run_program("protein_lm", tiny_protein({"--steps", "2", "--out", protein.string()}), dir.path) == 0);
  const std::vector<std::string> cifar_args = {"--evaluate", cifar.string(), "--images", "2", "--output",
                                               dir.file("cifar.json")},
                                 protein_args = {"--evaluate", protein.string(), "--test-file",
                                                 "examples/data/protein/valid.fasta", "--output", dir.file("protein.json")};
  const Json cifar_cpu = evaluated_on("cpu", cifar::program_flags(), cifar::cifar_checkpoint_modes(), cifar_args);
  const Json protein_cpu =
      evaluated_on("cpu", protein::program_flags(), protein::protein_checkpoint_modes(), protein_args);
  {
    ta::testing::FakeCuda cuda;
    const Json cifar_cuda = evaluated_on("cuda", cifar::program_flags(), cifar::cifar_checkpoint_modes(), cifar_args);
    CHECK(cifar_cuda["test_bpd"] == cifar_cpu["test_bpd"]);
    const Json protein_cuda =
        evaluated_on("cuda", protein::program_flags(), protein::protein_checkpoint_modes(), protein_args);
    CHECK(protein_cuda["test_ppl"] == protein_cpu["test_ppl"]);
    CHECK(protein_cuda["test_acc"] == protein_cpu["test_acc"]);
  }
}

TEST_CASE("checkpoint modes: the mode from the flags, and the default output beside the run's folder") {
  auto parsed = [](std::vector<const char*> argv) {
    Flags f("prog", "a test program");
    examples::add_checkpoint_mode_flags(f, "output");
    f.add(examples::integer_flag("steps", 10, 1, 1000, "steps"));
    argv.insert(argv.begin(), "prog");
    f.parse(static_cast<int>(argv.size()), argv.data());
    return f;
  };
  using examples::ProgramMode;
  CHECK(examples::program_mode(parsed({"--steps", "5"})) == ProgramMode::Train);
  CHECK(examples::program_mode(parsed({"--evaluate", "c"})) == ProgramMode::Evaluate);
  CHECK(examples::program_mode(parsed({"--sample-from", "c"})) == ProgramMode::Sample);
  CHECK(error_message([&] { examples::program_mode(parsed({"--output", "x"})); }) ==
        "--output is read by --evaluate and --sample-from only; a training run writes everything into --out");

  const Flags plain = parsed({"--evaluate", "runs/x/checkpoint.safetensors"});
  CHECK(examples::output_path(plain, {"runs/x/checkpoint.safetensors", 12, {}}, "evaluation.json") ==
        "runs/x-step12-evaluation.json");
  CHECK(examples::output_path(plain, {"x/./checkpoint.previous.safetensors", 7, {}}, "samples") == "x-step7-samples");
  const std::string cwd = fs::current_path().filename().string();
  CHECK(examples::output_path(plain, {"checkpoint.safetensors", 3, {}}, "generated.fasta") ==
        (fs::current_path().parent_path() / (cwd + "-step3-generated.fasta")).string());
  CHECK(examples::output_path(parsed({"--evaluate", "c", "--output", "mine.json"}), {"c", 3, {}}, "evaluation.json") ==
        "mine.json");
}
