// Small CSV tables with a header line and no quoting (reference results such as SCALE-Sim's
// results.csv): each row as column name -> field. LF or CRLF line ends; blank lines skipped.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tessera {

// The fields of one line (a trailing CR dropped).
std::vector<std::string> split_csv_line(std::string line);

// Throws InputError naming the file when it cannot be opened.
std::vector<std::map<std::string, std::string>> read_csv_table(const std::string& path);

}  // namespace tessera
