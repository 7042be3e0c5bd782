#include "util/sha256.hpp"

#include <catch2/catch.hpp>
#include <cstddef>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "host/host_root.hpp"
#include "host/runner.hpp"
#include "support/temp_root.hpp"

using gns::util::sha256_hex;

namespace {

// Random bytes of every value, from a fixed seed so that a failure can be replayed.
std::string random_bytes(std::mt19937& rng, std::size_t length) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::string bytes(length, '\0');
  for (char& c : bytes) c = static_cast<char>(byte(rng));
  return bytes;
}

// Lengths around the padding edges: 55 bytes still fit the length field in the last block,
// 56 do not; 64 is a whole block.
std::vector<std::size_t> oracle_lengths(std::mt19937& rng) {
  std::vector<std::size_t> lengths = {0,   1,   2,   3,   31,  32,  54,  55,  56,  57,
                                      63,  64,  65,  111, 112, 118, 119, 120, 127, 128,
                                      129, 191, 192, 193, 255, 256, 299, 300};
  std::uniform_int_distribution<std::size_t> any(0, 300);
  while (lengths.size() < 50) lengths.push_back(any(rng));
  return lengths;
}

// The digests `sha256sum` prints for `files`, in order.
std::vector<std::string> sha256sum(const std::vector<std::string>& files) {
  gns::host::HostRoot root("/");
  gns::host::ProcessRunner runner(root, gns::null_log_sink());
  gns::host::CommandResult result = runner.run_checked({"sha256sum", files});
  std::vector<std::string> digests;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) digests.push_back(line.substr(0, 64));
  return digests;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 example vectors", "[util]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmno"
                   "pqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 agrees with coreutils sha256sum on random bytes", "[util]") {
  gns::test::TempRoot tmp;
  std::mt19937 rng(20240605);
  std::vector<std::string> inputs;
  for (std::size_t length : oracle_lengths(rng)) inputs.push_back(random_bytes(rng, length));
  inputs.push_back(random_bytes(rng, 1 << 20));  // many blocks, and an uneven number of them
  std::vector<std::string> files;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::string name = "/input-" + std::to_string(i);
    tmp.write(name, inputs[i]);
    files.push_back((tmp / name).string());
  }

  const std::vector<std::string> expected = sha256sum(files);
  REQUIRE(expected.size() == inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    INFO("input " << i << " of " << inputs[i].size() << " bytes");
    CHECK(sha256_hex(inputs[i]) == expected[i]);
  }
}
