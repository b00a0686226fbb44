// The results log file of a running sweep or search: created with its folder, locked (flock) for
// as long as the run writes it so that two runs can never write one log, read once when opened,
// and appended one whole line per write(2) so a kill loses at most the line being written. Only a
// regular file (or a new one; symbolic links followed) is a log: a pipe, a device or a directory
// is refused, and an existing log is read under common/input_file.hpp's limit for results logs.
#pragma once

#include <string>

namespace tessera::cli {

class ResultsFile {
 public:
  // Creates the folder (cli/files.hpp create_parent_folder, as for --out) and the file if needed;
  // InputError if another run holds the lock or the path is not a regular file.
  explicit ResultsFile(const std::string& path);
  ~ResultsFile();
  ResultsFile(const ResultsFile&) = delete;
  ResultsFile& operator=(const ResultsFile&) = delete;

  const std::string& path() const { return path_; }
  // The file's content when it was opened.
  const std::string& content() const { return content_; }
  // Cuts a last line without its newline (a kill mid-write), so appending starts a line. Call
  // only once the content is known to be a results log.
  void drop_partial_line();
  // Appends `line` and a newline.
  void append(const std::string& line);

 private:
  std::string path_, content_;
  int fd_ = -1;
};

}  // namespace tessera::cli
