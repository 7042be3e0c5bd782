#pragma once
// RecordingRunner: a Runner that starts no process. It records every command it is given, so a
// test can assert the exact argv, and answers with results the test queued beforehand.

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "host/runner.hpp"

namespace gns::test {

class RecordingRunner : public host::Runner {
public:
  // Answers the next run of `program` (as named in Command::program) with `result`. Answers
  // queued for one program are used once each, in order; a run with none left succeeds with
  // empty output.
  void respond(const std::string& program, host::CommandResult result) {
    m_answers[program].push_back(std::move(result));
  }

  // Records `command` and returns the next answer queued for its program.
  host::CommandResult run(const host::Command& command) override {
    m_commands.push_back(command);
    auto& queue = m_answers[command.program];
    if (queue.empty()) return {};
    host::CommandResult result = std::move(queue.front());
    queue.pop_front();
    return result;
  }

  // Every command run so far, in the order it ran.
  const std::vector<host::Command>& commands() const { return m_commands; }

  // The argv (program first) of every command run so far, in the order it ran.
  std::vector<std::vector<std::string>> argvs() const {
    std::vector<std::vector<std::string>> all;
    for (const auto& command : m_commands) all.push_back(command.argv());
    return all;
  }

private:
  std::map<std::string, std::deque<host::CommandResult>> m_answers;
  std::vector<host::Command> m_commands;
};

}  // namespace gns::test
