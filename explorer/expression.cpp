#include "explorer/expression.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace tessera::explorer {

struct Expression::Node {
  // 'n' number, 'v' name, 'f' function, '+' a sum and '*' a product of args (signs: per
  // argument, '+' or '-' in a sum, '*' or '/' in a product), '^' power, 'u' negation.
  char op = 0;
  double number = 0;
  std::string name;  // name or function
  std::vector<std::shared_ptr<const Node>> args;
  std::string signs;
};

namespace {

using NodePtr = std::shared_ptr<const Expression::Node>;

// The text in double quotes, escaped as the JSON string it came from (control characters as
// \n, \u0001, ..., bytes that are not UTF-8 replaced), so a message stays one line.
std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Recursive descent: sum := product (('+'|'-') product)*; product := power (('*'|'/') power)*;
// power := unary ('^' power)?; unary := '-' unary | atom; atom := number | name | name '(' args ')'
// | '(' sum ')'. Sums and products are flat nodes, so a long chain of terms costs no depth;
// nesting (parentheses, powers, negations, function arguments) is limited, so no input can
// exhaust the stack while parsing, evaluating or freeing the tree.
constexpr int kMaxNesting = 200;

class Parser {
 public:
  Parser(const std::string& text, const std::string& where) : s_(text), where_(where) {}

  NodePtr parse(std::vector<std::string>& names) {
    names_ = &names;
    NodePtr n = sum();
    skip();
    if (i_ != s_.size()) fail("an operator or the end");
    return n;
  }

 private:
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  [[noreturn]] void fail(const std::string& expected) const {
    throw InputError(where_ + "expected " + expected + " at character " + std::to_string(i_ + 1) +
                     " of " + quoted(s_));
  }
  static NodePtr make(char op, std::vector<NodePtr> args) {
    auto n = std::make_shared<Expression::Node>();
    n->op = op;
    n->args = std::move(args);
    return n;
  }

  // Counts one level of nesting for as long as it lives.
  struct Nest {
    explicit Nest(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxNesting)
        throw InputError(parser.where_ + "nested more than " + std::to_string(kMaxNesting) +
                         " levels deep at character " + std::to_string(parser.i_ + 1) +
                         " of the expression");
    }
    ~Nest() { --parser.depth_; }
    Parser& parser;
  };

  // A chain of `operand`s joined by the operators `a` and `b`, as one flat node.
  template <typename Operand>
  NodePtr chain(char op, char a, char b, Operand operand) {
    NodePtr first = operand();
    std::vector<NodePtr> args;
    std::string signs;
    for (char c; (c = eat(a) ? a : eat(b) ? b : 0) != 0;) {
      if (args.empty()) {
        args.push_back(first);
        signs.push_back(a);
      }
      args.push_back(operand());
      signs.push_back(c);
    }
    if (args.empty()) return first;
    auto n = std::make_shared<Expression::Node>();
    n->op = op;
    n->args = std::move(args);
    n->signs = std::move(signs);
    return n;
  }
  NodePtr sum() {
    const Nest nest(*this);
    return chain('+', '+', '-', [this] { return product(); });
  }
  NodePtr product() {
    return chain('*', '*', '/', [this] { return power(); });
  }
  NodePtr power() {
    NodePtr base = unary();
    if (eat('^')) {
      const Nest nest(*this);
      return make('^', {base, power()});
    }
    return base;
  }
  NodePtr unary() {
    if (eat('-')) {
      const Nest nest(*this);
      return make('u', {unary()});
    }
    return atom();
  }
  NodePtr atom() {
    skip();
    if (eat('(')) {
      NodePtr inner = sum();
      if (!eat(')')) fail("')'");
      return inner;
    }
    if (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.')) {
      const char* begin = s_.c_str() + i_;
      char* end = nullptr;
      const double v = std::strtod(begin, &end);
      i_ += static_cast<std::size_t>(end - begin);
      auto n = std::make_shared<Expression::Node>();
      n->op = 'n';
      n->number = v;
      return n;
    }
    const std::size_t start = i_;
    while (i_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '.'))
      ++i_;
    if (i_ == start) fail("a number, a name or '('");
    auto n = std::make_shared<Expression::Node>();
    n->name = s_.substr(start, i_ - start);
    if (eat('(')) {
      static const std::vector<std::pair<std::string, std::size_t>> functions = {
          {"min", 2},  {"max", 2}, {"ceil", 1}, {"floor", 1}, {"log2", 1},
          {"log10", 1}, {"ln", 1},  {"exp", 1},  {"sqrt", 1}};
      const auto f = std::find_if(functions.begin(), functions.end(),
                                  [&](const auto& fn) { return fn.first == n->name; });
      if (f == functions.end()) {
        i_ = start;
        fail("one of the functions min, max, ceil, floor, log2, log10, ln, exp, sqrt");
      }
      n->op = 'f';
      do n->args.push_back(sum());
      while (eat(','));
      if (!eat(')')) fail("')'");
      if (n->args.size() != f->second)
        fail(n->name + " with " + std::to_string(f->second) + " argument(s)");
      return n;
    }
    n->op = 'v';
    if (std::find(names_->begin(), names_->end(), n->name) == names_->end())
      names_->push_back(n->name);
    return n;
  }

  const std::string& s_;
  const std::string& where_;
  std::size_t i_ = 0;
  int depth_ = 0;
  std::vector<std::string>* names_ = nullptr;
};

double eval(const Expression::Node& n,
            const std::function<std::optional<double>(const std::string&)>& lookup,
            const std::string& text) {
  auto arg = [&](std::size_t i) { return eval(*n.args[i], lookup, text); };
  switch (n.op) {
    case 'n':
      return n.number;
    case 'v': {
      const auto v = lookup(n.name);
      if (!v) throw InputError(quoted(text) + ": unknown name '" + n.name + "'");
      return *v;
    }
    case '+': {
      double v = 0;
      for (std::size_t i = 0; i < n.args.size(); ++i) v += n.signs[i] == '-' ? -arg(i) : arg(i);
      return v;
    }
    case '*': {
      double v = 1;
      for (std::size_t i = 0; i < n.args.size(); ++i)
        v = n.signs[i] == '/' ? v / arg(i) : v * arg(i);
      return v;
    }
    case '^':
      return std::pow(arg(0), arg(1));
    case 'u':
      return -arg(0);
    default:
      break;
  }
  if (n.name == "min") return std::min(arg(0), arg(1));
  if (n.name == "max") return std::max(arg(0), arg(1));
  if (n.name == "ceil") return std::ceil(arg(0));
  if (n.name == "floor") return std::floor(arg(0));
  if (n.name == "log2") return std::log2(arg(0));
  if (n.name == "log10") return std::log10(arg(0));
  if (n.name == "ln") return std::log(arg(0));
  if (n.name == "exp") return std::exp(arg(0));
  return std::sqrt(arg(0));
}

}  // namespace

Expression Expression::parse(const std::string& text, const std::string& where) {
  Expression e;
  e.text_ = text;
  e.root_ = Parser(text, where).parse(e.names_);
  return e;
}

double Expression::evaluate(
    const std::function<std::optional<double>(const std::string&)>& lookup) const {
  return eval(*root_, lookup, text_);
}

}  // namespace tessera::explorer
