#include "common/csv.hpp"

#include <sstream>

#include "common/error.hpp"
#include "common/input_file.hpp"

namespace tessera {

std::vector<std::string> split_csv_line(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
  return out;
}

std::vector<std::map<std::string, std::string>> read_csv_table(const std::string& path) {
  std::istringstream in(read_input_file(path, kTextFileLimit));
  const auto split = split_csv_line;
  std::string line;
  std::getline(in, line);
  const auto header = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const auto fields = split(line);
    if (fields.empty()) continue;
    auto& row = rows.emplace_back();
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) row[header[i]] = fields[i];
  }
  return rows;
}

}  // namespace tessera
