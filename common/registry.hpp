// The one way Tessera chooses implementations by name: engines, workload front-ends and search
// algorithms each have a Registry. Entries are added explicitly in one place per family (no static
// initialisers, which static libraries drop), so `tessera list` shows exactly what is built in.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace tessera {

template <typename Entry>
class Registry {
 public:
  explicit Registry(std::string family) : family_(std::move(family)) {}

  void add(const std::string& name, std::string description, Entry entry) {
    if (!entries_.emplace(name, Item{std::move(description), std::move(entry)}).second)
      throw std::logic_error(family_ + " '" + name + "' registered twice");
  }

  // Throws InputError listing the known names when `name` is unknown.
  const Entry& get(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::string known;
      for (const auto& [n, item] : entries_) known += (known.empty() ? "" : ", ") + n;
      throw InputError("unknown " + family_ + " '" + name +
                       "' (known: " + (known.empty() ? "none" : known) + ")");
    }
    return it->second.entry;
  }

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  // (name, description) pairs in name order.
  std::vector<std::pair<std::string, std::string>> list() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [n, item] : entries_) out.emplace_back(n, item.description);
    return out;
  }

  const std::string& family() const { return family_; }

 private:
  struct Item {
    std::string description;
    Entry entry;
  };
  std::string family_;
  std::map<std::string, Item> entries_;
};

}  // namespace tessera
