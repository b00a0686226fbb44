#include "sim/systemc/kernel.hpp"

#include <cstdlib>

#include <systemc>

namespace tessera::sim::systemc {

namespace {
// libsystemc prints its banner to stderr from main(), before sc_main, unless this variable is
// set. Static initialisation of the executable (this file included) runs before main().
[[maybe_unused]] const bool banner_off = [] {
  return ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;
}();
}  // namespace

void fresh_kernel() {
  // Contexts made here may be deleted; the first (default) context may not, because the
  // library's global events belong to it and the process would crash at exit.
  static sc_core::sc_simcontext* ours = nullptr;
  sc_core::sc_simcontext* previous = ours;
  ours = new sc_core::sc_simcontext;
  sc_core::sc_curr_simcontext = ours;
  sc_core::sc_default_global_context = ours;
  delete previous;

  using sc_core::sc_report_handler;
  sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);
  sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_THROW);
  sc_report_handler::set_actions(sc_core::SC_FATAL, sc_core::SC_THROW);
}

}  // namespace tessera::sim::systemc
