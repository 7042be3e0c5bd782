#pragma once
// Plain-text tables for human output: columns padded to their widest cell, two spaces apart.

#include <ostream>
#include <string>
#include <vector>

namespace gns::cli {

class TextTable {
public:
  explicit TextTable(std::vector<std::string> header) : m_rows{std::move(header)} {}
  void add_row(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  // Writes every row to `out`, each line starting with `indent`; the last column unpadded.
  void print(std::ostream& out, const std::string& indent = "  ") const;

private:
  std::vector<std::vector<std::string>> m_rows;
};

}  // namespace gns::cli
