#include "cli/files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/input_file.hpp"

namespace tessera::cli {

namespace {

namespace fs = std::filesystem;

std::string errno_text(int error) { return std::strerror(error); }

// Where an output path leads: the file written, and how.
struct Target {
  fs::path path;      // after symbolic links, or the path itself when nothing is there yet
  bool exists = false;
  bool in_place = false;
  int descriptor = -1;  // a descriptor of this process (/dev/stdout), written directly
};

// /proc/<pid>/fd/<n> (also /proc/<pid>/task/<tid>/fd/<n>): the descriptor n of this process, or
// -1 for any other path. /dev/stdout, /dev/fd/N and /proc/self/fd/N lead here.
int own_descriptor(const fs::path& p) {
  const std::string s = p.string();
  if (s.rfind("/proc/", 0) != 0 || p.parent_path().filename() != "fd") return -1;
  const std::string pid = std::to_string(::getpid());
  if (s.compare(6, pid.size() + 1, pid + "/") != 0) return -1;
  const std::string n = p.filename().string();
  if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos)
    return -1;
  return std::atoi(n.c_str());
}

bool is_descriptor_link(const fs::path& p) {
  return p.string().rfind("/proc/", 0) == 0 && p.parent_path().filename() == "fd";
}

Target resolve(const std::string& path) {
  if (path.empty()) throw InputError("an output path is empty");
  fs::path p = fs::absolute(path);
  if (!p.has_filename())
    throw InputError(path + ": names a folder (it ends with '/'), not an output file");
  for (int hops = 0; hops < 40; ++hops) {
    // The folder part resolved first, so that what is checked is where the name really is.
    std::error_code ec;
    const fs::path dir = fs::canonical(p.parent_path(), ec);
    if (ec) return {p};  // the folder does not exist yet: created when written
    p = dir / p.filename();
    if (is_descriptor_link(p)) return {p, true, true, own_descriptor(p)};
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) return {p};
      throw InputError(path + ": cannot examine " + p.string() + ": " + errno_text(errno));
    }
    if (S_ISLNK(st.st_mode)) {
      const fs::path to = fs::read_symlink(p, ec);
      if (ec) throw InputError(path + ": cannot read the link " + p.string() + ": " + ec.message());
      p = to.is_absolute() ? to : dir / to;
      if (!p.has_filename())
        throw InputError(path + ": is a link to " + to.string() + ", a folder, not a file");
      continue;
    }
    if (S_ISREG(st.st_mode)) return {p, true, false};
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) return {p, true, true};
    throw InputError(path + ": is " + file_type_name(st.st_mode) +
                     (p.string() == fs::absolute(path).string() ? "" : " (" + p.string() + ")") +
                     ", not a file an output can be written to");
  }
  throw InputError(path + ": too many levels of symbolic links");
}

void write_all(int fd, const std::string& text, const std::string& path) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(path + ": write failed: " + errno_text(errno));
    done += static_cast<std::size_t>(n);
  }
}

void write_in_place(const Target& t, const std::string& path, const std::string& text) {
  // What the program printed before comes first when the path is its own standard output.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  if (t.descriptor >= 0) {
    write_all(t.descriptor, text, path);
    return;
  }
  // No O_CREAT, no O_TRUNC: what is written to is what is there. O_APPEND: a regular file reached
  // through another process's descriptor is added to, not overwritten from its start.
  const int fd = ::open(t.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw InputError(path + ": cannot open for writing: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) ||
                                 (S_ISREG(st.st_mode) && is_descriptor_link(t.path)))) {
    ::close(fd);
    throw InputError(path + ": changed while it was opened; not written");
  }
  try {
    write_all(fd, text, path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw InputError(path + ": write failed: " + errno_text(errno));
}

void replace_file(const Target& t, const std::string& path, const std::string& text) {
  // Named as the user wrote it, unless a symbolic link led elsewhere.
  if (!t.exists) create_parent_folder(t.path == fs::absolute(path) ? path : t.path.string());
  std::string tmp = (t.path.parent_path() / ("." + t.path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    throw InputError(path + ": cannot create a temporary file in " +
                     t.path.parent_path().string() + ": " + errno_text(errno));
  const auto fail = [&](const std::string& what, int error) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw InputError(path + ": " + what + ": " + errno_text(error));
  };
  // The new file keeps the old one's permissions; a new one gets the usual 0666 less the umask.
  struct stat st {};
  mode_t mode = 0;
  if (t.exists && ::stat(t.path.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  if (::fchmod(fd, mode) != 0) fail("cannot set the permissions of " + tmp, errno);
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write failed", errno);
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    throw InputError(path + ": write failed: " + errno_text(error));
  }
  // The target is checked again just before the rename: a regular file or nothing.
  if (::lstat(t.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    ::unlink(tmp.c_str());
    throw InputError(path + ": became " + file_type_name(st.st_mode) + " during the run; not replaced");
  }
  if (::rename(tmp.c_str(), t.path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    throw InputError(path + ": cannot replace " + t.path.string() + ": " + errno_text(error));
  }
}

// What identifies a file: its device and inode when it exists, else the path it would get.
struct Identity {
  std::optional<std::pair<dev_t, ino_t>> node;
  std::string path;
  bool character_device = false;
  bool same(const Identity& o) const {
    if (character_device || o.character_device) return false;
    return node || o.node ? node == o.node : path == o.path;
  }
};

std::optional<Identity> input_identity(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;  // its reader says why
  return Identity{std::pair{st.st_dev, st.st_ino}, path, S_ISCHR(st.st_mode)};
}

Identity output_identity(const std::string& path) {
  const Target t = resolve(path);
  struct stat st {};
  if (t.exists && ::stat(t.path.c_str(), &st) == 0)
    return {std::pair{st.st_dev, st.st_ino}, t.path.string(), S_ISCHR(st.st_mode)};
  std::error_code ec;
  const fs::path where = fs::weakly_canonical(t.path, ec);
  return {std::nullopt, (ec ? t.path.lexically_normal() : where).string(), false};
}

}  // namespace

void create_parent_folder(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (dir.empty() || fs::is_directory(dir, ec)) return;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(path + ": cannot create the folder " + dir.string() + ": " + ec.message());
}

bool is_replaced_file(const std::string& path) { return !resolve(path).in_place; }

void write_file(const std::string& path, const std::string& text) {
  const Target t = resolve(path);
  if (t.in_place)
    write_in_place(t, path, text);
  else
    replace_file(t, path, text);
}

void check_run_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  std::vector<std::pair<const NamedPath*, Identity>> seen;
  for (const auto& o : outputs) {
    if (o.path.empty()) continue;
    Identity id;
    try {
      id = output_identity(o.path);
    } catch (const InputError& e) {
      throw InputError(o.option + " " + e.what());
    }
    for (const auto& i : inputs)
      if (const auto in = input_identity(i.path); in && id.same(*in))
        throw InputError(o.option + " " + o.path + ": is also the run's input " + i.option + " " +
                         i.path + "; writing it would destroy the input");
    for (const auto& [other, other_id] : seen)
      if (id.same(other_id))
        throw InputError(o.option + " " + o.path + ": is also the output of " + other->option +
                         " " + other->path + "; choose two different files");
    seen.emplace_back(&o, id);
  }
}

CLI::Validator output_path() {
  return CLI::Validator(
      [](std::string& value) {
        return value.empty() ? std::string("an output path must not be empty") : std::string();
      },
      "FILE");
}

}  // namespace tessera::cli
