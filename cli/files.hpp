// Writing output files: the only place besides the results log (cli/results_file.hpp) where
// Tessera writes to disk, and the checks every command makes on its output paths before it runs.
//
// What an output path may name (docs/testing.md, "Output files"):
//  - nothing yet, or a regular file: written to a temporary file beside it and renamed over it,
//    so an existing file is either left as it was or replaced whole; missing folders are created
//    (as for a results log);
//  - a symbolic link, followed to what it names: the link is kept and its target written as
//    above (a regular or missing target) or streamed (below);
//  - a pipe (FIFO), a character device (/dev/null, a terminal), or a descriptor of this process
//    (/dev/stdout, /dev/stderr, /dev/fd/N): written in place, at the end of what is there, never
//    replaced;
//  - anything else (a directory, a block device, a socket, a path ending in '/') is an error
//    naming it. Nothing but a regular file is ever replaced.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tessera::cli {

// Writes `text` to `path` as described above. InputError naming the path and the reason.
void write_file(const std::string& path, const std::string& text);

// Creates the folders `path` needs (its parent and above); nothing when they exist. The message
// of a failure is the same for every output, report or results log.
void create_parent_folder(const std::string& path);

// True when `path` names what write_file replaces by a rename (a regular file or nothing, through
// symbolic links), false when it would write in place (a pipe, a device, a descriptor).
// InputError for a path no output may name.
bool is_replaced_file(const std::string& path);

// An option and the path it names ("--out", "r.json").
struct NamedPath {
  std::string option, path;
};

// Checks a run's output paths before it starts, so a mistake costs no simulation: each must be a
// path write_file accepts, none may be one of `inputs` (it would be destroyed) or be named by
// another output; files are compared by identity (device and inode), so `./a.json` and `a.json`,
// hard links and symbolic links are caught. Character devices (/dev/null) may be named several
// times. Entries with an empty path (an option not given) are skipped.
void check_run_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

// For output options: an explicitly empty path (`--out ""`) is a usage error, not "no output".
CLI::Validator output_path();

}  // namespace tessera::cli
