#!/bin/bash
# The include layering of DESIGN.md: cli -> explorer -> serving -> sim -> arch -> dataflows ->
# workloads -> common. A source file of one library includes headers of its own folder and of
# the folders below it only (sim/systemc/ is part of the sim level). Prints every include that
# points up the chain and fails if there is one.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
chain="common workloads dataflows arch sim serving explorer cli"
grep -rnE '^#include "[a-z_]+/' $chain --include='*.hpp' --include='*.cpp' |
  awk -v chain="$chain" '
    BEGIN { n = split(chain, names, " "); for (i = 1; i <= n; ++i) level[names[i]] = i }
    {
      split($0, parts, "/"); folder = parts[1]
      match($0, /#include "[a-z_]+\//); target = substr($0, RSTART + 10, RLENGTH - 11)
      if ((target in level) && level[target] > level[folder]) {
        print "layering: " $0 " (" folder " may not include " target ")"; bad = 1
      }
    }
    END { exit bad }'
