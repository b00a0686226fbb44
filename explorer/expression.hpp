// Arithmetic over named values, for a design space's derived parameters and constraints:
// numbers, names (config paths such as systolic.rows, or metric names such as latency_s),
// + - * / ^, parentheses, and min(a, b), max(a, b), ceil(x), floor(x), log2(x), log10(x), ln(x), exp(x), sqrt(x).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tessera::explorer {

class Expression {
 public:
  // Throws InputError "<where>expected ..., at character N of "<text>"".
  static Expression parse(const std::string& text, const std::string& where);

  // Resolves names through `lookup`; a name it does not know (nullopt) is an InputError.
  double evaluate(const std::function<std::optional<double>(const std::string&)>& lookup) const;

  const std::string& text() const { return text_; }
  const std::vector<std::string>& names() const { return names_; }  // in order, once each

  struct Node;

 private:
  std::string text_;
  std::vector<std::string> names_;
  std::shared_ptr<const Node> root_;
};

}  // namespace tessera::explorer
